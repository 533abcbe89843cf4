import assert from "node:assert/strict";
import { createHash } from "../../lib/deps.ts";
import { md5, md5Words } from "../../lib/hash/md5.ts";

/** A deterministic byte generator (a 32-bit LCG), so failures reproduce. */
function randomBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let state = seed;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    out[i] = state >>> 24;
  }
  return out;
}

/** `md5Words`'s four words as the 16 digest bytes. */
function digestOf(data: Uint8Array): Uint8Array {
  const words = new Uint32Array(4);
  md5Words(data, words);
  return new Uint8Array(words.buffer);
}

Deno.test("md5Words gives node:crypto's MD5 digest for every length from 0 to 300", () => {
  for (let length = 0; length <= 300; length++) {
    const data = randomBytes(length, length + 1);
    const expected = new Uint8Array(createHash("md5").update(data).digest());
    assert.deepEqual(digestOf(data), expected, `length ${length}`);
  }
});

Deno.test("md5Words gives node:crypto's MD5 digest for a 100 kB input", () => {
  const data = randomBytes(100_000, 7);
  assert.deepEqual(digestOf(data), new Uint8Array(createHash("md5").update(data).digest()));
});

Deno.test("md5 is the first four digest bytes read little-endian", () => {
  for (let length = 0; length < 100; length += 7) {
    const data = randomBytes(length, 99 + length);
    const digest = createHash("md5").update(data).digest();
    assert.equal(md5(data), digest.readUInt32LE(0));
  }
});

Deno.test("md5 matches the RFC 1321 test suite's digests", () => {
  const suite: [string, string][] = [
    ["", "d41d8cd98f00b204e9800998ecf8427e"],
    ["a", "0cc175b9c0f1b6a831c399e269772661"],
    ["abc", "900150983cd24fb0d6963f7d28e17f72"],
    ["message digest", "f96b697d7cb7938d525a2f31aaf161d0"],
    ["abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"],
    [
      "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
      "57edf4a22be3c955ac49da2e2107b67a",
    ],
  ];
  for (const [text, hex] of suite) {
    const digest = digestOf(new TextEncoder().encode(text));
    assert.equal(Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join(""), hex);
  }
});

Deno.test("md5Words gives twemproxy's ketama_hash test vectors for server1-8", () => {
  const words = new Uint32Array(4);
  md5Words(new TextEncoder().encode("server1-8"), words);
  assert.equal(words[0], 3853726576);
  assert.equal(words[3], 2667054752);
});
