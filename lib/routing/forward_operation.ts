import type { BackendError, ReplyHandler } from "../backend/reply_handler.ts";
import { ReplyKind } from "../protocol/text/response_parser.ts";
import type { TextRequest } from "../protocol/text/text_request.ts";
import { countFailure, failureReply } from "./failure_reply.ts";
import type { Pool } from "./pool.ts";
import type { ReplySink } from "./reply_sink.ts";

/**
 * A request that only the key's primary answers, and that changes nothing: `me`, the meta
 * debug command, whose reply describes one server's copy of the item.
 */
export class ForwardOperation implements ReplyHandler {
  readonly #pool: Pool;
  readonly #request: TextRequest;
  readonly #sink: ReplySink;
  readonly #seq: number;

  /**
   * @param pool Where the key lives.
   * @param request The parsed request.
   * @param sink Where the reply goes.
   * @param seq The request's number for `sink`.
   */
  constructor(pool: Pool, request: TextRequest, sink: ReplySink, seq: number) {
    this.#pool = pool;
    this.#request = request;
    this.#sink = sink;
    this.#seq = seq;
  }

  /** Sends the request to the key's primary. */
  start(): void {
    const backend = this.#pool.primaries.pick(this.#pool.hashOf(this.#request.keys[0]));
    backend.send(this.#request.raw, ReplyKind.Meta, this, 0, this.#sink.affinity);
  }

  /** The primary's reply goes to the client. */
  onReply(reply: Uint8Array): void {
    this.#sink.complete(this.#seq, reply);
  }

  /** The primary failed: the client gets a `SERVER_ERROR`. */
  onFailure(error: BackendError): void {
    countFailure(this.#pool.stats, error);
    this.#sink.complete(this.#seq, failureReply(error));
  }
}
