/**
 * One run of the bench, as `bench/report.ts` records it, for tests of what the bench makes of its
 * runs: every figure empty but those given.
 *
 * @module
 */

import type { Measurement } from "../../bench/report.ts";
import type { TargetId } from "../../bench/workloads.ts";

/** A measurement of `workload` on `target` in `round`, with `figures` and nothing else. */
export function measurement(
  workload: string,
  target: TargetId,
  round: number,
  figures: Partial<Measurement> = {},
): Measurement {
  return {
    workload,
    target,
    round,
    keysPerSec: 0,
    reqPerSec: 0,
    p50: null,
    p99: null,
    coarseLatency: false,
    proxyCpuUs: null,
    memcachedCpuUs: 0,
    generatorCpuUs: null,
    proxyPeakRssKb: null,
    hitRatio: null,
    errors: 0,
    otherCores: null,
    stealCores: 0,
    ...figures,
  };
}
