import assert from "node:assert/strict";
import {
  joinableVerbLength,
  JoinedReplyFramer,
  lineBodyEnd,
} from "../../lib/protocol/text/joined_gets.ts";
import { ValueBlockIndex } from "../../lib/protocol/text/value_block_index.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Each request's part of `reply`, the reply to `lines` joined, as text: framed with all of the
 * reply at hand, and again with its bytes arriving one at a time, which must agree. With each
 * part, its blocks as indexed (both ways alike): `<key of its line>:<block>`.
 */
function splitIndexed(lines: string[], reply: string): { parts: string[]; blocks: string[][] } {
  const encoded = lines.map((line) => encoder.encode(line));
  const bytes = encoder.encode(reply);
  const whole = new JoinedReplyFramer();
  const bytewise = new JoinedReplyFramer();
  const wholeIndex = new ValueBlockIndex();
  const bytewiseIndex = new ValueBlockIndex();
  const parts: string[] = [];
  const blocks: string[][] = [];
  let pos = 0;
  let arrived = pos;
  for (const [k, line] of encoded.entries()) {
    const first = k === 0;
    const last = k === lines.length - 1;
    const end = whole.frame(bytes, pos, bytes.length, line, first, last, wholeIndex);
    assert.ok(end >= pos, `part ${k} is complete`);
    let partEnd = -1;
    while (partEnd < 0) {
      partEnd = bytewise.frame(bytes, pos, arrived, line, first, last, bytewiseIndex);
      if (partEnd < 0) arrived++;
    }
    assert.equal(partEnd, end, `part ${k} framed a byte at a time`);
    const part = bytes.subarray(pos, end);
    parts.push(decoder.decode(part));
    const indexed = [wholeIndex, bytewiseIndex].map((index) => {
      index.select(0, index.size);
      const found = [];
      for (let b = 0; b < index.count; b++) {
        found.push(
          `${index.key(b)}:${decoder.decode(part.subarray(index.start(b), index.end(b)))}`,
        );
      }
      index.clear();
      return found;
    });
    assert.deepEqual(indexed[1], indexed[0], `part ${k} indexed a byte at a time`);
    blocks.push(indexed[0]);
    pos = end;
  }
  assert.equal(pos, bytes.length);
  return { parts, blocks };
}

/** Each request's part of `reply`, the reply to `lines` joined, as text; see splitIndexed. */
function split(lines: string[], reply: string): string[] {
  return splitIndexed(lines, reply).parts;
}

const block = (key: string, value: string, cas?: number) =>
  `VALUE ${key} 0 ${value.length}${cas === undefined ? "" : ` ${cas}`}\r\n${value}\r\n`;

Deno.test("only get and gets lines can be joined, each with its own command word", () => {
  assert.equal(joinableVerbLength(encoder.encode("get a\r\n")), 3);
  assert.equal(joinableVerbLength(encoder.encode("gets a b\r\n")), 4);
  for (
    const line of ["gat 10 a\r\n", "gats 10 a\r\n", " get a\r\n", "getx a\r\n", "set a 0 0 1\r\n"]
  ) {
    assert.equal(joinableVerbLength(encoder.encode(line)), 0, line);
  }
});

Deno.test("a line's words end before its CRLF, or before a bare LF", () => {
  assert.equal(lineBodyEnd(encoder.encode("get a\r\n")), 5);
  assert.equal(lineBodyEnd(encoder.encode("get a\n")), 5);
  assert.equal(lineBodyEnd(encoder.encode(" b\r\n")), 2);
});

Deno.test("each joined get gets the blocks of its own keys, misses left out, and the last the END", () => {
  const parts = split(
    ["get a b\r\n", "get c\r\n", "get d e\r\n"],
    block("b", "2") + block("d", "4") + block("e", "5") + "END\r\n",
  );
  assert.deepEqual(parts, [block("b", "2"), "", block("d", "4") + block("e", "5") + "END\r\n"]);
});

