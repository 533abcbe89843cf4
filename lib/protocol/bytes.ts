/**
 * Byte helpers shared by the client and server sides.
 *
 * @module
 */

import type { ByteSlab } from "./byte_slab.ts";

/**
 * Joins `chunks`, whose lengths add up to `total`, into one array (the chunk itself if alone),
 * carved from `slab` (a {@linkcode ByteSlab}, or a `ScratchBuffer`) when one is given, else a
 * buffer of its own.
 */
export function concatBytes(
  chunks: Uint8Array[],
  total: number,
  slab?: Pick<ByteSlab, "alloc">,
): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = slab === undefined ? new Uint8Array(total) : slab.alloc(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/** The longest copy done byte by byte: shorter than that, a loop beats making a view for `set`. */
const SHORT_COPY = 64;

/**
 * Copies `source[start..end)` into `target` at `offset`; returns the offset just past it. Short
 * ranges are copied in a loop, without the view that `set` would need.
 *
 * @example
 * ```ts
 * import { copyBytes } from "./bytes.ts";
 * const target = new Uint8Array(4);
 * console.log(copyBytes(target, 1, new Uint8Array([7, 8, 9]), 1, 3), target); // 3 Uint8Array(4) [ 0, 8, 9, 0 ]
 * ```
 */
export function copyBytes(
  target: Uint8Array,
  offset: number,
  source: Uint8Array,
  start: number,
  end: number,
): number {
  const length = end - start;
  if (length <= SHORT_COPY) {
    for (let i = 0; i < length; i++) target[offset + i] = source[start + i];
  } else {
    target.set(source.subarray(start, end), offset);
  }
  return offset + length;
}

/** Writes all of `data`, however many calls the connection needs. */
export async function writeAll(
  conn: { write(data: Uint8Array): Promise<number> },
  data: Uint8Array,
): Promise<void> {
  let offset = 0;
  while (offset < data.length) {
    offset += await conn.write(offset === 0 ? data : data.subarray(offset));
  }
}

/** True when `buf[start..end)` holds the bytes of `word`. */
export function bytesEqualAt(
  word: Uint8Array,
  buf: Uint8Array,
  start: number,
  end: number,
): boolean {
  return rangesEqual(word, 0, word.length, buf, start, end);
}

/** True when `a[aStart..aEnd)` and `b[bStart..bEnd)` hold the same bytes. */
export function rangesEqual(
  a: Uint8Array,
  aStart: number,
  aEnd: number,
  b: Uint8Array,
  bStart: number,
  bEnd: number,
): boolean {
  const length = aEnd - aStart;
  if (length !== bEnd - bStart) return false;
  for (let i = 0; i < length; i++) {
    if (a[aStart + i] !== b[bStart + i]) return false;
  }
  return true;
}

/** True when `a` and `b` hold the same bytes. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return rangesEqual(a, 0, a.length, b, 0, b.length);
}

/** True when `bytes` starts with `prefix`. */
export function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (bytes.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) {
    if (bytes[i] !== prefix[i]) return false;
  }
  return true;
}

/**
 * A parser's input buffer, made ready for `extra` more bytes: `buf[start..end)` moved to the
 * front, in `buf` itself when that leaves room, else in a new array of twice the size (or more).
 *
 * @example
 * ```ts
 * import { compacted } from "./bytes.ts";
 * const buf = new Uint8Array([0, 0, 7, 8]);
 * const ready = compacted(buf, 2, 4, 2); // room for 2 more after [7, 8]
 * console.log(ready === buf, ready.subarray(0, 2)); // true Uint8Array(2) [ 7, 8 ]
 * ```
 */
export function compacted(
  buf: Uint8Array<ArrayBuffer>,
  start: number,
  end: number,
  extra: number,
): Uint8Array<ArrayBuffer> {
  const live = end - start;
  if (live + extra <= buf.length) {
    buf.copyWithin(0, start, end);
    return buf;
  }
  let size = buf.length * 2;
  while (size < live + extra) size *= 2;
  const grown = new Uint8Array(size);
  grown.set(buf.subarray(start, end));
  return grown;
}
