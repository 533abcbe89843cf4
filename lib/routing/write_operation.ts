import type { BackendError, ReplyHandler } from "../backend/reply_handler.ts";
import { startsWith } from "../protocol/bytes.ts";
import { Command } from "../protocol/text/command.ts";
import { deleteBytes, forwardBytes, setBytes } from "../protocol/text/request_lines.ts";
import { ReplyKind } from "../protocol/text/response_parser.ts";
import type { TextRequest } from "../protocol/text/text_request.ts";
import { failureReply } from "./failure_reply.ts";
import type { Pool } from "./pool.ts";
import type { ReplySink } from "./reply_sink.ts";

const encoder = new TextEncoder();
const STORED = encoder.encode("STORED\r\n");
const TOUCHED = encoder.encode("TOUCHED\r\n");
const SERVER_ERROR = encoder.encode("SERVER_ERROR");
const EMPTY = new Uint8Array(0);

/** Tag of the primary's reply; the backups' replies carry their replica number, 1 and up. */
const PRIMARY = 0;

/**
 * A command that changes one key: storage commands, `delete`, `incr`/`decr` and `touch`.
 *
 * The primary gets the command first and its reply goes to the client at once. What the primary
 * did then decides what the backups get, so a backup never takes a write its primary refused:
 * - `add`, `replace`, `cas` that stored: a plain `set` of the same value (cas uniques differ
 *   from server to server);
 * - `set`, `append`, `prepend`, `incr`, `decr`, `touch` that succeeded: the same command;
 * - `delete`: the same command, whatever the primary answered, since a backup may still hold a
 *   key its primary lost;
 * - a storage command the primary failed with `SERVER_ERROR` (memcached then drops the old
 *   value): a `delete`, so no backup keeps the old value.
 *
 * Backup writes are sent in the order primary replies arrive, so each backup sees one client's
 * writes in the order that client made them. When the primary fails, the command goes to the
 * backups as it is and the first backup that answers replies.
 */
export class WriteOperation implements ReplyHandler {
  readonly #pool: Pool;
  readonly #request: TextRequest;
  readonly #sink: ReplySink;
  readonly #seq: number;
  readonly #hash: number;
  readonly #bytes: Uint8Array;
  /** Replicas asked after the primary failed and not yet answered; -1 before the primary fails. */
  #fallbackPending = -1;
  #firstFailure: BackendError | null = null;

  /**
   * @param pool Where the key lives.
   * @param request The parsed command.
   * @param sink Where the reply goes.
   * @param seq The request's number for `sink`.
   */
  constructor(pool: Pool, request: TextRequest, sink: ReplySink, seq: number) {
    this.#pool = pool;
    this.#request = request;
    this.#sink = sink;
    this.#seq = seq;
    this.#hash = pool.hashOf(request.keys[0]);
    this.#bytes = forwardBytes(request);
  }

  /** Sends the command to the key's primary. */
  start(): void {
    this.#pool.primaries.pick(this.#hash).send(
      this.#bytes,
      ReplyKind.Line,
      this,
      PRIMARY,
      this.#sink.affinity,
    );
  }

  /** The primary's reply, or a backup's. */
  onReply(reply: Uint8Array, tag: number): void {
    if (tag === PRIMARY) {
      // Backup writes are queued before the reply is delivered: a flush_all barrier waits for
      // the reply, and must find them already queued.
      const backupBytes = this.#replication(reply);
      if (backupBytes !== null) this.#sendToBackups(backupBytes);
      this.#reply(reply);
    } else if (this.#fallbackPending > 0) {
      this.#fallbackPending = 0;
      this.#reply(reply);
    }
  }

  /** A server failed: the primary's failure sends the command to the backups. */
  onFailure(error: BackendError, tag: number): void {
    this.#pool.stats.backendErrors++;
    if (tag === PRIMARY) {
      this.#firstFailure = error;
      if (this.#pool.backups.length === 0) {
        this.#reply(failureReply(error));
        return;
      }
      this.#pool.stats.failovers++;
      this.#fallbackPending = this.#pool.backups.length;
      this.#sendToBackups(this.#bytes);
    } else if (this.#fallbackPending > 0 && --this.#fallbackPending === 0) {
      this.#reply(failureReply(this.#firstFailure!));
    }
  }

  #reply(reply: Uint8Array): void {
    this.#sink.complete(this.#seq, this.#request.noreply ? EMPTY : reply);
  }

  #sendToBackups(bytes: Uint8Array): void {
    const backups = this.#pool.backups;
    const affinity = this.#sink.affinity;
    for (let i = 0; i < backups.length; i++) {
      backups[i].pick(this.#hash).send(bytes, ReplyKind.Line, this, i + 1, affinity);
    }
  }

  /** What the backups get after the primary answered `reply`, or null for nothing. */
  #replication(reply: Uint8Array): Uint8Array | null {
    if (this.#pool.backups.length === 0) return null;
    const request = this.#request;
    switch (request.command) {
      case Command.Set:
      case Command.Append:
      case Command.Prepend:
        if (startsWith(reply, STORED)) return this.#bytes;
        return startsWith(reply, SERVER_ERROR) ? deleteBytes(request.keys[0]) : null;
      case Command.Add:
      case Command.Replace:
      case Command.Cas:
        if (startsWith(reply, STORED)) return setBytes(request);
        return startsWith(reply, SERVER_ERROR) ? deleteBytes(request.keys[0]) : null;
      case Command.Incr:
      case Command.Decr:
        return reply[0] >= 0x30 && reply[0] <= 0x39 ? this.#bytes : null;
      case Command.Touch:
        return startsWith(reply, TOUCHED) ? this.#bytes : null;
      default: // delete
        return this.#bytes;
    }
  }
}
