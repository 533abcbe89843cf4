import assert from "node:assert/strict";
import { fnv1_32, fnv1_64, fnv1a_32, fnv1a_64 } from "../../lib/hash/fnv.ts";

const FNV_64_INIT = 0xcbf29ce484222325n;
const FNV_64_PRIME = 0x100000001b3n;
const MASK_64 = (1n << 64n) - 1n;

/** A key byte as twemproxy reads it on x86-64: a signed `char` widened to 64 bits. */
const widened = (byte: number) => BigInt.asUintN(64, BigInt((byte << 24) >> 24));

/** Reference 64-bit FNV-1 over a real 64-bit state, truncated to 32 bits at the end. */
function referenceFnv1_64(key: Uint8Array): number {
  let hash = FNV_64_INIT;
  for (const byte of key) {
    hash = ((hash * FNV_64_PRIME) & MASK_64) ^ widened(byte);
  }
  return Number(hash & 0xffffffffn);
}

/** Reference 64-bit FNV-1a over a real 64-bit state, truncated to 32 bits at the end. */
function referenceFnv1a_64(key: Uint8Array): number {
  let hash = FNV_64_INIT;
  for (const byte of key) {
    hash = ((hash ^ widened(byte)) * FNV_64_PRIME) & MASK_64;
  }
  return Number(hash & 0xffffffffn);
}

function randomKeys(count: number): Uint8Array[] {
  let state = 42;
  return Array.from({ length: count }, (_, k) =>
    Uint8Array.from({ length: k % 60 }, () => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return state >>> 24;
    }));
}

Deno.test("fnv1_64 equals the low 32 bits of a full 64-bit FNV-1 on random keys", () => {
  for (const key of randomKeys(500)) {
    assert.equal(fnv1_64(key), referenceFnv1_64(key));
  }
});

Deno.test("fnv1a_64 equals the low 32 bits of a full 64-bit FNV-1a on random keys", () => {
  for (const key of randomKeys(500)) {
    assert.equal(fnv1a_64(key), referenceFnv1a_64(key));
  }
});

Deno.test("FNV hashes sign-extend key bytes of 0x80 and above, as twemproxy's signed char does", () => {
  const key = Uint8Array.of(0x80);
  const prime32 = 0x01000193;
  assert.equal(fnv1a_32(key), Math.imul(0x811c9dc5 ^ 0xffffff80, prime32) >>> 0);
  assert.equal(fnv1_32(key), (Math.imul(0x811c9dc5, prime32) ^ 0xffffff80) >>> 0);
  assert.notEqual(fnv1a_32(key), Math.imul(0x811c9dc5 ^ 0x80, prime32) >>> 0);
});
