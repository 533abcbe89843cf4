import type { BackendError, ReplyHandler } from "../backend/reply_handler.ts";
import { parseItemState } from "../protocol/text/item_state.ts";
import { ReplyKind, type ReplyKindCode } from "../protocol/text/response_parser.ts";
import { countFailure, failureReply } from "./failure_reply.ts";
import type { Pool } from "./pool.ts";
import type { ReplySink } from "./reply_sink.ts";
import { AWAIT_STATE, type WriteRule } from "./write_rule.ts";

const EMPTY = new Uint8Array(0);

/** Tags of the requests an operation sends: the primary's, then backup pool i's is `BACKUP + i`. */
const PRIMARY = 0;
/** The state read after the command on the primary (`incr`/`decr`, `ma`): for the backups. */
const PRIMARY_STATE = 1;
const BACKUP = 2;

/**
 * A command that changes one key, in any protocol: its {@linkcode WriteRule} says what the
 * primary gets and what the backups get once the primary has answered (`TextWriteRule`,
 * `metaWriteRule`).
 *
 * The primary gets the command first and its reply goes to the client at once. What the primary
 * did then decides what the backups get, so a backup never takes a write its primary refused.
 * A write whose result the backups need (an `incr`, an `ma`) reads the item right after, on the
 * same connection, and the client's reply waits for that read, so the backups get the result
 * before any later write of this client.
 *
 * Backup writes are sent in the order primary replies arrive, so each backup sees one client's
 * writes in the order that client made them. No client waits for them, so they are deferred
 * (see `Backend.send`): gathered for a moment into one write, which a read of the backup takes
 * along before it. When the primary fails, the command goes to the backups as it is and the
 * first backup that answers replies. Every replica that failed is told to the pool's
 * {@linkcode Replication}, which replays the key there before it serves it again.
 */
export class WriteOperation implements ReplyHandler {
  readonly #pool: Pool;
  readonly #rule: WriteRule;
  readonly #sink: ReplySink;
  readonly #seq: number;
  readonly #hash: number;
  /** Requests sent and not yet answered; the write is over for the tracker at 0. */
  #outstanding = 0;
  /** Replicas asked after the primary failed and not yet answered; -1 before the primary fails. */
  #fallbackPending = -1;
  #firstFailure: BackendError | null = null;
  /** A reply held until the primary's state for the backups arrives. */
  #heldReply: Uint8Array | null = null;

  /**
   * @param pool Where the key lives.
   * @param rule What to send, and what the backups get.
   * @param sink Where the reply goes.
   * @param seq The request's number for `sink`.
   */
  constructor(pool: Pool, rule: WriteRule, sink: ReplySink, seq: number) {
    this.#pool = pool;
    this.#rule = rule;
    this.#sink = sink;
    this.#seq = seq;
    this.#hash = pool.hashOfKey(rule.request, 0);
  }

  /** Sends the command to the key's primary. */
  start(): void {
    const replication = this.#pool.replication;
    replication?.tracker.begin(this.#hash);
    this.#send(0, this.#rule.bytes, this.#rule.replyKind, PRIMARY);
    const stateRequest = replication === null ? null : this.#rule.stateRequest;
    if (stateRequest !== null) this.#send(0, stateRequest, ReplyKind.Meta, PRIMARY_STATE);
  }

  /** The primary's reply, or a backup's. */
  onReply(reply: Uint8Array, tag: number): void {
    if (tag === PRIMARY) {
      if (this.#pool.backups.length === 0) {
        this.#reply(reply);
      } else {
        const backupBytes = this.#rule.afterPrimary(reply);
        if (backupBytes === AWAIT_STATE) {
          this.#heldReply = reply; // the backups wait for the primary's state
        } else {
          // Backup writes are queued before the reply is delivered: a flush_all barrier waits
          // for the reply, and must find them already queued.
          if (backupBytes !== null) this.#sendToBackups(backupBytes, ReplyKind.Meta, true);
          this.#reply(reply);
        }
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
    countFailure(pool.stats, error);
    if (tag !== PRIMARY_STATE) {
      // The server may or may not have applied the write: it must not serve the key until the
      // key is replayed. (After PRIMARY_STATE, the primary did apply it, and holds the newest.)
      const replica = tag === PRIMARY ? 0 : tag - BACKUP + 1;
      const server = pool.group(replica).indexOf(this.#hash);
      pool.replication?.missed(replica, server, this.#rule.key, this.#hash);
    }
    if (tag === PRIMARY) {
      this.#firstFailure = error;
      if (pool.backups.length === 0) {
        this.#reply(failureReply(error));
      } else {
        pool.stats.failovers++;
        this.#fallbackPending = pool.backups.length;
        this.#sendToBackups(this.#rule.bytes, this.#rule.replyKind, false);
      }
    } else if (tag === PRIMARY_STATE) {
      this.#releaseHeld(null);
    } else if (this.#fallbackPending > 0 && --this.#fallbackPending === 0) {
      this.#reply(failureReply(this.#firstFailure!));
    }
    this.#settle();
  }

  /**
   * Sends the backups what the primary's state calls for, then the client its reply. Without
   * the state (the key is gone, or the read failed) the backups delete the key: they must not
   * keep the value from before the change.
   */
  #releaseHeld(item: ReturnType<typeof parseItemState>): void {
    const held = this.#heldReply;
    if (held === null) return;
    this.#heldReply = null;
    this.#sendToBackups(this.#rule.fromState(item), ReplyKind.Meta, true);
    this.#reply(held);
  }

  #send(
    replica: number,
    bytes: Uint8Array,
    kind: ReplyKindCode,
    tag: number,
    deferred = false,
  ): void {
    this.#outstanding++;
    const backend = this.#pool.group(replica).pick(this.#hash);
    backend.send(bytes, kind, this, tag, this.#sink.affinity, deferred);
  }

  #settle(): void {
    if (--this.#outstanding === 0) this.#pool.replication?.tracker.end(this.#hash);
  }

  #reply(reply: Uint8Array): void {
    this.#sink.complete(this.#seq, this.#rule.noreply ? EMPTY : reply);
  }

  /**
   * Sends `bytes` to the key's server in every backup pool: `deferred` when it copies a write
   * the client already has its reply to. What the proxy makes for backups may be a meta command
   * (a key that is not plain, a meta write), so its reply is framed as meta, which frames every
   * one-line text reply too.
   */
  #sendToBackups(bytes: Uint8Array, kind: ReplyKindCode, deferred: boolean): void {
    for (let i = 1; i <= this.#pool.backups.length; i++) {
      this.#send(i, bytes, kind, BACKUP + i - 1, deferred);
    }
  }
}
