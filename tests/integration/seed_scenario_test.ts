import assert from "node:assert/strict";
import { startMemcacheds } from "../helpers/memcached.ts";
import { startCliProxy } from "../helpers/proxy.ts";
import { TextClient } from "../helpers/text_client.ts";
import { eventually } from "../helpers/eventually.ts";

Deno.test("the seed scenario, through the CLI: a set lands on one primary and the backup, survives the primary's death and its empty restart, and the primary is repaired", async () => {
  const [p1, p2, backup] = await startMemcacheds(3);
  const proxy = await startCliProxy([
    ...["-s", p1.address, "-s", p2.address, "-b", backup.address],
    ...["--server-retry-timeout", "100"],
  ]);
  const clients: TextClient[] = [];
  const connect = async (port: number) => {
    const c = await TextClient.connect(port);
    clients.push(c);
    return c;
  };
  try {
    const c = await connect(proxy.port);
    const direct = await Promise.all([p1, p2, backup].map((s) => connect(s.port)));

    assert.equal(await c.set("seed", "first", 5), "STORED\r\n");
    // The primary has the value once the client has its reply; the backup a moment later.
    const held = await Promise.all(direct.slice(0, 2).map((d) => d.get("get seed")));
    const holders = held.map((reply) => reply !== "END\r\n");
    assert.equal(holders.filter(Boolean).length, 1, "exactly one primary holds the key");
    await eventually(async () =>
      assert.equal(await direct[2].get("get seed"), "VALUE seed 5 5\r\nfirst\r\nEND\r\n")
    );

    assert.equal(await c.call("replace seed 6 0 6\r\nsecond"), "STORED\r\n");
    const owner = holders[0] ? 0 : 1;
    assert.equal(await direct[owner].get("get seed"), "VALUE seed 6 6\r\nsecond\r\nEND\r\n");
    await eventually(async () =>
      assert.equal(await direct[2].get("get seed"), "VALUE seed 6 6\r\nsecond\r\nEND\r\n")
    );

    const primary = [p1, p2][owner];
    await primary.kill();
    assert.equal(await c.get("get seed"), "VALUE seed 6 6\r\nsecond\r\nEND\r\n");
    assert.equal(await c.get("get seed"), "VALUE seed 6 6\r\nsecond\r\nEND\r\n");

    await primary.restart();
    const restarted = await connect(primary.port);
    assert.equal(await restarted.get("get seed"), "END\r\n", "the primary came back empty");
    assert.equal(await c.get("get seed"), "VALUE seed 6 6\r\nsecond\r\nEND\r\n");
    assert.equal(await c.get("get seed"), "VALUE seed 6 6\r\nsecond\r\nEND\r\n");
    await eventually(async () =>
      assert.equal(
        await restarted.get("get seed"),
        "VALUE seed 6 6\r\nsecond\r\nEND\r\n",
        "the primary was repaired, flags included",
      )
    );

    const { code } = await proxy.stop();
    assert.equal(code, 0, "SIGTERM stops the proxy with exit code 0");
  } finally {
    for (const c of clients) c.close();
    await proxy.stop();
    await Promise.all([p1, p2, backup].map((s) => s.stop()));
  }
});
