import type { HashFunction } from "../hash/hash_function.ts";
import { ByteSlab } from "../protocol/byte_slab.ts";
import { ScratchBuffer } from "../protocol/scratch_buffer.ts";
import { hashTagged } from "../hash/hash_tag.ts";
import type { ProxyStats } from "../observability/stats.ts";
import type { Backend } from "../backend/backend.ts";
import type { Logger } from "../observability/log.ts";
import { Replication, type ReplicationOptions } from "./replication.ts";
import type { ServerGroup } from "./server_group.ts";
import type { TextRequest } from "../protocol/text/text_request.ts";

/** Bytes in one block of {@linkcode Pool.slab}. */
const SLAB_BLOCK_SIZE = 16 * 1024;
/** The longest piece carved from a block of {@linkcode Pool.slab}. */
const SLAB_MAX_SHARED = 4 * 1024;

/**
 * One pool's placement: its primaries, its backup pools, and how a key is hashed; and, when it
 * has backups, the {@linkcode Replication} that keeps them in step.
 */
export class Pool {
  readonly #hash: HashFunction;
  readonly #hashTag: Uint8Array | null;
  /** What keeps the replicas in step after failures; null without backups. */
  readonly replication: Replication | null;
  /**
   * Where operations build the bytes they send and the replies they merge: many small pieces
   * carved from one block, rather than a buffer (a `malloc`) each. A reply that has to wait for
   * its client is copied out by the session, so a kept piece holds at most one block.
   */
  readonly slab: ByteSlab = new ByteSlab(SLAB_BLOCK_SIZE, SLAB_MAX_SHARED);
  /**
   * Where a large merged reply is put together, to be handed on as transient: the session
   * writes it at once, or copies it if it must wait. One buffer serves them all, with no
   * allocation (and no zeroing) per reply.
   */
  readonly scratch: ScratchBuffer = new ScratchBuffer();

  /**
   * Where a merged reply of `length` bytes is put together: the slab up to the pieces it
   * shares (4 KiB), the scratch buffer past them.
   */
  mergeBuffer(length: number): ByteSlab | ScratchBuffer {
    return length > SLAB_MAX_SHARED ? this.scratch : this.slab;
  }

  /**
   * @param primaries The servers that own keys.
   * @param backups Backup pools: each holds one more replica of every key.
   * @param hash The hash function keys are placed by.
   * @param hashTag Two bytes, such as `{}`: only the part of a key between them is hashed.
   * @param stats The counters operations update.
   * @param replication Limits and rates of replays and refills, and where they are logged.
   */
  constructor(
    readonly primaries: ServerGroup,
    readonly backups: readonly ServerGroup[],
    hash: HashFunction,
    hashTag: Uint8Array | null,
    readonly stats: ProxyStats,
    replication: { options: ReplicationOptions; logger: Logger },
  ) {
    this.#hash = hash;
    this.#hashTag = hashTag;
    this.replication = backups.length === 0
      ? null
      : new Replication(this, replication.options, replication.logger);
  }

  /**
   * The hash a key is placed by, in every group of this pool: of the key `key[start..end)`, all
   * of `key` by default.
   */
  hashOf(key: Uint8Array, start = 0, end = key.length): number {
    if (this.#hashTag === null) return this.#hash(key, start, end);
    return this.#hash(hashTagged(key.subarray(start, end), this.#hashTag));
  }

  /** The hash key `i` of `request` is placed by, read where it lies (no view of the key). */
  hashOfKey(request: TextRequest, i: number): number {
    return this.hashOf(request.keySource(i), request.keyStart(i), request.keyEnd(i));
  }

  /** The group that holds replica `replica` of every key: 0 is the primaries, 1… the backups. */
  group(replica: number): ServerGroup {
    return replica === 0 ? this.primaries : this.backups[replica - 1];
  }

  /** How many replicas each key has: the primary and one per backup pool. */
  get replicas(): number {
    return 1 + this.backups.length;
  }

  /** Every server of the pool, primaries first, each once. */
  allBackends(): Backend[] {
    const all = new Set<Backend>(this.primaries.backends);
    for (const group of this.backups) for (const b of group.backends) all.add(b);
    return [...all];
  }
}
