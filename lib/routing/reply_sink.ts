/**
 * Where an operation delivers its reply: the client session that asked, which writes replies in
 * request order whatever order they complete in.
 */
export interface ReplySink {
  /**
   * Delivers the reply to request number `seq` of this client. `reply` is empty when the client
   * asked for `noreply`. A `transient` reply is valid only during the call: the sink writes it
   * at once or copies it.
   */
  complete(seq: number, reply: Uint8Array, transient?: boolean): void;
  /** A number that is the same for all of this client's requests, to pin it to one connection. */
  readonly affinity: number;
}

/**
 * A sink that turns each reply into what the client expects before passing it on: a meta
 * quiet mode's suppression, or a binary-protocol response.
 */
export class ReshapingSink implements ReplySink {
  /** The client's connection choice, as the inner sink's. */
  readonly affinity: number;

  /**
   * @param inner The client's sink.
   * @param reshape Turns a server's reply into the client's.
   */
  constructor(
    readonly inner: ReplySink,
    readonly reshape: (reply: Uint8Array) => Uint8Array,
  ) {
    this.affinity = inner.affinity;
  }

  /** Reshapes `reply`, then delivers it; a transient one is copied first, as its shape may keep it. */
  complete(seq: number, reply: Uint8Array, transient = false): void {
    this.inner.complete(seq, this.reshape(transient ? reply.slice() : reply));
  }
}
