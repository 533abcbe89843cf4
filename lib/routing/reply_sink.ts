/**
 * Where an operation delivers its reply: the client session that asked, which writes replies in
 * request order whatever order they complete in.
 */
export interface ReplySink {
  /**
   * Delivers the reply to request number `seq` of this client. `reply` is empty when the client
   * asked for `noreply`.
   */
  complete(seq: number, reply: Uint8Array): void;
  /** A number that is the same for all of this client's requests, to pin it to one connection. */
  readonly affinity: number;
}
