/**
 * Paul Hsieh's SuperFastHash, as twemproxy's `hsieh`.
 *
 * @module
 */

/**
 * Paul Hsieh's SuperFastHash with a zero seed, bit-compatible with twemproxy on x86-64.
 *
 * As in twemproxy, the empty key hashes to 0, and for a key whose length is 3 modulo 4 the last
 * byte is read through a signed `char` (sign-extended when 0x80 or more).
 *
 * @example
 * ```ts
 * import { hsieh } from "./hsieh.ts";
 * console.log(hsieh(new TextEncoder().encode("apple"))); // 3738850110
 * ```
 */
export function hsieh(key: Uint8Array, start = 0, end = key.length): number {
  const length = end - start;
  if (length === 0) {
    return 0;
  }
  let hash = 0;
  let i = start;
  for (const words = start + (length & ~3); i < words; i += 4) {
    hash = (hash + (key[i] | (key[i + 1] << 8))) | 0;
    const tmp = ((key[i + 2] | (key[i + 3] << 8)) << 11) ^ hash;
    hash = (hash << 16) ^ tmp;
    hash = (hash + (hash >>> 11)) | 0;
  }
  switch (length & 3) {
    case 3:
      hash = (hash + (key[i] | (key[i + 1] << 8))) | 0;
      hash ^= hash << 16;
      hash ^= ((key[i + 2] << 24) >> 24) << 18;
      hash = (hash + (hash >>> 11)) | 0;
      break;
    case 2:
      hash = (hash + (key[i] | (key[i + 1] << 8))) | 0;
      hash ^= hash << 11;
      hash = (hash + (hash >>> 17)) | 0;
      break;
    case 1:
      hash = (hash + key[i]) | 0;
      hash ^= hash << 10;
      hash = (hash + (hash >>> 1)) | 0;
      break;
  }
  hash ^= hash << 3;
  hash = (hash + (hash >>> 5)) | 0;
  hash ^= hash << 4;
  hash = (hash + (hash >>> 17)) | 0;
  hash ^= hash << 25;
  hash = (hash + (hash >>> 6)) | 0;
  return hash >>> 0;
}
