import assert from "node:assert/strict";
import { withCluster } from "../helpers/cluster.ts";
import { ReplyKind } from "../../lib/protocol/text/response_parser.ts";

Deno.test("storage commands answer through the proxy as memcached answers them", async () => {
  await withCluster({}, async ({ client }) => {
    const c = await client();
    assert.deepEqual(await c.set("k", "hello", 42, 0), "STORED\r\n");
    assert.deepEqual(await c.get("get k"), "VALUE k 42 5\r\nhello\r\nEND\r\n");
    assert.deepEqual(await c.call("add k 0 0 1\r\nx"), "NOT_STORED\r\n");
    assert.deepEqual(await c.call("add fresh 0 0 1\r\nx"), "STORED\r\n");
    assert.deepEqual(await c.call("replace nope 0 0 1\r\nx"), "NOT_STORED\r\n");
    assert.deepEqual(await c.call("replace k 7 0 5\r\nworld"), "STORED\r\n");
    assert.deepEqual(await c.call("append k 0 0 1\r\n!"), "STORED\r\n");
    assert.deepEqual(await c.call("prepend k 0 0 1\r\n>"), "STORED\r\n");
    assert.deepEqual(await c.call("append nope 0 0 1\r\n!"), "NOT_STORED\r\n");
    assert.deepEqual(await c.get("get k"), "VALUE k 7 7\r\n>world!\r\nEND\r\n");
  });
});

Deno.test("gets returns a cas unique that cas accepts once", async () => {
  await withCluster({}, async ({ client }) => {
    const c = await client();
    await c.set("k", "v1");
    const reply = await c.get("gets k");
    const unique = reply.match(/^VALUE k 0 2 (\d+)\r\n/)![1];
    assert.deepEqual(await c.call(`cas k 0 0 2 ${unique}\r\nv2`), "STORED\r\n");
    assert.deepEqual(await c.call(`cas k 0 0 2 ${unique}\r\nv3`), "EXISTS\r\n");
    assert.deepEqual(await c.call(`cas nope 0 0 2 1\r\nv3`), "NOT_FOUND\r\n");
    assert.deepEqual(await c.get("get k"), "VALUE k 0 2\r\nv2\r\nEND\r\n");
  });
});

Deno.test("incr, decr, touch, gat, gats and delete answer as memcached does", async () => {
  await withCluster({}, async ({ client }) => {
    const c = await client();
    await c.set("n", "10");
    assert.deepEqual(await c.call("incr n 5"), "15\r\n");
    assert.deepEqual(await c.call("decr n 100"), "0\r\n");
    assert.deepEqual(await c.call("incr nope 1"), "NOT_FOUND\r\n");
    assert.deepEqual(await c.call("incr n abc"), "CLIENT_ERROR invalid numeric delta argument\r\n");
    await c.set("s", "abc");
    assert.deepEqual(
      await c.call("incr s 1"),
      "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n",
    );
    assert.deepEqual(await c.call("touch n 100"), "TOUCHED\r\n");
    assert.deepEqual(await c.call("touch nope 100"), "NOT_FOUND\r\n");
    assert.deepEqual(await c.call("touch n x"), "CLIENT_ERROR invalid exptime argument\r\n");
    // memcached pads a decremented number with spaces to its old length, as here "0 ".
    assert.deepEqual(
      await c.get("gat 100 n s"),
      "VALUE n 0 2\r\n0 \r\nVALUE s 0 3\r\nabc\r\nEND\r\n",
    );
    assert.match(await c.get("gats 100 n"), /^VALUE n 0 2 \d+\r\n0 \r\nEND\r\n$/);
    assert.deepEqual(await c.call("delete n"), "DELETED\r\n");
    assert.deepEqual(await c.call("delete n"), "NOT_FOUND\r\n");
    assert.deepEqual(await c.call("delete s 0"), "DELETED\r\n");
    assert.deepEqual(
      await c.call("delete s 5"),
      "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n",
    );
    assert.deepEqual(await c.get("get n s"), "END\r\n");
  });
});

