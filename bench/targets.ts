/**
 * Issue 7's targets, judged from one run of the bench: each of memrelay's figures against
 * twemproxy's on the same load in the same run. A ratio is judged by the median of the ratios
 * taken round by round (the two proxies run back to back within a round), as the backup pool's
 * cost is: the machine drifts from round to round by more than the margins judged, and pairing
 * cancels the drift. The ratio of the medians, which the results table shows, is given beside it.
 *
 * @module
 */

import {
  type BackupCost,
  key,
  type Measurement,
  median,
  pairedRatios,
  type Summary,
} from "./report.ts";
import { WORKLOADS } from "./workloads.ts";

/** One target and what this run measured for it. */
export interface TargetCheck {
  /** The target, as issue 7 states it. */
  target: string;
  /**
   * What the target is judged by, such as `1.06×`: the median of the ratios paired by round, the
   * backup pool's paired cost, or the peak RSS. "not measured" when the run had no figure for it.
   */
  measured: string;
  /** The ratio of memrelay's median to twemproxy's, as the results table has it; "–" if none. */
  ofMedians: string;
  /** Whether the target held; null when it was not measured. */
  met: boolean | null;
}

/** The peak RSS under 1000 connections that the target stays under, in MB (10⁶ bytes). */
const RSS_LIMIT_MB = 150;

/** The least share of memrelay's keys/s that memrelay -b keeps, on each backup-pool load. */
const BACKUP_KEEPS = 0.85;

/** The workloads whose proxy CPU per request is held against twemproxy's. */
const CPU_WORKLOADS = [
  "get",
  "get-memcaslap",
  "mget10",
  "mget100",
  "set",
  "v10k",
  "c1000",
  "pipe16",
];

/**
 * Judges issue 7's targets. `summaries` holds the medians by workload and target (as
 * `formatTable` takes them), `measurements` every run, and `costs` the backup pool's cost on each
 * of its loads.
 *
 * @example
 * ```ts
 * import { checkTargets } from "./targets.ts";
 * import { key, type Measurement, summarize } from "./report.ts";
 * // Two rounds: the machine is slower in the second, and memrelay ahead by 5% in both.
 * const run = (target: "memrelay" | "twemproxy", round: number, keysPerSec: number) =>
 *   ({ workload: "get", target, round, keysPerSec, p99: null, proxyCpuUs: null }) as Measurement;
 * const runs = [run("twemproxy", 1, 40_000), run("memrelay", 1, 42_000)];
 * runs.push(run("memrelay", 2, 31_500), run("twemproxy", 2, 30_000));
 * const summaries = new Map(["twemproxy", "memrelay"].map((t) => [
 *   key("get", t as "memrelay"),
 *   summarize(runs.filter((r) => r.target === t)),
 * ]));
 * const [keys] = checkTargets(summaries, runs, []);
 * console.log(keys.measured, keys.ofMedians, keys.met); // 1.05× 1.05× true
 * ```
 */
export function checkTargets(
  summaries: Map<string, Summary>,
  measurements: Measurement[],
  costs: BackupCost[],
): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const against = (
    target: string,
    workload: string,
    figure: (s: Summary | Measurement) => number | null,
    at: (r: number) => boolean,
  ) => {
    const ours = summaries.get(key(workload, "memrelay"));
    const twem = summaries.get(key(workload, "twemproxy"));
    const paired = median(pairedRatios(measurements, workload, "memrelay", "twemproxy", figure));
    if (paired === null) {
      checks.push(notMeasured(target));
      return;
    }
    const a = ours ? figure(ours) : null;
    const b = twem ? figure(twem) : null;
    const ofMedians = a === null || !b ? "–" : `${(a / b).toFixed(2)}×`;
    checks.push({ ...judged(target, paired, at), ofMedians });
  };

  against(
    "single get: keys/s at least 1.0× twemproxy's",
    "get",
    (s) => s.keysPerSec,
    (r) => r >= 1,
  );
  against("single get: p99 at most twemproxy's", "get", (s) => s.p99, (r) => r <= 1);
  against(
    "10-key multi-get: keys/s at least 1.2× twemproxy's",
    "mget10",
    (s) => s.keysPerSec,
    (r) => r >= 1.2,
  );
  against(
    "100-key multi-get: keys/s at least 1.2× twemproxy's",
    "mget100",
    (s) => s.keysPerSec,
    (r) => r >= 1.2,
  );
  for (const cost of costs) {
    const target = `${cost.label}: at most 15% below memrelay without it`;
    checks.push(
      cost.median === null
        ? notMeasured(target)
        : { ...judged(target, cost.median, (r) => r >= BACKUP_KEEPS), ofMedians: "–" },
    );
  }
  for (const id of CPU_WORKLOADS) {
    const label = WORKLOADS.find((w) => w.id === id)?.label ?? id;
    against(
      `${label}: proxy CPU per request at most twemproxy's`,
      id,
      (s) => s.proxyCpuUs,
      (r) => r <= 1,
    );
  }
  const rssKb = summaries.get(key("c1000", "memrelay"))?.proxyPeakRssKb ?? null;
  const target = "1000 connections: peak RSS under 150 MB";
  if (rssKb === null) checks.push(notMeasured(target));
  else {
    const mb = rssKb * 1024 / 1e6;
    const under = (v: number) => v < RSS_LIMIT_MB;
    checks.push({
      target,
      measured: `${shownAs(mb, under, 0)} MB`,
      ofMedians: "–",
      met: under(mb),
    });
  }
  return checks;
}

/** A target the run has no figure for. */
function notMeasured(target: string): TargetCheck {
  return { target, measured: "not measured", ofMedians: "–", met: null };
}

/**
 * A check of the ratio `r`, shown with two decimals as the results table shows ratios.
 */
function judged(
  target: string,
  r: number,
  at: (r: number) => boolean,
): Omit<TargetCheck, "ofMedians"> {
  return { target, measured: `${shownAs(r, at, 2)}×`, met: at(r) };
}

/**
 * `value` with `decimals` decimals, or as many more as it takes for the number shown to meet the
 * target `at` exactly when `value` does: 1.1997 is not shown as a 1.20 that missed 1.2.
 */
function shownAs(value: number, at: (v: number) => boolean, decimals: number): string {
  const met = at(value);
  for (let d = decimals; d <= 6; d++) {
    const text = value.toFixed(d);
    if (at(Number(text)) === met) return text;
  }
  return String(value);
}

/** {@linkcode checkTargets} in Markdown: a table, then how many were met of those measured. */
export function formatTargetChecks(checks: TargetCheck[]): string {
  const verdict = (met: boolean | null) => met === null ? "–" : met ? "yes" : "**no**";
  const measured = checks.filter((c) => c.met !== null);
  return [
    "| target | measured (paired by round) | ratio of the medians | met |",
    "| --- | --- | --- | --- |",
    ...checks.map((c) => `| ${c.target} | ${c.measured} | ${c.ofMedians} | ${verdict(c.met)} |`),
    "",
    `${measured.filter((c) => c.met).length} of ${measured.length} measured targets met` +
    (measured.length < checks.length ? `; ${checks.length - measured.length} not measured.` : "."),
  ].join("\n");
}
