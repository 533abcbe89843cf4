import type { Backend } from "../backend/backend.ts";
import type { BackendError, ReplyHandler } from "../backend/reply_handler.ts";
import { startsWith } from "../protocol/bytes.ts";
import { ReplyKind } from "../protocol/text/response_parser.ts";
import { OK, replyLine } from "../protocol/text/replies.ts";
import type { Pool } from "./pool.ts";
import type { ReplySink } from "./reply_sink.ts";

const EMPTY = new Uint8Array(0);

/**
 * A command every server must get, primaries and backups alike: `flush_all`. The client gets
 * `OK` when every server said `OK`, and otherwise a `SERVER_ERROR` naming the servers that did
 * not. The client session runs it as a barrier (`ClientSession`), so it never
 * overtakes a write to a backup that waits for its primary's reply.
 */
export class BroadcastOperation implements ReplyHandler {
  readonly #sink: ReplySink;
  readonly #seq: number;
  readonly #noreply: boolean;
  readonly #bytes: Uint8Array;
  readonly #backends: Backend[];
  readonly #pool: Pool;
  #pending = 0;
  #failed: string[] = [];

  /**
   * @param pool Whose servers get the command.
   * @param bytes The command to send.
   * @param sink Where the reply goes.
   * @param seq The request's number for `sink`.
   * @param noreply Whether the client asked for no reply.
   */
  constructor(pool: Pool, bytes: Uint8Array, sink: ReplySink, seq: number, noreply: boolean) {
    this.#bytes = bytes;
    this.#sink = sink;
    this.#seq = seq;
    this.#noreply = noreply;
    this.#pool = pool;
    this.#backends = pool.allBackends();
  }

  /** Sends the command to every server. */
  start(): void {
    const backends = this.#backends;
    this.#pending = backends.length;
    for (let i = 0; i < backends.length; i++) {
      backends[i].send(this.#bytes, ReplyKind.Line, this, i, this.#sink.affinity);
    }
  }

  /** One server's reply. */
  onReply(reply: Uint8Array, tag: number): void {
    if (!startsWith(reply, OK)) this.#missed(tag);
    this.#settle();
  }

  /** One server's failure. */
  onFailure(_error: BackendError, tag: number): void {
    this.#missed(tag);
    this.#settle();
  }

  /** Server `tag` may not have flushed: it must be, before it serves again. */
  #missed(tag: number): void {
    const backend = this.#backends[tag];
    this.#failed.push(backend.address);
    this.#pool.replication?.missedFlush(backend);
  }

  #settle(): void {
    if (--this.#pending > 0) return;
    const failed = this.#failed;
    const total = this.#backends.length;
    const reply = failed.length === 0
      ? OK
      : replyLine(`SERVER_ERROR ${failed.length} of ${total} servers failed: ${failed.join(",")}`);
    this.#sink.complete(this.#seq, this.#noreply ? EMPTY : reply);
  }
}
