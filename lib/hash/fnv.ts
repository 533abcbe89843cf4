/**
 * twemproxy's four Fowler–Noll–Vo key hashes.
 *
 * twemproxy reads key bytes through a signed `char`, so on x86-64 a byte of 0x80 or more is
 * sign-extended (0x80 becomes 0xffffff80) before it is XORed in. Every function here does the
 * same, which only matters for keys with such bytes.
 *
 * @module
 */

/** The low 32 bits of the 64-bit FNV offset basis 0xcbf29ce484222325. */
const FNV_64_INIT_LOW = 0x84222325;
/** The low 32 bits of the 64-bit FNV prime 0x100000001b3. */
const FNV_64_PRIME_LOW = 0x000001b3;
/** The 32-bit FNV offset basis. */
const FNV_32_INIT = 0x811c9dc5;
/** The 32-bit FNV prime. */
const FNV_32_PRIME = 0x01000193;

/**
 * twemproxy's `fnv1_64`: FNV-1 over a 64-bit state, returning its low 32 bits.
 *
 * The low 32 bits of a 64-bit product depend only on the low 32 bits of its factors, and XOR
 * works bit by bit, so the low half of the state is computed exactly with 32-bit arithmetic and
 * the high half, which never reaches the result, is not computed at all.
 *
 * @example
 * ```ts
 * import { fnv1_64 } from "./fnv.ts";
 * console.log(fnv1_64(new TextEncoder().encode("apple"))); // 473199127
 * ```
 */
export function fnv1_64(key: Uint8Array, start = 0, end = key.length): number {
  let hash = FNV_64_INIT_LOW;
  for (let i = start; i < end; i++) {
    hash = Math.imul(hash, FNV_64_PRIME_LOW) ^ ((key[i] << 24) >> 24);
  }
  return hash >>> 0;
}

/**
 * twemproxy's `fnv1a_64`, its default hash: FNV-1a with the 64-bit offset basis and prime
 * truncated to 32 bits and a 32-bit state, which equals the low 32 bits of a true 64-bit FNV-1a.
 *
 * @example
 * ```ts
 * import { fnv1a_64 } from "./fnv.ts";
 * console.log(fnv1a_64(new TextEncoder().encode("apple"))); // 1488911807
 * ```
 */
export function fnv1a_64(key: Uint8Array, start = 0, end = key.length): number {
  let hash = FNV_64_INIT_LOW;
  for (let i = start; i < end; i++) {
    hash = Math.imul(hash ^ ((key[i] << 24) >> 24), FNV_64_PRIME_LOW);
  }
  return hash >>> 0;
}

/**
 * twemproxy's `fnv1_32`: 32-bit FNV-1.
 *
 * @example
 * ```ts
 * import { fnv1_32 } from "./fnv.ts";
 * console.log(fnv1_32(new TextEncoder().encode("apple"))); // 67176023
 * ```
 */
export function fnv1_32(key: Uint8Array, start = 0, end = key.length): number {
  let hash = FNV_32_INIT;
  for (let i = start; i < end; i++) {
    hash = Math.imul(hash, FNV_32_PRIME) ^ ((key[i] << 24) >> 24);
  }
  return hash >>> 0;
}

/**
 * twemproxy's `fnv1a_32`: 32-bit FNV-1a.
 *
 * @example
 * ```ts
 * import { fnv1a_32 } from "./fnv.ts";
 * console.log(fnv1a_32(new TextEncoder().encode("apple"))); // 280767167
 * ```
 */
export function fnv1a_32(key: Uint8Array, start = 0, end = key.length): number {
  let hash = FNV_32_INIT;
  for (let i = start; i < end; i++) {
    hash = Math.imul(hash ^ ((key[i] << 24) >> 24), FNV_32_PRIME);
  }
  return hash >>> 0;
}
