import { type BackendError, IGNORE_REPLIES, type ReplyHandler } from "../backend/reply_handler.ts";
import { concatBytes } from "../protocol/bytes.ts";
import { isTouchRetrieval } from "../protocol/text/command.ts";
import { touchRequest } from "../protocol/text/item_state.ts";
import { retrievalLine } from "../protocol/text/request_lines.ts";
import {
  fileValueBlocks,
  type FoundBlocks,
  isErrorReply,
  ReplyKind,
  valueCount,
} from "../protocol/text/response_parser.ts";
import { END } from "../protocol/text/replies.ts";
import type { TextRequest } from "../protocol/text/text_request.ts";
import type { ValueBlockIndex } from "../protocol/text/value_block_index.ts";
import { countFailure, failureReply } from "./failure_reply.ts";
import type { Pool } from "./pool.ts";
import type { ReplySink } from "./reply_sink.ts";

/** One request this operation sent: which keys it carries, to which replica. */
interface Part {
  /** Indexes into the request's keys. */
  keys: number[];
  /** 0 for the primaries, 1… for the backup pools. */
  replica: number;
  /** The server's index in its group. */
  server: number;
}

/**
 * A `get`, `gets`, `gat` or `gats` for any number of keys.
 *
 * The keys are split by primary and sent to each in parallel. As soon as one primary answers,
 * the keys it missed or failed go to every backup pool at once. Asking then, and not after the
 * other primaries, keeps each backup's view in the client's order: writes reach a backup when
 * their primary answers, so a later write cannot overtake the fallback of an earlier read. Each
 * key takes its block from the primary, else from the first backup pool that has it. The blocks
 * are merged in the order of the request's keys, duplicates included; when one server answered
 * for every key, its reply is passed on untouched.
 */
export class GetOperation implements ReplyHandler {
  readonly #pool: Pool;
  readonly #request: TextRequest;
  readonly #sink: ReplySink;
  readonly #seq: number;
  readonly #hashes: number[];
  /** Where each key's block was found, by replica; made only when a reply must be picked apart. */
  readonly #found: (FoundBlocks | undefined)[] = [];
  readonly #parts: Part[] = [];
  #pending = 0;
  /** The primary's reply, when it is the whole answer; see {@linkcode onReply}. */
  #whole: Uint8Array | null = null;
  /** How many keys `#whole` holds. */
  #wholeHits = 0;
  /** Whether `#whole` is a view into a connection's read buffer, valid only while it is handled. */
  #wholeTransient = false;
  /** What to answer if no server could answer: the first failure seen. */
  #errorReply: Uint8Array | null = null;
  /**
   * Whether a server answered whose misses can be trusted: a primary, or a backup that is not
   * being refilled. When one did, missing keys are misses; when none did, the reply is an error.
   */
  #answered = false;
  /** Keys (by index) their primary answered a miss for: a backup hit is copied back. */
  #primaryMissed: boolean[] | null = null;
  /** When the get started, for read repairs: writes after it make a repair moot. */
  readonly #since: number;

  /**
   * @param pool Where keys live.
   * @param request The parsed retrieval request.
   * @param sink Where the merged reply goes.
   * @param seq The request's number for `sink`.
   */
  constructor(pool: Pool, request: TextRequest, sink: ReplySink, seq: number) {
    this.#pool = pool;
    this.#request = request;
    this.#sink = sink;
    this.#seq = seq;
    const count = request.keyCount;
    this.#hashes = new Array(count);
    for (let i = 0; i < count; i++) {
      this.#hashes[i] = pool.hashOfKey(request, i);
    }
    this.#since = pool.replication?.tracker.now() ?? 0;
  }

  /**
   * True while the reply awaited is the last, and no backup pool could be asked after it: it
   * may then be a view into the connection's read buffer, since the answer is put together
   * (and copied) before {@linkcode onReply} returns.
   */
  get takesTransientReplies(): boolean {
    return this.#pending === 1 && this.#pool.replicas === 1;
  }

