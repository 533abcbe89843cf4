import assert from "node:assert/strict";
import { backupCosts, formatBackupCosts, type Measurement } from "../../bench/report.ts";
import { type TargetId, WORKLOADS } from "../../bench/workloads.ts";
import { measurement } from "../helpers/bench_measurement.ts";

function run(workload: string, target: TargetId, round: number, keysPerSec: number): Measurement {
  return measurement(workload, target, round, { keysPerSec, reqPerSec: keysPerSec });
}

Deno.test("the backup pool's cost pairs memrelay with and without it round by round, so drift between rounds cancels", () => {
  // The machine is twice as fast in round 2; within each round the backup costs 10%, 20%, 5%.
  const costs = backupCosts(WORKLOADS, [
    run("get-backup", "memrelay", 1, 100),
    run("get-backup", "memrelay-b", 1, 90),
    run("get-backup", "memrelay-b", 2, 160),
    run("get-backup", "memrelay", 2, 200),
    run("get-backup", "memrelay", 3, 100),
    run("get-backup", "memrelay-b", 3, 95),
    run("get", "memrelay", 1, 1000),
  ]);
  const get = costs.find((c) => c.label.startsWith("get 9:1, 100 B, 32 conns, backup"))!;
  assert.deepEqual(get.ratios.map((r) => r.toFixed(2)), ["0.90", "0.80", "0.95"]);
  assert.equal(get.median?.toFixed(2), "0.90");
  const set = costs.find((c) => c.label.startsWith("set 1:1"))!;
  assert.deepEqual(set.ratios, []);
  assert.equal(set.median, null);
  assert.match(
    formatBackupCosts([get]),
    /= \*\*0\.90\*\* \(median of 3 rounds: 0\.90, 0\.80, 0\.95\)/,
  );
});

Deno.test("a round without its run without the backup pool gives no ratio, and says so", () => {
  const [get] = backupCosts(WORKLOADS, [
    run("get-backup", "memrelay-b", 1, 90),
    run("get-backup", "memrelay", 2, 100),
  ]);
  assert.deepEqual(get.ratios, []);
  assert.equal(
    formatBackupCosts([get]),
    `- ${get.label}: no round ran both memrelay and memrelay -b`,
  );
});
