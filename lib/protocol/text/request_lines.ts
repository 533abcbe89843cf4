import type { ByteSlab } from "../byte_slab.ts";
import { copyBytes } from "../bytes.ts";
import { isPlainKey, metaKeyWords } from "../meta/meta_key.ts";
import { commandWord, isTouchRetrieval } from "./command.ts";
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
 * The retrieval `request` (`get`, `gets`, `gat` or `gats`) for its keys `keyIndexes` only, in that
 * order: what one server is asked for its share of a multi-key get. The keys are copied from
 * where they lie in the request, without a view each. The bytes are carved from `slab` when one
 * is given.
 *
 * @example
 * ```ts
 * import { retrievalLine } from "./request_lines.ts";
 * import { TextRequestParser } from "./request_parser.ts";
 * import type { TextRequest } from "./text_request.ts";
 * const [get] = new TextRequestParser().push(new TextEncoder().encode("gat 60 a b c\r\n"));
 * const line = retrievalLine(get as TextRequest, [2, 0]);
 * console.log(new TextDecoder().decode(line)); // "gat 60 c a\r\n"
 * ```
 */
export function retrievalLine(
  request: TextRequest,
  keyIndexes: readonly number[],
  slab?: ByteSlab,
): Uint8Array {
  const command = commandWord(request.command);
  const exptime = isTouchRetrieval(request.command) ? request.tokens[1] : null;
  let length = command.length + (exptime === null ? 0 : 1 + exptime.length) + 2;
  for (const k of keyIndexes) length += 1 + request.keyEnd(k) - request.keyStart(k);
  const out = slab === undefined ? new Uint8Array(length) : slab.alloc(length);
  let offset = copyBytes(out, 0, command, 0, command.length);
  if (exptime !== null) {
    out[offset++] = SPACE;
    offset = copyBytes(out, offset, exptime, 0, exptime.length);
  }
  // Keys are copied in this loop rather than through copyBytes: it runs once per key of every
  // multi-get, and the call took a third of its time (40–45 against 28–30 ns per key).
  for (const k of keyIndexes) {
    out[offset++] = SPACE;
    const source = request.keySource(k);
    const end = request.keyEnd(k);
    for (let i = request.keyStart(k); i < end; i++) out[offset++] = source[i];
  }
  out[offset] = CRLF[0];
  out[offset + 1] = CRLF[1];
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
