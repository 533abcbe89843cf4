import type { ByteSlab } from "../byte_slab.ts";
import { isPlainKey, metaKeyWords } from "../meta/meta_key.ts";
import type { TextRequest } from "./text_request.ts";

const SPACE = 0x20;
const CRLF = new TextEncoder().encode("\r\n");
const SET = new TextEncoder().encode("set");
const DELETE = new TextEncoder().encode("delete");
const MD = new TextEncoder().encode("md");

/**
 * Joins words with single spaces, ends them with `\r\n`, and appends `data` if given. The bytes
 * are carved from `slab` when one is given, else they get a buffer of their own.
 */
export function buildLine(words: Uint8Array[], data?: Uint8Array, slab?: ByteSlab): Uint8Array {
  let length = 2 + (data?.length ?? 0) + words.length - 1;
  for (const w of words) length += w.length;
  const out = slab === undefined ? new Uint8Array(length) : slab.alloc(length);
  let offset = 0;
  for (let i = 0; i < words.length; i++) {
    if (i > 0) out[offset++] = SPACE;
    out.set(words[i], offset);
    offset += words[i].length;
  }
  out.set(CRLF, offset);
  if (data) out.set(data, offset + 2);
  return out;
}

/**
 * The bytes to send a server for `request`: the request as received, or rebuilt without its
 * `noreply`, since the proxy always needs the server's reply.
 */
export function forwardBytes(request: TextRequest): Uint8Array {
  if (!request.noreply) return request.raw;
  return buildLine(request.tokens.slice(0, -1), request.data);
}

/**
 * A plain `set` carrying the value, flags and exptime of storage request `request`: what a
 * backup receives once its primary has stored an `add`, `replace` or `cas`.
 */
export function setBytes(request: TextRequest): Uint8Array {
  const t = request.tokens;
  return buildLine([SET, t[1], t[2], t[3], t[4]], request.data);
}

/**
 * `delete <key>`; for a key that is not plain, `md <base64> b`, which answers `HD` or `NF`
 * where `delete` answers `DELETED` or `NOT_FOUND`.
 */
export function deleteBytes(key: Uint8Array): Uint8Array {
  return buildLine(isPlainKey(key) ? [DELETE, key] : [MD, ...metaKeyWords(key)]);
}
