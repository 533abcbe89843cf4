import assert from "node:assert/strict";

const encoder = new TextEncoder();
const decoder = new TextDecoder("latin1");
/**
 * Sends `chunks` and a unique end marker (a text `set` and `get`), and returns every byte of
 * reply before the marker, as latin1 text.
 */
export async function exchange(
  port: number,
  chunks: Uint8Array[],
  marker: string,
): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const end = `VALUE ${marker} 0 ${marker.length}\r\n${marker}\r\nEND\r\n`;
  const writing = (async () => {
    for (const chunk of chunks) {
      let rest = chunk;
      while (rest.length > 0) rest = rest.subarray(await conn.write(rest));
    }
    await conn.write(
      encoder.encode(`set ${marker} 0 0 ${marker.length}\r\n${marker}\r\nget ${marker}\r\n`),
    );
  })();
  let received = "";
  const buf = new Uint8Array(256 * 1024);
  while (!received.endsWith(end)) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const silence = new Promise<"silent">((resolve) =>
      timer = setTimeout(resolve, 20_000, "silent")
    );
    const n = await Promise.race([conn.read(buf), silence]);
    clearTimeout(timer);
    if (n === "silent") {
      conn.close();
      throw new Error(
        `no reply for 20 s after ${received.length} bytes, ending ${
          JSON.stringify(received.slice(-300))
        }`,
      );
    }
    if (n === null) break;
    received += decoder.decode(buf.subarray(0, n));
  }
  await writing;
  conn.close();
  assert.ok(received.endsWith(end), `the stream was cut short after ${received.length} bytes`);
  return received.slice(0, -end.length);
}
