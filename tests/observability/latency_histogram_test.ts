import assert from "node:assert/strict";
import { LatencyHistogram } from "../../lib/observability/latency_histogram.ts";

Deno.test("latency quantiles are within 25% above the true value, never below", () => {
  const h = new LatencyHistogram();
  const now = 1_000;
  const latencies: number[] = [];
  for (let i = 0; i < 10_000; i++) latencies.push(0.02 + (i % 997) * 0.013 + (i % 7) * 3);
  for (const ms of latencies) h.record(ms, now);
  latencies.sort((a, b) => a - b);
  for (const q of [0.5, 0.9, 0.99]) {
    const exact = latencies[Math.ceil(q * latencies.length) - 1] * 1000;
    const estimate = h.quantileUs(q, now)!;
    assert.ok(estimate >= exact && estimate <= exact * 1.25 + 1, `q${q}: ${estimate} vs ${exact}`);
  }
  assert.equal(h.count, 10_000);
  assert.ok(Math.abs(h.sumMs - latencies.reduce((a, b) => a + b, 0)) < 1e-6);
});

Deno.test("latency quantiles cover the last one to two minutes; the cumulative buckets cover all", () => {
  const h = new LatencyHistogram();
  for (let i = 0; i < 100; i++) h.record(50, 0); // 50 ms, in the first minute
  assert.equal(h.quantileUs(0.5, 30_000), 57_344);
  for (let i = 0; i < 100; i++) h.record(0.1, 61_000); // 100 µs, in the second minute
  assert.equal(h.quantileUs(0.99, 61_000), 57_344, "the minute before still counts");
  assert.equal(h.quantileUs(0.5, 121_000), 112, "two minutes on, only the recent minute counts");
  assert.equal(h.quantileUs(0.5, 500_000), null, "nothing recorded lately");
  const buckets = h.cumulativeBuckets();
  assert.deepEqual(buckets[0], [16 / 1e6, 0]);
  assert.equal(buckets.find(([le]) => le === 128 / 1e6)![1], 100);
  assert.equal(buckets.at(-1)![1], 200);
  for (let i = 1; i < buckets.length; i++) {
    assert.ok(buckets[i][0] > buckets[i - 1][0] && buckets[i][1] >= buckets[i - 1][1]);
  }
});

Deno.test("odd latencies (zero, negative, NaN, hours) land in the end buckets without throwing", () => {
  const h = new LatencyHistogram();
  for (const ms of [0, -5, Number.NaN, 3_600_000]) h.record(ms, 0);
  assert.equal(h.count, 4);
  assert.equal(h.quantileUs(0.25, 0), 1);
  assert.ok(h.quantileUs(1, 0)! > 60_000_000);
});
