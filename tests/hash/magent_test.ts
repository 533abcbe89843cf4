import assert from "node:assert/strict";
import { magent } from "../../lib/hash/magent.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

/** Reference: magent's `hashme` with exact integers, signed chars, C-string end, top bit off. */
function reference(key: Uint8Array): number {
  let hash = 5381n;
  for (const byte of key) {
    if (byte === 0) break;
    hash = BigInt.asUintN(32, hash * 33n + BigInt((byte << 24) >> 24));
  }
  return Number(hash & 0x7fffffffn);
}

Deno.test("magent is DJB's h * 33 + c from 5381", () => {
  assert.equal(magent(new Uint8Array(0)), 5381);
  assert.equal(magent(bytes("a")), 5381 * 33 + 97);
  assert.equal(magent(bytes("ab")), (5381 * 33 + 97) * 33 + 98);
});

Deno.test("magent clears the top bit, as magent's hashme does", () => {
  const key = bytes("a fairly long key that overflows 32 bits many times");
  assert.equal(magent(key), reference(key));
  assert.ok(magent(key) < 2 ** 31);
});

Deno.test("magent adds bytes of 0x80 and above as negative signed chars", () => {
  assert.equal(magent(Uint8Array.of(0xff)), 5381 * 33 - 1);
  assert.equal(magent(Uint8Array.of(0x80)), 5381 * 33 - 128);
});

Deno.test("magent stops at a zero byte, like a C string", () => {
  assert.equal(magent(Uint8Array.of(0x61, 0x00, 0x62)), magent(bytes("a")));
});

Deno.test("magent matches an exact-integer reference on random keys", () => {
  let state = 9;
  for (let k = 0; k < 300; k++) {
    const key = Uint8Array.from({ length: k % 40 }, () => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return 1 + (state >>> 24) % 255;
    });
    assert.equal(magent(key), reference(key));
  }
});
