import assert from "node:assert/strict";
import { ByteSlab } from "../../lib/protocol/byte_slab.ts";

Deno.test("a slab's copies keep their bytes when the source and later copies change", () => {
  const slab = new ByteSlab();
  const source = new Uint8Array(600);
  const copies: { copy: Uint8Array; fill: number }[] = [];
  // Enough copies to fill several blocks, of sizes around the shared-copy limit.
  for (let i = 0; i < 300; i++) {
    const length = (i * 37) % 700;
    source.fill(i & 0xff);
    copies.push({ copy: slab.copy(source, 0, length), fill: i & 0xff });
    source.fill(0xee);
  }
  for (const { copy, fill } of copies) {
    assert.ok(copy.every((b) => b === fill), `a copy of ${copy.length} bytes changed`);
  }
});

Deno.test("a large copy gets a buffer of its own, a small one shares a block", () => {
  const slab = new ByteSlab();
  const source = new Uint8Array(4096);
  const small = slab.copy(source, 0, 100);
  const large = slab.copy(source, 0, 2000);
  assert.ok(small.buffer.byteLength > small.byteLength);
  assert.equal(large.buffer.byteLength, large.byteLength);
});

Deno.test("a slab's allocations are zeroed pieces of its blocks, apart from each other, up to its limit", () => {
  const slab = new ByteSlab(64, 16);
  const a = slab.alloc(10);
  const b = slab.alloc(10);
  a.fill(1);
  assert.deepEqual([...b], new Array(10).fill(0), "b does not overlap a");
  assert.equal(a.buffer, b.buffer, "both are pieces of one block");
  assert.equal(a.buffer.byteLength, 64);
  const large = slab.alloc(17);
  assert.equal(large.buffer.byteLength, 17, "over the limit, a buffer of its own");
});

Deno.test("a slab holds its copies in the block being filled, not older blocks' or others' views", () => {
  const slab = new ByteSlab(64, 16);
  const source = new Uint8Array(16);
  const first = slab.copy(source, 0, 10);
  assert.ok(slab.holds(first));
  assert.ok(!slab.holds(source.subarray(0, 10)), "a view of another buffer");
  for (let i = 0; i < 6; i++) slab.copy(source, 0, 16);
  assert.ok(!slab.holds(first), "its block is full and a new one is being filled");
});
