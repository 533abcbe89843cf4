/**
 * MurmurHash2, as twemproxy's `murmur`.
 *
 * @module
 */

/** MurmurHash2's multiplier. */
const M = 0x5bd1e995;

/**
 * MurmurHash2 (32-bit) seeded with `0xdeadbeef * length`, as twemproxy's `murmur`; words are read
 * little-endian, as on x86-64.
 *
 * @example
 * ```ts
 * import { murmur } from "./murmur.ts";
 * console.log(murmur(new TextEncoder().encode("apple"))); // 4142305122
 * ```
 */
export function murmur(key: Uint8Array, start = 0, end = key.length): number {
  const length = end - start;
  let h = Math.imul(0xdeadbeef, length) ^ length;
  let i = start;
  for (const words = start + (length & ~3); i < words; i += 4) {
    let k = key[i] | (key[i + 1] << 8) | (key[i + 2] << 16) | (key[i + 3] << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  switch (length & 3) {
    case 3:
      h ^= key[i + 2] << 16;
    // falls through
    case 2:
      h ^= key[i + 1] << 8;
    // falls through
    case 1:
      h = Math.imul(h ^ key[i], M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h >>> 0;
}
