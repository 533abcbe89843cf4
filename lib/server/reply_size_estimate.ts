/** Replies at least this large are observed; smaller ones cannot strain a client's bound. */
const OBSERVED_FROM = 64 * 1024;
/**
 * An estimate under this many bytes per key cannot strain a bound: it is left undecayed, so the
 * common case of small values costs no clock reading.
 */
const SMALL_PER_KEY = 4096;
/**
 * Without new large replies, the estimate halves every this many milliseconds: slowly, since a
 * pool that served large values may again, and a high estimate only makes pipelines shallower.
 */
const HALF_LIFE_MS = 30_000;

/**
 * How many bytes each key of a retrieval has lately brought back, over all the clients of a
 * pool: the largest per-key size of a recent large reply, halving every 30 s none comes. Until
 * the first reply it is the `prior` (the largest item size: any key may be that large).
 *
 * A client's requests are gated by the bytes they may bring back before their replies arrive,
 * so that a pipelined burst of multi-gets for large values goes to the servers a few at a time,
 * not all at once; with small values the estimate stays small and costs nothing.
 *
 * @example
 * ```ts
 * import { ReplySizeEstimate } from "./reply_size_estimate.ts";
 * const estimate = new ReplySizeEstimate(1024 * 1024);
 * console.log(estimate.perKey(0)); // 1048576, before any reply
 * estimate.observe(1_000_000, 2, 0);
 * console.log(estimate.perKey(0), estimate.perKey(30_000)); // 500000 250000
 * ```
 */
export class ReplySizeEstimate {
  #perKey = -1;
  #at = 0;
  readonly #prior: number;

  /** @param prior Bytes per key to expect before any reply has been seen. */
  constructor(prior: number) {
    this.#prior = prior;
  }

  /** Takes in a retrieval reply of `bytes` for `keys` keys, received at `now` (ms). */
  observe(bytes: number, keys: number, now?: number): void {
    if (this.#perKey >= 0 && bytes < OBSERVED_FROM) return;
    const perKey = bytes / keys;
    now ??= Date.now();
    if (perKey >= this.perKey(now) || this.#perKey < 0) {
      this.#perKey = perKey;
      this.#at = now;
    }
  }

  /** Bytes a key is expected to bring back, at `now` (ms). */
  perKey(now?: number): number {
    if (this.#perKey < 0) return this.#prior;
    if (this.#perKey < SMALL_PER_KEY) return this.#perKey;
    return this.#perKey * 2 ** (-((now ?? Date.now()) - this.#at) / HALF_LIFE_MS);
  }
}
