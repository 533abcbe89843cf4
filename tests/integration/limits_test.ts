import assert from "node:assert/strict";
import { type CliCluster, resetPeak, withCliCluster } from "../helpers/cli_cluster.ts";
import { eventually } from "../helpers/eventually.ts";
import { SeededRandom } from "../helpers/random.ts";
import { TextClient } from "../helpers/text_client.ts";
import { checkTextReplies } from "../fuzz/text_protocol.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Runs `body`, then prints the proxy's RSS before it and its peak during it. */
async function measured(cluster: CliCluster, name: string, body: () => Promise<void>) {
  await resetPeak(cluster.proxy.child.pid);
  const before = await cluster.memory();
  await body();
  const after = await cluster.memory();
  console.log(
    `${name}: proxy RSS ${before.rss.toFixed(0)} MiB before, peak ${after.peak.toFixed(0)} MiB ` +
      `(+${(after.peak - before.rss).toFixed(0)} MiB)`,
  );
}

/**
 * Sends `chunks` on a new raw connection while reading, then half-closes; resolves with what
 * came back once the proxy closes, and how many bytes it took before it did.
 */
async function exchange(
  port: number,
  chunks: Iterable<Uint8Array>,
): Promise<{ replies: Uint8Array; sent: number }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const received: Uint8Array[] = [];
  const reading = (async () => {
    const buf = new Uint8Array(64 * 1024);
    while (true) {
      const n = await conn.read(buf).catch(() => null);
      if (n === null) return;
      received.push(buf.slice(0, n));
    }
  })();
  let sent = 0;
  try {
    for (const chunk of chunks) {
      for (let at = 0; at < chunk.length;) {
        const n = await conn.write(chunk.subarray(at));
        at += n;
        sent += n;
      }
    }
    await conn.closeWrite();
  } catch {
    // The proxy closed the connection first.
  }
  await reading;
  conn.close();
  const replies = new Uint8Array(received.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of received) {
    replies.set(chunk, at);
    at += chunk.length;
  }
  return { replies, sent };
}

/** Checks that a new connection gets normal service. */
async function servedAfter(cluster: CliCluster, key: string): Promise<void> {
  const c = await cluster.client();
  assert.equal(await c.set(key, "fine"), "STORED\r\n");
  assert.equal(await c.get(`get ${key}`), `VALUE ${key} 0 4\r\nfine\r\nEND\r\n`);
}

/** Reads `count` lines from `client`. */
async function lines(client: TextClient, count: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(await client.readLine());
  return out;
}