Deno.test("a key asked for by two joined gets is answered to each in turn", () => {
  const parts = split(
    ["get a\r\n", "get b a\r\n", "get a\r\n"],
    block("a", "1") + block("a", "1") + block("a", "1") + "END\r\n",
  );
  assert.deepEqual(parts, [block("a", "1"), block("a", "1"), block("a", "1") + "END\r\n"]);
});

Deno.test("a key that only a later joined get asks for belongs to that get", () => {
  // The first get's `a` missed; the block for `a` that follows is the third get's.
  const parts = split(
    ["get a\r\n", "get b\r\n", "get a\r\n"],
    block("a", "new") + "END\r\n",
  );
  assert.deepEqual(parts, [block("a", "new"), "", "END\r\n"]);
  const later = split(["get x\r\n", "get b\r\n", "get a\r\n"], block("a", "1") + "END\r\n");
  assert.deepEqual(later, ["", "", block("a", "1") + "END\r\n"]);
});

Deno.test("joined gets' keys are read as memcached reads them: runs of spaces, a bare LF, cas values", () => {
  const parts = split(
    ["gets  a   b \n", "gets c\r\n"],
    block("a", "1", 7) + block("c", "3", 9) + "END\r\n",
  );
  assert.deepEqual(parts, [block("a", "1", 7), block("c", "3", 9) + "END\r\n"]);
});

Deno.test("each block of a part is indexed with its bounds in the part and the key of its line it answers", () => {
  const { blocks } = splitIndexed(
    ["get a b c\r\n", "gets  d  d\r\n", "get e\r\n"],
    block("a", "1") + block("c", "33") + block("d", "4", 5) + block("d", "4", 5) + "END\r\n",
  );
  assert.deepEqual(blocks, [
    [`0:${block("a", "1")}`, `2:${block("c", "33")}`],
    [`0:${block("d", "4", 5)}`, `1:${block("d", "4", 5)}`],
    [],
  ]);
  // A line that was not joined is framed alone, as first and last.
  const alone = splitIndexed(["get x y z\r\n"], block("z", "9") + "END\r\n");
  assert.deepEqual(alone.blocks, [[`2:${block("z", "9")}`]]);
});

Deno.test("an all-miss reply to joined gets leaves every request without blocks", () => {
  assert.deepEqual(split(["get a\r\n", "get b\r\n"], "END\r\n"), ["", "END\r\n"]);
});

Deno.test("a part ends as soon as its request's keys are answered, before the next block is in", () => {
  const bytes = encoder.encode(block("a", "1") + "VALUE b 0 1");
  const framer = new JoinedReplyFramer();
  const end = framer.frame(bytes, 0, bytes.length, encoder.encode("get a\r\n"), true, false);
  assert.equal(end, block("a", "1").length);
});

Deno.test("an error line in place of the reply to joined gets answers them all", () => {
  const bytes = encoder.encode("SERVER_ERROR out of memory writing get response\r\n");
  const framer = new JoinedReplyFramer();
  assert.equal(
    framer.frame(bytes, 0, bytes.length, encoder.encode("get a\r\n"), true, false),
    bytes.length,
  );
  assert.equal(framer.error, true);
  // After a block, a line that is neither VALUE nor END is garbage.
  const late = encoder.encode(block("a", "1") + "ERROR\r\n");
  const line = encoder.encode("get a b\r\n");
  assert.throws(() => framer.frame(late, 0, late.length, line, true, false), TypeError);
});

Deno.test("a block for a key no joined get asked for is refused", () => {
  assert.throws(
    () => split(["get a\r\n", "get b\r\n"], block("z", "1") + "END\r\n"),
    /none of them asked for/,
  );
  // Out of order: once `b` is answered, `a` is no longer asked for.
  assert.throws(
    () => split(["get a\r\n", "get b\r\n"], block("b", "2") + block("a", "1") + "END\r\n"),
    TypeError,
  );
});
