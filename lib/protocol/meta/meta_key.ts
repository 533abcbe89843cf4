/**
 * Keys in the meta protocol: base64 keys (the `b` flag) and the test of whether a key can be
 * written as it is on a text command line.
 *
 * @module
 */

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const PAD = 0x3d; // '='
const ENCODE = new Uint8Array(64);
const DECODE = new Int16Array(256).fill(-1);
for (let i = 0; i < 64; i++) {
  ENCODE[i] = ALPHABET.charCodeAt(i);
  DECODE[ALPHABET.charCodeAt(i)] = i;
}

/** The longest key memcached stores, in bytes. */
export const MAX_KEY_LENGTH = 250;

/**
 * The bytes a base64 key stands for, or null when it is not padded standard base64 (memcached
 * then answers `CLIENT_ERROR error decoding key`).
 *
 * @example
 * ```ts
 * import { decodeBase64Key } from "./meta_key.ts";
 * const key = decodeBase64Key(new TextEncoder().encode("azE="));
 * console.log(new TextDecoder().decode(key!)); // "k1"
 * ```
 */
export function decodeBase64Key(token: Uint8Array): Uint8Array | null {
  const length = token.length;
  if (length === 0 || length % 4 !== 0) return null;
  let pad = 0;
  if (token[length - 1] === PAD) pad = token[length - 2] === PAD ? 2 : 1;
  const out = new Uint8Array((length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < length; i += 4) {
    const last = i + 4 === length;
    const a = DECODE[token[i]];
    const b = DECODE[token[i + 1]];
    const c = last && pad === 2 ? 0 : DECODE[token[i + 2]];
    const d = last && pad >= 1 ? 0 : DECODE[token[i + 3]];
    if ((a | b | c | d) < 0) return null;
    const n = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = n >> 16;
    if (o < out.length) out[o++] = (n >> 8) & 0xff;
    if (o < out.length) out[o++] = n & 0xff;
  }
  return out;
}

/** `bytes` as padded standard base64, the form the meta `b` flag takes. */
export function encodeBase64Key(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(bytes.length / 3) * 4);
  let o = 0;
  for (let i = 0; i < bytes.length; i += 3) {
    const rest = bytes.length - i;
    const n = (bytes[i] << 16) | ((rest > 1 ? bytes[i + 1] : 0) << 8) |
      (rest > 2 ? bytes[i + 2] : 0);
    out[o++] = ENCODE[n >> 18];
    out[o++] = ENCODE[(n >> 12) & 63];
    out[o++] = rest > 1 ? ENCODE[(n >> 6) & 63] : PAD;
    out[o++] = rest > 2 ? ENCODE[n & 63] : PAD;
  }
  return out;
}

/**
 * True when `key` can go on a command line as it is: 1 to 250 bytes, none of them a space, a
 * line feed or a NUL, which end a token or a key for memcached. Every key the text protocol
 * takes is plain. Other keys (binary-protocol keys may hold any byte) travel in base64.
 */
export function isPlainKey(key: Uint8Array): boolean {
  if (key.length === 0 || key.length > MAX_KEY_LENGTH) return false;
  for (let i = 0; i < key.length; i++) {
    const b = key[i];
    if (b === 0x20 || b === 0x0a || b === 0) return false;
  }
  return true;
}

/**
 * True when `key` can be named in a meta command: plain, or short enough that its base64 is
 * at most 250 bytes (186 bytes of key). memcached refuses a longer token, and for `ms` without
 * reading its data block.
 */
export function isMetaKey(key: Uint8Array): boolean {
  return isPlainKey(key) || (key.length > 0 && Math.ceil(key.length / 3) * 4 <= MAX_KEY_LENGTH);
}

/** The meta flag that marks a key as base64. */
const BASE64_FLAG = new TextEncoder().encode("b");

/**
 * The words that name `key` on a meta command line: the key itself when it is plain, or its
 * base64 followed by the `b` flag.
 *
 * @example
 * ```ts
 * import { metaKeyWords } from "./meta_key.ts";
 * metaKeyWords(new TextEncoder().encode("a b")).length; // 2: "YSBi", "b"
 * ```
 */
export function metaKeyWords(key: Uint8Array): Uint8Array[] {
  return isPlainKey(key) ? [key] : [encodeBase64Key(key), BASE64_FLAG];
}
