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
  /** The extras, such as the 4-byte flags of a get. */
  extras?: Uint8Array;
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
  const extras = parts.extras ?? EMPTY;
  const key = parts.key ?? EMPTY;
  const value = parts.value ?? EMPTY;
  const body = extras.length + key.length + value.length;
  const out = new Uint8Array(HEADER_SIZE + body);
  const view = new DataView(out.buffer);
  out[0] = RESPONSE_MAGIC;
  out[1] = opcode;
  view.setUint16(2, key.length);
  out[4] = extras.length;
  view.setUint16(6, parts.status ?? 0);
  view.setUint32(8, body);
  out.set(opaque, 12);
  view.setBigUint64(16, parts.cas ?? 0n);
  out.set(extras, HEADER_SIZE);
  out.set(key, HEADER_SIZE + extras.length);
  out.set(value, HEADER_SIZE + extras.length + key.length);
  return out;
}

/** An error response with memcached's message for `status` as its body. */
export function errorResponse(opcode: number, opaque: Uint8Array, status: number): Uint8Array {
  const message = STATUS_MESSAGES.get(status);
  return binaryResponse(opcode, opaque, {
    status,
    value: message === undefined ? EMPTY : encoder.encode(message),
  });
}
