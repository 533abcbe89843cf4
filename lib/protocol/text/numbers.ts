/**
 * Decimal number checks on bytes, as strict as memcached's `safe_strto*` or stricter, so that
 * nothing the proxy forwards is refused by a server.
 *
 * @module
 */

const ZERO = 0x30;
const NINE = 0x39;
const MINUS = 0x2d;
const UINT64_MAX = new TextEncoder().encode("18446744073709551615");

/**
 * The value of the unsigned decimal `buf[start..end)`, or -1 when it is not one or exceeds `max`
 * (at most 2^53 - 1).
 */
export function parseUnsigned(buf: Uint8Array, start: number, end: number, max: number): number {
  if (end <= start || end - start > 16) return -1;
  let value = 0;
  for (let i = start; i < end; i++) {
    const c = buf[i];
    if (c < ZERO || c > NINE) return -1;
    value = value * 10 + (c - ZERO);
  }
  return value > max ? -1 : value;
}

/**
 * True when `buf[start..end)` is a decimal that fits a signed 32-bit integer, as memcached
 * requires of an exptime.
 */
export function isInt32(buf: Uint8Array, start: number, end: number): boolean {
  const negative = end > start && buf[start] === MINUS;
  const value = parseUnsigned(buf, negative ? start + 1 : start, end, 0x80000000);
  return value >= 0 && (negative || value <= 0x7fffffff);
}

/** True when `buf[start..end)` is an unsigned decimal that fits 64 bits (a cas unique, a delta). */
export function isUint64(buf: Uint8Array, start: number, end: number): boolean {
  const length = end - start;
  if (length <= 0 || length > 20) return false;
  for (let i = start; i < end; i++) {
    if (buf[i] < ZERO || buf[i] > NINE) return false;
  }
  if (length < 20) return true;
  for (let i = 0; i < 20; i++) {
    const d = buf[start + i] - UINT64_MAX[i];
    if (d !== 0) return d < 0;
  }
  return true;
}
