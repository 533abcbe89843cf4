import assert from "node:assert/strict";
import { type BackupCost, key, type Summary } from "../../bench/report.ts";
import { checkTargets, formatTargetChecks } from "../../bench/targets.ts";
import type { TargetId } from "../../bench/workloads.ts";

function summary(workload: string, target: TargetId, figures: Partial<Summary>): Summary {
  return {
    workload,
    target,
    rounds: 5,
    keysPerSec: 0,
    keysPerSecSpread: 0,
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
    ...figures,
  };
}

function summaries(list: Summary[]): Map<string, Summary> {
  return new Map(list.map((s) => [key(s.workload, s.target), s]));
}

const find = (checks: ReturnType<typeof checkTargets>, start: string) =>
  checks.find((c) => c.target.startsWith(start))!;

Deno.test("each target is judged from memrelay's median against twemproxy's on the same load", () => {
  const checks = checkTargets(
    summaries([
      summary("get", "twemproxy", { keysPerSec: 40_000, p99: 1600, proxyCpuUs: 18.5 }),
      summary("get", "memrelay", { keysPerSec: 42_000, p99: 1700, proxyCpuUs: 18.0 }),
      summary("mget10", "twemproxy", { keysPerSec: 200_000 }),
      summary("mget10", "memrelay", { keysPerSec: 260_000 }),
      summary("mget100", "twemproxy", { keysPerSec: 700_000, proxyCpuUs: 90 }),
      summary("mget100", "memrelay", { keysPerSec: 770_000, proxyCpuUs: 80 }),
    ]),
    [],
  );
  assert.deepEqual(find(checks, "single get: keys/s"), {
    target: "single get: keys/s at least 1.0× twemproxy's",
    measured: "1.05×",
    met: true,
  });
  assert.deepEqual(find(checks, "single get: p99"), {
    target: "single get: p99 at most twemproxy's",
    measured: "1.06×",
    met: false,
  });
  assert.equal(find(checks, "10-key").met, true);
  assert.deepEqual(
    [
      find(checks, "100-key multi-get: keys/s").measured,
      find(checks, "100-key multi-get: keys/s").met,
    ],
    ["1.10×", false],
  );
  assert.deepEqual(
    checks.filter((c) =>
      c.target.endsWith("proxy CPU per request at most twemproxy's") && c.met !== null
    )
      .map((c) => [c.target.split(":")[0], c.measured, c.met]),
    [
      ["get 9", "0.97×", true],
      ["100-key multi-get, 100 B, 32 conns", "0.89×", true],
    ],
  );
});

Deno.test("a ratio exactly at its bound meets the target", () => {
  const checks = checkTargets(
    summaries([
      summary("get", "twemproxy", { keysPerSec: 50_000, p99: 1500 }),
      summary("get", "memrelay", { keysPerSec: 50_000, p99: 1500 }),
      summary("mget100", "twemproxy", { keysPerSec: 500_000 }),
      summary("mget100", "memrelay", { keysPerSec: 600_000 }),
    ]),
    [{ label: "set 1:1, backup pool", ratios: [0.85], median: 0.85 }],
  );
  assert.equal(find(checks, "single get: keys/s").met, true);
  assert.equal(find(checks, "single get: p99").met, true);
  assert.equal(find(checks, "100-key multi-get: keys/s").met, true);
  assert.deepEqual(find(checks, "set 1:1, backup pool"), {
    target: "set 1:1, backup pool: at most 15% below memrelay without it",
    measured: "0.85×",
    met: true,
  });
});

Deno.test("the backup pool's cost and the RSS under 1000 connections have targets of their own", () => {
  const costs: BackupCost[] = [
    { label: "get, backup pool", ratios: [0.9, 0.8, 0.95], median: 0.9 },
    { label: "set, backup pool", ratios: [0.8, 0.84, 0.83], median: 0.83 },
  ];
  const under = checkTargets(
    summaries([summary("c1000", "memrelay", { proxyPeakRssKb: 100 * 1024 })]),
    costs,
  );
  assert.equal(find(under, "get, backup pool").met, true);
  assert.deepEqual(
    [find(under, "set, backup pool").measured, find(under, "set, backup pool").met],
    ["0.83×", false],
  );
  assert.deepEqual(find(under, "1000 connections"), {
    target: "1000 connections: peak RSS under 150 MB",
    measured: "105 MB",
    met: true,
  });
  // 150 MB is 146,484 KiB: 147,000 KiB is over, though under 150 MiB.
  const over = checkTargets(
    summaries([summary("c1000", "memrelay", { proxyPeakRssKb: 147_000 })]),
    [],
  );
  assert.equal(find(over, "1000 connections").met, false);
});

Deno.test("a target the run did not measure says so, and is not counted as met or missed", () => {
  const checks = checkTargets(
    summaries([
      summary("get", "twemproxy", { keysPerSec: 40_000, p99: 1600 }),
      summary("get", "memrelay", { keysPerSec: 36_000, p99: 1500 }),
    ]),
    [{ label: "get, backup pool", ratios: [], median: null }],
  );
  assert.deepEqual(find(checks, "10-key"), {
    target: "10-key multi-get: keys/s at least 1.2× twemproxy's",
    measured: "not measured",
    met: null,
  });
  assert.equal(find(checks, "get, backup pool").met, null);
  const text = formatTargetChecks(checks);
  assert.match(text, /^\| target \| measured \| met \|\n\| --- \| --- \| --- \|\n/);
  assert.match(
    text,
    /\| single get: keys\/s at least 1\.0× twemproxy's \| 0\.90× \| \*\*no\*\* \|/,
  );
  assert.match(text, /\| single get: p99 at most twemproxy's \| 0\.94× \| yes \|/);
  assert.match(
    text,
    /\| 10-key multi-get: keys\/s at least 1\.2× twemproxy's \| not measured \| – \|/,
  );
  const measured = checks.filter((c) => c.met !== null).length;
  assert.equal(measured, 2);
  assert.match(
    text,
    new RegExp(`\\n1 of 2 measured targets met; ${checks.length - 2} not measured\\.$`),
  );
});

Deno.test("a ratio that two decimals would round across its bound is shown with three", () => {
  const checks = checkTargets(
    summaries([
      summary("mget100", "twemproxy", { keysPerSec: 1000 }),
      summary("mget100", "memrelay", { keysPerSec: 1199 }),
      summary("get", "twemproxy", { keysPerSec: 1000, p99: 1000 }),
      summary("get", "memrelay", { keysPerSec: 1004, p99: 1003 }),
    ]),
    [],
  );
  assert.deepEqual(
    [
      find(checks, "100-key multi-get: keys/s").measured,
      find(checks, "100-key multi-get: keys/s").met,
    ],
    ["1.199×", false],
  );
  assert.deepEqual(
    [find(checks, "single get: p99").measured, find(checks, "single get: p99").met],
    ["1.003×", false],
  );
  assert.equal(find(checks, "single get: keys/s").measured, "1.00×");
});
