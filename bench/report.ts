/**
 * Medians over rounds, and the results table with each figure's ratio to memcached direct and to
 * twemproxy.
 *
 * @module
 */

import { TARGET_NAMES, type TargetId, type Workload } from "./workloads.ts";

/** What one run of one workload on one target measured. */
export interface Measurement {
  workload: string;
  target: TargetId;
  round: number;
  /** Keys per second: each key of a get, each set. */
  keysPerSec: number;
  /** Requests per second (a multi-get is one request). */
  reqPerSec: number;
  /** Median latency per request, µs; for memcaslap the upper bound of its log2 bucket. */
  p50: number | null;
  /** 99th percentile latency per request, µs; for memcaslap the upper bound of its bucket. */
  p99: number | null;
  /** True when p50 and p99 are log2 bucket bounds (memcaslap). */
  coarseLatency: boolean;
  /** The proxy's CPU time per request, µs; null for memcached direct. */
  proxyCpuUs: number | null;
  /** All memcached servers' CPU time per request, µs. */
  memcachedCpuUs: number;
  /** The load generator's CPU time per request, µs. */
  generatorCpuUs: number | null;
  /** The proxy's VmHWM after the run, KiB; null for memcached direct. */
  proxyPeakRssKb: number | null;
  /** Share of requested get keys that hit; null when the workload has no gets. */
  hitRatio: number | null;
  /** Error replies and connections closed by the server. */
  errors: number;
  /**
   * CPU used on the machine during the run by anything but the proxy, memcached and the load
   * generator, in cores (kernel softirq work for loopback traffic included); null when unknown.
   */
  otherCores: number | null;
  /** CPU stolen by the hypervisor during the run, in cores. */
  stealCores: number;
}

/** A figure's median over rounds for one workload and target. */
export interface Summary {
  workload: string;
  target: TargetId;
  rounds: number;
  keysPerSec: number;
  /** Half the range of keys/s over rounds, as a share of the median. */
  keysPerSecSpread: number;
  reqPerSec: number;
  p50: number | null;
  p99: number | null;
  coarseLatency: boolean;
  proxyCpuUs: number | null;
  memcachedCpuUs: number;
  generatorCpuUs: number | null;
  proxyPeakRssKb: number | null;
  hitRatio: number | null;
  errors: number;
}

/** The median of `values` (null ones ignored); null when there are none. */
export function median(values: (number | null)[]): number | null {
  const xs = values.filter((v): v is number => v !== null && Number.isFinite(v)).sort((a, b) =>
    a - b
  );
  if (xs.length === 0) return null;
  const mid = xs.length >> 1;
  return xs.length % 2 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2;
}

/** Half the range of `values` as a share of their median: 0.1 for 90..110 around 100. */
export function spread(values: number[]): number {
  const mid = median(values);
  if (!mid || values.length < 2) return 0;
  return (Math.max(...values) - Math.min(...values)) / 2 / mid;
}

/** Medians over rounds of every figure, for one workload and target. */
export function summarize(runs: Measurement[]): Summary {
  const m = (f: (r: Measurement) => number | null) => median(runs.map(f));
  const first = runs[0];
  return {
    workload: first.workload,
    target: first.target,
    rounds: runs.length,
    keysPerSec: m((r) => r.keysPerSec) ?? 0,
    keysPerSecSpread: spread(runs.map((r) => r.keysPerSec)),
    reqPerSec: m((r) => r.reqPerSec) ?? 0,
    p50: m((r) => r.p50),
    p99: m((r) => r.p99),
    coarseLatency: first.coarseLatency,
    proxyCpuUs: m((r) => r.proxyCpuUs),
    memcachedCpuUs: m((r) => r.memcachedCpuUs) ?? 0,
    generatorCpuUs: m((r) => r.generatorCpuUs),
    // Peak memory: the largest over rounds, not the median.
    proxyPeakRssKb: runs.some((r) => r.proxyPeakRssKb !== null)
      ? Math.max(...runs.map((r) => r.proxyPeakRssKb ?? 0))
      : null,
    hitRatio: runs.some((r) => r.hitRatio !== null)
      ? Math.min(...runs.map((r) => r.hitRatio ?? 1))
      : null,
    errors: runs.reduce((s, r) => s + r.errors, 0),
  };
}

