import { type BackendError, IGNORE_REPLIES, type ReplyHandler } from "../backend/reply_handler.ts";
import { hasBase64Key, metaFlag } from "../protocol/meta/meta_request.ts";
import { isServerError } from "../protocol/text/replies.ts";
import { buildLine } from "../protocol/text/request_lines.ts";
import { ReplyKind } from "../protocol/text/response_parser.ts";
import type { TextRequest } from "../protocol/text/text_request.ts";
import { countFailure, failureReply } from "./failure_reply.ts";
import type { Pool } from "./pool.ts";
import type { ReplySink } from "./reply_sink.ts";

const MG = new TextEncoder().encode("mg");
const EN = new TextEncoder().encode("EN\r\n");
const BASE64 = new TextEncoder().encode("b");
const T = 0x54;

/** True for `EN`, a meta miss. */
function isMiss(reply: Uint8Array): boolean {
  return reply[0] === 0x45 && reply[1] === 0x4e;
}

/**
 * A meta get (`mg`) of one key, with a single-key `get`'s policy: the primary first; on a miss
 * or a failure, every backup pool at once, and the first pool in order that has the key
 * answers. A backup hit after a primary miss is copied back to the primary (read repair); an
 * `mg` with `T` that hit its primary touches the backups too. A primary that missed writes of
 * the key is not asked.
 */
export class MetaGetOperation implements ReplyHandler {
  readonly #pool: Pool;
  readonly #request: TextRequest;
  readonly #sink: ReplySink;
  readonly #seq: number;
  readonly #hash: number;
  /** Each replica's reply, by replica; undefined while pending or failed. */
  readonly #replies: (Uint8Array | undefined)[] = [];
  #pending = 0;
  #primaryMissed = false;
  /** Whether a replica whose miss can be trusted answered: not a backup being refilled. */
  #answered = false;
  #errorReply: Uint8Array | null = null;
  readonly #since: number;

  /**
   * @param pool Where the key lives.
   * @param request The parsed `mg`.
   * @param sink Where the reply goes.
   * @param seq The request's number for `sink`.
   */
  constructor(pool: Pool, request: TextRequest, sink: ReplySink, seq: number) {
    this.#pool = pool;
    this.#request = request;
    this.#sink = sink;
    this.#seq = seq;
    this.#hash = pool.hashOf(request.keys[0]);
    this.#since = pool.replication?.tracker.now() ?? 0;
  }

  /** Asks the primary, or the backups when the primary missed writes of the key. */
  start(): void {
    const replication = this.#pool.replication;
    const server = this.#pool.primaries.indexOf(this.#hash);
    this.#pending++;
    if (replication?.suspects(0, server, this.#request.keys[0])) this.#askBackups();
    else this.#ask(0);
    this.#done();
  }

  #ask(replica: number): void {
    this.#pending++;
    this.#pool.group(replica).pick(this.#hash).send(
      this.#request.raw,
      ReplyKind.Meta,
      this,
      replica,
      this.#sink.affinity,
    );
  }

  #askBackups(): void {
    const replication = this.#pool.replication!;
    const key = this.#request.keys[0];
    for (let r = 1; r < this.#pool.replicas; r++) {
      if (!replication.suspects(r, this.#pool.group(r).indexOf(this.#hash), key)) this.#ask(r);
    }
  }

  /** A replica's reply: a hit is kept, a miss on the primary asks the backups. */
  onReply(reply: Uint8Array, replica: number): void {
    if (isServerError(reply)) {
      this.#errorReply ??= reply;
      if (replica === 0 && this.#pool.replicas > 1) this.#askBackups();
      this.#done();
      return;
    }
    const group = this.#pool.group(replica);
    if (replica === 0 || !this.#pool.replication!.refilling(replica, group.indexOf(this.#hash))) {
      this.#answered = true;
    }
    this.#replies[replica] = reply;
    if (replica === 0 && isMiss(reply) && this.#pool.replicas > 1) {
      this.#primaryMissed = true;
      this.#askBackups();
    }
    this.#done();
  }

  /** A replica failed: the primary's failure asks the backups. */
  onFailure(error: BackendError, replica: number): void {
    const stats = this.#pool.stats;
    this.#errorReply ??= failureReply(error);
    countFailure(stats, error);
    if (replica === 0 && this.#pool.replicas > 1) {
      stats.failovers++;
      this.#askBackups();
    }
    this.#done();
  }

  #done(): void {
    if (--this.#pending > 0) return;
    const pool = this.#pool;
    const stats = pool.stats;
    let miss: Uint8Array | undefined;
    for (let r = 0; r < pool.replicas; r++) {
      const reply = this.#replies[r];
      if (reply === undefined) continue;
      if (isMiss(reply)) {
        miss ??= reply;
        continue;
      }
      stats.getHits++;
      if (r > 0) {
        stats.backupHits++;
        if (this.#primaryMissed) {
          pool.replication!.repair(
            this.#request.keys[0],
            this.#hash,
            pool.group(r).pick(this.#hash),
            pool.primaries.pick(this.#hash),
            this.#since,
          );
        }
      } else if (pool.replicas > 1) {
        this.#touchBackups();
      }
      this.#sink.complete(this.#seq, reply);
      return;
    }
    stats.getMisses++;
    const answer = miss !== undefined && this.#answered ? miss : this.#errorReply ?? miss ?? EN;
    this.#sink.complete(this.#seq, answer);
  }

  /** After a primary hit of an `mg` with `T`: the same new TTL on the backups. */
  #touchBackups(): void {
    const request = this.#request;
    const ttl = metaFlag(request, T);
    if (ttl === null) return;
    const words = [MG, request.tokens[1]];
    if (hasBase64Key(request)) words.push(BASE64);
    words.push(ttl);
    const touch = buildLine(words);
    for (let r = 1; r < this.#pool.replicas; r++) {
      this.#pool.group(r).pick(this.#hash).send(touch, ReplyKind.Meta, IGNORE_REPLIES, 0, 0);
    }
  }
}
