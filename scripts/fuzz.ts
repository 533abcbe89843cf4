/**
 * `deno task fuzz`: throws random and mutated input at memrelay (text, meta or binary), with memcached
 * behind it, for as long as asked, and reports inputs tried per minute and the proxy's peak RSS.
 * Each case goes on its own connection; its replies must be memcached's, whole, or a close,
 * and a fresh connection must be served after it. A failing case prints its seed; rerun with
 * `--seed <seed> --cases 1` to replay it.
 *
 * ```sh
 * deno task fuzz --duration 600 [--protocol text|meta|binary] [--seed N] [--concurrency 2] [--cases N]
 * ```
 *
 * It needs `memcached` on the PATH.
 *
 * @module
 */

import { parseArgs } from "../lib/deps.ts";
import { memoryOf, resetPeak } from "../tests/helpers/cli_cluster.ts";
import { startMemcacheds } from "../tests/helpers/memcached.ts";
import { startCliProxy } from "../tests/helpers/proxy.ts";
import { TextClient } from "../tests/helpers/text_client.ts";
import { fuzz, type FuzzReport } from "../tests/fuzz/runner.ts";
import { textProtocol } from "../tests/fuzz/text_protocol.ts";
import { metaProtocol } from "../tests/fuzz/meta_protocol.ts";
import { binaryProtocol } from "../tests/fuzz/binary_protocol.ts";
import type { FuzzProtocol } from "../tests/fuzz/protocol.ts";

const USAGE = "usage: deno task fuzz [--duration SECONDS] [--protocol text|meta|binary] " +
  "[--seed N] [--concurrency N] [--cases N]";
const PROTOCOLS = new Map<string, FuzzProtocol>([
  ["text", textProtocol],
  ["meta", metaProtocol],
  ["binary", binaryProtocol],
]);

const { values } = parseArgs({
  args: Deno.args,
  options: {
    duration: { type: "string", default: "300" },
    protocol: { type: "string", default: "text" },
    seed: { type: "string" },
    concurrency: { type: "string", default: "1" },
    cases: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  console.log(USAGE);
  Deno.exit(0);
}
const number = (text: string | undefined, name: string): number | undefined => {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) {
    console.error(`fuzz: --${name} takes a whole number, not "${text}"\n${USAGE}`);
    Deno.exit(2);
  }
  return Number(text);
};
const protocol = PROTOCOLS.get(values.protocol);
if (protocol === undefined) {
  console.error(`fuzz: --protocol is text, meta or binary, not "${values.protocol}"\n${USAGE}`);
  Deno.exit(2);
}
const durationMs = number(values.duration, "duration")! * 1000;
const seed = number(values.seed, "seed") ?? Math.floor(Math.random() * 2 ** 31);
const concurrency = Math.max(1, number(values.concurrency, "concurrency")!);
const cases = number(values.cases, "cases");

const servers = await startMemcacheds(2);
const proxy = await startCliProxy(servers.flatMap((s) => ["-s", s.address]));
let exited = false;
proxy.child.status.then(() => exited = true);
await resetPeak(proxy.child.pid);
const start = await memoryOf(proxy.child.pid);
console.log(
  `fuzzing memrelay's ${protocol.name} protocol (pid ${proxy.child.pid}, port ${proxy.port}, RSS ${
    start.rss.toFixed(0)
  } ` +
    `MiB) for ${durationMs / 1000} s, seed ${seed}, ${concurrency} at a time`,
);

const started = performance.now();
const tried = new Array<number>(concurrency).fill(0);
const progress = setInterval(async () => {
  const memory = await memoryOf(proxy.child.pid).catch(() => null);
  const total = tried.reduce((a, b) => a + b, 0);
  const minutes = (performance.now() - started) / 60_000;
  console.log(
    `  ${total} inputs, ${Math.round(total / minutes)}/min, proxy RSS ` +
      `${memory?.rss.toFixed(0)} MiB, peak ${memory?.peak.toFixed(0)} MiB`,
  );
}, 10_000);

let reports: FuzzReport[] = [];
try {
  reports = await Promise.all(
    Array.from({ length: concurrency }, (_, k) =>
      fuzz(protocol, {
        port: proxy.port,
        seed: (seed + k * 0x10000000) >>> 0,
        durationMs,
        cases: cases === undefined ? undefined : Math.ceil(cases / concurrency),
        alive: () => !exited,
        onCase: (report) => tried[k] = report.cases,
      })),
  );
} finally {
  clearInterval(progress);
}
const died = exited;
const memory = died ? null : await memoryOf(proxy.child.pid);
let open = "unknown";
if (!died) {
  const client = await TextClient.connect(proxy.port);
  open = /STAT curr_connections (\d+)/.exec(await client.stats())?.[1] ?? "unknown";
  client.close();
}
const { code, stderr } = await proxy.stop();
await Promise.all(servers.map((s) => s.stop()));

const total = reports.reduce((n, r) => n + r.cases, 0);
const bytes = reports.reduce((n, r) => n + r.bytes, 0);
const minutes = (performance.now() - started) / 60_000;
const failures = reports.flatMap((r) => r.failures);
console.log(
  `${total} inputs (${(bytes / 1e6).toFixed(1)} MB) in ${(minutes * 60).toFixed(0)} s: ` +
    `${Math.round(total / minutes)} inputs/min; proxy RSS peak ` +
    `${memory === null ? "unknown (it exited)" : `${memory.peak.toFixed(0)} MiB`}; client ` +
    `connections open after it: ${open} (the one asking)`,
);
if (failures.length > 0) console.log(`${failures.length} cases failed; the first 20:`);
for (const failure of failures.slice(0, 20)) {
  console.log(`FAILED seed ${failure.seed}: ${failure.reason}`);
}
if (died || code !== 0) console.log(`the proxy exited with code ${code}:\n${stderr}`);
Deno.exit(failures.length > 0 || code !== 0 ? 1 : 0);
