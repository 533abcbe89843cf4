/**
 * memcached's `STAT name value` form for the proxy's figures: `stats` and memrelay's own
 * `stats servers`.
 *
 * Every number field of {@linkcode ProxyStats} is listed, under its name in snake_case, so a
 * counter added there shows up here (and in `/metrics`) with no more code.
 *
 * @module
 */

import type { ProxySnapshot, ServerSnapshot } from "./snapshot.ts";
import type { ProxyStats } from "./stats.ts";

/** Fields of {@linkcode ProxyStats} that are not counters or gauges to report. */
const NOT_REPORTED: ReadonlySet<string> = new Set(["startedAt"]);

/** `cmdGet` → `cmd_get`. */
export function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase());
}

/**
 * Every number field of `stats`, in declaration order, as `[snake_case name, value]`.
 *
 * @example
 * ```ts
 * import { ProxyStats } from "./stats.ts";
 * import { statsFields } from "./stats_report.ts";
 * const stats = new ProxyStats();
 * stats.cmdGet = 3;
 * console.log(statsFields(stats).find(([name]) => name === "cmd_get")); // ["cmd_get", 3]
 * ```
 */
export function statsFields(stats: ProxyStats): Array<[string, number]> {
  const fields: Array<[string, number]> = [];
  for (const [name, value] of Object.entries(stats)) {
    if (typeof value === "number" && !NOT_REPORTED.has(name)) fields.push([snakeCase(name), value]);
  }
  return fields;
}

/**
 * What `stats` lists: memcached's first four (pid, uptime, time, version), then every counter,
 * then the server layer's figures.
 */
export function statsEntries(snapshot: ProxySnapshot): Array<[string, string | number]> {
  const now = Date.now();
  const entries: Array<[string, string | number]> = [
    ["pid", Deno.pid],
    ["uptime", Math.floor((now - snapshot.stats.startedAt) / 1000)],
    ["time", Math.floor(now / 1000)],
    ["version", snapshot.version],
  ];
  entries.push(...statsFields(snapshot.stats));
  for (const figure of snapshot.extra) entries.push([figure.name, figure.value]);
  return entries;
}

/** `p50_us:87`, or `p50_us:-` when there were no replies lately. */
function quantile(server: ServerSnapshot, q: number, now: number): string {
  return String(server.latency.quantileUs(q, now) ?? "-");
}

/**
 * One `stats servers` line per backend, in mcrouter's `stats servers` style: the server, then
 * `name:value` fields.
 *
 * ```
 * STAT 127.0.0.1:11211 pool:alpha role:primary state:up failures:0 in_flight:0 p50_us:88 p99_us:320 bytes_in:5204 bytes_out:1710 timeouts:0 marked_down:0
 * ```
 */
export function serverLines(snapshot: ProxySnapshot): string[] {
  const now = performance.now();
  return snapshot.servers.map((s) =>
    `${s.address} pool:${s.pool} role:${s.role} state:${s.up ? "up" : "down"} ` +
    `failures:${s.failures} in_flight:${s.inFlight} p50_us:${quantile(s, 0.5, now)} ` +
    `p99_us:${quantile(s, 0.99, now)} bytes_in:${s.bytesIn} bytes_out:${s.bytesOut} ` +
    `timeouts:${s.timeouts} marked_down:${s.markedDown}`
  );
}

/**
 * The reply to `stats` with arguments `args` (the words after `stats`): the counters, the
 * servers for `stats servers`, and memcached's `ERROR` for anything else, as memcached 1.6
 * answers a `stats` argument it does not know.
 */
export function statsReply(snapshot: ProxySnapshot, args: readonly string[]): string {
  let lines: string[];
  if (args.length === 0) {
    lines = statsEntries(snapshot).map(([name, value]) => `${name} ${value}`);
  } else if (args.length === 1 && args[0] === "servers") {
    lines = serverLines(snapshot);
  } else {
    return "ERROR\r\n";
  }
  let text = "";
  for (const line of lines) text += `STAT ${line}\r\n`;
  return text + "END\r\n";
}
