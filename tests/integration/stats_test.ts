import assert from "node:assert/strict";
import { ProxyStats } from "../../lib/observability/stats.ts";
import { statsFields } from "../../lib/observability/stats_report.ts";
import { withCluster } from "../helpers/cluster.ts";
import { eventually } from "../helpers/eventually.ts";
import type { TextClient } from "../helpers/text_client.ts";

/** Sends a `stats` command and returns its STAT lines as name → value. */
async function statsOf(c: TextClient, command = "stats"): Promise<Map<string, string>> {
  await c.write(command + "\r\n");
  const stats = new Map<string, string>();
  while (true) {
    const line = await c.readLine();
    if (line === "END\r\n") return stats;
    const match = line.match(/^STAT (\S+) (.*)\r\n$/);
    assert.ok(match, `a STAT line: ${JSON.stringify(line)}`);
    stats.set(match[1], match[2]);
  }
}

/** `stats servers`: each backend's `name:value` fields, by address. */
async function serversOf(c: TextClient): Promise<Map<string, Record<string, string>>> {
  const servers = new Map<string, Record<string, string>>();
  for (const [address, rest] of await statsOf(c, "stats servers")) {
    servers.set(
      address,
      Object.fromEntries(rest.split(" ").map((field) => field.split(/:(.*)/s, 2))),
    );
  }
  return servers;
}

Deno.test("stats counts real traffic, with memcached's names, and lists every ProxyStats counter", async () => {
  await withCluster({ primaries: 2 }, async ({ client }) => {
    const other = await client();
    const c = await client();
    for (const k of ["a", "b", "c"]) assert.equal(await c.set(k, "v"), "STORED\r\n");
    await c.get("get a b c nope");
    await c.get("get a");
    const stats = await statsOf(c);
    assert.match(stats.get("pid")!, /^\d+$/);
    assert.match(stats.get("uptime")!, /^\d+$/);
    assert.match(stats.get("version")!, /^1\.6\.0-memrelay-/);
    assert.equal(stats.get("curr_connections"), "2");
    assert.equal(stats.get("total_connections"), "2");
    assert.equal(stats.get("cmd_set"), "3");
    assert.equal(stats.get("cmd_get"), "5");
    assert.equal(stats.get("get_hits"), "4");
    assert.equal(stats.get("get_misses"), "1");
    for (const name of ["failovers", "timeouts", "servers_down", "backend_errors"]) {
      assert.equal(stats.get(name), "0", name);
    }
    assert.equal(stats.get("servers"), "2");
    for (const [name] of statsFields(new ProxyStats())) {
      assert.ok(stats.has(name), `stats lists ProxyStats' ${name}`);
    }
    assert.deepEqual([...stats.keys()].slice(0, 4), ["pid", "uptime", "time", "version"]);
    other.close();
  });
});

Deno.test("stats servers shows each backend's traffic, and a killed primary as down", async () => {
  await withCluster(
    { primaries: 1, backups: 1, flags: ["--server-retry-timeout", "60000"] },
    async ({ client, primaries, backups }) => {
      const c = await client();
      for (let i = 0; i < 20; i++) await c.set(`k${i}`, "value");
      for (let i = 0; i < 20; i++) await c.get(`get k${i}`);
      let servers = await serversOf(c);
      assert.deepEqual([...servers.keys()], [primaries[0].address, backups[0].address]);
      const primary = servers.get(primaries[0].address)!;
      assert.equal(primary.pool, "default");
      assert.equal(primary.role, "primary");
      assert.equal(primary.state, "up");
      assert.equal(primary.failures, "0");
      assert.equal(primary.in_flight, "0");
      assert.match(primary.p50_us, /^\d+$/);
      assert.ok(Number(primary.p99_us) >= Number(primary.p50_us));
      assert.ok(Number(primary.bytes_out) > 20 * "set k0 0 0 5\r\nvalue\r\n".length);
      assert.ok(Number(primary.bytes_in) >= 20 * "STORED\r\n".length);
      assert.equal(servers.get(backups[0].address)!.role, "backup");

      await primaries[0].kill();
      for (let i = 0; i < 3; i++) {
        assert.equal(await c.get("get k1"), "VALUE k1 0 5\r\nvalue\r\nEND\r\n");
      }
      servers = await serversOf(c);
      const dead = servers.get(primaries[0].address)!;
      assert.equal(dead.state, "down");
      assert.ok(Number(dead.failures) >= 2, `failures ${dead.failures}`);
      assert.equal(dead.marked_down, "1");
      assert.equal(servers.get(backups[0].address)!.state, "up");
      const stats = await statsOf(c);
      assert.equal(stats.get("servers_down"), "1");
      assert.ok(Number(stats.get("failovers")) >= 3);
      assert.equal(stats.get("backend_state_changes"), "1");
    },
  );
});

Deno.test("a hung server's timeouts show in stats and stats servers", async () => {
  await withCluster(
    { primaries: 1, backups: 1, flags: ["-t", "100"] },
    async ({ client, primaries }) => {
      const c = await client();
      await c.set("k", "v");
      await primaries[0].pause();
      try {
        assert.equal(await c.get("get k"), "VALUE k 0 1\r\nv\r\nEND\r\n");
        await eventually(async () => {
          assert.equal((await statsOf(c)).get("timeouts"), "1");
        });
        assert.equal((await serversOf(c)).get(primaries[0].address)!.timeouts, "1");
      } finally {
        primaries[0].resume();
      }
    },
  );
});

Deno.test("stats with an argument memrelay does not know answers as memcached does", async () => {
  await withCluster({ primaries: 1 }, async ({ client, direct, primaries }) => {
    const proxy = await client();
    const memcached = await direct(primaries[0]);
    for (const command of ["stats foo", "stats foo bar", "stats servers now", "stats noreply"]) {
      assert.equal(await proxy.call(command), await memcached.call(command), command);
    }
    assert.equal(await proxy.call("stats foo"), "ERROR\r\n");
  });
});

Deno.test("the library handle's stats() and servers() give the same figures", async () => {
  await withCluster({ primaries: 2 }, async ({ client, proxy, primaries }) => {
    const c = await client();
    await c.set("x", "1");
    const stats = proxy.handle.stats();
    assert.equal(stats.cmd_set, 1);
    assert.equal(stats.servers, 2);
    const servers = proxy.handle.servers();
    assert.deepEqual(servers.map((s) => s.address), primaries.map((p) => p.address));
    // The set, and the `stats` the proxy sends on connecting to learn which process answers.
    assert.equal(
      servers.reduce((n, s) => n + s.bytesOut, 0),
      "set x 0 0 1\r\n1\r\n".length + "stats\r\n".length,
    );
  });
});
