import type { Backend } from "../backend/backend.ts";
import { dumpKeys, type KeyDumpWalk, KeyDumpWalkUnsupported } from "../backend/key_dump.ts";
import type { Logger } from "../observability/log.ts";
import { ReplyKind } from "../protocol/text/response_parser.ts";
import { OK } from "../protocol/text/replies.ts";
import { startsWith } from "../protocol/bytes.ts";
import type { BackendError, ReplyHandler } from "../backend/reply_handler.ts";
import { CopyJob, type CopyOutcome, type CopySpec } from "./copy_job.ts";
import { MissedKeys } from "./missed_keys.ts";
import type { Pool } from "./pool.ts";
import { WriteTracker } from "./write_tracker.ts";

/** How a pool keeps its replicas in step after failures. */
export interface ReplicationOptions {
  /** Keys remembered per replica as missed; past it the replica is flushed and refilled. */
  replayLimit: number;
  /** Keys copied per second by a refill. */
  refillRate: number;
  /**
   * Milliseconds to wait after a replica answers again before replaying what it missed: a hung
   * server, once resumed, first runs the requests it had buffered, and the replay must come
   * after them.
   */
  settleMs: number;
  /** Connect and read timeout of a refill's key dump, in milliseconds. */
  timeoutMs: number;
}

/** Read repairs in flight at once; more are dropped, and the next read asks again. */
const MAX_REPAIRS_IN_FLIGHT = 256;
/** Keys replayed or refilled at once. */
const BATCH = 64;
/** Longest wait between two attempts at a replay that fails. */
const MAX_BACKOFF_MS = 5000;
/** Keys scanned between two progress lines of a refill in the log. */
const PROGRESS_EVERY = 10_000;
/** Attempts at a refill copy that failed, or that a client write raced. */
const RETRIES = 5;
/** Attempts at a refill's key dump of one source (memcached answers BUSY while it crawls). */
const DUMP_ATTEMPTS = 5;
/** LRU walks of one source per refill, at most: the first, and passes that still found keys. */
const LRU_DUMP_PASSES = 5;
/** The wait before the first retry; doubled for each next one. */
const RETRY_WAIT_MS = 20;

const FLUSH_ALL = new TextEncoder().encode("flush_all\r\n");
const NOT_REPLAYED: CopyOutcome = { deleted: false, copied: false, raced: false, failed: true };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How far a refill got, for its log lines. */
interface RefillProgress {
  /** Keys found that belong to the refilled server. */
  scanned: number;
  /** Keys it stored. */
  copied: number;
  /** Keys not copied after every retry. */
  failed: number;
}

/**
 * Keeps a pool's replicas from serving stale data after failures, and refills replicas that lost
 * their data. It knows three ways a replica falls behind:
 * - **It missed writes** (down, hung, or failing when they were sent). The keys are remembered
 *   per replica ({@linkcode MissedKeys}); reads skip the replica for them; once the replica
 *   answers again, each is replayed: deleted there, then copied from a replica that has it.
 * - **It missed too many**, or a `flush_all`: it is flushed, then refilled.
 * - **It restarted empty**: it is refilled in the background. Keys are enumerated on the other
 *   replicas with `lru_crawler metadump hash` (by LRU on servers without it), and those that belong to it are copied, with their
 *   flags and remaining TTL, at `refillRate` keys a second.
 *
 * A backup hit after a primary miss is also copied back to the primary (read repair). Every copy
 * is a {@linkcode CopyJob}: it never overwrites or resurrects what a client wrote meanwhile.
 */
export class Replication {
  /** Client writes in flight and recent, by key slot: what copies check before storing. */
  readonly tracker = new WriteTracker();
  readonly #pool: Pool;
  readonly #options: ReplicationOptions;
  readonly #logger: Logger;
  /** Missed keys by replica (0 for the primaries) and server index. */
  readonly #missed: MissedKeys[][];
  /** Replays running, each with what cuts its current wait short. */
  readonly #replaying = new Map<MissedKeys, () => void>();
  readonly #refilling = new Set<MissedKeys>();
  #repairsInFlight = 0;
  #closed = false;

