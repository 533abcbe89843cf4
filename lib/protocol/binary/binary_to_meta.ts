/**
 * The translation of binary-protocol requests into meta commands for the servers, and of the
 * servers' meta replies back into binary responses. Servers only ever speak text and meta: the
 * meta commands return what binary responses carry (flags `f`, cas `c`), compare cas (`C`),
 * take modes (`M`) and create counters (`N`, `J`).
 *
 * @module
 */

import { Command, type CommandCode } from "../text/command.ts";
import type { TextRequest } from "../text/text_request.ts";
import { buildMetaRequest } from "../meta/meta_request.ts";
import { metaKeyWords } from "../meta/meta_key.ts";
import { binaryResponse, errorResponse } from "./binary_responses.ts";
import { isQuiet, loudOpcode, Opcode, Status } from "./opcodes.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const EMPTY = new Uint8Array(0);
const word = (text: string) => encoder.encode(text);
const MG = word("mg");
const MS = word("ms");
const MD = word("md");
const MA = word("ma");
const V = word("v");
const F = word("f");
const C = word("c");
const MODE_ADD = word("ME");
const MODE_REPLACE = word("MR");
const MODE_APPEND = word("MA");
const MODE_PREPEND = word("MP");
const MODE_INCR = word("MI");
const MODE_DECR = word("MD");
const FLUSH_ALL = word("flush_all");
const NO_AUTOVIVIFY = 0xffffffff;
const LF = 0x0a;
const SPACE = 0x20;

/** One binary request, parsed: views into a copy the request owns. */
export interface BinaryRequest {
  /** The opcode. */
  opcode: number;
  /** The 4 opaque bytes, echoed in the response. */
  opaque: Uint8Array;
  /** The cas the client gave; 0 for none. */
  cas: bigint;
  /** The extras. */
  extras: Uint8Array;
  /** The key. */
  key: Uint8Array;
  /** The value. */
  value: Uint8Array;
}

/** A meta reply's code, the flags binary responses need, and its data. */
interface MetaReply {
  /** The first two bytes, such as `VA`, `HD`, `EN`, `NS`; or the start of an error line. */
  code: string;
  /** `f`, the client flags. */
  flags: number;
  /** `c`, the cas unique. */
  cas: bigint;
  /** The value of a `VA` reply, without its `\r\n`; the whole line of an error. */
  data: Uint8Array;
}

/** The unsigned decimal `buf[start..end)`; exact past 2^53, where a cas unique may go. */
function decimal(buf: Uint8Array, start: number, end: number): bigint {
  let small = 0;
  let i = start;
  for (; i < end && i - start < 15; i++) small = small * 10 + buf[i] - 0x30;
  let value = BigInt(small);
  for (; i < end; i++) value = value * 10n + BigInt(buf[i] - 0x30);
  return value;
}

function parseMetaReply(reply: Uint8Array): MetaReply {
  let lf = 0;
  while (lf < reply.length && reply[lf] !== LF) lf++;
  const code = String.fromCharCode(reply[0], reply[1]);
  let flags = 0;
  let cas = 0n;
  let i = 2;
  let size = -1;
  if (code === "VA") {
    i = 3;
    size = 0;
    for (; i < lf && reply[i] >= 0x30 && reply[i] <= 0x39; i++) size = size * 10 + reply[i] - 0x30;
  } else if (reply[2] !== SPACE && reply[2] !== 0x0d) {
    return { code, flags, cas, data: reply.subarray(0, lf > 0 ? lf - 1 : 0) };
  }
  while (i < lf) {
    while (i < lf && reply[i] === SPACE) i++;
    const flag = reply[i];
    const start = ++i;
    while (i < lf && reply[i] !== SPACE && reply[i] !== 0x0d) i++;
    if (flag === 0x66) flags = Number(decimal(reply, start, i)) >>> 0;
    else if (flag === 0x63) cas = decimal(reply, start, i);
  }
  const data = size >= 0 ? reply.subarray(lf + 1, lf + 1 + size) : EMPTY;
  return { code, flags, cas, data };
}

/** The status a failed meta reply stands for, given the binary opcode that asked. */
function failureStatus(opcode: number, reply: MetaReply): number {
  switch (reply.code) {
    case "EN":
    case "NF":
      return Status.KeyNotFound;
    case "EX":
      return Status.KeyExists;
    case "NS":
      if (opcode === Opcode.Add) return Status.KeyExists;
      if (opcode === Opcode.Replace) return Status.KeyNotFound;
      return Status.NotStored;
  }
  const line = decoder.decode(reply.data);
  if (line.includes("non-numeric")) return Status.NonNumeric;
  if (line.includes("too large")) return Status.TooLarge;
  if (line.includes("out of memory")) return Status.OutOfMemory;
  if (line.startsWith("CLIENT_ERROR")) return Status.InvalidArguments;
  return Status.InternalError;
}

/** A counter's decimal value as the 8 big-endian bytes an incr response carries. */
function counterValue(digits: Uint8Array): Uint8Array {
  const out = new Uint8Array(8);
  const text = decoder.decode(digits).trim();
  new DataView(out.buffer).setBigUint64(0, BigInt(text || "0"));
  return out;
}

/**
 * What turns the meta reply to `request` into its binary response, quiet rules applied: a
 * quiet get drops a miss, another quiet command drops a success.
 */
