import type { BackendError, ReplyHandler } from "../backend/reply_handler.ts";
import { startsWith } from "../protocol/bytes.ts";
import { Command } from "../protocol/text/command.ts";
import { itemStateRequest, parseItemState, setItemRequest } from "../protocol/text/item_state.ts";
import { STORED, TOUCHED } from "../protocol/text/replies.ts";
import { deleteBytes, forwardBytes, setBytes } from "../protocol/text/request_lines.ts";
import { ReplyKind, type ReplyKindCode } from "../protocol/text/response_parser.ts";
import type { TextRequest } from "../protocol/text/text_request.ts";
import { failureReply } from "./failure_reply.ts";
import type { Pool } from "./pool.ts";
import type { ReplySink } from "./reply_sink.ts";

const encoder = new TextEncoder();
const SERVER_ERROR = encoder.encode("SERVER_ERROR");
const EMPTY = new Uint8Array(0);

/** Tags of the requests an operation sends: the primary's, then backup pool i's is `BACKUP + i`. */
const PRIMARY = 0;
/** `mg` after an `incr`/`decr` on the primary: the result, with its flags and TTL. */
const PRIMARY_STATE = 1;
const BACKUP = 2;

/**
 * A command that changes one key: storage commands, `delete`, `incr`/`decr` and `touch`.
 *
 * The primary gets the command first and its reply goes to the client at once. What the primary
 * did then decides what the backups get, so a backup never takes a write its primary refused:
 * - `add`, `replace`, `cas` that stored: a plain `set` of the same value (cas uniques differ
 *   from server to server);
 * - `set`, `append`, `prepend`, `touch` that succeeded: the same command;
 * - `incr`, `decr` that succeeded: a `set` of the primary's result with its flags and TTL (read
 *   with `mg` right after, on the same connection), so a delta is never applied twice and a
 *   backup that lacked the key gets it;
 * - `delete`: the same command, whatever the primary answered, since a backup may still hold a
 *   key its primary lost;
 * - a storage command the primary failed with `SERVER_ERROR` (memcached then drops the old
 *   value): a `delete`, so no backup keeps the old value.
 *
 * Backup writes are sent in the order primary replies arrive, so each backup sees one client's
 * writes in the order that client made them. When the primary fails, the command goes to the
 * backups as it is and the first backup that answers replies. Every replica that failed is told
 * to the pool's {@linkcode Replication}, which replays the key there before it serves it again.
 */
export class WriteOperation implements ReplyHandler {
  readonly #pool: Pool;
  readonly #request: TextRequest;
  readonly #sink: ReplySink;
  readonly #seq: number;
  readonly #hash: number;
  readonly #bytes: Uint8Array;
  /** Requests sent and not yet answered; the write is over for the tracker at 0. */
  #outstanding = 0;
  /** Replicas asked after the primary failed and not yet answered; -1 before the primary fails. */
  #fallbackPending = -1;
  #firstFailure: BackendError | null = null;
  /** Whether the primary's state follows the command, for the backups (`incr`/`decr`). */
  #readsState = false;
  /** An `incr`/`decr` result, held until the primary's state for the backups arrives. */
  #heldReply: Uint8Array | null = null;

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
    const replication = this.#pool.replication;
    replication?.tracker.begin(this.#hash);
    this.#send(0, this.#bytes, ReplyKind.Line, PRIMARY);
    const command = this.#request.command;
    if (replication !== null && (command === Command.Incr || command === Command.Decr)) {
      this.#readsState = true;
      this.#send(0, itemStateRequest(this.#request.keys[0]), ReplyKind.Meta, PRIMARY_STATE);
    }
  }

  /** The primary's reply, or a backup's. */
  onReply(reply: Uint8Array, tag: number): void {
    if (tag === PRIMARY) {
      if (this.#pool.backups.length === 0) {
        this.#reply(reply);
      } else if (this.#readsState && isNumber(reply)) {
        this.#heldReply = reply; // the backups wait for the primary's state
      } else {
        // Backup writes are queued before the reply is delivered: a flush_all barrier waits for
        // the reply, and must find them already queued.
        const backupBytes = this.#backupWrite(reply);
        if (backupBytes !== null) this.#sendToBackups(backupBytes);
        this.#reply(reply);
      }
    } else if (tag === PRIMARY_STATE) {
      this.#releaseHeld(parseItemState(reply));
    } else if (this.#fallbackPending > 0) {
      this.#fallbackPending = 0;
      this.#reply(reply);
    }
    this.#settle();
  }

  /** A server failed: the primary's failure sends the command to the backups. */
  onFailure(error: BackendError, tag: number): void {
    const pool = this.#pool;
    pool.stats.backendErrors++;
    if (error.timedOut) pool.stats.requestTimeouts++;
    if (tag !== PRIMARY_STATE) {
      // The server may or may not have applied the write: it must not serve the key until the
      // key is replayed. (After PRIMARY_STATE, the primary did apply it, and holds the newest.)
      const replica = tag === PRIMARY ? 0 : tag - BACKUP + 1;
      const server = pool.group(replica).indexOf(this.#hash);
      pool.replication?.missed(replica, server, this.#request.keys[0], this.#hash);
    }
    if (tag === PRIMARY) {
      this.#firstFailure = error;
      if (pool.backups.length === 0) {
        this.#reply(failureReply(error));
      } else {
        pool.stats.failovers++;
        this.#fallbackPending = pool.backups.length;
        this.#sendToBackups(this.#bytes);
      }
    } else if (tag === PRIMARY_STATE) {
      this.#releaseHeld(null);
    } else if (this.#fallbackPending > 0 && --this.#fallbackPending === 0) {
      this.#reply(failureReply(this.#firstFailure!));
    }
    this.#settle();
  }

  /**
   * Sends the backups the primary's state after an `incr`/`decr`, then the client its result.
   * Without the state (the key is gone, or the read failed) the backups delete the key: they
   * must not keep the value from before the change.
   */
  #releaseHeld(item: ReturnType<typeof parseItemState>): void {
    const held = this.#heldReply;
    if (held === null) return;
    this.#heldReply = null;
    const key = this.#request.keys[0];
    this.#sendToBackups(item === null ? deleteBytes(key) : setItemRequest(key, item));
    this.#reply(held);
  }

  #send(replica: number, bytes: Uint8Array, kind: ReplyKindCode, tag: number): void {
    this.#outstanding++;
    this.#pool.group(replica).pick(this.#hash).send(bytes, kind, this, tag, this.#sink.affinity);
  }

  #settle(): void {
    if (--this.#outstanding === 0) this.#pool.replication?.tracker.end(this.#hash);
  }

  #reply(reply: Uint8Array): void {
    this.#sink.complete(this.#seq, this.#request.noreply ? EMPTY : reply);
  }

  #sendToBackups(bytes: Uint8Array): void {
    for (let i = 1; i <= this.#pool.backups.length; i++) {
      this.#send(i, bytes, ReplyKind.Line, BACKUP + i - 1);
    }
  }

  /** What the backups get after the primary answered `reply`, or null for nothing. */
  #backupWrite(reply: Uint8Array): Uint8Array | null {
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
        return null; // a number is held for the state; anything else changed nothing
      case Command.Touch:
        return startsWith(reply, TOUCHED) ? this.#bytes : null;
      default: // delete
        return this.#bytes;
    }
  }
}

/** True for the reply of an `incr`/`decr` that changed the value. */
function isNumber(reply: Uint8Array): boolean {
  return reply[0] >= 0x30 && reply[0] <= 0x39;
}