function si(v: number): string {
  if (v >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (v >= 1e4) return `${(v / 1e3).toFixed(1)}k`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(2)}k`;
  return v.toFixed(0);
}

function num(v: number): string {
  if (v >= 100) return v.toFixed(0);
  if (v >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

function ratio(v: number | null, base: number | null | undefined): string {
  if (v === null || base === null || base === undefined || base === 0) return "–";
  return (v / base).toFixed(2);
}

function cell(
  text: string,
  v: number | null,
  direct: number | null | undefined,
  twem: number | null | undefined,
): string {
  if (direct === undefined && twem === undefined) return text;
  return `${text} (${ratio(v, direct)} / ${ratio(v, twem)})`;
}

/** Options for {@linkcode formatTable}. */
export interface TableInput {
  workloads: Workload[];
  summaries: Map<string, Summary>;
  /** Why a workload cannot run on a target, keyed `workload/target`. */
  notApplicable: Map<string, string>;
}

/** The key of a workload and target in the maps of {@linkcode TableInput}. */
export function key(workload: string, target: TargetId): string {
  return `${workload}/${target}`;
}

/** The results table in Markdown, with footnotes for every "n/a". */
export function formatTable({ workloads, summaries, notApplicable }: TableInput): string {
  const head = [
    "workload",
    "target",
    "keys/s",
    "±",
    "p50 µs",
    "p99 µs",
    "proxy CPU µs/req",
    "memcached CPU µs/req",
    "proxy peak RSS MiB",
    "hits",
  ];
  const rows: string[][] = [];
  const notes: string[] = [];
  for (const w of workloads) {
    const baseId = w.baseline ?? w.id;
    const direct = summaries.get(key(baseId, "direct"));
    const twem = summaries.get(key(baseId, "twemproxy"));
    for (const t of w.targets) {
      const s = summaries.get(key(w.id, t));
      const na = notApplicable.get(key(w.id, t));
      if (!s) {
        const reason = na ?? "not run";
        let n = notes.indexOf(reason);
        if (n < 0) n = notes.push(reason) - 1;
        rows.push([w.label, TARGET_NAMES[t], `n/a [${n + 1}]`, "", "", "", "", "", "", ""]);
        continue;
      }
      const lat = (v: number | null, d?: number | null, tw?: number | null) => {
        if (v === null) return "–";
        if (s.coarseLatency) return `${v / 2}–${v}`;
        return cell(num(v), v, d, tw);
      };
      const coarse = s.coarseLatency;
      rows.push([
        w.label,
        TARGET_NAMES[t],
        cell(si(s.keysPerSec), s.keysPerSec, direct?.keysPerSec, twem?.keysPerSec),
        s.rounds > 1 ? `${(s.keysPerSecSpread * 100).toFixed(0)}%` : "–",
        lat(s.p50, coarse ? undefined : direct?.p50, coarse ? undefined : twem?.p50),
        lat(s.p99, coarse ? undefined : direct?.p99, coarse ? undefined : twem?.p99),
        s.proxyCpuUs === null ? "–" : cell(num(s.proxyCpuUs), s.proxyCpuUs, null, twem?.proxyCpuUs),
        cell(num(s.memcachedCpuUs), s.memcachedCpuUs, direct?.memcachedCpuUs, twem?.memcachedCpuUs),
        s.proxyPeakRssKb === null ? "–" : cell(
          (s.proxyPeakRssKb / 1024).toFixed(1),
          s.proxyPeakRssKb,
          null,
          twem?.proxyPeakRssKb,
        ),
        s.hitRatio === null ? "–" : `${(s.hitRatio * 100).toFixed(1)}%`,
      ]);
    }
  }
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  const out = [line(head), line(head.map(() => "---")), ...rows.map(line)];
  if (notes.length) {
    out.push("");
    notes.forEach((n, i) => out.push(`[${i + 1}] ${n}`));
  }
  return out.join("\n");
}

/** What a backup pool costs on one load, from runs of memrelay with and without one. */
export interface BackupCost {
  /** The workload's label. */
  label: string;
  /** memrelay -b's keys/s over memrelay's, in each round where both ran. */
  ratios: number[];
  /** Their median; null when no round ran both. */
  median: number | null;
}

/**
 * The backup pool's cost on each workload that runs both memrelay and memrelay -b: the ratio of
 * their keys/s, taken within each round (the two run back to back there) and then its median.
 * Pairing by round keeps out the drift between rounds, which on a shared machine is larger than
 * the cost being measured.
 *
 * @example
 * ```ts
 * import { backupCosts } from "./report.ts";
 * import { WORKLOADS } from "./workloads.ts";
 * const run = { p50: null, p99: null, coarseLatency: false, proxyCpuUs: null, memcachedCpuUs: 0,
 *   generatorCpuUs: null, proxyPeakRssKb: null, hitRatio: null, errors: 0, otherCores: null,
 *   stealCores: 0, reqPerSec: 0 };
 * const costs = backupCosts(WORKLOADS, [
 *   { ...run, workload: "set-backup", target: "memrelay", round: 1, keysPerSec: 100 },
 *   { ...run, workload: "set-backup", target: "memrelay-b", round: 1, keysPerSec: 90 },
 * ]);
 * console.log(costs[0].median); // 0.9
 * ```
 */
export function backupCosts(workloads: Workload[], measurements: Measurement[]): BackupCost[] {
  const costs: BackupCost[] = [];
  for (const w of workloads) {
    if (!w.targets.includes("memrelay") || !w.targets.includes("memrelay-b")) continue;
    const ratios = pairedRatios(measurements, w.id, "memrelay-b", "memrelay", (m) => m.keysPerSec);
    costs.push({ label: w.label, ratios, median: median(ratios) });
  }
  return costs;
}

/**
 * `figure` on `target` over `figure` on `base`, for `workload`, in each round where both ran and
 * both have it (a base of 0 gives no ratio). The two run back to back within a round, so the
 * ratio leaves out the machine's drift from round to round.
 */
export function pairedRatios(
  measurements: Measurement[],
  workload: string,
  target: TargetId,
  base: TargetId,
  figure: (m: Measurement) => number | null,
): number[] {
  const ratios: number[] = [];
  for (const m of measurements) {
    if (m.workload !== workload || m.target !== target) continue;
    const other = measurements.find((o) =>
      o.workload === workload && o.target === base && o.round === m.round
    );
    const a = figure(m);
    const b = other ? figure(other) : null;
    if (a !== null && b) ratios.push(a / b);
  }
  return ratios;
}

/** {@linkcode backupCosts} in Markdown: one line per workload, with every round's ratio. */
export function formatBackupCosts(costs: BackupCost[]): string {
  return costs.map((c) =>
    c.median === null
      ? `- ${c.label}: no round ran both memrelay and memrelay -b`
      : `- ${c.label}: memrelay -b ÷ memrelay = **${c.median.toFixed(2)}** ` +
        `(median of ${c.ratios.length} rounds: ${c.ratios.map((r) => r.toFixed(2)).join(", ")})`
  ).join("\n");
}

/** One progress line for a run. */
export function progressLine(m: Measurement): string {
  const lat = m.p50 === null
    ? ""
    : m.coarseLatency
    ? ` p50 ${m.p50 / 2}-${m.p50} µs p99 ${m.p99! / 2}-${m.p99} µs`
    : ` p50 ${num(m.p50)} µs p99 ${num(m.p99!)} µs`;
  const cpu = m.proxyCpuUs === null ? "" : ` proxy ${num(m.proxyCpuUs)} µs/req`;
  const hits = m.hitRatio === null ? "" : ` hits ${(m.hitRatio * 100).toFixed(1)}%`;
  const errors = m.errors ? ` ERRORS ${m.errors}` : "";
  const other = m.otherCores === null ? "" : ` other ${m.otherCores.toFixed(2)}`;
  const noise = ` |${other} steal ${m.stealCores.toFixed(2)} cores`;
  return `${si(m.keysPerSec)} keys/s (${si(m.reqPerSec)} req/s)${lat}${cpu}` +
    ` mc ${num(m.memcachedCpuUs)} µs/req${hits}${errors}${noise}`;
}
