/** A small seeded pseudo-random generator (mulberry32), so a failing run can be replayed. */
export class SeededRandom {
  #state: number;

  /** @param seed Any 32-bit integer. */
  constructor(readonly seed: number) {
    this.#state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** One element of `items`. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** `n` random bytes. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }

  /**
   * `n` random bytes that memcached never reads as a number, even with a number prepended: the
   * first is `x`. Random bytes can start with digits and a space ("852\v…"), which `incr`
   * takes as a number and shortens; whether memcached then pads the value in place depends on
   * timing, so two servers given the same stream would hold different values.
   */
  valueBytes(n: number): Uint8Array {
    const out = this.bytes(n);
    if (n > 0) out[0] = 0x78;
    return out;
  }
}
