import assert from "node:assert/strict";
import { Magent } from "../../lib/distribution/magent.ts";
import { magent } from "../../lib/hash/magent.ts";

const pool = (...weights: number[]) => weights.map((weight, i) => ({ name: `s${i}`, weight }));
const bytes = (text: string) => new TextEncoder().encode(text);

Deno.test("magent places a key on server hashme(key) % server count", () => {
  const placement = new Magent(pool(1, 1, 1));
  for (const key of ["a", "user:42", "session:abcdef", "z"]) {
    assert.equal(placement.pick(magent(bytes(key))), magent(bytes(key)) % 3, key);
  }
  assert.equal(placement.pick(magent(bytes("a"))), 177670 % 3);
});

Deno.test("magent ignores weights", () => {
  const weighted = new Magent(pool(5, 1));
  const plain = new Magent(pool(1, 1));
  for (let hash = 0; hash < 50; hash++) {
    assert.equal(weighted.pick(hash), plain.pick(hash));
  }
});

Deno.test("magent rejects an empty pool", () => {
  assert.throws(() => new Magent([]), RangeError);
});
