/**
 * twemproxy's `hash_tag:` rule: which part of a key is hashed.
 *
 * @module
 */

/**
 * The part of `key` that twemproxy hashes when the pool has `hash_tag: <tag>`, as a view into
 * `key` (no copy).
 *
 * twemproxy finds the first byte equal to `tag[0]`, then the first byte equal to `tag[1]` after
 * it, and hashes the bytes strictly between them. It hashes the whole key instead when there is
 * no `tag[0]`, when there is no `tag[1]` after the first `tag[0]`, or when the two are adjacent
 * (an empty tag). Only the first `tag[0]` is tried: in `a{}{b}` the tag is empty, so the whole
 * key is hashed, not `b`.
 *
 * @param key the key's bytes
 * @param tag the two tag bytes, e.g. `{}` encoded
 * @throws {RangeError} if `tag` is not exactly two bytes (twemproxy rejects such a config)
 *
 * @example
 * ```ts
 * import { hashTagged } from "./hash_tag.ts";
 * const bytes = new TextEncoder();
 * const text = new TextDecoder();
 * const tag = bytes.encode("{}");
 * console.log(text.decode(hashTagged(bytes.encode("user:{42}:name"), tag))); // 42
 * console.log(text.decode(hashTagged(bytes.encode("user:{}:name"), tag))); // user:{}:name
 * ```
 */
export function hashTagged(key: Uint8Array, tag: Uint8Array): Uint8Array {
  if (tag.length !== 2) {
    throw new RangeError(`a hash tag is exactly 2 bytes, got ${tag.length}`);
  }
  const open = key.indexOf(tag[0]);
  if (open < 0) {
    return key;
  }
  const close = key.indexOf(tag[1], open + 1);
  if (close < 0 || close === open + 1) {
    return key;
  }
  return key.subarray(open + 1, close);
}