  /**
   * @param pool The pool whose replicas this keeps in step.
   * @param options Limits and rates.
   * @param logger Where replays and refills are reported.
   */
  constructor(pool: Pool, options: ReplicationOptions, logger: Logger) {
    this.#pool = pool;
    this.#options = options;
    this.#logger = logger;
    this.#missed = [];
    for (let r = 0; r < pool.replicas; r++) {
      this.#missed.push(pool.group(r).backends.map(() => new MissedKeys(options.replayLimit)));
    }
  }

  /**
   * True when server `server` of replica `replica` must not serve the key at `key[start..end)`
   * (all of `key` by default) now.
   */
  suspects(replica: number, server: number, key: Uint8Array, start = 0, end = key.length): boolean {
    return this.#missed[replica][server].suspects(key, start, end);
  }

  /** True while server `server` of replica `replica` is being refilled: its misses mean little. */
  refilling(replica: number, server: number): boolean {
    return this.#refilling.has(this.#missed[replica][server]);
  }

  /**
   * Server `server` of replica `replica` missed a write or delete of `key`, or may have: it
   * failed, timed out or was down. The key is replayed there once the server answers.
   */
  missed(replica: number, server: number, key: Uint8Array, hash: number): void {
    this.#missed[replica][server].add(key, hash);
    this.#scheduleReplay(replica, server);
  }

