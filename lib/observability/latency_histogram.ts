/**
 * A fixed-size latency histogram: recording a latency is a few integer operations and two array
 * increments, and never allocates, so it can run on every backend reply.
 *
 * @module
 */

/** Sub-buckets per power of two: each bucket is at most 25% wide. */
const SUBS = 4;
/** Powers of two covered, in microseconds: 1 µs up to 2^26 µs (about 67 s). */
const OCTAVES = 26;
/** How many buckets there are. */
const BUCKETS = OCTAVES * SUBS;
/** Latencies this long or longer all land in the last bucket. */
const MAX_US = 2 ** OCTAVES;
/** The recent window quantiles are read over: the current minute and the one before. */
const WINDOW_MS = 60_000;

/** The bucket of a latency of `us` microseconds. */
function bucketOf(us: number): number {
  if (!(us >= 1)) return 0; // also NaN and negative clock steps
  if (us >= MAX_US) return BUCKETS - 1;
  const v = us | 0;
  const octave = 31 - Math.clz32(v);
  const sub = octave >= 2 ? (v >>> (octave - 2)) & 3 : (v << (2 - octave)) & 3;
  return octave * SUBS + sub;
}

/** The upper bound, in microseconds, of bucket `i`. */
function upperBoundUs(i: number): number {
  const octave = Math.floor(i / SUBS);
  return 2 ** octave * (1 + ((i % SUBS) + 1) / SUBS);
}

/**
 * Counts latencies in 104 logarithmic buckets from 1 µs to about 67 s, each at most 25% wide.
 *
 * It keeps two views: every latency since start (for Prometheus, whose histograms are
 * cumulative), and the last one to two minutes (for quantiles an operator reads now). Quantiles
 * are the upper bound of the bucket they fall in, so they overstate by at most 25%.
 *
 * @example
 * ```ts
 * import { LatencyHistogram } from "./latency_histogram.ts";
 * const h = new LatencyHistogram();
 * const now = performance.now();
 * for (let i = 1; i <= 100; i++) h.record(i / 10, now); // 0.1 ms … 10 ms
 * console.log(h.quantileUs(0.5, now)); // 5120: the bucket holding 5 ms ends at 5.12 ms
 * ```
 */
export class LatencyHistogram {
  /** Counts since start, by bucket. */
  readonly #total = new Float64Array(BUCKETS);
  /** Counts in the current window, and in the one before it. */
  #current = new Float64Array(BUCKETS);
  #previous = new Float64Array(BUCKETS);
  #windowStart = -Infinity;
  #count = 0;
  #sumMs = 0;

  /**
   * Records one latency.
   *
   * @param latencyMs The latency, in milliseconds.
   * @param nowMs The time now on `performance.now()`'s clock, which the caller has at hand.
   */
  record(latencyMs: number, nowMs: number): void {
    if (nowMs - this.#windowStart >= WINDOW_MS) this.#rotate(nowMs);
    const i = bucketOf(latencyMs * 1000);
    this.#total[i]++;
    this.#current[i]++;
    this.#count++;
    this.#sumMs += latencyMs;
  }

  /** How many latencies were recorded since start. */
  get count(): number {
    return this.#count;
  }

  /** The sum of every latency recorded since start, in milliseconds. */
  get sumMs(): number {
    return this.#sumMs;
  }

  /**
   * The `q` quantile (0.5 for the median) of the latencies of the last one to two minutes, in
   * microseconds, rounded up to its bucket's bound; null when there were none.
   */
  quantileUs(q: number, nowMs: number = performance.now()): number | null {
    if (nowMs - this.#windowStart >= WINDOW_MS) this.#rotate(nowMs);
    const current = this.#current;
    const previous = this.#previous;
    let n = 0;
    for (let i = 0; i < BUCKETS; i++) n += current[i] + previous[i];
    if (n === 0) return null;
    const rank = Math.max(1, Math.ceil(q * n));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += current[i] + previous[i];
      if (seen >= rank) return Math.round(upperBoundUs(i));
    }
    return Math.round(upperBoundUs(BUCKETS - 1));
  }

  /**
   * Latencies since start, counted cumulatively at each power of two microseconds from 16 µs to
   * about 33.5 s: pairs of (upper bound in seconds, count of latencies below it), as a
   * Prometheus histogram's `le` buckets. The `+Inf` bucket is {@linkcode count}.
   */
  cumulativeBuckets(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    let seen = 0;
    for (let octave = 0; octave < OCTAVES; octave++) {
      for (let s = 0; s < SUBS; s++) seen += this.#total[octave * SUBS + s];
      // Everything in octaves 0…octave is below 2^(octave+1) µs, exactly.
      if (octave + 1 >= 4) out.push([2 ** (octave + 1) / 1e6, seen]);
    }
    return out;
  }

  /** Starts a new window; a window with no traffic in between empties both. */
  #rotate(nowMs: number): void {
    const stale = nowMs - this.#windowStart >= 2 * WINDOW_MS;
    const previous = this.#previous;
    this.#previous = this.#current;
    this.#current = previous;
    this.#current.fill(0);
    if (stale) this.#previous.fill(0);
    this.#windowStart = nowMs;
  }
}
