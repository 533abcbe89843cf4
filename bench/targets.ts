/**
 * Issue 7's targets, judged from one run of the bench: each against twemproxy in the same run,
 * from the same medians the results table shows (the backup pool's cost from its paired rounds).
 *
 * @module
 */

import { type BackupCost, key, type Summary } from "./report.ts";
import { WORKLOADS } from "./workloads.ts";

/** One target and what this run measured for it. */
export interface TargetCheck {
  /** The target, as issue 7 states it. */
  target: string;
  /** What was measured, such as `1.06×`; "not measured" when the run had no figure for it. */
  measured: string;
  /** Whether the target held; null when it was not measured. */
  met: boolean | null;
}

/** The largest peak RSS under 1000 connections that meets the target: 150 MB. */
const RSS_LIMIT_KB = 150e6 / 1024;

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
 * `formatTable` takes them); `costs` the backup pool's cost on each of its loads.
 *
 * @example
 * ```ts
 * import { checkTargets } from "./targets.ts";
 * import { key, type Summary } from "./report.ts";
 * const figures = (keysPerSec: number, p99: number) =>
 *   ({ keysPerSec, p99, proxyCpuUs: 18, proxyPeakRssKb: 60_000 }) as Summary;
 * const checks = checkTargets(
 *   new Map([
 *     [key("get", "twemproxy"), figures(40_000, 1600)],
 *     [key("get", "memrelay"), figures(44_000, 1700)],
 *   ]),
 *   [],
 * );
 * console.log(checks[0].measured, checks[0].met); // 1.10× true
 * console.log(checks[1].measured, checks[1].met); // 1.06× false
 * ```
 */
export function checkTargets(summaries: Map<string, Summary>, costs: BackupCost[]): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const against = (
    target: string,
    workload: string,
    figure: (s: Summary) => number | null,
    at: (r: number) => boolean,
  ) => {
    const ours = summaries.get(key(workload, "memrelay"));
    const twem = summaries.get(key(workload, "twemproxy"));
    const a = ours ? figure(ours) : null;
    const b = twem ? figure(twem) : null;
    if (a === null || b === null || b === 0) {
      checks.push({ target, measured: "not measured", met: null });
      return;
    }
    checks.push(judged(target, a / b, at));
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
    if (cost.median === null) checks.push({ target, measured: "not measured", met: null });
    else checks.push(judged(target, cost.median, (r) => r >= BACKUP_KEEPS));
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
  const rss = summaries.get(key("c1000", "memrelay"))?.proxyPeakRssKb ?? null;
  checks.push(
    rss === null
      ? { target: "1000 connections: peak RSS under 150 MB", measured: "not measured", met: null }
      : {
        target: "1000 connections: peak RSS under 150 MB",
        measured: `${(rss * 1024 / 1e6).toFixed(0)} MB`,
        met: rss < RSS_LIMIT_KB,
      },
  );
  return checks;
}

/**
 * A check of the ratio `r`, shown with two decimals as the results table shows ratios, or three
 * when two would round it across its bound (1.199 is not shown as a 1.20 that missed 1.2).
 */
function judged(target: string, r: number, at: (r: number) => boolean): TargetCheck {
  const met = at(r);
  const shown = at(Number(r.toFixed(2))) === met ? r.toFixed(2) : r.toFixed(3);
  return { target, measured: `${shown}×`, met };
}

/** {@linkcode checkTargets} in Markdown: a table, then how many were met of those measured. */
export function formatTargetChecks(checks: TargetCheck[]): string {
  const verdict = (met: boolean | null) => met === null ? "–" : met ? "yes" : "**no**";
  const measured = checks.filter((c) => c.met !== null);
  return [
    "| target | measured | met |",
    "| --- | --- | --- |",
    ...checks.map((c) => `| ${c.target} | ${c.measured} | ${verdict(c.met)} |`),
    "",
    `${measured.filter((c) => c.met).length} of ${measured.length} measured targets met` +
    (measured.length < checks.length ? `; ${checks.length - measured.length} not measured.` : "."),
  ].join("\n");
}
