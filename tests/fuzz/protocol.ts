import { concatBytes } from "../../lib/protocol/bytes.ts";
import type { SeededRandom } from "../helpers/random.ts";

/**
 * What the fuzzer needs to know of one protocol: how to make inputs, and how to tell a valid
 * reply stream. The text protocol is the one there is; binary and meta commands add their own.
 */
export interface FuzzProtocol {
  /** Names the protocol in reports. */
  readonly name: string;
  /** One case: the bytes one client sends, in the chunks it writes them in. */
  generate(random: SeededRandom): Uint8Array[];
  /** Null when `replies` is a stream of whole, valid replies; else what is wrong with it. */
  check(replies: Uint8Array): string | null;
  /** A request a fresh connection sends to prove it is served, using `key`. */
  probe(key: string): Uint8Array;
  /** Null when `reply` is a right answer to {@linkcode probe}; else what is wrong with it. */
  checkProbe(key: string, reply: Uint8Array): string | null;
}

/** `chunks` joined into one array. */
export function join(chunks: Uint8Array[]): Uint8Array {
  return concatBytes(chunks, chunks.reduce((n, c) => n + c.length, 0));
}
