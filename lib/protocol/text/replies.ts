/**
 * The reply lines memcached's text protocol uses, as bytes, so that the hot path never encodes
 * strings. Each constant ends with `\r\n`.
 *
 * @module
 */

const encoder = new TextEncoder();

/** Encodes one reply line and appends `\r\n`. */
export function replyLine(text: string): Uint8Array {
  return encoder.encode(text + "\r\n");
}

/** `ERROR`: an unknown command, or a known one with the wrong number of arguments. */
export const ERROR: Uint8Array = replyLine("ERROR");
/** `END`: the end of a retrieval reply. */
export const END: Uint8Array = replyLine("END");
/** `STORED`: a storage command stored its value. */
export const STORED: Uint8Array = replyLine("STORED");
/** `TOUCHED`: `touch` found the key. */
export const TOUCHED: Uint8Array = replyLine("TOUCHED");
/** `OK`: flush_all and verbosity succeeded. */
export const OK: Uint8Array = replyLine("OK");
/** A storage command's arguments or key are malformed. */
export const BAD_COMMAND_LINE: Uint8Array = replyLine("CLIENT_ERROR bad command line format");
/** `delete` was given arguments other than `[0] [noreply]`. */
export const BAD_DELETE: Uint8Array = replyLine(
  "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]",
);
/** A storage command's data block did not end with `\r\n`. */
export const BAD_DATA_CHUNK: Uint8Array = replyLine("CLIENT_ERROR bad data chunk");
/** The delta of `incr`/`decr` is not an unsigned 64-bit decimal. */
export const INVALID_DELTA: Uint8Array = replyLine("CLIENT_ERROR invalid numeric delta argument");
/** The exptime of `touch`, `gat` or `flush_all` is not a decimal. */
export const INVALID_EXPTIME: Uint8Array = replyLine("CLIENT_ERROR invalid exptime argument");
/** A value over the item size limit. */
export const TOO_LARGE: Uint8Array = replyLine("SERVER_ERROR object too large for cache");
/** True for a `SERVER_ERROR` line: the server could not answer, as if it failed. */
export function isServerError(reply: Uint8Array): boolean {
  return reply[0] === 0x53 && reply[1] === 0x45; // SE…
}

/** A command line longer than memcached reads. */
export const LINE_TOO_LONG: Uint8Array = replyLine("CLIENT_ERROR line too long");
/** Sent to a client past the `-n` connection limit, before it is closed. */
export const TOO_MANY_CONNECTIONS: Uint8Array = replyLine("SERVER_ERROR too many connections");
