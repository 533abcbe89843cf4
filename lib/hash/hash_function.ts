/**
 * The shape shared by every key hash in `lib/hash/`.
 *
 * @module
 */

/** A 32-bit hash of a key's bytes, as an unsigned integer (0 .. 2^32-1). */
export type HashFunction = (key: Uint8Array) => number;
