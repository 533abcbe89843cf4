import assert from "node:assert/strict";
import {
  joinableVerbLength,
  lineBodyEnd,
  splitJoinedReply,
} from "../../lib/protocol/text/joined_gets.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Each request's part of `reply`, the reply to `lines` joined, as text. */
function split(lines: string[], reply: string): string[] {
  const encoded = lines.map((line) => encoder.encode(line));
  const bytes = encoder.encode(reply);
  const ends = new Int32Array(lines.length);
  splitJoinedReply(bytes, { lineAt: (k) => encoded[k] }, lines.length, ends);
  return lines.map((_, k) => decoder.decode(bytes.subarray(k === 0 ? 0 : ends[k - 1], ends[k])));
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

Deno.test("each joined get gets the blocks of its own keys, misses left out", () => {
  const parts = split(
    ["get a b\r\n", "get c\r\n", "get d e\r\n"],
    block("b", "2") + block("d", "4") + block("e", "5") + "END\r\n",
  );
  assert.deepEqual(parts, [block("b", "2"), "", block("d", "4") + block("e", "5")]);
});

Deno.test("a key asked for by two joined gets is answered to each in turn", () => {
  const parts = split(
    ["get a\r\n", "get b a\r\n", "get a\r\n"],
    block("a", "1") + block("a", "1") + block("a", "1") + "END\r\n",
  );
  assert.deepEqual(parts, [block("a", "1"), block("a", "1"), block("a", "1")]);
});

Deno.test("a key that only a later joined get asks for belongs to that get", () => {
  // The first get's `a` missed; the block for `a` that follows is the third get's.
  const parts = split(
    ["get a\r\n", "get b\r\n", "get a\r\n"],
    block("a", "new") + "END\r\n",
  );
  assert.deepEqual(parts, [block("a", "new"), "", ""]);
  const later = split(["get x\r\n", "get b\r\n", "get a\r\n"], block("a", "1") + "END\r\n");
  assert.deepEqual(later, ["", "", block("a", "1")]);
});

Deno.test("joined gets' keys are read as memcached reads them: runs of spaces, a bare LF, cas values", () => {
  const parts = split(
    ["gets  a   b \n", "gets c\r\n"],
    block("a", "1", 7) + block("c", "3", 9) + "END\r\n",
  );
  assert.deepEqual(parts, [block("a", "1", 7), block("c", "3", 9)]);
});

Deno.test("an all-miss reply to joined gets leaves every request without blocks", () => {
  assert.deepEqual(split(["get a\r\n", "get b\r\n"], "END\r\n"), ["", ""]);
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
