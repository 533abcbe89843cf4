/**
 * Framing of memcached's text replies, server side: where one reply ends, and where the `VALUE`
 * blocks of a retrieval reply lie. It never copies and never scans past the valid bytes.
 *
 * @module
 */

import { rangesEqual } from "../bytes.ts";

/** The shape of reply a request expects. */
export const ReplyKind = {
  /** One line: `STORED`, `DELETED`, a number, `OK`, an error… */
  Line: 0,
  /** `VALUE` blocks ended by `END`, or a single error line. */
  Retrieval: 1,
  /** A meta reply: `VA <size> <flags>*` and its data block, or one line (`EN`, `HD`…). */
  Meta: 2,
  /** `STAT` lines ended by `END` (the reply to `stats`), or a single error line. */
  Stats: 3,
  /**
   * As {@linkcode ReplyKind.Retrieval}, for a retrieval line that a backend connection may join
   * with the ones next to it when it is a `get` or `gets` (`lib/protocol/text/joined_gets.ts`).
   */
  Get: 4,
} as const;

/** One of the values of {@linkcode ReplyKind}. */
export type ReplyKindCode = typeof ReplyKind[keyof typeof ReplyKind];

const CR = 0x0d;
const LF = 0x0a;
const SPACE = 0x20;
const V = 0x56; // 'V' of VALUE
const E = 0x45; // 'E' of END
const N = 0x4e; // 'N' of END
const S = 0x53; // 'S' of STAT
const A = 0x41; // 'A' of VA

/** The index of the first `\n` in `buf[from..end)`, or -1. */
export function findLf(buf: Uint8Array, from: number, end: number): number {
  for (let i = from; i < end; i++) {
    if (buf[i] === LF) return i;
  }
  return -1;
}

/**
 * Where the fields of a `VALUE <key> <flags> <bytes>[ <cas>]\r\n` line lie; see
 * {@linkcode readValueLine}.
 */
export class ValueLine {
  /** Where the key starts. */
  keyStart = 0;
  /** Where the key ends. */
  keyEnd = 0;
  /** The data block's length, from `<bytes>`. */
  length = 0;
  /** How many digits `<bytes>` has: 0 for a line that is not a valid `VALUE` line. */
  digits = 0;
}

/**
 * Reads the `VALUE` line at `pos` in one pass (runs of spaces included, as `blockEnd` reads a
 * complete one), never past `end` or the line's LF: fills in `value`, and returns the index of
 * the line's LF, or -1 when it is not in `buf[..end)` yet.
 */
export function readValueLine(buf: Uint8Array, pos: number, end: number, value: ValueLine): number {
  let i = pos;
  while (i < end && buf[i] !== SPACE && buf[i] !== LF) i++;
  while (i < end && buf[i] === SPACE) i++;
  value.keyStart = i;
  while (i < end && buf[i] !== SPACE && buf[i] !== LF) i++;
  value.keyEnd = i;
  while (i < end && buf[i] === SPACE) i++;
  while (i < end && buf[i] !== SPACE && buf[i] !== LF) i++;
  while (i < end && buf[i] === SPACE) i++;
  let length = 0;
  let digits = 0;
  for (; i < end; i++, digits++) {
    const digit = buf[i] - 0x30;
    if (digit < 0 || digit > 9) break;
    length = length * 10 + digit;
  }
  value.length = length;
  value.digits = digits;
  // Without a cas the line ends here; with one, at the next LF.
  return buf[i] === CR && i + 1 < end && buf[i + 1] === LF ? i + 1 : findLf(buf, i, end);
}

/**
 * Finds reply boundaries in a stream of replies. Keeps where it stopped inside a long retrieval
 * reply, so bytes that arrive in many reads are scanned once.
 *
 * @example
 * ```ts
 * import { ReplyKind, TextResponseFramer } from "./response_parser.ts";
 * const bytes = new TextEncoder().encode("VALUE a 0 2\r\nhi\r\nEND\r\nSTORED\r\n");
 * const framer = new TextResponseFramer();
 * const first = framer.frame(bytes, 0, bytes.length, ReplyKind.Retrieval);
 * console.log(first, framer.frame(bytes, first, bytes.length, ReplyKind.Line)); // 22 30
 * ```
 */
