import assert from "node:assert/strict";
import { Modula } from "../../lib/distribution/modula.ts";

const pool = (...weights: number[]) => weights.map((weight, i) => ({ name: `s${i}`, weight }));

Deno.test("modula gives each server as many consecutive slots as its weight", () => {
  assert.deepEqual(Array.from(new Modula(pool(1, 2, 3)).slots), [0, 1, 1, 2, 2, 2]);
});

Deno.test("modula picks slot hash % total weight", () => {
  const modula = new Modula(pool(1, 2, 3));
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7].map((hash) => modula.pick(hash)), [
    0,
    1,
    1,
    2,
    2,
    2,
    0,
    1,
  ]);
  assert.equal(modula.pick(0xffffffff), [0, 1, 1, 2, 2, 2][0xffffffff % 6]);
});

Deno.test("modula with equal weights is hash % server count", () => {
  const modula = new Modula(pool(1, 1, 1, 1, 1));
  for (const hash of [0, 7, 123456789, 0xdeadbeef, 0xffffffff]) {
    assert.equal(modula.pick(hash), hash % 5);
  }
});

Deno.test("modula rejects an empty pool and non-positive weights", () => {
  assert.throws(() => new Modula([]), RangeError);
  assert.throws(() => new Modula(pool(1, -1)), RangeError);
});
