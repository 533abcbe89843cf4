/**
 * Bob Jenkins' one-at-a-time hash, as twemproxy's `one_at_a_time`.
 *
 * @module
 */

/**
 * Bob Jenkins' one-at-a-time hash, bit-compatible with twemproxy (and libmemcached) on x86-64.
 *
 * twemproxy reads each byte through a signed `char`, so a byte of 0x80 or more is sign-extended
 * before it is added; this function does the same.
 *
 * @example
 * ```ts
 * import { one_at_a_time } from "./one_at_a_time.ts";
 * console.log(one_at_a_time(new TextEncoder().encode("apple"))); // 2297466611
 * ```
 */
export function one_at_a_time(key: Uint8Array, start = 0, end = key.length): number {
  let value = 0;
  for (let i = start; i < end; i++) {
    value = (value + ((key[i] << 24) >> 24)) | 0;
    value = (value + (value << 10)) | 0;
    value ^= value >>> 6;
  }
  value = (value + (value << 3)) | 0;
  value ^= value >>> 11;
  value = (value + (value << 15)) | 0;
  return value >>> 0;
}
