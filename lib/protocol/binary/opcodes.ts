/**
 * The binary protocol's constants: magic bytes, opcodes, response statuses and the messages
 * memcached sends with its errors.
 *
 * @module
 */

/** The first byte of every request. */
export const REQUEST_MAGIC = 0x80;
/** The first byte of every response. */
export const RESPONSE_MAGIC = 0x81;
/** The size of a request or response header. */
export const HEADER_SIZE = 24;

/** The opcodes memcached serves. */
export const Opcode = {
  Get: 0x00,
  Set: 0x01,
  Add: 0x02,
  Replace: 0x03,
  Delete: 0x04,
  Increment: 0x05,
  Decrement: 0x06,
  Quit: 0x07,
  Flush: 0x08,
  GetQ: 0x09,
  Noop: 0x0a,
  Version: 0x0b,
  GetK: 0x0c,
  GetKQ: 0x0d,
  Append: 0x0e,
  Prepend: 0x0f,
  Stat: 0x10,
  SetQ: 0x11,
  AddQ: 0x12,
  ReplaceQ: 0x13,
  DeleteQ: 0x14,
  IncrementQ: 0x15,
  DecrementQ: 0x16,
  QuitQ: 0x17,
  FlushQ: 0x18,
  AppendQ: 0x19,
  PrependQ: 0x1a,
  Verbosity: 0x1b,
  Touch: 0x1c,
  Gat: 0x1d,
  GatQ: 0x1e,
  SaslListMechs: 0x20,
  SaslAuth: 0x21,
  SaslStep: 0x22,
  GatK: 0x23,
  GatKQ: 0x24,
} as const;

/** The response statuses memrelay sends. */
export const Status = {
  Success: 0x00,
  KeyNotFound: 0x01,
  KeyExists: 0x02,
  TooLarge: 0x03,
  InvalidArguments: 0x04,
  NotStored: 0x05,
  NonNumeric: 0x06,
  AuthError: 0x20,
  UnknownCommand: 0x81,
  OutOfMemory: 0x82,
  InternalError: 0x84,
} as const;

/** The message memcached puts in the body of an error response, by status. */
export const STATUS_MESSAGES: ReadonlyMap<number, string> = new Map([
  [Status.KeyNotFound, "Not found"],
  [Status.KeyExists, "Data exists for key."],
  [Status.TooLarge, "Too large."],
  [Status.InvalidArguments, "Invalid arguments"],
  [Status.NotStored, "Not stored."],
  [Status.NonNumeric, "Non-numeric server-side value for incr or decr"],
  [Status.AuthError, "Auth failure."],
  [Status.UnknownCommand, "Unknown command"],
  [Status.OutOfMemory, "Out of memory"],
  [Status.InternalError, "Internal error"],
]);

/** The quiet form of each opcode that has one, mapped to its loud form. */
const QUIET_OF = new Map<number, number>([
  [Opcode.GetQ, Opcode.Get],
  [Opcode.GetKQ, Opcode.GetK],
  [Opcode.SetQ, Opcode.Set],
  [Opcode.AddQ, Opcode.Add],
  [Opcode.ReplaceQ, Opcode.Replace],
  [Opcode.DeleteQ, Opcode.Delete],
  [Opcode.IncrementQ, Opcode.Increment],
  [Opcode.DecrementQ, Opcode.Decrement],
  [Opcode.QuitQ, Opcode.Quit],
  [Opcode.FlushQ, Opcode.Flush],
  [Opcode.AppendQ, Opcode.Append],
  [Opcode.PrependQ, Opcode.Prepend],
  [Opcode.GatQ, Opcode.Gat],
  [Opcode.GatKQ, Opcode.GatK],
]);

/** The loud form of `opcode`: `Get` for `GetQ`, and `opcode` itself when it has no quiet form. */
export function loudOpcode(opcode: number): number {
  return QUIET_OF.get(opcode) ?? opcode;
}

/** True for the quiet opcodes (`GetQ`, `SetQ`…), whose replies are partly suppressed. */
export function isQuiet(opcode: number): boolean {
  return QUIET_OF.has(opcode);
}
