import assert from "node:assert/strict";
import { warmUpPlan, WORKLOADS } from "../../bench/workloads.ts";

const plan = (ids: string[]) =>
  warmUpPlan(
    WORKLOADS.filter((w) => ids.includes(w.id)),
    (w, t) => w.targets.includes(t),
    5,
    1,
  ).map(([w, t, seconds]) => `${w.id} ${t} ${seconds}`);

Deno.test("memrelay is warmed on a backup-pool load whose baseline is not in the run", () => {
  assert.deepEqual(plan(["get-backup"]), ["get-backup memrelay 5", "get-backup memrelay-b 5"]);
});

Deno.test("with its baseline in the run, memrelay warms on the baseline, not again on the same load", () => {
  assert.deepEqual(plan(["get", "get-backup", "set-backup"]), [
    "get direct 0.3",
    "get twemproxy 0.3",
    "get memrelay 5",
    "set-backup memrelay 1",
    "get-backup memrelay-b 5",
    "set-backup memrelay-b 1",
  ]);
});
