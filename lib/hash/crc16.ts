/**
 * twemproxy's `crc16` key hash.
 *
 * @module
 */

/** The CRC-16/CCITT table (polynomial 0x1021, most significant bit first). */
const TABLE: Uint16Array = (() => {
  const table = new Uint16Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n << 8;
    for (let bit = 0; bit < 8; bit++) {
      c = c & 0x8000 ? (c << 1) ^ 0x1021 : c << 1;
    }
    table[n] = c;
  }
  return table;
})();

/**
 * twemproxy 0.5.0's `crc16`: a CRC-16/CCITT (XMODEM) table walk whose running value is kept in
 * 32 bits and never masked back to 16, so the result is usually larger than 0xffff.
 *
 * This is what nutcracker 0.5.0 (and its `test_all.c` vector) computes. Later twemproxy sources
 * replaced it with a 16-bit CRC-16/ARC; keys hashed with that newer build land elsewhere.
 *
 * @example
 * ```ts
 * import { crc16 } from "./crc16.ts";
 * console.log(crc16(new TextEncoder().encode("apple"))); // 3662830516
 * ```
 */
export function crc16(key: Uint8Array, start = 0, end = key.length): number {
  let crc = 0;
  for (let i = start; i < end; i++) {
    crc = (crc << 8) ^ TABLE[((crc >>> 8) ^ key[i]) & 0xff];
  }
  return crc >>> 0;
}
