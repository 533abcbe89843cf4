/**
 * Runs Debian's `memcaslap` (libmemcached-tools) and reads its report.
 *
 * memcaslap measures throughput and a log2 latency histogram, so its p50 and p99 are known only to
 * a power of two. Its keys begin with 8 bytes such as 0x10 (it does not let you choose), which
 * memcached and twemproxy accept; {@linkcode acceptsMemcaslapKeys} checks a target first.
 *
 * @module
 */

import { delay, type ProcessGroup } from "./processes.ts";

/** What memcaslap reported for one run. */
export interface MemcaslapResult {
  /** Operations (a multi-get counts each key), over `elapsed` seconds. */
  ops: number;
  gets: number;
  sets: number;
  getMisses: number;
  elapsed: number;
  /** Lower and upper bound (µs) of the log2 bucket holding the median, or null. */
  p50: [number, number] | null;
  /** Lower and upper bound (µs) of the log2 bucket holding the 99th percentile, or null. */
  p99: [number, number] | null;
}

/** memcaslap's workload file: `getRatio` gets, the rest sets, `valueSize`-byte values. */
export function memcaslapConfig(getRatio: number, valueSize: number, keySize = 30): string {
  return [
    "key",
    `${keySize} ${keySize} 1`,
    "value",
    `${valueSize} ${valueSize} 1`,
    "cmd",
    `0 ${(1 - getRatio).toFixed(2)}`,
    `1 ${getRatio.toFixed(2)}`,
    "",
  ].join("\n");
}

/** Runs memcaslap for `seconds` against `servers`, one thread, `conns` connections. */
export async function runMemcaslap(
  group: ProcessGroup,
  servers: string[],
  conns: number,
  seconds: number,
  configFile: string,
  valueSize: number,
): Promise<MemcaslapResult> {
  const secs = `${Math.max(1, Math.round(seconds))}s`;
  const args = [
    ...["-s", servers.join(","), "-T", "1", "-c", String(conns), "-t", secs, "-S", secs],
    ...["-F", configFile, "-X", String(valueSize), "-w", "1k"],
  ];
  const proc = group.spawn("memcaslap", "memcaslap", { args, pipeOutput: true });
  const outText = new Response(proc.child.stdout).text();
  const errText = new Response(proc.child.stderr).text();
  const expired = delay((seconds + 60) * 1000).then(() => "timeout" as const);
  if ((await Promise.race([proc.status, expired])) === "timeout") await proc.stop(500);
  const text = (await outText) + (await errText);
  const parsed = parseMemcaslap(text);
  if (!parsed) throw new Error(`memcaslap gave no result: ${text.slice(-400)}`);
  return parsed;
}

/** Reads memcaslap's final report; null when it has none. */
export function parseMemcaslap(text: string): MemcaslapResult | null {
  const run = text.match(/Run time: ([\d.]+)s Ops: (\d+) TPS: (\d+)/);
  if (!run) return null;
  const num = (re: RegExp) => Number(text.match(re)?.[1] ?? 0);
  // The "Total Statistics (N events)" block ends with "Log2 Dist:" rows such as
  // "       8:    66427   223183    43284     1830": row r, column c counts latencies whose
  // bit length is r + c, that is in [2^(r+c-1), 2^(r+c)) µs.
  const total = text.slice(text.lastIndexOf("Total Statistics ("));
  const buckets = new Map<number, number>();
  const dist = total.slice(total.indexOf("Log2 Dist:"));
  for (const row of dist.split("\n").slice(1)) {
    const m = row.match(/^\s+(\d+):((?:\s+\d+)+)\s*$/);
    if (!m) break;
    const base = Number(m[1]);
    m[2].trim().split(/\s+/).forEach((count, i) => buckets.set(base + i, Number(count)));
  }
  const bounds = (q: number): [number, number] | null => {
    const all = [...buckets.entries()].sort((a, b) => a[0] - b[0]);
    const sum = all.reduce((s, [, n]) => s + n, 0);
    if (sum === 0) return null;
    let seen = 0;
    for (const [bits, n] of all) {
      seen += n;
      if (seen >= q * sum) return [bits === 0 ? 0 : 2 ** (bits - 1), 2 ** bits];
    }
    return null;
  };
  return {
    ops: Number(run[2]),
    elapsed: Number(run[1]),
    gets: num(/^cmd_get: (\d+)/m),
    sets: num(/^cmd_set: (\d+)/m),
    getMisses: num(/^get_misses: (\d+)/m),
    p50: bounds(0.5),
    p99: bounds(0.99),
  };
}

/**
 * Whether the server at `port` stores and serves a key that starts with control bytes, as
 * memcaslap's keys do. Returns the reply it gave when it does not.
 */
export async function acceptsMemcaslapKeys(port: number): Promise<true | string> {
  const key = "\x10\x10\x10\x10\x10\x10\x10\x10memrelay-bench-probe";
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode(`set ${key} 0 0 1\r\nx\r\nget ${key}\r\n`));
    const buf = new Uint8Array(4096);
    let text = "";
    const until = Date.now() + 2000;
    while (!/END\r\n$|ERROR[^\n]*\n$/.test(text) && Date.now() < until) {
      const n = await Promise.race([conn.read(buf), delay(500).then(() => 0)]);
      if (n === null) break;
      text += new TextDecoder().decode(buf.subarray(0, n));
      if (/^STORED\r\nVALUE [^\r]+\r\nx\r\nEND\r\n$/.test(text)) return true;
    }
    return text.split("\r\n")[0] || "no reply";
  } finally {
    conn.close();
  }
}
