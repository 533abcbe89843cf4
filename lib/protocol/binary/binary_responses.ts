/**
 * Binary-protocol response packets.
 *
 * @module
 */

import { HEADER_SIZE, RESPONSE_MAGIC, STATUS_MESSAGES } from "./opcodes.ts";

const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);

/** What a response carries besides its opcode and opaque; every part is optional. */
export interface ResponseParts {
  /** The status; 0 (success) by default. */
  status?: number;
  /** The cas unique; 0 by default. */
  cas?: bigint;
  /** The extras. */
  extras?: Uint8Array;
  /** A get's client flags, sent as 4 bytes of extras; in place of `extras`. */
  flags?: number;
  /** The key, for `GetK` and stats. */
  key?: Uint8Array;
  /** The value. */
  value?: Uint8Array;
}

/**
 * One response packet for a request with `opcode` and `opaque` (the request's 4 opaque bytes,
 * echoed as they came).
 *
 * @example
 * ```ts
 * import { binaryResponse } from "./binary_responses.ts";
 * const packet = binaryResponse(0x0a, new Uint8Array(4), {});
 * console.log(packet.length, packet[0]); // 24 129
 * ```
 */
export function binaryResponse(
  opcode: number,
  opaque: Uint8Array,
  parts: ResponseParts,
): Uint8Array {
  const flags = parts.flags;
  const extrasLength = flags === undefined ? (parts.extras?.length ?? 0) : 4;
  const key = parts.key ?? EMPTY;
  const value = parts.value ?? EMPTY;
  const body = extrasLength + key.length + value.length;
  const out = new Uint8Array(HEADER_SIZE + body);
  const view = new DataView(out.buffer);
  out[0] = RESPONSE_MAGIC;
  out[1] = opcode;
  view.setUint16(2, key.length);
  out[4] = extrasLength;
  view.setUint16(6, parts.status ?? 0);
  view.setUint32(8, body);
  out.set(opaque, 12);
  if (parts.cas !== undefined && parts.cas !== 0n) view.setBigUint64(16, parts.cas);
  if (flags !== undefined) view.setUint32(HEADER_SIZE, flags);
  else if (parts.extras !== undefined) out.set(parts.extras, HEADER_SIZE);
  out.set(key, HEADER_SIZE + extrasLength);
  out.set(value, HEADER_SIZE + extrasLength + key.length);
  return out;
}

/** memcached's message for each error status, encoded once. */
const STATUS_BODIES = new Map([...STATUS_MESSAGES].map(([s, m]) => [s, encoder.encode(m)]));

/** An error response with memcached's message for `status` as its body. */
export function errorResponse(opcode: number, opaque: Uint8Array, status: number): Uint8Array {
  return binaryResponse(opcode, opaque, { status, value: STATUS_BODIES.get(status) ?? EMPTY });
}
