import type { ValueBlockIndex } from "../protocol/text/value_block_index.ts";

/**
 * What a backend hands replies to. One handler may wait for several replies at once: the `tag`
 * given with each request comes back with its reply, so a multi-server operation needs no
 * closure per server.
 */
export interface ReplyHandler {
  /**
   * A complete reply, owned by the handler; unless `transient` is true (only for a handler that
   * {@linkcode takesTransientReplies}): then it is a view into the connection's read buffer,
   * valid only during the call. The reply to a `get` or `gets` line comes with `blocks`, where its
   * `VALUE` blocks lie and which of the line's keys each answers, also valid only during the call
   * (and empty once the handler has closed or failed the connection).
   */
  onReply(reply: Uint8Array, tag: number, transient?: boolean, blocks?: ValueBlockIndex): void;
  /**
   * True for a handler that uses or copies each reply before `onReply` returns: it may then be
   * given a large reply as a view into the read buffer, without a copy of its own.
   */
  readonly takesTransientReplies?: boolean;
  /** The request got no reply: the server is down, timed out, or broke the connection. */
  onFailure(error: BackendError, tag: number): void;
}

/** Takes the replies nobody waits for, such as the touches a read sends to backups. */
export const IGNORE_REPLIES: ReplyHandler = { onReply() {}, onFailure() {} };

/** Why a backend could not answer a request. */
export class BackendError extends Error {
  /**
   * @param server The backend's `host:port`.
   * @param message What happened, ready for a `SERVER_ERROR` line.
   * @param timedOut Whether the server was given up on for taking too long to connect or reply.
   */
  constructor(readonly server: string, message: string, readonly timedOut = false) {
    super(message);
    this.name = "BackendError";
  }
}
