import assert from "node:assert/strict";
import { withCluster } from "../helpers/cluster.ts";

Deno.test("a get for a key on a dead primary is served by its backup, keys elsewhere by their primary", async () => {
  await withCluster({ primaries: 2, backups: 1 }, async ({ client, primaries }) => {
    const c = await client();
    const keys = Array.from({ length: 30 }, (_, i) => `fo${i}`);
    for (const k of keys) await c.set(k, `value-${k}`);
    await primaries[0].kill();
    const expected = keys.map((k) => `VALUE ${k} 0 ${`value-${k}`.length}\r\nvalue-${k}\r\n`)
      .join("") + "END\r\n";
    assert.equal(await c.get(`get ${keys.join(" ")}`), expected);
    for (const k of keys) {
      assert.equal(
        await c.get(`get ${k}`),
        `VALUE ${k} 0 ${`value-${k}`.length}\r\nvalue-${k}\r\n` + "END\r\n",
      );
    }
  });
});

Deno.test("a get whose primary misses is answered by the backup", async () => {
  await withCluster({ primaries: 1, backups: 1 }, async ({ client, direct, primaries }) => {
    const c = await client();
    await c.set("k", "kept");
    const d = await direct(primaries[0]);
    assert.equal(await d.call("delete k"), "DELETED\r\n");
    assert.equal(await c.get("get k"), "VALUE k 0 4\r\nkept\r\nEND\r\n");
  });
});

Deno.test("a multi-get merges a backup's hit between two blocks of its primary's reply, in key order", async () => {
  await withCluster({ primaries: 1, backups: 1 }, async ({ client, direct, primaries }) => {
    const c = await client();
    for (const k of ["a", "b", "c"]) await c.set(k, `value-${k}`);
    const d = await direct(primaries[0]);
    assert.equal(await d.call("delete b"), "DELETED\r\n");
    // The primary answers a and c with adjacent blocks; b comes from the backup, between them.
    assert.equal(
      await c.get("get a b c a"),
      "VALUE a 0 7\r\nvalue-a\r\nVALUE b 0 7\r\nvalue-b\r\nVALUE c 0 7\r\nvalue-c\r\n" +
        "VALUE a 0 7\r\nvalue-a\r\nEND\r\n",
    );
  });
});

Deno.test("a write whose primary is dead is stored on the backup and acknowledged", async () => {
  await withCluster(
    { primaries: 1, backups: 1 },
    async ({ client, direct, primaries, backups }) => {
      const c = await client();
      await primaries[0].kill();
      assert.equal(await c.set("k", "v"), "STORED\r\n");
      assert.equal(await (await direct(backups[0])).get("get k"), "VALUE k 0 1\r\nv\r\nEND\r\n");
      assert.equal(await c.get("get k"), "VALUE k 0 1\r\nv\r\nEND\r\n");
    },
  );
});

Deno.test("without a backup, a dead primary's keys get SERVER_ERROR, and a down primary fails fast", async () => {
  await withCluster(
    { primaries: 1, flags: ["--server-retry-timeout", "60000"] },
    async ({ client, primaries }) => {
      const c = await client();
      await primaries[0].kill();
      assert.match(await c.get("get k"), /^SERVER_ERROR backend 127\.0\.0\.1:\d+ .*\r\n$/);
      assert.match(await c.set("k", "v"), /^SERVER_ERROR /);
      const started = performance.now();
      assert.match(await c.get("get k"), /^SERVER_ERROR backend 127\.0\.0\.1:\d+ server is down/);
      assert.ok(performance.now() - started < 50, "a down server fails at once");
    },
  );
});

Deno.test("a hung primary (SIGSTOP) times out and its keys are served by the backup", async () => {
  await withCluster(
    { primaries: 1, backups: 1, flags: ["-t", "200"] },
    async ({ client, primaries }) => {
      const c = await client();
      await c.set("k", "v");
      await primaries[0].pause();
      try {
        const started = performance.now();
        assert.equal(await c.get("get k"), "VALUE k 0 1\r\nv\r\nEND\r\n");
        const waited = performance.now() - started;
        assert.ok(waited >= 150 && waited < 1500, `waited ${waited} ms for the timeout`);
      } finally {
        primaries[0].resume();
      }
    },
  );
});
