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