Deno.test("noreply silences every command that takes it, and each still takes effect", async () => {
  await withCluster({ backups: 1 }, async ({ client }) => {
    const c = await client();
    await c.write(
      "set a 0 0 1 noreply\r\n1\r\n" +
        "add b 0 0 1 noreply\r\n2\r\n" +
        "replace a 0 0 1 noreply\r\n3\r\n" +
        "append a 0 0 1 noreply\r\n4\r\n" +
        "prepend a 0 0 1 noreply\r\n5\r\n" +
        "cas b 0 0 1 1 noreply\r\n6\r\n" +
        "set n 0 0 1 noreply\r\n7\r\n" +
        "incr n 3 noreply\r\n" +
        "decr n 1 noreply\r\n" +
        "touch n 100 noreply\r\n" +
        "delete b noreply\r\n" +
        "verbosity 1 noreply\r\n" +
        "get a b n\r\n",
    );
    // memcached pads a shrinking decr result with spaces when it changes the item in place,
    // which depends on whether anything else holds the item at that moment: both are its answer.
    assert.match(
      await c.readReply(ReplyKind.Retrieval),
      /^VALUE a 0 3\r\n534\r\nVALUE n 0 (2\r\n9 |1\r\n9)\r\nEND\r\n$/,
    );
    await c.write("flush_all noreply\r\nget a\r\n");
    assert.deepEqual(await c.readReply(ReplyKind.Retrieval), "END\r\n");
  });
});

Deno.test("a pipelined batch of any depth is answered in request order", async () => {
  await withCluster({ primaries: 3 }, async ({ client }) => {
    const c = await client();
    let batch = "";
    const expected: string[] = [];
    for (let i = 0; i < 500; i++) {
      batch += `set key${i} ${i} 0 ${String(i).length}\r\n${i}\r\n`;
      expected.push("STORED\r\n");
      batch += `get key${i} key${i - 1}\r\n`;
      expected.push(
        `VALUE key${i} ${i} ${String(i).length}\r\n${i}\r\n` +
          (i > 0 ? `VALUE key${i - 1} ${i - 1} ${String(i - 1).length}\r\n${i - 1}\r\n` : "") +
          "END\r\n",
      );
    }
    await c.write(batch);
    for (let i = 0; i < expected.length; i++) {
      const kind = i % 2 === 0 ? ReplyKind.Line : ReplyKind.Retrieval;
      assert.deepEqual(await c.readReply(kind), expected[i], `reply ${i}`);
    }
  });
});

Deno.test("a multi-get spread over two servers comes back merged in key order, duplicates kept", async () => {
  await withCluster({ primaries: 2 }, async ({ client, direct, primaries }) => {
    const c = await client();
    // Keys that differ in more than their last byte: fnv1a hashes of mk0…mk9 sit close together,
    // and ketama puts close hashes on one server.
    const keys = Array.from({ length: 40 }, (_, i) => `mk:${(i * 2654435761) >>> 0}:${i}`);
    for (const k of keys) assert.deepEqual(await c.set(k, `v-${k}`), "STORED\r\n");
    const holders = await Promise.all(primaries.map(async (server) => {
      const d = await direct(server);
      const held = new Set<string>();
      for (const k of keys) if ((await d.get(`get ${k}`)) !== "END\r\n") held.add(k);
      return held;
    }));
    assert.ok(holders[0].size > 0 && holders[1].size > 0, "keys landed on both servers");
    for (const k of keys) {
      assert.ok(holders[0].has(k) !== holders[1].has(k), `${k} is on exactly one server`);
    }
    const asked = [...keys.slice(0, 20), "missing", keys[3], ...keys.slice(20)];
    const expected = asked.filter((k) => k !== "missing")
      .map((k) => `VALUE ${k} 0 ${`v-${k}`.length}\r\nv-${k}\r\n`).join("") + "END\r\n";
    assert.deepEqual(await c.get(`get ${asked.join(" ")}`), expected);
  });
});

