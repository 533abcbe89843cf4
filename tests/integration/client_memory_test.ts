import assert from "node:assert/strict";
import { type CliCluster, resetPeak, withCliCluster } from "../helpers/cli_cluster.ts";
import { eventually } from "../helpers/eventually.ts";
import type { TextClient } from "../helpers/text_client.ts";

const encoder = new TextEncoder();

/** The proxy's `get_hits` counter. */
async function getHits(client: TextClient): Promise<number> {
  return Number(/STAT get_hits (\d+)/.exec(await client.stats())![1]);
}

/** Stores `count` values of `size` bytes as `big:0`…; returns the keys. */
async function storeBig(client: TextClient, count: number, size: number): Promise<string[]> {
  const keys = Array.from({ length: count }, (_, i) => `big:${i}`);
  const value = "v".repeat(size);
  for (const key of keys) assert.equal(await client.set(key, value), "STORED\r\n");
  return keys;
}

/** Connects a raw client that sends `requests` and reads nothing until told to. */
async function silentClient(cluster: CliCluster, requests: string): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: cluster.proxy.port });
  const bytes = encoder.encode(requests);
  for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
  return conn;
}

/** Reads from `conn` until it closes or `expected` bytes have come; returns the count. */
async function drain(conn: Deno.Conn, expected = Infinity): Promise<number> {
  const buf = new Uint8Array(1024 * 1024);
  let total = 0;
  while (total < expected) {
    const n = await conn.read(buf).catch(() => null);
    if (n === null) break;
    total += n;
  }
  return total;
}

/** Times one set and get of another client. */
async function servedIn(other: TextClient): Promise<number> {
  const started = performance.now();
  assert.equal(await other.set("other", "served"), "STORED\r\n");
  assert.equal(await other.get("get other"), "VALUE other 0 6\r\nserved\r\nEND\r\n");
  return performance.now() - started;
}

Deno.test("a client that reads nothing cannot make the proxy buffer without limit, and others are still served", async () => {
  const valueSize = 500 * 1024;
  const gets = 30; // 30 gets of 40 values of 500 KiB: 600 MB of replies
  await withCliCluster({ primaries: 2 }, async (cluster) => {
    const loader = await cluster.client();
    const keys = await storeBig(loader, 40, valueSize);
    const line = `get ${keys.join(" ")}\r\n`;
    // The pool has served large values before, as a pool that holds them has.
    assert.match(await loader.get(`get ${keys[0]} ${keys[1]}`), /END\r\n$/);
    await resetPeak(cluster.proxy.child.pid);
    const before = await cluster.memory();

    const slow = await silentClient(cluster, line.repeat(gets));
    const latency = await servedIn(await cluster.client());
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const held = await cluster.memory();
    const growth = held.peak - before.rss;
    console.log(
      `600 MB asked, none read: proxy RSS ${before.rss.toFixed(0)} MiB before, peak ` +
        `${held.peak.toFixed(0)} MiB (+${growth.toFixed(0)} MiB); another client's set and get ` +
        `took ${latency.toFixed(0)} ms`,
    );
    assert.ok(growth < 200, `the proxy grew by ${growth.toFixed(0)} MiB`);
    assert.ok(latency < 2000, `another client waited ${latency.toFixed(0)} ms`);

    // Once the client reads, it gets every reply, the rest sent as it takes them.
    const replySize = keys.reduce(
      (sum, key) => sum + `VALUE ${key} 0 ${valueSize}\r\n`.length + valueSize + 2,
      "END\r\n".length,
    );
    assert.equal(await drain(slow, replySize * gets), replySize * gets);
    slow.close();
    const after = await cluster.memory();
    console.log(`... and once read: peak ${after.peak.toFixed(0)} MiB`);
  });
});

Deno.test("a client holding more than four times --max-client-buffer is closed with SERVER_ERROR out of memory", async () => {
  const log = await withCliCluster(
    { primaries: 2, flags: ["--max-client-buffer", "1048576"] },
    async (cluster) => {
      const loader = await cluster.client();
      const keys = await storeBig(loader, 4, 500 * 1024);
      // Only small values served so far: the proxy expects small replies, sends the whole burst.
      assert.equal(await loader.set("small", "s"), "STORED\r\n");
      assert.equal(await loader.get("get small"), "VALUE small 0 1\r\ns\r\nEND\r\n");
      const hitsBefore = await getHits(loader);
      await resetPeak(cluster.proxy.child.pid);
      const before = await cluster.memory();

      const gets = 30; // 60 MB of replies, past the hard bound of 4 MiB
      const slow = await silentClient(cluster, `get ${keys.join(" ")}\r\n`.repeat(gets));
      const latency = await servedIn(await cluster.client());
      // Every reply it asked for has come back from memcached, and been dropped.
      await eventually(async () => {
        assert.ok(await getHits(loader) >= hitsBefore + gets * keys.length);
      }, 30_000);
      const after = await cluster.memory();
      console.log(
        `60 MB asked, none read, 4 MiB hard bound: proxy RSS peak +` +
          `${(after.peak - before.rss).toFixed(0)} MiB; another client served in ` +
          `${latency.toFixed(0)} ms`,
      );
      const tail = new Uint8Array(64 * 1024 * 1024);
      let length = 0;
      while (true) {
        const n = await slow.read(tail.subarray(length)).catch(() => null);
        if (n === null) break;
        length += n;
      }
      slow.close();
      const end = new TextDecoder().decode(tail.subarray(Math.max(0, length - 40), length));
      assert.ok(end.endsWith("SERVER_ERROR out of memory\r\n"), `the stream ends ${end}`);
    },
  );
  assert.match(log, /WARN client closed: it does not read its replies .*limit=4194304/);
});

Deno.test("a thousand clients that each send one request at a time cost the proxy under 40 MiB", async () => {
  await withCliCluster({ primaries: 2, flags: ["-n", "2000"] }, async (cluster) => {
    const loader = await cluster.client();
    assert.equal(await loader.set("small", "v"), "STORED\r\n");
    const before = await cluster.memory();
    const conns: Deno.TcpConn[] = [];
    try {
      for (let i = 0; i < 1000; i++) conns.push(await silentClient(cluster, "get small\r\n"));
      const reply = "VALUE small 0 1\r\nv\r\nEND\r\n".length;
      const received = await Promise.all(conns.map((conn) => drain(conn, reply)));
      assert.ok(received.every((n) => n === reply));
      const after = await cluster.memory();
      console.log(`1000 clients: proxy RSS +${(after.rss - before.rss).toFixed(1)} MiB`);
      // Each session's buffers start at a few KiB; a 64 KiB read buffer each made it 80 MiB.
      assert.ok(after.rss - before.rss < 40, `RSS grew ${after.rss - before.rss} MiB`);
    } finally {
      for (const conn of conns) conn.close();
    }
  });
});
