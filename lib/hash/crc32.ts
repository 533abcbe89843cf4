/**
 * twemproxy's two CRC-32 key hashes: `crc32` (libmemcached's truncated variant) and `crc32a`
 * (the standard CRC-32).
 *
 * @module
 */

/** The reflected CRC-32 table (polynomial 0xedb88320). */
const TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let bit = 0; bit < 8; bit++) {
      c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
    }
    table[n] = c;
  }
  return table;
})();

/**
 * The standard CRC-32 register after `key[start..end)`, before the final inversion, as an int32.
 */
function register(key: Uint8Array, start: number, end: number): number {
  let crc = -1;
  for (let i = start; i < end; i++) {
    crc = (crc >>> 8) ^ TABLE[(crc ^ key[i]) & 0xff];
  }
  return crc;
}

/**
 * twemproxy's `crc32`, kept compatible with libmemcached: bits 16..30 of the standard CRC-32,
 * so the result is always below 32768.
 *
 * @example
 * ```ts
 * import { crc32 } from "./crc32.ts";
 * console.log(crc32(new TextEncoder().encode("apple"))); // 10542
 * ```
 */
export function crc32(key: Uint8Array, start = 0, end = key.length): number {
  return (~register(key, start, end) >>> 16) & 0x7fff;
}

/**
 * twemproxy's `crc32a`: the standard CRC-32 (as zlib's `crc32`).
 *
 * @example
 * ```ts
 * import { crc32a } from "./crc32.ts";
 * console.log(crc32a(new TextEncoder().encode("apple"))); // 2838417488
 * ```
 */
export function crc32a(key: Uint8Array, start = 0, end = key.length): number {
  return ~register(key, start, end) >>> 0;
}