for (const backups of [0, 1]) {
  const which = backups === 0 ? "" : ", some of them from the backup pool";
  Deno.test(`large multi-gets pipelined by several clients at once each come back whole, in order${which}`, async () => {
    await withCluster({ primaries: 2, backups }, async ({ client, direct, primaries }) => {
      const setup = await client();
      const keys = Array.from({ length: 60 }, (_, i) => `big:${(i * 2654435761) >>> 0}:${i}`);
      const value = (k: string) => `${k}:`.repeat(80).slice(0, 400);
      for (const k of keys) assert.deepEqual(await setup.set(k, value(k)), "STORED\r\n");
      if (backups > 0) {
        // A third of the keys are gone from their primary: the backup pool has them.
        const servers = await Promise.all(primaries.map((server) => direct(server)));
        for (const [i, k] of keys.entries()) {
          if (i % 3 === 0) { for (const d of servers) await d.call(`delete ${k}`); }
        }
      }
      const expected = (asked: string[]) =>
        asked.map((k) => `VALUE ${k} 0 400\r\n${value(k)}\r\n`).join("") + "END\r\n";
      // Each client sends five gets of over 4 KiB of replies in one write: merged replies finish
      // out of order, and one client's merge follows another's while the first is unwritten.
      await Promise.all([0, 1, 2].map(async (n) => {
        const c = await client();
        const gets = [0, 1, 2, 3, 4].map((g) => {
          const shift = (n * 5 + g) * 7;
          return [...keys.slice(shift % 60), ...keys.slice(0, shift % 60)].slice(0, 25 + g * 8);
        });
        await c.write(gets.map((asked) => `get ${asked.join(" ")}\r\n`).join(""));
        for (const asked of gets) {
          assert.deepEqual(await c.readReply(ReplyKind.Retrieval), expected(asked));
        }
      }));
    });
  });
}

Deno.test("flush_all reaches every server, primaries and backups alike", async () => {
  await withCluster(
    { primaries: 2, backups: 1 },
    async ({ client, direct, primaries, backups }) => {
      const c = await client();
      for (let i = 0; i < 20; i++) await c.set(`f${i}`, "x");
      assert.deepEqual(await c.call("flush_all"), "OK\r\n");
      for (const server of [...primaries, ...backups]) {
        const d = await direct(server);
        for (let i = 0; i < 20; i++) assert.deepEqual(await d.get(`get f${i}`), "END\r\n");
      }
      assert.deepEqual(await c.call("flush_all 0"), "OK\r\n");
      assert.deepEqual(await c.call("flush_all abc"), "CLIENT_ERROR invalid exptime argument\r\n");
    },
  );
});

Deno.test("version, verbosity, stats and quit are answered by the proxy itself", async () => {
  await withCluster({}, async ({ client }) => {
    const c = await client();
    assert.match(await c.call("version"), /^VERSION 1\.6\.\d+-memrelay-\S+\r\n$/);
    assert.deepEqual(await c.call("verbosity 1"), "OK\r\n");
    assert.deepEqual(await c.call("verbosity"), "ERROR\r\n");
    await c.set("k", "v");
    await c.get("get k nope");
    const stats = await c.stats();
    assert.match(stats, /^STAT pid \d+\r\n/);
    assert.match(stats, /STAT cmd_get 2\r\n/);
    assert.match(stats, /STAT cmd_set 1\r\n/);
    assert.match(stats, /STAT get_hits 1\r\n/);
    assert.match(stats, /STAT get_misses 1\r\n/);
    assert.match(stats, /STAT curr_connections 1\r\n/);
    await c.write("quit\r\nget k\r\n");
    assert.deepEqual(await c.readUntilClosed(), "");
  });
});

Deno.test("a client that ends its side after a get and a flush_all gets both replies, then the proxy closes", async () => {
  await withCluster({}, async ({ client }) => {
    const c = await client();
    // The flush_all waits for the get, and holds back what would follow it.
    await c.write("get nope\r\nflush_all\r\n");
    await c.closeWrite();
    assert.deepEqual(await c.readUntilClosed(), "END\r\nOK\r\n");
  });
});

Deno.test("unknown commands get ERROR and the connection stays open", async () => {
  await withCluster({}, async ({ client }) => {
    const c = await client();
    assert.deepEqual(await c.call("bogus"), "ERROR\r\n");
    assert.deepEqual(await c.call("GET k"), "ERROR\r\n");
    assert.deepEqual(await c.call(""), "ERROR\r\n");
    assert.deepEqual(await c.call("set k 0 0"), "ERROR\r\n");
    assert.deepEqual(await c.set("k", "still here"), "STORED\r\n");
  });
});

