import assert from "node:assert/strict";
import { dumpKeys, KeyDumpWalkUnsupported } from "../../lib/backend/key_dump.ts";
import { startMemcached } from "../helpers/memcached.ts";
import { TextClient } from "../helpers/text_client.ts";

const KEYS = 3000;
const decoder = new TextDecoder();

Deno.test("a key dump sees every key while the server serves reads", async () => {
  const server = await startMemcached();
  const loader = await TextClient.connect(server.port);
  let stop = false;
  const readers: Promise<void>[] = [];
  try {
    let batch = "";
    for (let i = 0; i < KEYS; i++) batch += `set cold:${i} 0 0 6\r\nfrozen\r\n`;
    await loader.write(batch);
    for (let i = 0; i < KEYS; i++) assert.equal(await loader.readReply(), "STORED\r\n");
    // Reads make memcached's LRU maintainer move items between its lists: a walk of the LRUs
    // then misses some (3–12% here); a walk of the hash table must not.
    for (let r = 0; r < 4; r++) {
      readers.push((async () => {
        const client = await TextClient.connect(server.port);
        try {
          for (let n = 0; !stop; n++) {
            const keys = Array.from(
              { length: 10 },
              (_, j) => `cold:${(n * 7919 + j * 313) % KEYS}`,
            );
            await client.get(`get ${keys.join(" ")}`);
          }
        } finally {
          client.close();
        }
      })());
    }
    for (let round = 0; round < 3; round++) {
      const seen = new Set<string>();
      for await (
        const key of dumpKeys({ hostname: "127.0.0.1", port: server.port, timeoutMs: 2000 })
      ) {
        seen.add(decoder.decode(key));
      }
      assert.equal(seen.size, KEYS, `round ${round}`);
    }
  } finally {
    stop = true;
    await Promise.all(readers);
    loader.close();
    await server.stop();
  }
});

Deno.test("a server without a hash-table walk is reported as such, and an LRU walk asks for `metadump all`", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const requests: string[] = [];
  const serving = (async () => {
    for await (const conn of listener) {
      const buf = new Uint8Array(1024);
      const n = await conn.read(buf);
      const line = decoder.decode(buf.subarray(0, n ?? 0));
      requests.push(line);
      const reply = line === "lru_crawler metadump hash\r\n"
        ? "CLIENT_ERROR bad command line format\r\n"
        : "key=a%20b exp=-1 la=1 cas=1 fetch=no cls=1 size=61\r\nEND\r\n";
      await conn.write(new TextEncoder().encode(reply));
      conn.close();
    }
  })();
  try {
    await assert.rejects(
      async () => {
        for await (const _ of dumpKeys({ hostname: "127.0.0.1", port, timeoutMs: 1000 })) {
          // nothing comes
        }
      },
      KeyDumpWalkUnsupported,
    );
    const keys: string[] = [];
    for await (
      const key of dumpKeys({ hostname: "127.0.0.1", port, timeoutMs: 1000, walk: "lru" })
    ) {
      keys.push(decoder.decode(key));
    }
    assert.deepEqual(keys, ["a b"]);
    assert.deepEqual(requests, ["lru_crawler metadump hash\r\n", "lru_crawler metadump all\r\n"]);
  } finally {
    listener.close();
    await serving.catch(() => {});
  }
});
