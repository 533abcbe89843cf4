/**
 * Where the `VALUE` blocks of `get` replies lie, as a backend connection framed them, so that the
 * handler of a reply does not read its `VALUE` lines and compare its keys a second time.
 *
 * @module
 */

/**
 * The `VALUE` blocks of the replies a connection frames: for each, its bounds and which key of
 * its request's line it answers (0 for the line's first key, 1 for the next…). The connection
 * records blocks as it frames, and {@linkcode select}s a reply's before handing it out; its
 * handler then reads block `i` as `reply[start(i)..end(i))`, the `VALUE` line to the data's
 * `\r\n`, answering the `key(i)`th key of the line. A handler reads it only while it handles the
 * reply, before anything that may fail the connection: the connection reuses it for the next
 * reply, and clears it when it fails.
 *
 * @example
 * ```ts
 * import { ValueBlockIndex } from "./value_block_index.ts";
 * // `get a b c` answered "VALUE a 0 1\r\n1\r\nVALUE c 0 1\r\n3\r\nEND\r\n".
 * const index = new ValueBlockIndex();
 * index.add(0, 16, 0);
 * index.add(16, 32, 2);
 * index.select(0, index.size);
 * console.log(index.count, index.key(1), index.start(1), index.end(1)); // 2 2 16 32
 * ```
 */
export class ValueBlockIndex {
  #starts = new Int32Array(64);
  #ends = new Int32Array(64);
  #keys = new Int32Array(64);
  /** The first entry of the reply selected. */
  #first = 0;
  /** How many entries are recorded. */
  size = 0;
  /** How many blocks the reply selected holds. */
  count = 0;

  /** Records a block `[start, end)` that answers key `key` of its request's line. */
  add(start: number, end: number, key: number): void {
    const i = this.size;
    if (i === this.#starts.length) this.#grow();
    this.#starts[i] = start;
    this.#ends[i] = end;
    this.#keys[i] = key;
    this.size = i + 1;
  }

  /** Selects entries `[first, end)` as the blocks of the reply handed out next. */
  select(first: number, end: number): void {
    this.#first = first;
    this.count = end - first;
  }

  /** Where block `i` of the reply selected starts in it. */
  start(i: number): number {
    return this.#starts[this.#first + i];
  }

  /** Where block `i` of the reply selected ends in it: past its data's `\r\n`. */
  end(i: number): number {
    return this.#ends[this.#first + i];
  }

  /** Which key of its request's line block `i` of the reply selected answers, from 0. */
  key(i: number): number {
    return this.#keys[this.#first + i];
  }

  /** Drops the entries before `from`: the ones after it move to the front. */
  discard(from: number): void {
    if (from >= this.size) {
      this.clear();
      return;
    }
    this.#starts.copyWithin(0, from, this.size);
    this.#ends.copyWithin(0, from, this.size);
    this.#keys.copyWithin(0, from, this.size);
    this.size -= from;
    this.count = 0;
  }

  /** Drops every entry. */
  clear(): void {
    this.size = this.count = 0;
  }

  #grow(): void {
    const length = this.#starts.length * 2;
    const starts = new Int32Array(length);
    const ends = new Int32Array(length);
    const keys = new Int32Array(length);
    starts.set(this.#starts);
    ends.set(this.#ends);
    keys.set(this.#keys);
    this.#starts = starts;
    this.#ends = ends;
    this.#keys = keys;
  }
}
