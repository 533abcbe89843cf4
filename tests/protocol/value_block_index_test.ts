import assert from "node:assert/strict";
import { ValueBlockIndex } from "../../lib/protocol/text/value_block_index.ts";

/** The selected reply's blocks as `[start, end, key]`. */
function selected(index: ValueBlockIndex): number[][] {
  const blocks = [];
  for (let b = 0; b < index.count; b++) blocks.push([index.start(b), index.end(b), index.key(b)]);
  return blocks;
}

Deno.test("a reply's blocks are selected out of the index by their entries", () => {
  const index = new ValueBlockIndex();
  index.add(0, 10, 0);
  index.add(10, 25, 3);
  index.add(0, 8, 1);
  index.select(2, 3);
  assert.deepEqual(selected(index), [[0, 8, 1]]);
  index.select(0, 2);
  assert.deepEqual(selected(index), [[0, 10, 0], [10, 25, 3]]);
});

Deno.test("discarding the replies handed out keeps the blocks of the one still arriving, at the front", () => {
  const index = new ValueBlockIndex();
  for (let i = 0; i < 200; i++) index.add(i, i + 1, i);
  index.discard(198);
  assert.equal(index.size, 2);
  index.select(0, index.size);
  assert.deepEqual(selected(index), [[198, 199, 198], [199, 200, 199]]);
  // A connection failed while its replies were handed out has cleared the index already.
  index.clear();
  index.discard(5);
  assert.equal(index.size, 0);
});
