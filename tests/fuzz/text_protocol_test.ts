import assert from "node:assert/strict";
import { SeededRandom } from "../helpers/random.ts";
import { checkTextReplies, textProtocol } from "./text_protocol.ts";

const encoder = new TextEncoder();
const check = (text: string) => checkTextReplies(encoder.encode(text));

Deno.test("the fuzzer's checker takes whole memcached replies and nothing else", () => {
  assert.equal(check(""), null);
  assert.equal(
    check(
      "ERROR\r\nCLIENT_ERROR bad data chunk\r\nSTORED\r\nVALUE k\x01 5 3 77\r\na\r\n\r\nEND\r\n" +
        "42\r\nSERVER_ERROR object too large for cache\r\nVERSION 1.6.0\r\nSTAT pid 1\r\n",
    ),
    null,
  );
  assert.equal(check("STORED"), "a reply without its line end at byte 0");
  assert.equal(check("STORED\n"), "a line not ended by \\r\\n at byte 0");
  assert.equal(check("HELLO\r\n"), 'not a memcached reply: "HELLO"');
  assert.equal(check("VALUE k 0 5\r\nab\r\n"), "a VALUE of 5 bytes not ended by \\r\\n");
  assert.equal(check("VALUE k x 1\r\na\r\n"), 'a bad VALUE line "VALUE k x 1"');
});

Deno.test("the fuzzer's cases are the same for the same seed", () => {
  for (let seed = 0; seed < 50; seed++) {
    const a = textProtocol.generate(new SeededRandom(seed));
    const b = textProtocol.generate(new SeededRandom(seed));
    assert.deepEqual(a, b);
  }
});

Deno.test("the fuzzer's checker takes meta replies, which the text port also sends", () => {
  assert.equal(check("HD c5 O\x01x\r\nVA 2 f0\r\nhi\r\nEN\r\nMN\r\nME k exp=-1 la=0\r\n"), null);
  assert.equal(check("VA 5\r\nhi\r\n"), "a VA of 5 bytes not ended by \\r\\n");
  assert.equal(check("XY\r\n"), 'not a memcached reply: "XY"');
});

Deno.test("a case that begins with 0x80 is answered in binary on the text port, and checked as binary", () => {
  // The proxy's answer to case 135166 of the text fuzzer: opcode 0x5e is unknown.
  const unknown = new Uint8Array([
    0x81,
    0x5e,
    0,
    0,
    0,
    0,
    0,
    0x81,
    0,
    0,
    0,
    0x0f,
    0xa8,
    0x18,
    0x5c,
    0x6c,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    ...encoder.encode("Unknown command"),
  ]);
  assert.equal(textProtocol.check(unknown), null);
  assert.notEqual(textProtocol.check(unknown.subarray(0, 30)), null, "a cut response");
  assert.notEqual(checkTextReplies(unknown), null);
});
