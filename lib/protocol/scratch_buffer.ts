/**
 * One buffer reused for bytes that live only during a call, such as a reply handed on as
 * transient (which its taker writes at once or copies).
 *
 * @module
 */

/** The buffer's first size. */
const FIRST_SIZE = 16 * 1024;
/** The most bytes the buffer grows to: longer requests get a buffer of their own. */
const MAX_SIZE = 1024 * 1024;

/**
 * A reused buffer: each {@linkcode alloc} hands out its start again, so what a caller writes there
 * is valid only until the next call. It saves a large allocation, and V8's zeroing of it, per use.
 *
 * @example
 * ```ts
 * import { ScratchBuffer } from "./scratch_buffer.ts";
 * const scratch = new ScratchBuffer();
 * const a = scratch.alloc(3);
 * console.log(scratch.holds(a), scratch.holds(scratch.alloc(2 * 1024 * 1024))); // true false
 * ```
 */
export class ScratchBuffer {
  #buf = new Uint8Array(FIRST_SIZE);

  /**
   * `length` bytes to fill: the start of the reused buffer, grown (up to 1 MiB) when too short;
   * longer, a new buffer that is not kept.
   */
  alloc(length: number): Uint8Array<ArrayBuffer> {
    if (length > MAX_SIZE) return new Uint8Array(length);
    if (length > this.#buf.length) {
      this.#buf = new Uint8Array(Math.min(MAX_SIZE, Math.max(length, 2 * this.#buf.length)));
    }
    return this.#buf.subarray(0, length);
  }

  /** True when `view` lies in the reused buffer: it will be overwritten by the next use. */
  holds(view: Uint8Array): boolean {
    return view.buffer === this.#buf.buffer;
  }
}
