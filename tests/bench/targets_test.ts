import assert from "node:assert/strict";
import {
  type BackupCost,
  key,
  type Measurement,
  summarize,
  type Summary,
} from "../../bench/report.ts";
import { checkTargets, formatTargetChecks } from "../../bench/targets.ts";
import { measurement } from "../helpers/bench_measurement.ts";

/** The checks of a run made of `runs`, with its medians summarized as the bench does. */
function check(runs: Measurement[], costs: BackupCost[] = []) {
  const summaries = new Map<string, Summary>();
  for (const m of runs) {
    const k = key(m.workload, m.target);
    if (!summaries.has(k)) {
      summaries.set(
        k,
        summarize(runs.filter((r) => r.workload === m.workload && r.target === m.target)),
      );
    }
  }
  return checkTargets(summaries, runs, costs);
}

const find = (checks: ReturnType<typeof checkTargets>, start: string) =>
  checks.find((c) => c.target.startsWith(start))!;

Deno.test("each target is judged by memrelay's ratio to twemproxy round by round, with the ratio of the medians beside it", () => {
  const checks = check([
    measurement("get", "twemproxy", 1, { keysPerSec: 40_000, p99: 1600, proxyCpuUs: 18.5 }),
    measurement("get", "memrelay", 1, { keysPerSec: 42_000, p99: 1700, proxyCpuUs: 18.0 }),
    measurement("mget10", "twemproxy", 1, { keysPerSec: 200_000 }),
    measurement("mget10", "memrelay", 1, { keysPerSec: 260_000 }),
    measurement("mget100", "twemproxy", 1, { keysPerSec: 700_000, proxyCpuUs: 90 }),
    measurement("mget100", "memrelay", 1, { keysPerSec: 770_000, proxyCpuUs: 80 }),
  ]);
  assert.deepEqual(find(checks, "single get: keys/s"), {
    target: "single get: keys/s at least 1.0× twemproxy's",
    measured: "1.05×",
    ofMedians: "1.05×",
    met: true,
  });
  assert.deepEqual(find(checks, "single get: p99"), {
    target: "single get: p99 at most twemproxy's",
    measured: "1.06×",
    ofMedians: "1.06×",
    met: false,
  });
  assert.equal(find(checks, "10-key").met, true);
  const multi = find(checks, "100-key multi-get: keys/s");
  assert.deepEqual([multi.measured, multi.met], ["1.10×", false]);
  assert.deepEqual(
    checks.filter((c) =>
      c.target.endsWith("proxy CPU per request at most twemproxy's") && c.met !== null
    ).map((c) => [c.target.split(":")[0], c.measured, c.met]),
    [
      ["get 9", "0.97×", true],
      ["100-key multi-get, 100 B, 32 conns", "0.89×", true],
    ],
  );
});

Deno.test("pairing by round cancels the machine's drift that the ratio of the medians keeps", () => {
  // memrelay is 5% ahead in two rounds of three; its slow round and twemproxy's fast one pull
  // the medians apart: 31,500 against 40,000.
  const keys = find(
    check([
      measurement("get", "twemproxy", 1, { keysPerSec: 40_000 }),
      measurement("get", "memrelay", 1, { keysPerSec: 30_400 }),
      measurement("get", "twemproxy", 2, { keysPerSec: 30_000 }),
      measurement("get", "memrelay", 2, { keysPerSec: 31_500 }),
      measurement("get", "memrelay", 3, { keysPerSec: 46_200 }),
      measurement("get", "twemproxy", 3, { keysPerSec: 44_000 }),
    ]),
    "single get: keys/s",
  );
  assert.deepEqual([keys.measured, keys.ofMedians, keys.met], ["1.05×", "0.79×", true]);
});

Deno.test("a ratio exactly at its bound meets the target", () => {
  const checks = check(
    [
      measurement("get", "twemproxy", 1, { keysPerSec: 50_000, p99: 1500 }),
      measurement("get", "memrelay", 1, { keysPerSec: 50_000, p99: 1500 }),
      measurement("mget100", "twemproxy", 1, { keysPerSec: 500_000 }),
      measurement("mget100", "memrelay", 1, { keysPerSec: 600_000 }),
    ],
    [{ label: "set 1:1, backup pool", ratios: [0.85], median: 0.85 }],
  );
  assert.equal(find(checks, "single get: keys/s").met, true);
  assert.equal(find(checks, "single get: p99").met, true);
  assert.equal(find(checks, "100-key multi-get: keys/s").met, true);
  assert.deepEqual(find(checks, "set 1:1, backup pool"), {
    target: "set 1:1, backup pool: at most 15% below memrelay without it",
    measured: "0.85×",
    ofMedians: "–",
    met: true,
  });
});

