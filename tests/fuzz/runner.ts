import { SeededRandom } from "../helpers/random.ts";
import { writeAll } from "../../lib/protocol/bytes.ts";
import { type FuzzProtocol, join } from "./protocol.ts";

/** A case the proxy failed. */
export interface FuzzFailure {
  /** Replays the case alone: `protocol.generate(new SeededRandom(seed))`. */
  seed: number;
  /** What went wrong. */
  reason: string;
}

/** What a run did. */
export interface FuzzReport {
  /** Cases sent, each on its own connection and each followed by a probe on a fresh one. */
  cases: number;
  /** Bytes of input sent. */
  bytes: number;
  /** How long it ran, in milliseconds. */
  elapsedMs: number;
  /** Cases whose replies were not valid, that hung, or after which a probe was not served. */
  failures: FuzzFailure[];
}

/** Options of {@linkcode fuzz}. */
export interface FuzzOptions {
  /** The proxy's TCP port on 127.0.0.1. */
  port: number;
  /** Seeds the run; case `i` has seed `seed + i`. */
  seed: number;
  /** Stop after this many cases. */
  cases?: number;
  /** Stop after this many milliseconds. */
  durationMs?: number;
  /** How long a case may take to be answered and closed before it counts as a hang. */
  caseTimeoutMs?: number;
  /** False once the proxy has died: the run stops with a failure. */
  alive?: () => boolean;
  /** Called after each case. */
  onCase?: (report: FuzzReport) => void;
}

/** Reads `conn` until it closes, or rejects with "hang" after `timeoutMs`. */
async function readUntilClosed(conn: Deno.Conn, timeoutMs: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    conn.close();
  }, timeoutMs);
  const buf = new Uint8Array(64 * 1024);
  try {
    while (true) {
      const n = await conn.read(buf).catch((error) => {
        if (timedOut) return null;
        if (error instanceof Deno.errors.ConnectionReset) return null;
        throw error;
      });
      if (n === null) break;
      chunks.push(buf.slice(0, n));
    }
  } finally {
    clearTimeout(timer);
  }
  if (timedOut) throw new Error(`not answered and closed within ${timeoutMs} ms`);
  return join(chunks);
}

/** Sends one case, half-closes, and checks what comes back; null when all is well. */
async function runCase(
  protocol: FuzzProtocol,
  port: number,
  chunks: Uint8Array[],
  timeoutMs: number,
): Promise<string | null> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const replies = readUntilClosed(conn, timeoutMs);
  try {
    for (const chunk of chunks) await writeAll(conn, chunk);
    await conn.closeWrite();
  } catch {
    // The proxy closed the connection before taking it all, as it may.
  }
  try {
    return protocol.check(await replies);
  } catch (error) {
    return (error as Error).message;
  } finally {
    try {
      conn.close();
    } catch {
      // Closed by the timeout.
    }
  }
}

/** Checks that a fresh connection is served normally; null when it is. */
async function probe(
  protocol: FuzzProtocol,
  port: number,
  key: string,
  timeoutMs: number,
): Promise<string | null> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const replies = readUntilClosed(conn, timeoutMs);
    await writeAll(conn, protocol.probe(key));
    await conn.closeWrite();
    return protocol.checkProbe(key, await replies);
  } catch (error) {
    return `a fresh connection failed: ${(error as Error).message}`;
  } finally {
    try {
      conn.close();
    } catch {
      // Closed by the timeout.
    }
  }
}

/**
 * Sends cases of `protocol` to a proxy one at a time, each on its own connection, until the
 * case count or the time is reached. After each, the replies must be valid and whole, the
 * connection closed, and a fresh connection served.
 */
export async function fuzz(protocol: FuzzProtocol, options: FuzzOptions): Promise<FuzzReport> {
  const started = performance.now();
  const timeoutMs = options.caseTimeoutMs ?? 5000;
  const report: FuzzReport = { cases: 0, bytes: 0, elapsedMs: 0, failures: [] };
  for (let i = 0;; i++) {
    if (options.cases !== undefined && i >= options.cases) break;
    if (options.durationMs !== undefined && performance.now() - started >= options.durationMs) {
      break;
    }
    const seed = (options.seed + i) >>> 0;
    const chunks = protocol.generate(new SeededRandom(seed));
    const failure = await runCase(protocol, options.port, chunks, timeoutMs) ??
      await probe(protocol, options.port, `fuzz:probe:${seed}`, timeoutMs);
    report.cases++;
    report.bytes += chunks.reduce((n, c) => n + c.length, 0);
    report.elapsedMs = performance.now() - started;
    if (failure !== null) report.failures.push({ seed, reason: failure });
    if (options.alive !== undefined && !options.alive()) {
      report.failures.push({ seed, reason: "the proxy exited" });
      break;
    }
    options.onCase?.(report);
  }
  report.elapsedMs = performance.now() - started;
  return report;
}
