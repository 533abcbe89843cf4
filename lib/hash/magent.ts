/**
 * The key hash of magent, the memcached agent by QUE Hongyu.
 *
 * @module
 */

/**
 * magent's `hashme`: Daniel J. Bernstein's string hash (`h = h * 33 + c`, from 5381) over the key
 * as a C string, with the top bit cleared, so the result is below 2^31.
 *
 * As in magent on x86-64, each byte is read through a signed `char` (a byte of 0x80 or more
 * adds a negative value), and hashing stops at the first zero byte. magent places a key on
 * server `magent(key) % serverCount` when started without `-k`; see `Magent` in
 * `lib/distribution/magent.ts`.
 *
 * @example
 * ```ts
 * import { magent } from "./magent.ts";
 * console.log(magent(new TextEncoder().encode("a"))); // 177670 (5381 * 33 + 97)
 * ```
 */
export function magent(key: Uint8Array, start = 0, end = key.length): number {
  let hash = 5381;
  for (let i = start; i < end; i++) {
    const byte = key[i];
    if (byte === 0) {
      break;
    }
    hash = (Math.imul(hash, 33) + ((byte << 24) >> 24)) | 0;
  }
  return hash & 0x7fffffff;
}
