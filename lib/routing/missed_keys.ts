/** A key a replica missed a write or delete of. */
export interface MissedKey {
  /** The key, copied out of the request it came from. */
  readonly key: Uint8Array;
  /** The key's placement hash. */
  readonly hash: number;
}

/** The key as a string a `Map` can hold: one char per byte, so any key bytes fit. */
function keyString(key: Uint8Array): string {
  return String.fromCharCode(...key);
}

/**
 * The keys one replica missed writes or deletes of while it was down, hung or failing: the
 * replica must not serve them until they are replayed. Bounded: past `limit` keys the set
 * forgets them and is marked overflowed, and the whole replica must be flushed and refilled.
 *
 * @example
 * ```ts
 * import { MissedKeys } from "./missed_keys.ts";
 * const missed = new MissedKeys(1);
 * const key = new TextEncoder().encode("a");
 * missed.add(key, 7);
 * console.log(missed.suspects(key), missed.overflowed); // true false
 * missed.add(new TextEncoder().encode("b"), 8);
 * console.log(missed.size, missed.overflowed); // 0 true
 * ```
 */
export class MissedKeys {
  readonly #keys = new Map<string, MissedKey>();
  #overflowed = false;

  /** @param limit The most keys remembered before the set overflows. */
  constructor(readonly limit: number) {}

  /** How many keys wait for a replay. */
  get size(): number {
    return this.#keys.size;
  }

  /** True when more keys were missed than remembered: nothing on the replica can be trusted. */
  get overflowed(): boolean {
    return this.#overflowed;
  }

  /**
   * True when the replica must not serve the key at `key[start..end)` (all of `key` by default):
   * missed, or anything after an overflow.
   */
  suspects(key: Uint8Array, start = 0, end = key.length): boolean {
    if (this.#overflowed) return true;
    return this.#keys.size > 0 && this.#keys.has(keyString(key.subarray(start, end)));
  }

  /** Remembers that the replica missed a write of `key`. */
  add(key: Uint8Array, hash: number): void {
    if (this.#overflowed) return;
    const name = keyString(key);
    if (this.#keys.has(name)) this.#keys.delete(name); // a newer miss goes to the back
    if (this.#keys.size >= this.limit) {
      this.distrust();
      return;
    }
    this.#keys.set(name, { key: key.slice(), hash });
  }

  /** Up to `count` of the oldest missed keys, left in the set. */
  oldest(count: number): MissedKey[] {
    const out: MissedKey[] = [];
    for (const entry of this.#keys.values()) {
      if (out.length === count) break;
      out.push(entry);
    }
    return out;
  }

  /** Forgets `entry` once replayed, unless the key was missed again since. */
  replayed(entry: MissedKey): void {
    const name = keyString(entry.key);
    if (this.#keys.get(name) === entry) this.#keys.delete(name);
  }

  /** Marks the replica as holding nothing to trust, as after an overflow. */
  distrust(): void {
    this.#keys.clear();
    this.#overflowed = true;
  }

  /** Forgets every key and the overflow: the replica was flushed. */
  clear(): void {
    this.#keys.clear();
    this.#overflowed = false;
  }
}