Deno.test("memcached's limits hold against a running proxy, with its memory measured", async (t) => {
  await withCliCluster({ primaries: 2 }, async (cluster) => {
    const port = cluster.proxy.port;

    await t.step(
      "256 KiB of random bytes get error lines or a close, then a new connection is served",
      async () => {
        await measured(cluster, "256 KiB of random bytes", async () => {
          const { replies } = await exchange(port, [new SeededRandom(256).bytes(256 * 1024)]);
          assert.equal(checkTextReplies(replies), null);
          assert.match(decoder.decode(replies.subarray(0, 7)), /^ERROR\r\n/);
        });
        await servedAfter(cluster, "after-random");
      },
    );

    await t.step(
      "64 MiB without a newline is cut off early, get line or not, with memory flat",
      async () => {
        for (const prefix of ["", "get "]) {
          await measured(cluster, `64 MiB of "${prefix}k..." without a newline`, async () => {
            const block = new Uint8Array(1024 * 1024).fill(0x6b);
            const chunks = [encoder.encode(prefix), ...Array.from({ length: 64 }, () => block)];
            const started = performance.now();
            const { replies, sent } = await exchange(port, chunks);
            const took = performance.now() - started;
            console.log(
              `  closed after ${(sent / 1e6).toFixed(1)} MB taken, ${took.toFixed(0)} ms`,
            );
            assert.ok(sent < 16 * 1024 * 1024, `the proxy took ${sent} bytes before closing`);
            assert.match(decoder.decode(replies), /^(CLIENT_ERROR line too long\r\n)?$/);
          });
        }
        await servedAfter(cluster, "after-long-line");
      },
    );

    await t.step(
      "absurd value lengths are answered at once and closed, without waiting for the data",
      async () => {
        for (const length of ["4294967296", "-1", "abc", "99999999999999999999", "2147483647"]) {
          const c = await cluster.client();
          const started = performance.now();
          await c.write(`set k 0 0 ${length}\r\nget k\r\n`);
          assert.equal(
            await c.readUntilClosed(1000),
            "CLIENT_ERROR bad command line format\r\n",
            `length ${length}: nothing after it is read as a command`,
          );
          assert.ok(performance.now() - started < 1000);
        }
        // Over the item size and too large to skip: answered and closed, the data never awaited.
        const c = await cluster.client();
        const started = performance.now();
        await c.write("set k 0 0 100000000\r\n");
        assert.equal(await c.readUntilClosed(1000), "SERVER_ERROR object too large for cache\r\n");
        assert.ok(performance.now() - started < 1000);
      },
    );

    await t.step(
      "an oversized value is answered at once and skipped, the stream still in step",
      async () => {
        await measured(cluster, "a value of 20 MB over a 1 MiB item limit", async () => {
          const c = await cluster.client();
          assert.equal(await c.set("old", "kept"), "STORED\r\n");
          await c.write("set old 0 0 20000000\r\n");
          assert.equal(await c.readLine(1000), "SERVER_ERROR object too large for cache\r\n");
          const block = new Uint8Array(1_000_000).fill(0x78);
          for (let i = 0; i < 20; i++) await c.write(block);
          await c.write("\r\n");
          // memcached drops the old value of a set whose new one was too large.
          assert.equal(await c.get("get old"), "END\r\n");
          assert.equal(await c.set("old", "new"), "STORED\r\n");
        });
      },
    );

    await t.step("keys over 250 bytes get memcached's errors, command by command", async () => {
      const long = "k".repeat(251);
      const steps: Array<[string, number]> = [
        [`get ${long}\r\n`, 1],
        [`gets a ${long} b\r\n`, 1],
        [`gat 0 ${long}\r\n`, 1],
        [`set ${long} 0 0 1\r\nx\r\n`, 2],
        [`add ${long} 0 0 1 noreply\r\nx\r\n`, 1],
        [`cas ${long} 0 0 1 1\r\nx\r\n`, 2],
        [`delete ${long}\r\n`, 1],
        [`incr ${long} 1\r\n`, 1],
        [`touch ${long} 10\r\n`, 1],
        [`get ${"k".repeat(250)}\r\n`, 1],
      ];
      const transcript = async (client: TextClient) => {
        const out: string[] = [];
        for (const [step, count] of steps) {
          await client.write(step);
          out.push(...await lines(client, count));
        }
        return out;
      };
      const direct = await TextClient.connect(cluster.primaries[0].port);
      const expected = await transcript(direct);
      direct.close();
      assert.equal(expected[0], "CLIENT_ERROR bad command line format\r\n");
      assert.deepEqual(await transcript(await cluster.client()), expected);
    });

    await t.step(
      "a 10,000-key multi-get is served in key order; 10,001 keys are refused in step",
      async () => {
        const keys = Array.from({ length: 10_000 }, (_, i) => `mk:${i}`);
        const c = await cluster.client();
        const stored = keys.filter((_, i) => i % 10 === 0);
        await c.write(stored.map((k) => `set ${k} 0 0 ${k.length} noreply\r\n${k}\r\n`).join(""));
        await measured(cluster, "a 10,000-key multi-get", async () => {
          const reply = await c.get(`get ${keys.join(" ")}`);
          assert.equal(
            reply,
            stored.map((k) => `VALUE ${k} 0 ${k.length}\r\n${k}\r\n`).join("") + "END\r\n",
          );
        });
        assert.equal(
          await c.get(`get ${keys.join(" ")} one-more`),
          "CLIENT_ERROR too many keys: at most 10000 per request\r\n",
        );
        assert.match(await c.call("version"), /^VERSION /);
      },
    );

    await t.step("50,000 pipelined noreply sets are all stored", async () => {
      await measured(cluster, "50,000 pipelined noreply sets", async () => {
        const c = await cluster.client();
        const sets = Array.from(
          { length: 50_000 },
          (_, i) => `set nr:${i} 0 0 ${String(i).length} noreply\r\n${i}\r\n`,
        );
        await c.write(sets.join(""));
        assert.equal(await c.get("get nr:49999"), "VALUE nr:49999 0 5\r\n49999\r\nEND\r\n");
      });
      await eventually(async () => {
        let items = 0;
        for (const server of cluster.primaries) {
          const direct = await TextClient.connect(server.port);
          const stats = await direct.stats();
          direct.close();
          items += Number(/STAT curr_items (\d+)/.exec(stats)![1]);
        }
        // Each server also holds the keys earlier steps stored.
        const c = await cluster.client();
        const sample = await c.get(`get nr:0 nr:12345 nr:25000 nr:49998`);
        assert.equal((sample.match(/^VALUE /gm) ?? []).length, 4);
        assert.ok(items >= 50_000, `${items} items stored`);
      }, 10_000);
    });
  });
});
