import assert from "node:assert/strict";
import { withCluster } from "../helpers/cluster.ts";
import { eventually } from "../helpers/eventually.ts";
import { BinaryClient, setExtras } from "../helpers/binary_client.ts";
import { Opcode, Status } from "../../lib/protocol/binary/opcodes.ts";

Deno.test("a binary get survives a dead primary and its empty restart, and the key is copied back", async () => {
  await withCluster(
    { primaries: 1, backups: 1, flags: ["-t", "300", "--server-retry-timeout", "50"] },
    async ({ proxy, primaries, direct }) => {
      const c = await BinaryClient.connect(proxy.port);
      try {
        const get = async () => {
          const response = await c.call(Opcode.Get, { key: "b:k", opaque: 77 });
          assert.equal(response.status, Status.Success);
          assert.equal(response.value, "kept");
          assert.equal(response.opaque, 77);
          assert.equal(new DataView(response.extras.buffer).getUint32(0), 9, "flags kept");
        };
        const stored = await c.call(Opcode.Set, {
          key: "b:k",
          value: "kept",
          extras: setExtras(9, 1000),
        });
        assert.equal(stored.status, Status.Success);
        await primaries[0].kill();
        for (let i = 0; i < 3; i++) await get(); // served by the backup
        await primaries[0].restart();
        await get(); // the primary misses: the backup answers
        const primary = await direct(primaries[0]);
        await eventually(async () =>
          assert.equal(await primary.get("get b:k"), "VALUE b:k 9 4\r\nkept\r\nEND\r\n")
        );
        await get();
      } finally {
        c.close();
      }
    },
  );
});

Deno.test("a binary key with spaces and control bytes is stored, replicated and read back", async () => {
  await withCluster({ primaries: 1, backups: 1 }, async ({ proxy, backups, direct }) => {
    const c = await BinaryClient.connect(proxy.port);
    try {
      const key = "a key\r\nwith\u0001bytes";
      const extras = setExtras(1, 0);
      assert.equal((await c.call(Opcode.Set, { key, value: "v", extras })).status, Status.Success);
      assert.equal((await c.call(Opcode.GetK, { key })).key, key);
      const backup = await direct(backups[0]);
      await backup.write(`mg ${btoa(key)} b v\r\n`);
      assert.equal(await backup.readLine(), "VA 1\r\n");
      assert.equal((await c.call(Opcode.Delete, { key })).status, Status.Success);
      assert.equal((await c.call(Opcode.Get, { key })).status, Status.KeyNotFound);
    } finally {
      c.close();
    }
  });
});