  /** Sends the keys to their primaries. */
  start(): void {
    const all = new Array<number>(this.#request.keyCount);
    for (let i = 0; i < all.length; i++) all[i] = i;
    this.#pending++; // held while asking, so that no reply finishes the operation early
    this.#ask(0, all);
    if (--this.#pending === 0) this.#finish();
  }

  /**
   * Asks replica `replica`'s servers for the keys with indexes `keyIndexes`. A server that
   * missed a write of a key is not asked for it: the primary's such keys go to the backups.
   */
  #ask(replica: number, keyIndexes: number[]): void {
    const group = this.#pool.group(replica);
    const replication = this.#pool.replication;
    const request = this.#request;
    const everyKey = keyIndexes.length === request.keyCount;
    if (keyIndexes.length === 1) {
      const k = keyIndexes[0];
      const server = group.indexOf(this.#hashes[k]);
      const source = request.keySource(k);
      if (replication?.suspects(replica, server, source, request.keyStart(k), request.keyEnd(k))) {
        if (replica === 0) this.#askBackups(keyIndexes);
      } else {
        this.#send(replica, server, keyIndexes, everyKey);
      }
      return;
    }
    // The keys of each server, by the server's index in its group.
    const byServer = new Array<number[] | undefined>(group.backends.length);
    let suspect: number[] | null = null;
    for (const k of keyIndexes) {
      const server = group.indexOf(this.#hashes[k]);
      const source = request.keySource(k);
      if (replication?.suspects(replica, server, source, request.keyStart(k), request.keyEnd(k))) {
        (suspect ??= []).push(k);
        continue;
      }
      const list = byServer[server];
      if (list === undefined) byServer[server] = [k];
      else list.push(k);
    }
    for (let server = 0; server < byServer.length; server++) {
      const list = byServer[server];
      if (list !== undefined) this.#send(replica, server, list, list.length === request.keyCount);
    }
    if (suspect !== null && replica === 0) this.#askBackups(suspect);
  }

  #askBackups(keyIndexes: number[]): void {
    for (let replica = 1; replica < this.#pool.replicas; replica++) this.#ask(replica, keyIndexes);
  }

  /** Sends one part: the request as received when it carries every key, else a subrequest. */
  #send(replica: number, server: number, keys: number[], everyKey: boolean): void {
    this.#pending++;
    const tag = this.#parts.push({ keys, replica, server }) - 1;
    const bytes = everyKey
      ? this.#request.raw
      : retrievalLine(this.#request, keys, this.#pool.slab);
    this.#pool.group(replica).backends[server].send(
      bytes,
      ReplyKind.Get,
      this,
      tag,
      this.#sink.affinity,
    );
  }

  /** The blocks found on `replica`, by key index. */
  #foundOn(replica: number): FoundBlocks {
    const n = this.#request.keyCount;
    return this.#found[replica] ??= {
      replies: new Array(n),
      starts: new Array(n),
      ends: new Array(n),
    };
  }

