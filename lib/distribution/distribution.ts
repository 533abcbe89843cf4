/**
 * A distribution maps a key's 32-bit hash to the index of the server that owns it.
 *
 * Implementations are pure: built once from the server list, then only read.
 *
 * @example
 * ```ts
 * import type { Distribution } from "./distribution.ts";
 * const first: Distribution = { pick: (_hash: number) => 0 };
 * console.log(first.pick(0xdeadbeef)); // 0
 * ```
 */
export interface Distribution {
  /** The index, into the server list the distribution was built from, of the owner of `hash`. */
  pick(hash: number): number;
}

/** One server as a distribution sees it. */
export interface WeightedServer {
  /**
   * The string a continuum is built from: the server's configured name, or `host:port` when it
   * has none (twemproxy's rule).
   */
  name: string;
  /** Relative weight, a positive integer; 1 when not configured. */
  weight: number;
}
