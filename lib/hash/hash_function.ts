/**
 * The shape shared by every key hash in `lib/hash/`.
 *
 * @module
 */

/**
 * A 32-bit hash of a key's bytes, as an unsigned integer (0 .. 2^32-1): of `key[start..end)`,
 * the whole of `key` by default. The range lets a key be hashed where it lies in a request,
 * without a view made for it.
 *
 * @example
 * ```ts
 * import type { HashFunction } from "./hash_function.ts";
 * import { fnv1a_64 } from "./fnv.ts";
 * const hash: HashFunction = fnv1a_64;
 * const line = new TextEncoder().encode("get apple\r\n");
 * console.log(hash(line, 4, 9) === hash(new TextEncoder().encode("apple"))); // true
 * ```
 */
export type HashFunction = (key: Uint8Array, start?: number, end?: number) => number;