export class TextResponseFramer {
  /** Offset, from the reply's start, of the first `VALUE` line not yet framed. */
  #resume = 0;
  /** The fields of the `VALUE` line being read. */
  readonly #value = new ValueLine();

  /**
   * The index just past the reply that starts at `start`, or -1 when `buf[start..end)` does not
   * hold all of it yet. Throws a `TypeError` when the bytes are not a memcached reply.
   */
  frame(buf: Uint8Array, start: number, end: number, kind: ReplyKindCode): number {
    if (kind === ReplyKind.Line) {
      const lf = findLf(buf, start, end);
      if (lf < 0) return -1;
      if (!isReplyLine(buf, start, lf)) {
        throw new TypeError("a reply line that is not one memcached sends");
      }
      return lf + 1;
    }
    if (kind === ReplyKind.Meta) return frameMeta(buf, start, end);
    if (kind === ReplyKind.Stats) return this.#frameStats(buf, start, end);
    let pos = start + this.#resume;
    const value = this.#value;
    while (pos < end) {
      const lf = buf[pos] === V ? readValueLine(buf, pos, end, value) : findLf(buf, pos, end);
      if (lf < 0) {
        this.#resume = pos - start;
        return -1;
      }
      if (buf[pos] !== V || lf - pos < 6) {
        // END, or an error line in place of the reply: either way, the reply ends here.
        if (buf[pos] !== E && pos !== start) {
          throw new TypeError("a retrieval reply holds a line that is neither VALUE nor END");
        }
        this.#resume = 0;
        return lf + 1;
      }
      if (value.digits === 0) throw new TypeError("a VALUE line without a valid length");
      const next = lf + 1 + value.length + 2;
      if (next > end) {
        this.#resume = pos - start;
        return -1;
      }
      pos = next;
    }
    this.#resume = pos - start;
    return -1;
  }

  #frameStats(buf: Uint8Array, start: number, end: number): number {
    let pos = start + this.#resume;
    while (pos < end) {
      const lf = findLf(buf, pos, end);
      if (lf < 0) break;
      if (buf[pos] !== S || lf - pos < 5) {
        if (buf[pos] !== E && pos !== start) {
          throw new TypeError("a stats reply holds a line that is neither STAT nor END");
        }
        this.#resume = 0;
        return lf + 1;
      }
      pos = lf + 1;
    }
    this.#resume = pos - start;
    return -1;
  }

  /** Forgets a partly framed reply, after the connection it came from is gone. */
  reset(): void {
    this.#resume = 0;
  }
}

const encoder = new TextEncoder();
/** The words a one-line memcached reply starts with, by first byte. */
const REPLY_WORDS: Uint8Array[][] = Array.from({ length: 256 }, () => []);
for (
  const word of [
    "STORED\r",
    "NOT_STORED\r",
    "EXISTS\r",
    "NOT_FOUND\r",
    "DELETED\r",
    "TOUCHED\r",
    "OK\r",
    "VERSION ",
    "ERROR",
    "CLIENT_ERROR ",
    "SERVER_ERROR ",
  ]
) {
  const bytes = encoder.encode(word);
  REPLY_WORDS[bytes[0]].push(bytes);
}

/**
 * True when `buf[start..lf)` is a line memcached sends alone: a known word, or a number (the
 * result of `incr`/`decr`). Anything else means the peer is not a memcached server, or the
 * stream is out of step.
 */
