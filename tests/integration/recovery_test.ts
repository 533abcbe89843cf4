import assert from "node:assert/strict";
import { withCluster } from "../helpers/cluster.ts";
import { eventually } from "../helpers/eventually.ts";
import type { TextClient } from "../helpers/text_client.ts";
import { ReplyKind } from "../../lib/protocol/text/response_parser.ts";

/** One counter from the proxy's `stats`. */
async function stat(client: TextClient, name: string): Promise<number> {
  const match = (await client.stats()).match(new RegExp(`STAT ${name} (\\d+)\\r\\n`));
  assert.ok(match, `stats has ${name}`);
  return Number(match[1]);
}

/** The TTL memcached has left on `key`, from `mg <key> t`; -1 for none, null for a miss. */
async function ttlOf(direct: TextClient, key: string): Promise<number | null> {
  await direct.write(`mg ${key} t\r\n`);
  const reply = await direct.readReply(ReplyKind.Meta);
  if (reply === "EN\r\n") return null;
  return Number(reply.match(/ t(-?\d+)/)![1]);
}

Deno.test("a backup hit after a primary miss is copied back to the primary, with its flags and remaining TTL", async () => {
  await withCluster(
    { primaries: 1, backups: 1 },
    async ({ client, direct, primaries, backups }) => {
      const c = await client();
      const backup = await direct(backups[0]);
      const primary = await direct(primaries[0]);
      assert.equal(await backup.set("lost", "kept", 7, 1000), "STORED\r\n");

      assert.equal(await c.get("get lost"), "VALUE lost 7 4\r\nkept\r\nEND\r\n");
      await eventually(async () =>
        assert.equal(await primary.get("get lost"), "VALUE lost 7 4\r\nkept\r\nEND\r\n")
      );
      const ttl = (await ttlOf(primary, "lost"))!;
      assert.ok(ttl > 990 && ttl <= 1000, `the TTL left is kept, not reset: ${ttl}`);
      assert.equal(await stat(c, "read_repairs"), 1);
      assert.equal(await stat(c, "backup_hits"), 1);
    },
  );
});

Deno.test("a read repair never overwrites a value the primary got meanwhile", async () => {
  await withCluster(
    { primaries: 1, backups: 1 },
    async ({ client, direct, primaries, backups }) => {
      const c = await client();
      const backup = await direct(backups[0]);
      await backup.set("k", "old");
      // The get misses on the primary and hits the backup; the set behind it reaches the primary
      // before the repair's add can.
      await c.write("get k\r\nset k 0 0 3\r\nnew\r\n");
      assert.equal(await c.readReply(1), "VALUE k 0 3\r\nold\r\nEND\r\n");
      assert.equal(await c.readReply(), "STORED\r\n");
      const primary = await direct(primaries[0]);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(await primary.get("get k"), "VALUE k 0 3\r\nnew\r\nEND\r\n");
      assert.equal(await c.get("get k"), "VALUE k 0 3\r\nnew\r\nEND\r\n");
    },
  );
});

Deno.test("writes and deletes made while a primary hung are replayed before it serves those keys again", async () => {
  await withCluster(
    { primaries: 1, backups: 1, flags: ["-t", "200", "--server-retry-timeout", "50"] },
    async ({ client, direct, primaries }) => {
      const c = await client();
      await c.set("changed", "v1");
      await c.set("deleted", "v1");
      await c.set("untouched", "v1");
      await primaries[0].pause();
      try {
        assert.equal(await c.set("changed", "v2"), "STORED\r\n");
        assert.equal(await c.call("delete deleted"), "DELETED\r\n");
      } finally {
        primaries[0].resume();
      }
      // The primary is back with its old data; the proxy must never serve that.
      assert.equal(await c.get("get changed"), "VALUE changed 0 2\r\nv2\r\nEND\r\n");
      assert.equal(await c.get("get deleted"), "END\r\n");
      assert.equal(await c.get("get untouched"), "VALUE untouched 0 2\r\nv1\r\nEND\r\n");
      const primary = await direct(primaries[0]);
      await eventually(async () => {
        assert.equal(await primary.get("get changed"), "VALUE changed 0 2\r\nv2\r\nEND\r\n");
        assert.equal(await primary.get("get deleted"), "END\r\n");
        assert.equal(await stat(c, "replays_pending"), 0);
      });
      assert.ok(await stat(c, "replayed_keys") >= 2);
      assert.equal(await c.get("get changed deleted"), "VALUE changed 0 2\r\nv2\r\nEND\r\n");
    },
  );
});

