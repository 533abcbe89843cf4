/** Slots writes are counted in: a key's slot comes from its hash. */
const SLOTS = 1 << 16;
const MASK = SLOTS - 1;

/** The slot of a key with hash `hash`; the high bits are folded in, as some hashes vary little. */
function slotOf(hash: number): number {
  return (hash ^ (hash >>> 16)) & MASK;
}

/**
 * Which keys are being written, and which were written since a given moment: what a copy from
 * one replica to another checks before it stores, so that it never puts back an older value
 * than a client wrote meanwhile.
 *
 * Keys are counted by a slot of their hash, without strings or maps: a write to one key also
 * holds back copies of the keys that share its slot, which is safe (the copy is retried), and
 * costs two array updates per write.
 *
 * @example
 * ```ts
 * import { WriteTracker } from "./write_tracker.ts";
 * const tracker = new WriteTracker();
 * const since = tracker.now();
 * tracker.begin(42);
 * console.log(tracker.quietSince(42, since)); // false
 * tracker.end(42);
 * console.log(tracker.quietSince(7, since)); // true
 * ```
 */
export class WriteTracker {
  readonly #inFlight = new Int32Array(SLOTS);
  readonly #lastStart = new Float64Array(SLOTS);
  #clock = 0;

  /** A moment to compare with later: writes that begin after it are seen by `quietSince`. */
  now(): number {
    return this.#clock;
  }

  /** A write of a key with hash `hash` was sent to its first replica. */
  begin(hash: number): void {
    const slot = slotOf(hash);
    this.#inFlight[slot]++;
    this.#lastStart[slot] = ++this.#clock;
  }

  /** That write got its answers from every replica it went to. */
  end(hash: number): void {
    this.#inFlight[slotOf(hash)]--;
  }

  /** True when no write to the key's slot is unfinished, or began after moment `since`. */
  quietSince(hash: number, since: number): boolean {
    const slot = slotOf(hash);
    return this.#inFlight[slot] === 0 && this.#lastStart[slot] <= since;
  }
}
