import assert from "node:assert/strict";
import {
  fileValueBlocks,
  type FoundBlocks,
  isErrorReply,
  type KeyRanges,
  ReplyKind,
  TextResponseFramer,
  valueBlocks,
  valueCount,
} from "../../lib/protocol/text/response_parser.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Keys given as arrays of their own, as `fileValueBlocks` reads keys. */
function keyRanges(names: string[]): KeyRanges {
  const keys = names.map((k) => encoder.encode(k));
  return { keySource: (i) => keys[i], keyStart: () => 0, keyEnd: (i) => keys[i].length };
}

Deno.test("a retrieval reply is framed only once it is complete, across any split", () => {
  const reply = encoder.encode("VALUE a 0 5\r\nhe\r\nl\r\nVALUE b 3 0 9\r\n\r\nEND\r\nSTORED\r\n");
  const retrievalEnd = reply.length - "STORED\r\n".length;
  for (let split = 1; split < retrievalEnd; split++) {
    const framer = new TextResponseFramer();
    assert.equal(framer.frame(reply, 0, split, ReplyKind.Retrieval), -1, `split at ${split}`);
    assert.equal(framer.frame(reply, 0, reply.length, ReplyKind.Retrieval), retrievalEnd);
  }
  const framer = new TextResponseFramer();
  assert.equal(framer.frame(reply, retrievalEnd, reply.length, ReplyKind.Line), reply.length);
});

Deno.test("an error line ends a retrieval reply", () => {
  const reply = encoder.encode("SERVER_ERROR out of memory\r\n");
  assert.equal(
    new TextResponseFramer().frame(reply, 0, reply.length, ReplyKind.Retrieval),
    reply.length,
  );
  assert.equal(isErrorReply(reply), true);
  assert.equal(isErrorReply(encoder.encode("ERROR\r\n")), true);
  assert.equal(isErrorReply(encoder.encode("END\r\n")), false);
  assert.equal(isErrorReply(encoder.encode("VALUE a 0 1\r\nx\r\nEND\r\n")), false);
});

Deno.test("garbage in a retrieval reply is an error, not a hang", () => {
  const reply = encoder.encode("VALUE a 0 1\r\nx\r\nSTORED\r\n");
  assert.throws(
    () => new TextResponseFramer().frame(reply, 0, reply.length, ReplyKind.Retrieval),
    TypeError,
  );
});

Deno.test("valueBlocks finds each key and block of a reply", () => {
  const reply = encoder.encode("VALUE a 0 2 77\r\nhi\r\nVALUE bb 1 0\r\n\r\nEND\r\n");
  const blocks = valueBlocks(reply);
  assert.deepEqual(blocks.map((b) => decoder.decode(b.key)), ["a", "bb"]);
  assert.deepEqual(blocks.map((b) => decoder.decode(b.block)), [
    "VALUE a 0 2 77\r\nhi\r\n",
    "VALUE bb 1 0\r\n\r\n",
  ]);
});

Deno.test("each VALUE block is filed under its key, and misses are left out", () => {
  const reply = encoder.encode("VALUE a 0 2 77\r\nhi\r\nVALUE bb 1 0\r\n\r\nEND\r\n");
  const keys = keyRanges(["bb", "a", "x", "bb", "b"]);
  const found: FoundBlocks = { replies: new Array(5), starts: [], ends: [] };
  // The reply answers keys 1 ("a"), 2 ("x", a miss) and 3 ("bb"), in that order.
  fileValueBlocks(reply, keys, [1, 2, 3], found);
  const blocks = Array.from(
    found.replies,
    (r, k) => r && decoder.decode(r.subarray(found.starts[k], found.ends[k])),
  );
  assert.deepEqual(blocks, [
    undefined,
    "VALUE a 0 2 77\r\nhi\r\n",
    undefined,
    "VALUE bb 1 0\r\n\r\n",
    undefined,
  ]);
  assert.ok(found.replies[1] === reply && found.replies[3] === reply);
});

Deno.test("a missed key that begins another key is not taken for it", () => {
  const reply = encoder.encode("VALUE abc 0 1\r\nx\r\nVALUE b 0 1\r\ny\r\nEND\r\n");
  const found: FoundBlocks = { replies: [], starts: [], ends: [] };
  fileValueBlocks(reply, keyRanges(["ab", "abc", "", "b"]), [0, 1, 2, 3], found);
  assert.deepEqual(Array.from(found.starts), [undefined, 0, undefined, 18]);
  assert.deepEqual(Array.from(found.ends), [undefined, 18, undefined, 34]);
});

Deno.test("a VALUE line with runs of spaces is read as the framer reads it, so a block ends where framing says", () => {
  const text = "VALUE  a  0  2\r\nhi\r\nVALUE b 0 2 \r\nyo\r\nEND\r\n";
  const reply = encoder.encode(text);
  assert.equal(
    new TextResponseFramer().frame(reply, 0, reply.length, ReplyKind.Retrieval),
    reply.length,
  );
  const found: FoundBlocks = { replies: [], starts: [], ends: [] };
  fileValueBlocks(reply, keyRanges(["a", "b"]), [0, 1], found);
  assert.deepEqual(
    [0, 1].map((k) => decoder.decode(reply.subarray(found.starts[k], found.ends[k]))),
    ["VALUE  a  0  2\r\nhi\r\n", "VALUE b 0 2 \r\nyo\r\n"],
  );
  assert.equal(valueCount(reply), 2);
  assert.equal(valueCount(encoder.encode("VALUE  a 0 2\r\nhi\r\nVALUE b 0 1\r\nx\r\nEND\r\n")), 2);
  assert.deepEqual(valueBlocks(reply).map((b) => decoder.decode(b.key)), ["a", "b"]);
});

Deno.test("valueCount counts a reply's VALUE blocks, stepping over data that looks like one", () => {
  const data = "x\r\nVALUE y 0 1\r\nz";
  const reply = encoder.encode(
    `VALUE a 0 ${data.length}\r\n${data}\r\nVALUE bb 1 0 77\r\n\r\nVALUE c 2 1\r\nV\r\nEND\r\n`,
  );
  assert.equal(valueCount(reply), 3);
  assert.equal(valueCount(encoder.encode("END\r\n")), 0);
  assert.equal(valueCount(encoder.encode("SERVER_ERROR out of memory\r\n")), 0);
});

Deno.test("a one-line reply must be one memcached sends: a known word or a number", () => {
  const frame = (text: string) => {
    const bytes = encoder.encode(text);
    return new TextResponseFramer().frame(bytes, 0, bytes.length, ReplyKind.Line);
  };
  for (
    const line of [
      "STORED\r\n",
      "NOT_STORED\r\n",
      "EXISTS\r\n",
      "NOT_FOUND\r\n",
      "DELETED\r\n",
      "TOUCHED\r\n",
      "OK\r\n",
      "VERSION 1.6.18\r\n",
      "ERROR\r\n",
      "CLIENT_ERROR bad data chunk\r\n",
      "SERVER_ERROR out of memory\r\n",
      "18446744073709551615\r\n",
    ]
  ) {
    assert.equal(frame(line), line.length, line);
  }
  for (const line of ["HELLO\r\n", "STORE\r\n", "\x00\r\n", "VALUE a 0 1\r\n"]) {
    assert.throws(() => frame(line), TypeError, JSON.stringify(line));
  }
});
