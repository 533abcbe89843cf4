import assert from "node:assert/strict";
import { RandomDistribution } from "../../lib/distribution/random.ts";

const pool = (...weights: number[]) => weights.map((weight, i) => ({ name: `s${i}`, weight }));

Deno.test("random picks the server its random source points at, whatever the hash", () => {
  const draws = [0, 0.24, 0.25, 0.5, 0.99];
  const random = new RandomDistribution(pool(1, 1, 1, 1), () => draws.shift() ?? 0);
  assert.deepEqual([1, 2, 3, 4, 5].map((hash) => random.pick(hash)), [0, 0, 1, 2, 3]);
});

Deno.test("random ignores weights, as twemproxy's one slot per server does", () => {
  const random = new RandomDistribution(pool(1, 9), () => 0.4);
  assert.equal(random.pick(0), 0);
  assert.equal(random.size, 2);
});

Deno.test("random spreads picks over every server with Math.random", () => {
  const random = new RandomDistribution(pool(1, 1, 1));
  const seen = new Set<number>();
  for (let i = 0; i < 300; i++) seen.add(random.pick(i));
  assert.deepEqual([...seen].sort(), [0, 1, 2]);
});

Deno.test("random rejects an empty pool", () => {
  assert.throws(() => new RandomDistribution([]), RangeError);
});
