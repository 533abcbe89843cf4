import assert from "node:assert/strict";
import { withCluster } from "../helpers/cluster.ts";

const encoder = new TextEncoder();

for (const io of ["epoll", "deno"]) {
  Deno.test(`a client cut off for a bad request still reads every reply before it whole, though it sent more (--io ${io})`, async () => {
    await withCluster({ primaries: 1, flags: ["--io", io] }, async ({ client, proxy }) => {
      const value = "v".repeat(500_000);
      const c = await client();
      assert.equal(await c.call(`set big 0 0 ${value.length}\r\n${value}`), "STORED\r\n");
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: proxy.port });
      // Four large replies, then a line too long (the proxy answers with an error and closes),
      // then more bytes it will not read as requests: it closes with input still unread.
      const gets = "get big\r\n".repeat(4);
      const input = encoder.encode(gets + "x".repeat(8192) + " y".repeat(32 * 1024));
      for (let at = 0; at < input.length;) at += await conn.write(input.subarray(at));
      const received: Uint8Array[] = [];
      const buf = new Uint8Array(64 * 1024);
      while (true) {
        const n = await conn.read(buf).catch(() => null);
        if (n === null) break;
        received.push(buf.slice(0, n));
      }
      conn.close();
      const text = new TextDecoder().decode(
        received.reduce((all, part) => {
          const joined = new Uint8Array(all.length + part.length);
          joined.set(all);
          joined.set(part, all.length);
          return joined;
        }, new Uint8Array(0)),
      );
      const reply = `VALUE big 0 ${value.length}\r\n${value}\r\nEND\r\n`;
      assert.ok(text.startsWith(reply.repeat(4)), `only ${text.length} bytes came back whole`);
      assert.match(text.slice(reply.length * 4), /^CLIENT_ERROR line too long\r\n$|^$/);
    });
  });
}
