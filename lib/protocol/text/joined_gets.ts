/**
 * Gets joined into one request line, and the reply to that line split back by request.
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

import { blockEnd } from "./response_parser.ts";

const SPACE = 0x20;
const CR = 0x0d;
const LF = 0x0a;
const V = 0x56; // 'V' of VALUE

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

/** The lines of joined requests, in the order they were joined. */
export interface JoinedLines {
  /** The `k`th request's line as it was sent alone, `get k…\r\n`. */
  lineAt(k: number): Uint8Array;
}

/**
 * Splits `reply`, the complete reply to `count` joined get lines, by request: request `k`'s
 * `VALUE` blocks are `reply[ends[k - 1]..ends[k])` (from 0 for the first), and the `END` line
 * follows the last request's. Every block's key is matched to the next key asked for that has
 * it, as memcached answers hits in the order asked and leaves out misses. Throws a `TypeError`
 * when a block answers no key that is left, which a server that keeps the order never sends.
 *
 * @example
 * ```ts
 * import { splitJoinedReply } from "./joined_gets.ts";
 * const encoder = new TextEncoder();
 * const lines = [encoder.encode("get a b\r\n"), encoder.encode("get c\r\n")];
 * const reply = encoder.encode("VALUE a 0 1\r\n1\r\nVALUE c 0 1\r\n3\r\nEND\r\n");
 * const ends = new Int32Array(2);
 * splitJoinedReply(reply, { lineAt: (k) => lines[k] }, 2, ends);
 * console.log(ends); // Int32Array(2) [ 16, 32 ]
 * ```
 */
export function splitJoinedReply(
  reply: Uint8Array,
  lines: JoinedLines,
  count: number,
  ends: Int32Array,
): void {
  let request = 0;
  let line = lines.lineAt(0);
  let at = joinableVerbLength(line);
  let lineEnd = lineBodyEnd(line);
  let pos = 0;
  while (pos < reply.length && reply[pos] === V) {
    let keyStart = pos + 5; // past VALUE, then its spaces
    while (keyStart < reply.length && reply[keyStart] === SPACE) keyStart++;
    // The keys asked for are read from the lines in turn, each as memcached reads it: a run of
    // bytes other than spaces. Each is compared where the block's key lies, in one pass: they
    // match when the reply's key ends where the word does.
    let keyEnd = -1;
    while (keyEnd < 0) {
      while (at < lineEnd && line[at] === SPACE) at++;
      if (at === lineEnd) {
        ends[request++] = pos;
        if (request === count) {
          throw new TypeError("a reply to joined gets holds a key that none of them asked for");
        }
        line = lines.lineAt(request);
        at = joinableVerbLength(line);
        lineEnd = lineBodyEnd(line);
        continue;
      }
      let i = at;
      let j = keyStart;
      while (i < lineEnd && line[i] !== SPACE && line[i] === reply[j]) {
        i++;
        j++;
      }
      if ((i === lineEnd || line[i] === SPACE) && reply[j] === SPACE) keyEnd = j;
      while (i < lineEnd && line[i] !== SPACE) i++;
      at = i;
    }
    pos = blockEnd(reply, keyEnd);
  }
  while (request < count) ends[request++] = pos;
}
