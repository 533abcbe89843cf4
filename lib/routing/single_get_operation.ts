import type { BackendError, ReplyHandler } from "../backend/reply_handler.ts";
import { isErrorReply, ReplyKind, valueCount } from "../protocol/text/response_parser.ts";
import type { TextRequest } from "../protocol/text/text_request.ts";
import type { ValueBlockIndex } from "../protocol/text/value_block_index.ts";
import { countFailure, failureReply } from "./failure_reply.ts";
import type { Pool } from "./pool.ts";
import type { ReplySink } from "./reply_sink.ts";

/**
 * A `get`, `gets`, `gat` or `gats` of one key in a pool without backups: the most common request
 * a proxy sees. It answers as {@linkcode GetOperation} does in that case (the primary's reply as
 * it is, or a `SERVER_ERROR` when the server could not answer), without that operation's
 * bookkeeping for splitting keys and asking backups: the request goes to the key's server as
 * received, and the reply comes back untouched.
 *
 * @example
 * ```ts ignore
 * if (request.keys.length === 1 && pool.replication === null) {
 *   new SingleGetOperation(pool, sink, seq).start(request);
 * }
 * ```
 */
export class SingleGetOperation implements ReplyHandler {
  /** Its replies go straight to the sink, which writes or copies them at once. */
  readonly takesTransientReplies = true;
  readonly #pool: Pool;
  readonly #sink: ReplySink;
  readonly #seq: number;

  /**
   * @param pool Where the key lives; it has no backup pools.
   * @param sink Where the reply goes.
   * @param seq The request's number for `sink`.
   */
  constructor(pool: Pool, sink: ReplySink, seq: number) {
    this.#pool = pool;
    this.#sink = sink;
    this.#seq = seq;
  }

  /** Sends `request`, a retrieval of one key, to the key's server. */
  start(request: TextRequest): void {
    const pool = this.#pool;
    const hash = pool.hashOfKey(request, 0);
    pool.primaries.pick(hash).send(
      request.raw,
      ReplyKind.Get,
      this,
      0,
      this.#sink.affinity,
    );
  }

  /**
   * The server's reply, passed on as it is: a hit's block and `END`, an `END`, or an error. A
   * `transient` one, a view into the connection's read buffer, goes to the sink as such.
   */
  onReply(reply: Uint8Array, _tag: number, transient = false, blocks?: ValueBlockIndex): void {
    const stats = this.#pool.stats;
    const hits = blocks !== undefined ? blocks.count : isErrorReply(reply) ? 0 : valueCount(reply);
    stats.getHits += hits;
    stats.getMisses += 1 - hits;
    this.#sink.complete(this.#seq, reply, transient);
  }

  /** The server could not answer: the client gets a `SERVER_ERROR` that says why. */
  onFailure(error: BackendError): void {
    const stats = this.#pool.stats;
    countFailure(stats, error);
    stats.getMisses++;
    this.#sink.complete(this.#seq, failureReply(error));
  }
}
