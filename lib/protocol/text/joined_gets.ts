/**
 * Gets joined into one request line, and the reply to that line framed by request.
 *
 * memcached answers each `get` command with a write of its own, even when a read brings it many:
 * over one connection, 16 pipelined gets of 5 keys cost it 2.4–2.5 µs of CPU per key, and 2
 * gets of 40 keys 1.2 µs. A proxy that has split its clients' multi-gets by server sends each
 * server many small gets in one write; joined into one line (`get a b` and `get c` as
 * `get a b c`), they cost the server one command. Its reply holds the hits in the line's order,
 * so each request's blocks are found by matching the `VALUE` lines' keys against its keys in turn.
 *
 * @module
 */

import { findLf, readValueLine, ValueLine } from "./response_parser.ts";
import type { ValueBlockIndex } from "./value_block_index.ts";

const SPACE = 0x20;
const CR = 0x0d;
const LF = 0x0a;
const V = 0x56; // 'V' of VALUE
const E = 0x45; // 'E', 'N', 'D' of END
const N = 0x4e;
const D = 0x44;

/**
 * The length of the command word of a `get` or `gets` line that can be joined with others of the
 * same command: 3 for `get k…\r\n`, 4 for `gets k…\r\n`; 0 for any other line.
 */
export function joinableVerbLength(line: Uint8Array): number {
  if (line[0] !== 0x67 || line[1] !== 0x65 || line[2] !== 0x74) return 0; // "get"
  if (line[3] === SPACE) return 3;
  return line[3] === 0x73 && line[4] === SPACE ? 4 : 0; // "gets "
}

/** Where a request line's words end: before its final `\r\n`, or its `\n`. */
export function lineBodyEnd(line: Uint8Array): number {
  const lf = line.length - 1;
  return line[lf] === LF && line[lf - 1] === CR ? lf - 1 : lf;
}

/**
 * Finds where each joined get's part of the reply to a joined line ends, one request at a time,
 * so that a part can be handed out as soon as it is in rather than when the whole reply is. A
 * part is the request's `VALUE` blocks; the last request's part also holds the `END`. Every
 * block's key is matched to the next key of the request's line that has it, as memcached answers
 * hits in the order asked and leaves out misses: a block that matches none of the request's keys
 * left is a later request's. It keeps where it stopped inside a part, so bytes that arrive in
 * many reads are scanned once. A `get` line that was not joined is framed as the first and the
 * last request of its own line, so that its blocks are indexed as well (`ValueBlockIndex`).
 *
 * @example
 * ```ts
 * import { JoinedReplyFramer } from "./joined_gets.ts";
 * const encoder = new TextEncoder();
 * const reply = encoder.encode("VALUE a 0 1\r\n1\r\nVALUE c 0 1\r\n3\r\nEND\r\n");
 * const framer = new JoinedReplyFramer();
 * const [ab, c] = [encoder.encode("get a b\r\n"), encoder.encode("get c\r\n")];
 * const first = framer.frame(reply, 0, reply.length, ab, true, false);
 * const second = framer.frame(reply, first, reply.length, c, false, true);
 * console.log(first, second); // 16 37
 * ```
 */
export class JoinedReplyFramer {
  /** Offset, from the part's start, of the first block not yet framed. */
  #resume = 0;
  /** Where the request's next key to match starts in its line; -1 before its part starts. */
  #at = -1;
  /** Which key of the line, from 0, starts at `#at`. */
  #key = 0;
  /** The fields of the `VALUE` line being read. */
  readonly #value = new ValueLine();
  /**
   * Whether the part last framed is an error line in place of the whole reply (such as
   * `SERVER_ERROR …`): it answers every request of the joined line.
   */
  error = false;

  /**
   * The index just past the part of the reply that starts at `start` and answers the request
   * whose line is `line`, or -1 when `buf[start..end)` does not hold all of it yet. `first` and
   * `last` say whether the request is the first or the last of its joined line. Each block of
   * the part is recorded in `blocks`, when given, with its bounds from `start` and the key of
   * `line` it answers. Throws a `TypeError` when the bytes are not a reply to the joined line.
   */
  frame(
    buf: Uint8Array,
    start: number,
    end: number,
    line: Uint8Array,
    first: boolean,
    last: boolean,
    blocks?: ValueBlockIndex,
  ): number {
    const lineEnd = lineBodyEnd(line);
    let at = this.#at < 0 ? joinableVerbLength(line) : this.#at;
    let key = this.#at < 0 ? 0 : this.#key;
    let pos = start + this.#resume;
    const value = this.#value;
    this.error = false;
    while (pos < end) {
      if (buf[pos] !== V) {
        const lf = findLf(buf, pos, end);
        if (lf < 0) break;
        if (buf[pos] === E && buf[pos + 1] === N && buf[pos + 2] === D) {
          return this.#done(last ? lf + 1 : pos);
        }
        if (!first || pos !== start) {
          throw new TypeError("a reply to joined gets holds a line that is neither VALUE nor END");
        }
        this.error = true;
        return this.#done(lf + 1);
      }
      const lf = readValueLine(buf, pos, end, value);
      if (lf < 0) break;
      if (value.digits === 0) throw new TypeError("a VALUE line without a valid length");
      const { keyStart, keyEnd } = value;
      // The request's keys are read from its line in turn, each as memcached reads it (a run of
      // bytes other than spaces), and compared where the block's key lies.
      let word = at;
      let wordKey = key;
      let found = false;
      while (!found) {
        while (word < lineEnd && line[word] === SPACE) word++;
        if (word === lineEnd) break;
        let x = word;
        let y = keyStart;
        while (x < lineEnd && line[x] !== SPACE && line[x] === buf[y]) {
          x++;
          y++;
        }
        found = (x === lineEnd || line[x] === SPACE) && y === keyEnd;
        while (x < lineEnd && line[x] !== SPACE) x++;
        word = x;
        wordKey++;
      }
      if (!found) {
        if (last) {
          throw new TypeError("a reply to joined gets holds a key that none of them asked for");
        }
        return this.#done(pos);
      }
      const next = lf + 1 + value.length + 2;
      if (next > end) break;
      blocks?.add(pos - start, next - start, wordKey - 1);
      pos = next;
      at = word;
      key = wordKey;
      if (!last) {
        while (at < lineEnd && line[at] === SPACE) at++;
        if (at === lineEnd) return this.#done(pos);
      }
    }
    this.#resume = pos - start;
    this.#at = at;
    this.#key = key;
    return -1;
  }

  /** Forgets a partly framed part, after the connection it came from is gone. */
  reset(): void {
    this.#resume = 0;
    this.#at = -1;
  }

  #done(partEnd: number): number {
    this.reset();
    return partEnd;
  }
}