Deno.test("a primary that restarts empty is refilled from the backup, TTLs kept, and then survives the backup's death", async () => {
  await withCluster(
    { primaries: 2, backups: 1, flags: ["--server-retry-timeout", "50"] },
    async ({ client, direct, primaries, backups }) => {
      const c = await client();
      // Keys that differ in their first bytes: fnv1a_64 spreads keys that differ only at the end
      // in runs, which could leave one primary without any.
      const keys = Array.from({ length: 600 }, (_, i) => `${i}:key`);
      let batch = "";
      for (const key of keys) batch += `set ${key} 3 ${key.startsWith("7") ? 5000 : 0} 2\r\nvv\r\n`;
      await c.write(batch);
      for (const _ of keys) assert.equal(await c.readReply(), "STORED\r\n");
      await eventually(async () =>
        assert.match(await (await direct(backups[0])).stats(), /STAT curr_items 600\r\n/)
      );

      const itemsOn = async (client: TextClient) =>
        Number((await client.stats()).match(/STAT curr_items (\d+)/)![1]);
      const share = await itemsOn(await direct(primaries[0]));
      assert.ok(share > 0, "the first primary holds some of the keys");
      await primaries[0].restart();
      // The next request to it opens a connection, whose `stats` shows a new process.
      assert.equal(await c.get(`get ${keys.join(" ")}`).then((r) => r.split("VALUE").length), 601);
      await eventually(async () => {
        assert.equal(await stat(c, "refills"), 1);
        assert.equal(await stat(c, "refills_running"), 0);
        assert.equal(await stat(c, "replays_pending"), 0);
      }, 10_000);
      const refilled = await direct(primaries[0]);
      assert.equal(await itemsOn(refilled), share, "the restarted primary holds its keys again");
      assert.equal(await stat(c, "refill_keys_copied") + await stat(c, "read_repairs"), share);
      const ttl = (await ttlOf(refilled, "7:key")) ??
        (await ttlOf(await direct(primaries[1]), "7:key"));
      assert.ok(ttl! > 4900, `the TTL came along: ${ttl}`);

      await backups[0].kill();
      const reply = await c.get(`get ${keys.join(" ")}`);
      assert.equal(reply.split("VALUE").length - 1, 600, "no key is lost to a second failure");
    },
  );
});

Deno.test("a backup that restarts empty is refilled from the primaries", async () => {
  await withCluster(
    { primaries: 2, backups: 1, flags: ["--server-retry-timeout", "50"] },
    async ({ client, direct, primaries, backups }) => {
      const c = await client();
      let batch = "";
      for (let i = 0; i < 300; i++) batch += `set k${i} 0 0 1\r\n${i % 10}\r\n`;
      await c.write(batch);
      for (let i = 0; i < 300; i++) assert.equal(await c.readReply(), "STORED\r\n");
      await backups[0].restart();
      // A write reaches the backup on a new connection, which shows the restart.
      assert.equal(await c.set("trigger", "x"), "STORED\r\n");
      const backup = await direct(backups[0]);
      const all = Array.from({ length: 300 }, (_, i) => `k${i}`).join(" ");
      await eventually(async () => {
        assert.equal((await backup.get(`get ${all}`)).split("VALUE").length - 1, 300);
        assert.equal(await stat(c, "replays_pending"), 0);
      }, 10_000);
      await Promise.all(primaries.map((p) => p.kill()));
      assert.equal(
        await c.get("get k0 k150 k299"),
        [
          "VALUE k0 0 1\r\n0\r\n",
          "VALUE k150 0 1\r\n0\r\n",
          "VALUE k299 0 1\r\n9\r\n",
          "END\r\n",
        ].join(""),
      );
    },
  );
});

Deno.test("past the replay limit, a returning primary is flushed and refilled instead", async () => {
  await withCluster(
    {
      primaries: 1,
      backups: 1,
      flags: ["-t", "200", "--server-retry-timeout", "50", "--replay-limit", "3"],
    },
    async ({ client, direct, primaries }) => {
      const c = await client();
      for (let i = 0; i < 10; i++) await c.set(`k${i}`, "old");
      await primaries[0].pause();
      try {
        for (let i = 0; i < 10; i++) assert.equal(await c.set(`k${i}`, "new"), "STORED\r\n");
      } finally {
        primaries[0].resume();
      }
      const reply = await c.get("get k0 k1 k2 k3 k4 k5 k6 k7 k8 k9");
      assert.doesNotMatch(reply, /old/);
      const primary = await direct(primaries[0]);
      await eventually(async () => {
        assert.equal(await stat(c, "refills"), 1);
        assert.equal(await stat(c, "refills_running"), 0);
        const all = await primary.get("get k0 k1 k2 k3 k4 k5 k6 k7 k8 k9");
        assert.equal(all.split("VALUE").length - 1, 10);
        assert.doesNotMatch(all, /old/);
      }, 10_000);
    },
  );
});

