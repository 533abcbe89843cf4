/**
 * Meta commands (`mg`, `ms`, `md`, `ma`, `me`) as routable {@linkcode TextRequest}s: their flags,
 * the key they place by, and the quiet mode, which the proxy applies itself so that servers
 * always answer once per request.
 *
 * @module
 */

import { Command, type CommandCode } from "../text/command.ts";
import { buildLine } from "../text/request_lines.ts";
import { TextRequest } from "../text/text_request.ts";
import { decodeBase64Key } from "./meta_key.ts";

const EMPTY = new Uint8Array(0);

/** The `toClient` of a request the proxy makes on its own: the client gets nothing. */
export const SILENT = (_reply: Uint8Array): Uint8Array => EMPTY;
const E = 0x45;
const N = 0x4e;
const H = 0x48;
const D = 0x44;
const V = 0x56;
const A = 0x41;
/** The flag byte of the quiet mode. */
const Q = 0x71;
/** The flag byte of a base64 key. */
const B = 0x62;

/** The index of the first flag token of a meta request: after the data length for `ms`. */
export function firstFlag(command: CommandCode): number {
  return command === Command.MetaSet ? 3 : 2;
}

/**
 * The token of the first flag `flag` (a byte such as `0x54` for `T`) of a meta request, flag
 * letter included, or null when the request has none.
 */
export function metaFlag(request: TextRequest, flag: number): Uint8Array | null {
  const tokens = request.tokens;
  for (let t = firstFlag(request.command); t < tokens.length; t++) {
    if (tokens[t][0] === flag) return tokens[t];
  }
  return null;
}

/** True when a meta request's key is base64 (a flag token that is `b` alone). */
export function hasBase64Key(request: TextRequest): boolean {
  const tokens = request.tokens;
  for (let t = firstFlag(request.command); t < tokens.length; t++) {
    if (tokens[t].length === 1 && tokens[t][0] === B) return true;
  }
  return false;
}

/**
 * What memcached's quiet mode leaves of a reply to `command`: nothing for the replies it
 * suppresses (a miss for `mg`; success for `ms`, `md` and `ma`), the reply otherwise.
 */
export function quietReply(command: CommandCode, reply: Uint8Array): Uint8Array {
  const a = reply[0];
  const b = reply[1];
  switch (command) {
    case Command.MetaGet:
      return a === E && b === N ? EMPTY : reply;
    case Command.MetaArithmetic:
      return (a === H && b === D) || (a === V && b === A) ? EMPTY : reply;
    default:
      return a === H && b === D ? EMPTY : reply;
  }
}

const QUIET_FILTERS = new Map<CommandCode, (reply: Uint8Array) => Uint8Array>();
for (const code of [Command.MetaGet, Command.MetaSet, Command.MetaDelete, Command.MetaArithmetic]) {
  QUIET_FILTERS.set(code, (reply) => quietReply(code, reply));
}

/**
 * A meta request from the words of its command line and its data block. The quiet flag `q`
 * (when given once) is taken off what servers get and applied to the reply instead; a base64
 * key is decoded for placement.
 *
 * @param command The meta command's code.
 * @param raw The request's bytes as the client sent them, line and data block.
 * @param tokens The line's words as views into `raw`, the command first.
 * @param dataStart Where the data block starts in `raw`.
 */
export function metaRequest(
  command: CommandCode,
  raw: Uint8Array,
  tokens: Uint8Array[],
  dataStart: number,
): TextRequest {
  const first = firstFlag(command);
  let quiet = -1;
  let quietCount = 0;
  let base64 = false;
  for (let t = first; t < tokens.length; t++) {
    const flag = tokens[t][0];
    if (flag === Q) {
      quiet = t;
      quietCount++;
    } else if (flag === B && tokens[t].length === 1) {
      base64 = true;
    }
  }
  const key = (base64 ? decodeBase64Key(tokens[1]) : null) ?? tokens[1];
  // A q given twice is an error the server reports; it is left for the server to see.
  if (quietCount !== 1) return new TextRequest(command, raw, tokens, [key], false, dataStart);
  const words = tokens.filter((_, t) => t !== quiet);
  return buildMetaRequest(
    command,
    words,
    raw.subarray(dataStart),
    key,
    QUIET_FILTERS.get(command) ?? null,
  );
}

/**
 * A request built by the proxy (a meta command, or a `flush_all` for a binary client): `words`
 * joined into a line, then `data` (with its `\r\n`) when the command carries a data block.
 *
 * @param command The command's code.
 * @param words The line's words, the command first and the key, if any, second.
 * @param data The data block with its `\r\n`, or an empty array.
 * @param key The key to place the request by (the decoded key when `words[1]` is base64), or
 *   null for a command without one.
 * @param toClient What turns the server's reply into the client's, if anything.
 */
export function buildMetaRequest(
  command: CommandCode,
  words: Uint8Array[],
  data: Uint8Array,
  key: Uint8Array | null,
  toClient: ((reply: Uint8Array) => Uint8Array) | null,
): TextRequest {
  const raw = buildLine(words, data);
  const tokens = new Array<Uint8Array>(words.length);
  let offset = 0;
  for (let t = 0; t < words.length; t++) {
    tokens[t] = raw.subarray(offset, offset + words[t].length);
    offset += words[t].length + 1;
  }
  const dataStart = raw.length - data.length;
  const keys = key === null ? [] : [key === words[1] ? tokens[1] : key];
  return new TextRequest(command, raw, tokens, keys, false, dataStart, toClient);
}