function isReplyLine(buf: Uint8Array, start: number, lf: number): boolean {
  const first = buf[start];
  if (first >= 0x30 && first <= 0x39) return true;
  const words = REPLY_WORDS[first];
  outer: for (let w = 0; w < words.length; w++) {
    const word = words[w];
    if (lf - start < word.length) continue;
    for (let i = 1; i < word.length; i++) {
      if (buf[start + i] !== word[i]) continue outer;
    }
    return true;
  }
  return false;
}

/** Frames a meta reply: a `VA <size> …` line and its data, or a line of two capitals or an error. */
function frameMeta(buf: Uint8Array, start: number, end: number): number {
  const lf = findLf(buf, start, end);
  if (lf < 0) return -1;
  if (buf[start] === V && buf[start + 1] === A && buf[start + 2] === SPACE) {
    let size = 0;
    let i = start + 3;
    for (; i < lf && buf[i] >= 0x30 && buf[i] <= 0x39; i++) size = size * 10 + buf[i] - 0x30;
    if (i === start + 3) throw new TypeError("a VA line without a valid size");
    const next = lf + 1 + size + 2;
    return next > end ? -1 : next;
  }
  const isCode = lf - start >= 3 && buf[start] >= A && buf[start] <= 0x5a &&
    buf[start + 1] >= A && buf[start + 1] <= 0x5a &&
    (buf[start + 2] === SPACE || buf[start + 2] === CR);
  if (!isCode && !isReplyLine(buf, start, lf)) {
    throw new TypeError("a meta reply line that is not one memcached sends");
  }
  return lf + 1;
}

/** Where one `VALUE` block lies in a retrieval reply. */
export interface ValueBlock {
  /** The key, a view into the reply. */
  key: Uint8Array;
  /** The block, `VALUE` line to the data's `\r\n`, a view into the reply. */
  block: Uint8Array;
}

/**
 * The `VALUE` blocks of a complete retrieval reply, in order. An error reply has none.
 *
 * @example
 * ```ts
 * import { valueBlocks } from "./response_parser.ts";
 * const reply = new TextEncoder().encode("VALUE a 0 2\r\nhi\r\nEND\r\n");
 * console.log(new TextDecoder().decode(valueBlocks(reply)[0].key)); // "a"
 * ```
 */
export function valueBlocks(reply: Uint8Array): ValueBlock[] {
  const blocks: ValueBlock[] = [];
  let pos = 0;
  while (pos < reply.length && reply[pos] === V) {
    let keyStart = pos + 5; // past VALUE, then its spaces
    while (keyStart < reply.length && reply[keyStart] === SPACE) keyStart++;
    let keyEnd = keyStart;
    while (keyEnd < reply.length && reply[keyEnd] !== SPACE) keyEnd++;
    const next = blockEnd(reply, keyEnd);
    blocks.push({ key: reply.subarray(keyStart, keyEnd), block: reply.subarray(pos, next) });
    pos = next;
  }
  return blocks;
}

/**
 * Where keys' `VALUE` blocks were found, by key index: the reply holding each (undefined for a
 * key not found) and the block's bounds in it. Bounds, not views, so that filing a block costs
 * no allocation; runs of adjacent blocks are cut out together when the answer is put together.
 */
export interface FoundBlocks {
  replies: (Uint8Array | undefined)[];
  starts: number[];
  ends: number[];
}

/**
 * Keys read where they lie, with no view each: key `i` is `keySource(i)[keyStart(i)..keyEnd(i))`.
 * A parsed `TextRequest` is one.
 */
export interface KeyRanges {
  keySource(i: number): Uint8Array;
  keyStart(i: number): number;
  keyEnd(i: number): number;
}