Deno.test("incr and decr send the primary's result to the backup, so no delta is applied twice", async () => {
  await withCluster({ primaries: 1, backups: 1 }, async ({ client, direct, backups }) => {
    const c = await client();
    const backup = await direct(backups[0]);
    await c.set("n", "10", 4, 3000);
    await eventually(async () => assert.equal(await backup.call("delete n"), "DELETED\r\n"));
    assert.equal(await c.call("incr n 5"), "15\r\n");
    await eventually(async () =>
      assert.equal(await backup.get("get n"), "VALUE n 4 2\r\n15\r\nEND\r\n")
    );
    assert.ok((await ttlOf(backup, "n"))! > 2900, "the TTL came along");
    assert.equal(await backup.call("incr n 100"), "115\r\n"); // the backup diverged
    assert.equal(await c.call("decr n 1"), "14\r\n");
    await eventually(async () =>
      assert.equal(await backup.get("get n"), "VALUE n 4 2\r\n14\r\nEND\r\n")
    );
  });
});

Deno.test("gat touches the backups too", async () => {
  await withCluster({ primaries: 1, backups: 1 }, async ({ client, direct, backups }) => {
    const c = await client();
    await c.set("k", "v", 0, 100);
    assert.equal(await c.get("gat 5000 k"), "VALUE k 0 1\r\nv\r\nEND\r\n");
    const backup = await direct(backups[0]);
    await eventually(async () => assert.ok((await ttlOf(backup, "k"))! > 4900));
  });
});

Deno.test("while a primary is down, a get for its key is served by the backup in a few milliseconds", async () => {
  await withCluster(
    { primaries: 1, backups: 1, flags: ["--server-retry-timeout", "60000"] },
    async ({ client, primaries }) => {
      const c = await client();
      await c.set("k", "v");
      await primaries[0].kill();
      await c.get("get k");
      await c.get("get k"); // two failures: the primary is down
      const times: number[] = [];
      for (let i = 0; i < 20; i++) {
        const started = performance.now();
        assert.equal(await c.get("get k"), "VALUE k 0 1\r\nv\r\nEND\r\n");
        times.push(performance.now() - started);
      }
      times.sort((a, b) => a - b);
      assert.ok(times[10] < 5, `median ${times[10].toFixed(2)} ms`);
    },
  );
});

Deno.test("with auto_eject_hosts, a down primary's keys move to the others, and come back when it returns", async () => {
  await withCluster(
    { primaries: 2, flags: ["--auto-eject-hosts", "--server-retry-timeout", "50"] },
    async ({ client, direct, primaries }) => {
      const c = await client();
      const keys = Array.from({ length: 40 }, (_, i) => `${i}:k`);
      for (const key of keys) await c.set(key, "v");
      const first = await direct(primaries[0]);
      const held = (await first.get(`get ${keys.join(" ")}`)).split("VALUE").length - 1;
      assert.ok(held > 0 && held < 40, `both primaries hold keys (the first ${held})`);
      await primaries[0].kill();
      await eventually(async () => {
        await c.get(`get ${keys.join(" ")}`); // failures mark it down, and eject it
        assert.equal(await stat(c, "ejections"), 1);
      });
      for (const key of keys) assert.equal(await c.set(key, "w"), "STORED\r\n");
      const reply = await c.get(`get ${keys.join(" ")}`);
      assert.equal(reply.split("VALUE").length - 1, 40, "every key is served by the survivor");
      await primaries[0].restart();
      await eventually(async () => assert.equal(await stat(c, "servers_down"), 0), 5000);
      const back = await c.get(`get ${keys.join(" ")}`);
      assert.ok(back.split("VALUE").length - 1 < 40, "keys of the returned server miss again");
    },
  );
});

Deno.test("writes a dead backup missed are replayed on it once it is back", async () => {
  await withCluster(
    { primaries: 1, backups: 1, flags: ["--server-retry-timeout", "50"] },
    async ({ client, direct, backups }) => {
      const c = await client();
      await c.set("warm", "x"); // the proxy has seen the backup's process
      await backups[0].kill();
      let batch = "";
      for (let i = 0; i < 300; i++) batch += `set k${i} 0 0 1\r\n${i % 10}\r\n`;
      await c.write(batch);
      for (let i = 0; i < 300; i++) assert.equal(await c.readReply(), "STORED\r\n");
      // The copies for the backup go out up to 2 ms after their primaries answer, and are noted
      // for replay as they fail.
      await eventually(async () => assert.ok(await stat(c, "replays_pending") >= 300), 2000);
      await backups[0].restart();
      const backup = await direct(backups[0]);
      const all = Array.from({ length: 300 }, (_, i) => `k${i}`).join(" ");
      await eventually(async () => {
        assert.equal(await stat(c, "replays_pending"), 0);
        assert.equal((await backup.get(`get ${all}`)).split("VALUE").length - 1, 300);
      }, 5000);
    },
  );
});