  /**
   * A server's reply: its blocks are filed under the keys of its part, as `blocks` says when the
   * connection indexed them, else by matching them to the part's keys in order.
   */
  onReply(reply: Uint8Array, tag: number, transient = false, blocks?: ValueBlockIndex): void {
    if (isErrorReply(reply)) {
      this.#errorReply ??= transient ? reply.slice() : reply;
      this.#partDone(tag, false);
      return;
    }
    const part = this.#parts[tag];
    const keyCount = this.#request.keyCount;
    if (part.replica === 0 || !this.#pool.replication!.refilling(part.replica, part.server)) {
      this.#answered = true;
    }
    if (part.replica === 0 && part.keys.length === keyCount) {
      // One primary answered for every key. When it had them all (the common case), or there is
      // no backup to ask, its reply is the answer: no block needs to be picked out.
      const hits = blocks !== undefined ? blocks.count : valueCount(reply);
      if (hits === keyCount || this.#pool.replicas === 1) {
        this.#whole = reply;
        this.#wholeTransient = transient;
        this.#wholeHits = hits;
        this.#partDone(tag, true);
        return;
      }
    }
    const found = this.#foundOn(part.replica);
    if (blocks === undefined) {
      fileValueBlocks(reply, this.#request, part.keys, found);
    } else {
      for (let b = 0; b < blocks.count; b++) {
        const k = part.keys[blocks.key(b)];
        found.replies[k] = reply;
        found.starts[k] = blocks.start(b);
        found.ends[k] = blocks.end(b);
      }
    }
    this.#partDone(tag, true);
  }

  /** A server failed: its keys stay unfound on that replica. */
  onFailure(error: BackendError, tag: number): void {
    this.#errorReply ??= failureReply(error);
    countFailure(this.#pool.stats, error);
    this.#partDone(tag, false);
  }

  #partDone(tag: number, answered: boolean): void {
    const part = this.#parts[tag];
    if (part.replica === 0 && this.#pool.replicas > 1 && this.#whole === null) {
      const found = this.#found[0]?.replies;
      const missing = part.keys.filter((k) => found?.[k] === undefined);
      if (missing.length > 0) {
        if (answered) {
          const missed = this.#primaryMissed ??= new Array(this.#request.keyCount);
          for (const k of missing) missed[k] = true;
        } else {
          this.#pool.stats.failovers++;
        }
        this.#askBackups(missing);
      }
    }
    if (--this.#pending === 0) this.#finish();
  }

  /**
   * What the other replicas are told of key `k`, served by `replica`: a backup's hit after a
   * primary miss is copied back to the primary, and a key a `gat`/`gats` touched on its primary
   * is touched on the backups too.
   */
  #afterHit(k: number, replica: number): void {
    const pool = this.#pool;
    const request = this.#request;
    const hash = this.#hashes[k];
    if (replica > 0) {
      if (this.#primaryMissed?.[k]) {
        const source = pool.group(replica).pick(hash);
        pool.replication!.repair(
          request.keys[k],
          hash,
          source,
          pool.primaries.pick(hash),
          this.#since,
        );
      }
    } else if (isTouchRetrieval(request.command)) {
      const touch = touchRequest(request.keys[k], request.tokens[1]);
      for (let r = 1; r < pool.replicas; r++) {
        pool.group(r).pick(hash).send(touch, ReplyKind.Line, IGNORE_REPLIES, 0, 0);
      }
    }
  }

  #finish(): void {
    const stats = this.#pool.stats;
    const replicated = this.#pool.replication !== null;
    if (this.#whole !== null) {
      // Of a primary's hits, only a gat's or gats's touch goes on to the backups.
      if (replicated && isTouchRetrieval(this.#request.command)) {
        for (let k = 0; k < this.#wholeHits; k++) this.#afterHit(k, 0);
      }
      stats.getHits += this.#wholeHits;
      stats.getMisses += this.#request.keyCount - this.#wholeHits;
      this.#sink.complete(this.#seq, this.#whole, this.#wholeTransient);
      return;
    }
    // Blocks that lie next to each other in one reply (keys in a row on one server, the common
    // case) are cut out as one chunk.
    const chunks: Uint8Array[] = [];
    let total = END.length;
    let hits = 0;
    let run: Uint8Array | undefined;
    let runStart = 0;
    let runEnd = 0;
    const keyCount = this.#request.keyCount;
    for (let k = 0; k < keyCount; k++) {
      let replica = 0;
      while (replica < this.#found.length && this.#found[replica]?.replies[k] === undefined) {
        replica++;
      }
      const found = this.#found[replica];
      if (found === undefined) continue;
      hits++;
      if (replica > 0) stats.backupHits++;
      if (replicated) this.#afterHit(k, replica);
      const reply = found.replies[k];
      const start = found.starts[k];
      const end = found.ends[k];
      if (reply === run && start === runEnd) {
        runEnd = end;
        continue;
      }
      if (run !== undefined) total += pushRun(chunks, run, runStart, runEnd);
      run = reply;
      runStart = start;
      runEnd = end;
    }
    if (run !== undefined) total += pushRun(chunks, run, runStart, runEnd);
    stats.getHits += hits;
    stats.getMisses += keyCount - hits;
    if (hits === 0 && !this.#answered && this.#errorReply !== null) {
      this.#sink.complete(this.#seq, this.#errorReply);
      return;
    }
    chunks.push(END);
    // A large merged reply is put together in the pool's scratch buffer, and handed on as
    // transient: the session writes it at once, or copies it if it must wait. (Over 1 MiB, the
    // scratch buffer gives one of its own, which the session may keep.)
    const merged = concatBytes(chunks, total, this.#pool.mergeBuffer(total));
    this.#sink.complete(this.#seq, merged, this.#pool.scratch.holds(merged));
  }
}

/** Adds the run `reply[start..end)` to `chunks`; returns its length. */
function pushRun(chunks: Uint8Array[], reply: Uint8Array, start: number, end: number): number {
  const run = reply.subarray(start, end);
  chunks.push(run);
  return run.length;
}