Deno.test("malformed requests get memcached's error lines and the stream stays in step", async () => {
  await withCluster({ flags: ["-I", "1000"] }, async ({ client }) => {
    const c = await client();
    const long = "k".repeat(251);
    assert.deepEqual(await c.get(`get ${long}`), "CLIENT_ERROR bad command line format\r\n");
    assert.deepEqual(await c.get(`get ok\x00key`), "CLIENT_ERROR bad command line format\r\n");
    assert.deepEqual(
      await c.set("ctl\x10key", "v"),
      "STORED\r\n",
      "control bytes pass, as in memcached",
    );
    assert.deepEqual(await c.get("get ctl\x10key"), "VALUE ctl\x10key 0 1\r\nv\r\nEND\r\n");
    await c.write(`set ${long} 0 0 1\r\nx\r\n`);
    assert.deepEqual(await c.readReply(), "CLIENT_ERROR bad command line format\r\n");
    assert.deepEqual(await c.readReply(), "ERROR\r\n");
    await c.write("set k 0 0 5\r\nhelloXX\r\n");
    assert.deepEqual(await c.readReply(), "CLIENT_ERROR bad data chunk\r\n");
    assert.deepEqual(await c.readReply(), "ERROR\r\n");
    await c.write(`set big 0 0 5000\r\n${"x".repeat(5000)}\r\nget big\r\n`);
    assert.deepEqual(await c.readReply(), "SERVER_ERROR object too large for cache\r\n");
    assert.deepEqual(await c.readReply(ReplyKind.Retrieval), "END\r\n");
    assert.deepEqual(await c.set("k", "fine"), "STORED\r\n");
  });
});

Deno.test("a client that closes in the middle of a value stores nothing", async () => {
  await withCluster({}, async ({ client }) => {
    const quitter = await client();
    await quitter.write("set half 0 0 10\r\nhello");
    quitter.close();
    const c = await client();
    assert.deepEqual(await c.set("old", "kept"), "STORED\r\n");
    const another = await client();
    await another.write("set before 0 0 2\r\nok\r\nset old 0 0 100000\r\n" + "x".repeat(50_000));
    assert.deepEqual(await another.readLine(), "STORED\r\n");
    another.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(await c.get("get half"), "END\r\n");
    assert.deepEqual(
      await c.get("get old before"),
      "VALUE old 0 4\r\nkept\r\nVALUE before 0 2\r\nok\r\nEND\r\n",
    );
  });
});

Deno.test("values are binary-safe, from empty to near memcached's 1 MiB item limit", async () => {
  await withCluster({ backups: 1 }, async ({ client }) => {
    const c = await client();
    for (const size of [0, 1, 2, 1000, 70_000, 1_000_000]) {
      const value = new Uint8Array(size);
      for (let i = 0; i < size; i++) value[i] = (i * 131 + size) % 256;
      if (size > 2) value.set([13, 10], Math.floor(size / 2));
      const header = new TextEncoder().encode(`set bin${size} 3 0 ${size}\r\n`);
      await c.write(header);
      await c.write(value);
      await c.write("\r\n");
      assert.deepEqual(await c.readReply(), "STORED\r\n");
      await c.write(`get bin${size}\r\n`);
      const reply = await c.readReplyBytes(ReplyKind.Retrieval);
      const head = new TextEncoder().encode(`VALUE bin${size} 3 ${size}\r\n`);
      assert.deepEqual(reply.subarray(0, head.length), head);
      assert.deepEqual(reply.subarray(head.length, head.length + size), value);
    }
  });
});

Deno.test("past -n, a new client gets SERVER_ERROR too many connections and is closed", async () => {
  await withCluster({ flags: ["-n", "2"] }, async ({ client }) => {
    const a = await client();
    const b = await client();
    assert.deepEqual(await a.call("version").then((r) => r.startsWith("VERSION")), true);
    assert.deepEqual(await b.call("version").then((r) => r.startsWith("VERSION")), true);
    for (let i = 0; i < 3; i++) {
      const refused = await client();
      assert.deepEqual(await refused.readUntilClosed(), "SERVER_ERROR too many connections\r\n");
    }
    assert.match(await b.stats(), /STAT rejected_connections 3\r\n/);
    a.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const again = await client();
    assert.deepEqual(await again.set("k", "v"), "STORED\r\n");
  });
});