  /** A server missed a `flush_all`: nothing on it can be trusted until it is flushed. */
  missedFlush(backend: Backend): void {
    this.#forEachSlot(backend, (replica, server) => {
      this.#missed[replica][server].distrust();
      this.#scheduleReplay(replica, server);
    });
  }

  /**
   * The servers that are behind: missed writes not yet replayed, or a refill not finished. A
   * reload hands them to the new tree's replication.
   */
  behind(): Backend[] {
    const out = new Set<Backend>();
    for (let r = 0; r < this.#missed.length; r++) {
      this.#missed[r].forEach((missed, s) => {
        if (missed.size > 0 || missed.overflowed || this.#refilling.has(missed)) {
          out.add(this.#pool.group(r).backends[s]);
        }
      });
    }
    return [...out];
  }

  /** Keys waiting for a replay, over every replica. */
  pendingReplays(): number {
    let n = 0;
    for (const group of this.#missed) for (const m of group) n += m.size;
    return n;
  }

  /**
   * Copies `key` back to its primary `target` after backup `source` served it on a primary
   * miss, unless a client wrote the key after moment `since`.
   */
  repair(key: Uint8Array, hash: number, source: Backend, target: Backend, since: number): void {
    if (this.#repairsInFlight >= MAX_REPAIRS_IN_FLIGHT) return;
    this.#repairsInFlight++;
    const spec = { key: key.slice(), hash, source, target, deleteFirst: false, since };
    new CopyJob(spec, this.tracker, (outcome) => {
      this.#repairsInFlight--;
      if (outcome.copied) this.#pool.stats.readRepairs++;
    }).start();
  }

  /** A server answers again: replay what it missed, after a pause for its buffered requests. */
  serverUp(backend: Backend): void {
    this.#forEachSlot(backend, (replica, server) => this.#scheduleReplay(replica, server, true));
  }

  /** A server restarted empty: refill it from the other replicas, and replay at once. */
  serverRestarted(backend: Backend): void {
    this.#logger.log("warn", "server restarted empty", { server: backend.address });
    this.#forEachSlot(backend, (replica, server) => {
      this.#refill(replica, server);
      this.#scheduleReplay(replica, server, true);
    });
  }

  /** Stops replays and refills. */
  close(): void {
    this.#closed = true;
  }

  #forEachSlot(backend: Backend, act: (replica: number, server: number) => void): void {
    for (let r = 0; r < this.#pool.replicas; r++) {
      const backends = this.#pool.group(r).backends;
      for (let s = 0; s < backends.length; s++) if (backends[s] === backend) act(r, s);
    }
  }

  /**
   * Starts replaying a replica's missed keys unless a replay runs. With `wake`, a running replay
   * that waits (for the server, or to retry) goes on at once: the server just came back.
   */
  #scheduleReplay(replica: number, server: number, wake = false): void {
    const missed = this.#missed[replica][server];
    const waiting = this.#replaying.get(missed);
    if (waiting !== undefined) {
      if (wake) waiting();
      return;
    }
    if (this.#closed) return;
    this.#replaying.set(missed, () => {});
    this.#replay(replica, server, missed).finally(() => this.#replaying.delete(missed));
  }

  /** Waits `ms`, or less if the replay of `missed` is woken. */
  #pause(missed: MissedKeys, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#replaying.set(missed, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  async #replay(replica: number, server: number, missed: MissedKeys): Promise<void> {
    const target = this.#pool.group(replica).backends[server];
    let backoff = this.#options.settleMs;
    await this.#pause(missed, this.#options.settleMs);
    while ((missed.size > 0 || missed.overflowed) && target.up && !this.#closed) {
      if (missed.overflowed) {
        if (await this.#flush(target)) {
          missed.clear();
          this.#logger.log("warn", "server missed too much to replay: flushed", {
            server: target.address,
          });
          this.#refill(replica, server);
        } else {
          await this.#pause(missed, backoff = Math.min(backoff * 2, MAX_BACKOFF_MS));
        }
        continue;
      }
      const batch = missed.oldest(BATCH);
      const outcomes = await Promise.all(batch.map((entry) => {
        const source = this.#sourceFor(replica, entry.hash, entry.key);
        // With no replica to copy from, the key stays missed: deleting it alone would leave
        // one copy fewer of a value a second failure could then lose.
        if (source === null) return NOT_REPLAYED;
        const since = this.tracker.now();
        return this.#copy({ ...entry, source, target, deleteFirst: true, since });
      }));
      let failed = false;
      for (let i = 0; i < batch.length; i++) {
        const outcome = outcomes[i];
        // Replayed: the stale value is gone, and the current one, if any, copied. A copy a
        // client write raced is replayed again, as the write may have been to another key.
        if (outcome.deleted && !outcome.failed && !outcome.raced) {
          missed.replayed(batch[i]);
          this.#pool.stats.replayedKeys++;
        } else {
          failed = true;
        }
      }
      if (failed) await this.#pause(missed, backoff = Math.min(backoff * 2, MAX_BACKOFF_MS));
    }
  }

  /** Sends `flush_all` to `target`; true when it said `OK`. */
  #flush(target: Backend): Promise<boolean> {
    return new Promise((resolve) => {
      const handler: ReplyHandler = {
        onReply: (reply: Uint8Array) => resolve(startsWith(reply, OK)),
        onFailure: (_error: BackendError) => resolve(false),
      };
      target.send(FLUSH_ALL, ReplyKind.Line, handler, 0, 0);
    });
  }

  /** A server of another replica that can serve `key`: up, and not missing it. */
  #sourceFor(replica: number, hash: number, key: Uint8Array): Backend | null {
    for (let r = 0; r < this.#pool.replicas; r++) {
      if (r === replica) continue;
      const group = this.#pool.group(r);
      const server = group.indexOf(hash);
      if (group.backends[server].up && !this.suspects(r, server, key)) {
        return group.backends[server];
      }
    }
    return null;
  }

  #copy(spec: CopySpec): Promise<CopyOutcome> {
    return new Promise((resolve) => new CopyJob(spec, this.tracker, resolve).start());
  }

  #refill(replica: number, server: number): void {
    const missed = this.#missed[replica][server];
    if (this.#refilling.has(missed) || this.#closed) return;
    this.#refilling.add(missed);
    const stats = this.#pool.stats;
    stats.refills++;
    stats.refillsRunning++;
    this.#runRefill(replica, server).finally(() => {
      this.#refilling.delete(missed);
      stats.refillsRunning--;
    });
  }

  async #runRefill(replica: number, server: number): Promise<void> {
    const target = this.#pool.group(replica).backends[server];
    const sources = this.#pool.group(replica === 0 ? 1 : 0).backends;
    const started = Date.now();
    const progress: RefillProgress = { scanned: 0, copied: 0, failed: 0 };
    const skipped: string[] = [];
    this.#logger.log("info", "refill started", {
      server: target.address,
      from: sources.map((b) => b.address).join(","),
      rate: this.#options.refillRate,
    });
    for (let s = 0; s < sources.length && !this.#closed; s++) {
      const dump = { walk: "hash" as KeyDumpWalk };
      // A hash-table walk sees every key once. An LRU walk (older servers) can leave out keys
      // the LRU moves during the crawl: walk again while a pass still finds keys to copy.
      for (let pass = 1; pass <= LRU_DUMP_PASSES && !this.#closed; pass++) {
        const copiedBefore = progress.copied;
        const failure = await this.#dumpAndCopy(replica, server, s, progress, dump);
        if (failure !== null) {
          skipped.push(`${sources[s].address} (${failure})`);
          break;
        }
        if (dump.walk === "hash" || progress.copied === copiedBefore) break;
      }
    }
    const ms = Date.now() - started;
    this.#pool.stats.lastRefillMs = ms;
    this.#logger.log(skipped.length > 0 || progress.failed > 0 ? "warn" : "info", "refill done", {
      server: target.address,
      ...progress,
      ms,
      ...(skipped.length > 0 ? { incomplete: skipped.join("; ") } : {}),
    });
  }

  /**
   * One pass of {@linkcode #refillFrom}, with the key dump retried when it fails. A server that
   * cannot walk its hash table is walked by LRU instead, and `dump.walk` says so. Returns null,
   * or why the source was given up.
   */
  async #dumpAndCopy(
    replica: number,
    server: number,
    s: number,
    progress: RefillProgress,
    dump: { walk: KeyDumpWalk },
  ): Promise<string | null> {
    const target = this.#pool.group(replica).backends[server];
    const source = this.#pool.group(replica === 0 ? 1 : 0).backends[s];
    for (let attempt = 1;; attempt++) {
      try {
        await this.#refillFrom(replica, server, s, progress, dump.walk);
        return null;
      } catch (error) {
        const reason = (error as Error).message;
        if (error instanceof KeyDumpWalkUnsupported && dump.walk === "hash") {
          this.#logger.log(
            "info",
            "refill: the source cannot dump by hash table; walking its LRUs",
            {
              from: source.address,
              reason,
            },
          );
          dump.walk = "lru";
          attempt--;
          continue;
        }
        if (attempt === DUMP_ATTEMPTS || this.#closed || !target.up) return reason;
        this.#logger.log("warn", "refill key dump failed: retrying", {
          server: target.address,
          from: source.address,
          reason,
        });
        await sleep(RETRY_WAIT_MS << attempt);
      }
    }
  }

  /**
   * Copies to server `server` of replica `replica` the keys it owns among those source server
   * `s` holds, at the refill rate. A key a client raced, or whose copy failed, is tried again
   * a few times. Throws when the key dump fails; the keys it counted are then uncounted.
   */
  async #refillFrom(
    replica: number,
    server: number,
    s: number,
    progress: RefillProgress,
    walk: KeyDumpWalk,
  ): Promise<void> {
    const pool = this.#pool;
    const stats = pool.stats;
    const target = pool.group(replica).backends[server];
    const sources = pool.group(replica === 0 ? 1 : 0);
    const source = sources.backends[s];
    const batchMs = (1000 * BATCH) / this.#options.refillRate;
    let scanned = 0;
    let batch: CopySpec[] = [];
    let retry: CopySpec[] = [];
    const copyBatch = async () => {
      const began = Date.now();
      const outcomes = await Promise.all(batch.map((spec) => this.#copy(spec)));
      outcomes.forEach((o, i) => {
        if (o.copied) {
          progress.copied++;
          stats.refillKeysCopied++;
        }
        if (o.raced || o.failed) retry.push(batch[i]);
      });
      batch = [];
      const wait = batchMs - (Date.now() - began);
      if (wait > 0) await sleep(wait);
    };
    try {
      const dump = dumpKeys({
        hostname: source.hostname,
        port: source.port,
        timeoutMs: this.#options.timeoutMs,
        walk,
      });
      for await (const key of dump) {
        const hash = pool.hashOf(key);
        if (pool.group(replica).indexOf(hash) !== server || sources.indexOf(hash) !== s) continue;
        scanned++;
        stats.refillKeysScanned++;
        if (++progress.scanned % PROGRESS_EVERY === 0) {
          this.#logger.log("info", "refill progress", { server: target.address, ...progress });
        }
        batch.push({ key, hash, source, target, deleteFirst: false, since: this.tracker.now() });
        if (batch.length === BATCH) await copyBatch();
        if (this.#closed) return;
      }
    } catch (error) {
      progress.scanned -= scanned;
      stats.refillKeysScanned -= scanned;
      throw error;
    }
    await copyBatch();
    for (let attempt = 0; attempt < RETRIES && retry.length > 0 && target.up; attempt++) {
      await sleep(RETRY_WAIT_MS << attempt);
      batch = retry.map((spec) => ({ ...spec, since: this.tracker.now() }));
      retry = [];
      await copyBatch();
    }
    progress.failed += retry.length;
  }
}