function responder(request: BinaryRequest): (reply: Uint8Array) => Uint8Array {
  const { opcode, opaque, key } = request;
  const loud = loudOpcode(opcode);
  const quiet = isQuiet(opcode);
  const isGet = loud === Opcode.Get || loud === Opcode.GetK || loud === Opcode.Gat ||
    loud === Opcode.GatK || loud === Opcode.Touch;
  const withKey = loud === Opcode.GetK || loud === Opcode.GatK;
  return (bytes) => {
    const reply = parseMetaReply(bytes);
    if (reply.code === "VA" || reply.code === "HD" || reply.code === "OK") {
      if (quiet && !isGet) return EMPTY;
      if (isGet) {
        return binaryResponse(opcode, opaque, {
          cas: reply.cas,
          flags: reply.flags,
          key: withKey ? key : undefined,
          value: loud === Opcode.Touch ? undefined : reply.data,
        });
      }
      if (loud === Opcode.Increment || loud === Opcode.Decrement) {
        return binaryResponse(opcode, opaque, { cas: reply.cas, value: counterValue(reply.data) });
      }
      return binaryResponse(opcode, opaque, { cas: reply.cas });
    }
    const status = failureStatus(loud, reply);
    if (status === Status.KeyNotFound && isGet) {
      if (quiet) return EMPTY;
      if (withKey) return binaryResponse(opcode, opaque, { status, key });
    }
    return errorResponse(opcode, opaque, status);
  };
}

function metaRequest(
  command: CommandCode,
  request: BinaryRequest,
  words: Uint8Array[],
  data: Uint8Array,
): TextRequest {
  return buildMetaRequest(command, words, data, request.key, responder(request));
}

const CRLF = encoder.encode("\r\n");

/** The value with `\r\n` after it, as a meta data block. */
function dataBlock(value: Uint8Array): Uint8Array {
  const out = new Uint8Array(value.length + 2);
  out.set(value);
  out.set(CRLF, value.length);
  return out;
}

/**
 * The meta request for a keyed binary request, or for `Flush` a `flush_all`, with a `toClient`
 * that makes its binary response. The request's arguments must have been checked.
 *
 * @example
 * ```ts
 * import { binaryToMeta } from "./binary_to_meta.ts";
 * const key = new TextEncoder().encode("k");
 * const request = binaryToMeta({
 *   opcode: 0x00, opaque: new Uint8Array(4), cas: 0n,
 *   extras: new Uint8Array(0), key, value: new Uint8Array(0),
 * });
 * console.log(new TextDecoder().decode(request.raw)); // "mg k v f c\r\n"
 * ```
 */
export function binaryToMeta(request: BinaryRequest): TextRequest {
  const { extras, value } = request;
  const view = new DataView(extras.buffer, extras.byteOffset, extras.length);
  const loud = loudOpcode(request.opcode);
  const key = metaKeyWords(request.key);
  const casWords = request.cas === 0n ? [] : [word(`C${request.cas}`)];
  switch (loud) {
    case Opcode.Get:
    case Opcode.GetK:
      return metaRequest(Command.MetaGet, request, [MG, ...key, V, F, C], EMPTY);
    case Opcode.Gat:
    case Opcode.GatK:
    case Opcode.Touch: {
      const ttl = word(`T${view.getUint32(0)}`);
      const words = loud === Opcode.Touch ? [MG, ...key, F, C, ttl] : [MG, ...key, V, F, C, ttl];
      return metaRequest(Command.MetaGet, request, words, EMPTY);
    }
    case Opcode.Set:
    case Opcode.Add:
    case Opcode.Replace: {
      const words = [MS, key[0], word(String(value.length)), ...key.slice(1)];
      words.push(word(`F${view.getUint32(0)}`), word(`T${view.getUint32(4)}`), C);
      // As memcached does, a cas makes any of them a compare-and-swap: stored only over that
      // cas, "not found" without the key.
      if (request.cas !== 0n) words.push(...casWords);
      else if (loud === Opcode.Add) words.push(MODE_ADD);
      else if (loud === Opcode.Replace) words.push(MODE_REPLACE);
      return metaRequest(Command.MetaSet, request, words, dataBlock(value));
    }
    case Opcode.Append:
    case Opcode.Prepend: {
      const mode = loud === Opcode.Append ? MODE_APPEND : MODE_PREPEND;
      const words = [MS, key[0], word(String(value.length)), ...key.slice(1), mode, C, ...casWords];
      return metaRequest(Command.MetaSet, request, words, dataBlock(value));
    }
    case Opcode.Delete:
      return metaRequest(Command.MetaDelete, request, [MD, ...key, ...casWords], EMPTY);
    case Opcode.Increment:
    case Opcode.Decrement: {
      const words = [MA, ...key, loud === Opcode.Increment ? MODE_INCR : MODE_DECR];
      words.push(word(`D${view.getBigUint64(0)}`));
      const expiration = view.getUint32(16);
      if (expiration !== NO_AUTOVIVIFY) {
        words.push(word(`N${expiration}`), word(`J${view.getBigUint64(8)}`));
      }
      words.push(V, C, ...casWords);
      return metaRequest(Command.MetaArithmetic, request, words, EMPTY);
    }
    default: { // Flush
      const words = extras.length === 4
        ? [FLUSH_ALL, word(String(view.getUint32(0)))]
        : [FLUSH_ALL];
      return buildMetaRequest(Command.FlushAll, words, EMPTY, null, responder(request));
    }
  }
}
