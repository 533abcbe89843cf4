/**
 * The text-protocol commands memrelay understands, and a byte-level lookup from a command word
 * to its code that allocates nothing.
 *
 * @module
 */

/** Numeric codes of the text commands. */
export const Command = {
  Get: 1,
  Gets: 2,
  Gat: 3,
  Gats: 4,
  Set: 5,
  Add: 6,
  Replace: 7,
  Append: 8,
  Prepend: 9,
  Cas: 10,
  Delete: 11,
  Incr: 12,
  Decr: 13,
  Touch: 14,
  FlushAll: 15,
  Version: 16,
  Verbosity: 17,
  Stats: 18,
  Quit: 19,
  /** `mg`: a meta get. */
  MetaGet: 20,
  /** `ms`: a meta set, with a data block. */
  MetaSet: 21,
  /** `md`: a meta delete. */
  MetaDelete: 22,
  /** `ma`: a meta arithmetic (incr/decr). */
  MetaArithmetic: 23,
  /** `me`: a meta debug of one key. */
  MetaDebug: 24,
  /** `mn`: a meta no-op, answered by the proxy in order. */
  MetaNoop: 25,
} as const;

/** One of the values of {@linkcode Command}. */
export type CommandCode = typeof Command[keyof typeof Command];

const NAMES: ReadonlyArray<readonly [string, CommandCode]> = [
  ["get", Command.Get],
  ["gets", Command.Gets],
  ["gat", Command.Gat],
  ["gats", Command.Gats],
  ["set", Command.Set],
  ["add", Command.Add],
  ["replace", Command.Replace],
  ["append", Command.Append],
  ["prepend", Command.Prepend],
  ["cas", Command.Cas],
  ["delete", Command.Delete],
  ["incr", Command.Incr],
  ["decr", Command.Decr],
  ["touch", Command.Touch],
  ["flush_all", Command.FlushAll],
  ["version", Command.Version],
  ["verbosity", Command.Verbosity],
  ["stats", Command.Stats],
  ["quit", Command.Quit],
  ["mg", Command.MetaGet],
  ["ms", Command.MetaSet],
  ["md", Command.MetaDelete],
  ["ma", Command.MetaArithmetic],
  ["me", Command.MetaDebug],
  ["mn", Command.MetaNoop],
];

const encoder = new TextEncoder();
/** Candidate names grouped by first byte, so a lookup compares against two or three at most. */
const BY_FIRST_BYTE: Array<Array<{ name: Uint8Array; code: CommandCode }>> = Array.from(
  { length: 256 },
  () => [],
);
/** Each command's word, by code. */
const WORDS: Uint8Array[] = [];
for (const [name, code] of NAMES) {
  const bytes = encoder.encode(name);
  BY_FIRST_BYTE[bytes[0]].push({ name: bytes, code });
  WORDS[code] = bytes;
}

/**
 * The command word of `code`, as bytes to send.
 *
 * @example
 * ```ts
 * import { Command, commandWord } from "./command.ts";
 * console.log(new TextDecoder().decode(commandWord(Command.Gats))); // "gats"
 * ```
 */
export function commandWord(code: CommandCode): Uint8Array {
  return WORDS[code];
}

/**
 * The code of the command word `buf[start..end)`, or 0 when it is not one memrelay knows.
 * Matching is case-sensitive, as memcached's is.
 *
 * @example
 * ```ts
 * import { Command, commandCode } from "./command.ts";
 * const line = new TextEncoder().encode("get foo");
 * console.log(commandCode(line, 0, 3) === Command.Get); // true
 * ```
 */
export function commandCode(buf: Uint8Array, start: number, end: number): CommandCode | 0 {
  const length = end - start;
  if (length <= 0) return 0;
  const candidates = BY_FIRST_BYTE[buf[start]];
  outer: for (let c = 0; c < candidates.length; c++) {
    const name = candidates[c].name;
    if (name.length !== length) continue;
    for (let i = 1; i < length; i++) {
      if (name[i] !== buf[start + i]) continue outer;
    }
    return candidates[c].code;
  }
  return 0;
}

/** True for `gat` and `gats`: retrievals that also touch what they find. */
export function isTouchRetrieval(code: CommandCode): boolean {
  return code === Command.Gat || code === Command.Gats;
}

/** True for the commands whose reply is a series of `VALUE` blocks ended by `END`. */
export function isRetrieval(code: CommandCode): boolean {
  return code <= Command.Gats;
}

/** True for the meta commands that name a key (`mg`, `ms`, `md`, `ma`, `me`). */
export function isMetaKeyed(code: CommandCode): boolean {
  return code >= Command.MetaGet && code <= Command.MetaDebug;
}

/** True for the commands followed by a data block (`set` … `cas`). */
export function isStorage(code: CommandCode): boolean {
  return code >= Command.Set && code <= Command.Cas;
}