Deno.test("a figure that two decimals would round across its bound is shown with as many as it takes", () => {
  const checks = check([
    measurement("mget100", "twemproxy", 1, { keysPerSec: 1000 }),
    measurement("mget100", "memrelay", 1, { keysPerSec: 1199 }),
    measurement("mget10", "twemproxy", 1, { keysPerSec: 10_000 }),
    measurement("mget10", "memrelay", 1, { keysPerSec: 11_997 }),
    measurement("get", "twemproxy", 1, { keysPerSec: 10_000, p99: 10_000 }),
    measurement("get", "memrelay", 1, { keysPerSec: 9_998, p99: 10_003 }),
  ]);
  const shown = (start: string) => [find(checks, start).measured, find(checks, start).met];
  assert.deepEqual(shown("100-key multi-get: keys/s"), ["1.199×", false]);
  assert.deepEqual(shown("10-key multi-get: keys/s"), ["1.1997×", false]);
  assert.deepEqual(shown("single get: keys/s"), ["0.9998×", false]);
  assert.deepEqual(shown("single get: p99"), ["1.0003×", false]);
  // Where two decimals do not cross the bound, two are shown.
  const plain = check([
    measurement("get", "twemproxy", 1, { keysPerSec: 1000 }),
    measurement("get", "memrelay", 1, { keysPerSec: 1004 }),
  ]);
  assert.equal(find(plain, "single get: keys/s").measured, "1.00×");
});

Deno.test("the backup pool's cost and the RSS under 1000 connections have targets of their own", () => {
  const costs: BackupCost[] = [
    { label: "get, backup pool", ratios: [0.9, 0.8, 0.95], median: 0.9 },
    { label: "set, backup pool", ratios: [0.8, 0.84, 0.83], median: 0.83 },
  ];
  const under = check([measurement("c1000", "memrelay", 1, { proxyPeakRssKb: 100 * 1024 })], costs);
  assert.equal(find(under, "get, backup pool").met, true);
  const set = find(under, "set, backup pool");
  assert.deepEqual([set.measured, set.met], ["0.83×", false]);
  assert.deepEqual(find(under, "1000 connections"), {
    target: "1000 connections: peak RSS under 150 MB",
    measured: "105 MB",
    ofMedians: "–",
    met: true,
  });
  // 150 MB is 146,484 KiB: 147,000 KiB is over, though under 150 MiB.
  const over = check([measurement("c1000", "memrelay", 1, { proxyPeakRssKb: 147_000 })]);
  assert.deepEqual(
    [find(over, "1000 connections").measured, find(over, "1000 connections").met],
    ["151 MB", false],
  );
  // 146,000 KiB is 149.5 MB: under the bound, so not shown as 150.
  const near = check([measurement("c1000", "memrelay", 1, { proxyPeakRssKb: 146_000 })]);
  assert.deepEqual(
    [find(near, "1000 connections").measured, find(near, "1000 connections").met],
    ["149.5 MB", true],
  );
});

Deno.test("a target the run did not measure says so, and is not counted as met or missed", () => {
  const checks = check(
    [
      measurement("get", "twemproxy", 1, { keysPerSec: 40_000, p99: 1600 }),
      measurement("get", "memrelay", 1, { keysPerSec: 36_000, p99: 1500 }),
    ],
    [{ label: "get, backup pool", ratios: [], median: null }],
  );
  assert.deepEqual(find(checks, "10-key"), {
    target: "10-key multi-get: keys/s at least 1.2× twemproxy's",
    measured: "not measured",
    ofMedians: "–",
    met: null,
  });
  assert.equal(find(checks, "get, backup pool").met, null);
  const text = formatTargetChecks(checks);
  assert.match(
    text,
    /^\| target \| measured \(paired by round\) \| ratio of the medians \| met \|\n\| --- \| --- \| --- \| --- \|\n/,
  );
  assert.match(
    text,
    /\| single get: keys\/s at least 1\.0× twemproxy's \| 0\.90× \| 0\.90× \| \*\*no\*\* \|/,
  );
  assert.match(text, /\| single get: p99 at most twemproxy's \| 0\.94× \| 0\.94× \| yes \|/);
  assert.match(
    text,
    /\| 10-key multi-get: keys\/s at least 1\.2× twemproxy's \| not measured \| – \| – \|/,
  );
  assert.equal(checks.filter((c) => c.met !== null).length, 2);
  assert.match(
    text,
    new RegExp(`\\n1 of 2 measured targets met; ${checks.length - 2} not measured\\.$`),
  );
});