/**
 * Files the `VALUE` blocks of a complete retrieval reply under the keys they answer. The reply
 * answers keys `indexes[0]`, `indexes[1]`… of `keys` in that order, leaving out the misses; block
 * `VALUE <key> …` to the data's `\r\n` is filed for the index `i` of its key as
 * `found.replies[i] = reply`, `found.starts[i]` and `found.ends[i]`. Keys are compared in place.
 *
 * @example
 * ```ts
 * import { type FoundBlocks, fileValueBlocks } from "./response_parser.ts";
 * import { TextRequestParser } from "./request_parser.ts";
 * import type { TextRequest } from "./text_request.ts";
 * const encoder = new TextEncoder();
 * const [get] = new TextRequestParser().push(encoder.encode("get a b\r\n"));
 * const reply = encoder.encode("VALUE b 0 2\r\nhi\r\nEND\r\n");
 * const found: FoundBlocks = { replies: [], starts: [], ends: [] };
 * fileValueBlocks(reply, get as TextRequest, [0, 1], found);
 * console.log(found.replies[0], found.starts[1], found.ends[1]); // undefined 0 17
 * ```
 */
export function fileValueBlocks(
  reply: Uint8Array,
  keys: KeyRanges,
  indexes: readonly number[],
  found: FoundBlocks,
): void {
  let pos = 0;
  let next = 0;
  while (pos < reply.length && reply[pos] === V && next < indexes.length) {
    let keyStart = pos + 5; // past VALUE, then its spaces
    while (keyStart < reply.length && reply[keyStart] === SPACE) keyStart++;
    // The key is matched against the keys asked for, in order: a miss is left out of the reply.
    // Each is compared where it would lie, followed by a space, without first finding the end
    // of the key in the reply.
    let keyEnd = -1;
    while (next < indexes.length) {
      const k = indexes[next];
      const start = keys.keyStart(k);
      const end = keyStart + keys.keyEnd(k) - start;
      if (
        reply[end] === SPACE &&
        rangesEqual(keys.keySource(k), start, keys.keyEnd(k), reply, keyStart, end)
      ) {
        keyEnd = end;
        break;
      }
      next++;
    }
    if (keyEnd < 0) return;
    const end = blockEnd(reply, keyEnd);
    const k = indexes[next++];
    found.replies[k] = reply;
    found.starts[k] = pos;
    found.ends[k] = end;
    pos = end;
  }
}

/**
 * Where the `VALUE` block whose key ends at `keyEnd` ends, in one pass over the rest of its line
 * (`<flags> <bytes>[ <cas>]\r\n`): past the data and its `\r\n`. It reads the fields as the
 * framer does, runs of spaces included, so the two agree on any reply the framer let through.
 */
function blockEnd(reply: Uint8Array, keyEnd: number): number {
  const end = reply.length;
  let i = keyEnd;
  while (i < end && reply[i] === SPACE) i++;
  while (i < end && reply[i] !== SPACE) i++;
  while (i < end && reply[i] === SPACE) i++;
  let size = 0;
  for (; i < end; i++) {
    const digit = reply[i] - 0x30;
    if (digit < 0 || digit > 9) break;
    size = size * 10 + digit;
  }
  // Without a cas the line ends here; with one, at the next LF.
  const lf = reply[i] === CR && reply[i + 1] === LF ? i + 1 : findLf(reply, i, end);
  return lf + 1 + size + 2;
}

/** How many `VALUE` blocks a complete retrieval reply holds, found without allocating. */
export function valueCount(reply: Uint8Array): number {
  let count = 0;
  let pos = 0;
  while (pos < reply.length && reply[pos] === V) {
    let keyEnd = pos + 5; // past VALUE, then its spaces and the key
    while (keyEnd < reply.length && reply[keyEnd] === SPACE) keyEnd++;
    while (keyEnd < reply.length && reply[keyEnd] !== SPACE) keyEnd++;
    pos = blockEnd(reply, keyEnd);
    count++;
  }
  return count;
}

/**
 * True when a retrieval reply is an error line (`ERROR`, `CLIENT_ERROR …`, `SERVER_ERROR …`)
 * rather than values and `END`. A server that does not know the command (a `gat` sent to a
 * memcached before 1.5.3) answers `ERROR`, which must not pass for a miss.
 */
export function isErrorReply(reply: Uint8Array): boolean {
  return reply[0] !== V && !(reply[0] === E && reply[1] === N);
}
