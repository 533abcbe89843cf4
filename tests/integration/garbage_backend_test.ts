import assert from "node:assert/strict";
import { startMemcached } from "../helpers/memcached.ts";
import { startTestProxy } from "../helpers/proxy.ts";
import { TextClient } from "../helpers/text_client.ts";

/**
 * A fake server that answers every request with bytes no memcached would send: the one thing
 * a real memcached cannot be made to do.
 */
function garbageServer(): { address: string; close(): void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  (async () => {
    for await (const conn of listener) {
      conns.push(conn);
      (async () => {
        const buf = new Uint8Array(4096);
        try {
          while ((await conn.read(buf)) !== null) {
            await conn.write(new TextEncoder().encode("HELLO THERE\r\nVALUE x y z\r\n\x00\x01"));
          }
        } catch {
          // The proxy hung up on us, as it should.
        }
      })();
    }
  })().catch(() => {});
  return {
    address: `127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    close() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch {
          // Already closed by the proxy.
        }
      }
    },
  };
}

Deno.test("a backend that answers garbage gets SERVER_ERROR replies and the proxy serves on", async () => {
  const bad = garbageServer();
  const good = await startMemcached();
  const proxy = await startTestProxy(["-s", bad.address, "-b", good.address]);
  const c = await TextClient.connect(proxy.port);
  try {
    for (let i = 0; i < 5; i++) {
      const reply = await c.call(`set k${i} 0 0 1\r\nx`);
      assert.ok(reply === "STORED\r\n" || reply.startsWith("SERVER_ERROR "), reply);
    }
    assert.match(await c.call("incr n 1"), /^(NOT_FOUND|SERVER_ERROR .*)\r\n$/);
    assert.equal(await c.set("after", "fine"), "STORED\r\n", "the write failed over to the backup");
    assert.equal(await c.get("get after"), "VALUE after 0 4\r\nfine\r\nEND\r\n");
    assert.match(await c.call("version"), /^VERSION /);
  } finally {
    c.close();
    await proxy.close();
    bad.close();
    await good.stop();
  }
});
