import assert from "node:assert/strict";
import memjs from "npm:memjs@1";
import { withCluster } from "../helpers/cluster.ts";

/** The part of memjs's client this test uses (the package ships no types). */
interface MemjsClient {
  set(key: string, value: string, options: { expires?: number }): Promise<boolean>;
  get(key: string): Promise<{ value: Uint8Array | null }>;
  add(key: string, value: string): Promise<boolean>;
  replace(key: string, value: string): Promise<boolean>;
  append(key: string, value: string): Promise<boolean>;
  prepend(key: string, value: string): Promise<boolean>;
  increment(key: string, by: number, options?: { initial?: number }): Promise<{ value: number }>;
  decrement(key: string, by: number, options: { initial?: number }): Promise<{ value: number }>;
  touch(key: string, expires: number): Promise<boolean>;
  delete(key: string): Promise<boolean>;
  close(): void;
}

const text = (value: Uint8Array | null) => value === null ? null : new TextDecoder().decode(value);

Deno.test("the memjs binary client does a full round through the proxy over two primaries and a backup", async () => {
  await withCluster({ primaries: 2, backups: 1 }, async ({ proxy, direct, backups }) => {
    const client: MemjsClient = memjs.Client.create(`127.0.0.1:${proxy.port}`, {
      retries: 0,
      timeout: 5,
    });
    try {
      assert.equal(await client.set("m:a", "one", { expires: 0 }), true);
      assert.equal(text((await client.get("m:a")).value), "one");
      assert.equal(await client.add("m:new", "first"), true);
      assert.equal(await client.add("m:new", "again"), false);
      assert.equal(await client.replace("m:a", "two"), true);
      assert.equal(await client.replace("m:none", "x"), false);
      assert.equal(await client.append("m:a", "+tail"), true);
      assert.equal(await client.prepend("m:a", "head+"), true);
      // memjs 1.3.2's prepend sends the append opcode (0x0e), and memcached appends: so does
      // the proxy.
      assert.equal(text((await client.get("m:a")).value), "two+tailhead+");

      assert.equal((await client.increment("m:count", 5, { initial: 10 })).value, 10);
      assert.equal((await client.increment("m:count", 5, {})).value, 15);
      assert.equal((await client.decrement("m:count", 3, {})).value, 12);
      assert.equal(text((await client.get("m:count")).value), "12");

      assert.equal(await client.touch("m:a", 1000), true);
      assert.equal(await client.delete("m:new"), true);
      assert.equal((await client.get("m:new")).value, null);
      assert.equal(await client.delete("m:new"), false);

      // Many gets in flight at once, over both primaries.
      const keys = Array.from({ length: 200 }, (_, i) => `m:many:${i}`);
      await Promise.all(keys.map((key, i) => client.set(key, `value ${i}`, {})));
      const values = await Promise.all(keys.map((key) => client.get(key)));
      values.forEach((got, i) => assert.equal(text(got.value), `value ${i}`));

      // Every write reached the backup too, incr's result included.
      const backup = await direct(backups[0]);
      assert.equal(
        await backup.get("get m:a m:count"),
        "VALUE m:a 0 13\r\ntwo+tailhead+\r\nVALUE m:count 0 2\r\n12\r\nEND\r\n",
      );
      assert.equal(await backup.get("get m:new"), "END\r\n");
    } finally {
      client.close();
    }
  });
});
