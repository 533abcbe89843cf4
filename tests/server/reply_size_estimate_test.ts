import assert from "node:assert/strict";
import { ReplySizeEstimate } from "../../lib/server/reply_size_estimate.ts";

Deno.test("the reply size estimate starts at the item limit, takes the first reply, and keeps the largest", () => {
  const estimate = new ReplySizeEstimate(1024 * 1024);
  assert.equal(estimate.perKey(0), 1024 * 1024);
  estimate.observe(5, 1, 0); // a miss: END
  assert.equal(estimate.perKey(0), 5);
  estimate.observe(40_000, 100, 0); // small replies are not looked at once one was seen
  assert.equal(estimate.perKey(0), 5);
  estimate.observe(20_000_000, 40, 1000);
  assert.equal(estimate.perKey(1000), 500_000);
  estimate.observe(100_000, 10, 1000); // smaller per key: kept as it was
  assert.equal(estimate.perKey(1000), 500_000);
});

Deno.test("a large estimate halves every 30 s without large replies; a small one stays", () => {
  const estimate = new ReplySizeEstimate(1024 * 1024);
  estimate.observe(1_000_000, 1, 0);
  assert.equal(estimate.perKey(30_000), 500_000);
  assert.equal(estimate.perKey(60_000), 250_000);
  estimate.observe(300_000, 1, 60_000); // larger than the decayed estimate: taken
  assert.equal(estimate.perKey(60_000), 300_000);
  const small = new ReplySizeEstimate(1024 * 1024);
  small.observe(100, 1, 0);
  assert.equal(small.perKey(3_600_000), 100);
});
