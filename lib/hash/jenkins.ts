/**
 * Bob Jenkins' lookup3 `hashlittle`, as twemproxy's `jenkins`.
 *
 * @module
 */

/** `x` rotated left by `k` bits (0 < k < 32), as an int32. */
function rot(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** The little-endian 32-bit word at `key[i]`, as an int32. */
function word(key: Uint8Array, i: number): number {
  return key[i] | (key[i + 1] << 8) | (key[i + 2] << 16) | (key[i + 3] << 24);
}

/**
 * Bob Jenkins' lookup3 `hashlittle` with an initial value of 13, bit-compatible with twemproxy on
 * x86-64 (which reads the key as little-endian words). The empty key hashes to
 * `0xdeadbeef + 13`.
 *
 * @example
 * ```ts
 * import { jenkins } from "./jenkins.ts";
 * console.log(jenkins(new TextEncoder().encode("apple"))); // 1442444624
 * ```
 */
export function jenkins(key: Uint8Array, start = 0, end = key.length): number {
  let length = end - start;
  let a = (0xdeadbeef + length + 13) | 0;
  let b = a;
  let c = a;
  let i = start;
  for (; length > 12; length -= 12, i += 12) {
    a = (a + word(key, i)) | 0;
    b = (b + word(key, i + 4)) | 0;
    c = (c + word(key, i + 8)) | 0;
    a = (a - c) | 0;
    a ^= rot(c, 4);
    c = (c + b) | 0;
    b = (b - a) | 0;
    b ^= rot(a, 6);
    a = (a + c) | 0;
    c = (c - b) | 0;
    c ^= rot(b, 8);
    b = (b + a) | 0;
    a = (a - c) | 0;
    a ^= rot(c, 16);
    c = (c + b) | 0;
    b = (b - a) | 0;
    b ^= rot(a, 19);
    a = (a + c) | 0;
    c = (c - b) | 0;
    c ^= rot(b, 4);
    b = (b + a) | 0;
  }
  if (length === 0) {
    return c >>> 0;
  }
  switch (length) {
    case 12:
      c = (c + (key[i + 11] << 24)) | 0;
    // falls through
    case 11:
      c = (c + (key[i + 10] << 16)) | 0;
    // falls through
    case 10:
      c = (c + (key[i + 9] << 8)) | 0;
    // falls through
    case 9:
      c = (c + key[i + 8]) | 0;
    // falls through
    case 8:
      b = (b + (key[i + 7] << 24)) | 0;
    // falls through
    case 7:
      b = (b + (key[i + 6] << 16)) | 0;
    // falls through
    case 6:
      b = (b + (key[i + 5] << 8)) | 0;
    // falls through
    case 5:
      b = (b + key[i + 4]) | 0;
    // falls through
    case 4:
      a = (a + (key[i + 3] << 24)) | 0;
    // falls through
    case 3:
      a = (a + (key[i + 2] << 16)) | 0;
    // falls through
    case 2:
      a = (a + (key[i + 1] << 8)) | 0;
    // falls through
    case 1:
      a = (a + key[i]) | 0;
  }
  c ^= b;
  c = (c - rot(b, 14)) | 0;
  a ^= c;
  a = (a - rot(c, 11)) | 0;
  b ^= a;
  b = (b - rot(a, 25)) | 0;
  c ^= b;
  c = (c - rot(b, 16)) | 0;
  a ^= c;
  a = (a - rot(c, 4)) | 0;
  b ^= a;
  b = (b - rot(a, 14)) | 0;
  c ^= b;
  c = (c - rot(b, 24)) | 0;
  return c >>> 0;
}
