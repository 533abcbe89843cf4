import assert from "node:assert/strict";
import { withCluster } from "../helpers/cluster.ts";
import { eventually } from "../helpers/eventually.ts";
import type { TextClient } from "../helpers/text_client.ts";

/** Waits until the backup holds exactly what the primary holds for `key`. */
async function replicated(primary: TextClient, backup: TextClient, key: string): Promise<string> {
  const onPrimary = await primary.get(`get ${key}`);
  await eventually(async () => assert.equal(await backup.get(`get ${key}`), onPrimary));
  return onPrimary;
}

Deno.test("every kind of write reaches the backup, which ends up holding what the primary holds", async () => {
  await withCluster(
    { primaries: 1, backups: 1 },
    async ({ client, direct, primaries, backups }) => {
      const c = await client();
      const primary = await direct(primaries[0]);
      const backup = await direct(backups[0]);
      assert.equal(await c.set("k", "one", 3), "STORED\r\n");
      assert.equal(await replicated(primary, backup, "k"), "VALUE k 3 3\r\none\r\nEND\r\n");
      assert.equal(await c.call("replace k 4 0 3\r\ntwo"), "STORED\r\n");
      assert.equal(await c.call("append k 0 0 1\r\n!"), "STORED\r\n");
      assert.equal(await c.call("prepend k 0 0 1\r\n<"), "STORED\r\n");
      assert.equal(await replicated(primary, backup, "k"), "VALUE k 4 5\r\n<two!\r\nEND\r\n");
      const unique = (await c.get("gets k")).match(/ (\d+)\r\n/)![1];
      assert.equal(await c.call(`cas k 5 0 5 ${unique}\r\nthree`), "STORED\r\n");
      assert.equal(await replicated(primary, backup, "k"), "VALUE k 5 5\r\nthree\r\nEND\r\n");
      assert.equal(await c.call("add n 0 0 2\r\n10"), "STORED\r\n");
      assert.equal(await c.call("incr n 5"), "15\r\n");
      assert.equal(await c.call("decr n 3"), "12\r\n");
      assert.equal(await replicated(primary, backup, "n"), "VALUE n 0 2\r\n12\r\nEND\r\n");
      assert.equal(await c.call("touch n 1000"), "TOUCHED\r\n");
      assert.equal(await c.call("delete n"), "DELETED\r\n");
      assert.equal(await replicated(primary, backup, "n"), "END\r\n");
    },
  );
});

Deno.test("a write the primary refuses never reaches the backup", async () => {
  await withCluster(
    { primaries: 1, backups: 1 },
    async ({ client, direct, primaries, backups }) => {
      const c = await client();
      const primary = await direct(primaries[0]);
      const backup = await direct(backups[0]);
      await c.set("k", "original");
      await replicated(primary, backup, "k");
      assert.equal(await c.call("add k 0 0 7\r\nchanged"), "NOT_STORED\r\n");
      assert.equal(await c.call("cas k 0 0 7 987654321\r\nchanged"), "EXISTS\r\n");
      assert.equal(
        await c.call("incr k 1"),
        "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n",
      );
      assert.equal(await c.set("marker", "m"), "STORED\r\n");
      await replicated(primary, backup, "marker");
      assert.equal(await backup.get("get k"), "VALUE k 0 8\r\noriginal\r\nEND\r\n");
    },
  );
});

Deno.test("a delete reaches the backup even when the primary had lost the key", async () => {
  await withCluster(
    { primaries: 1, backups: 1 },
    async ({ client, direct, primaries, backups }) => {
      const c = await client();
      const primary = await direct(primaries[0]);
      const backup = await direct(backups[0]);
      await c.set("k", "v");
      await replicated(primary, backup, "k");
      assert.equal(await primary.call("delete k"), "DELETED\r\n");
      assert.equal(await c.call("delete k"), "NOT_FOUND\r\n");
      await eventually(async () => assert.equal(await backup.get("get k"), "END\r\n"));
      assert.equal(
        await c.get("get k"),
        "END\r\n",
        "the deleted key does not come back from the backup",
      );
    },
  );
});

Deno.test("a set too large for the proxy drops the old value everywhere, as memcached does", async () => {
  await withCluster(
    { primaries: 1, backups: 1, flags: ["-I", "100"] },
    async ({ client, direct, backups }) => {
      const c = await client();
      await c.set("k", "small");
      await c.write(`set k 0 0 200\r\n${"x".repeat(200)}\r\n`);
      assert.equal(await c.readReply(), "SERVER_ERROR object too large for cache\r\n");
      assert.equal(await c.get("get k"), "END\r\n");
      await eventually(async () =>
        assert.equal(await (await direct(backups[0])).get("get k"), "END\r\n")
      );
    },
  );
});
