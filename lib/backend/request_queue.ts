import type { ReplyHandler } from "./reply_handler.ts";
import type { ReplyKindCode } from "../protocol/text/response_parser.ts";

/**
 * The requests sent on one connection and not yet answered, oldest first: a ring of parallel
 * arrays, so queuing a request allocates nothing once the ring has grown to the pipeline's depth.
 */
export class RequestQueue {
  #handlers: (ReplyHandler | undefined)[] = new Array(64);
  #tags = new Float64Array(64);
  #kinds = new Uint8Array(64);
  /** Each `get` line that may be joined with its neighbours; undefined for other requests. */
  #lines: (Uint8Array | undefined)[] = new Array(64);
  /** 1 for a request joined to the one before it: the two share one reply. */
  #joined = new Uint8Array(64);
  /** When each request was written, on `performance.now()`'s clock; see {@linkcode stamp}. */
  #sentAt = new Float64Array(64);
  #head = 0;
  #size = 0;
  /** How many requests from the head on have been stamped. */
  #stamped = 0;

  /** How many requests wait for a reply. */
  get size(): number {
    return this.#size;
  }

  /** The reply kind the `k`th oldest request expects, 0 being the oldest. Only when `k < size`. */
  kindAt(k: number): ReplyKindCode {
    return this.#kinds[(this.#head + k) % this.#kinds.length] as ReplyKindCode;
  }

  /**
   * The line of the `k`th oldest request, 0 being the oldest, when it is a `get` line that was
   * queued with it; else undefined. Only when `k < size`.
   */
  lineAt(k: number): Uint8Array | undefined {
    return this.#lines[(this.#head + k) % this.#lines.length];
  }

  /** Whether the `k`th oldest request was joined to the one before it. Only when `k < size`. */
  joinedAt(k: number): boolean {
    return this.#joined[(this.#head + k) % this.#joined.length] === 1;
  }

  /**
   * Queues a request at the tail. A `get` line that may be joined with others is given as `line`;
   * `joined` says it was joined to the request before it, and shares that one's reply.
   */
  push(
    handler: ReplyHandler,
    tag: number,
    kind: ReplyKindCode,
    line?: Uint8Array,
    joined = false,
  ): void {
    if (this.#size === this.#handlers.length) this.#grow();
    const i = (this.#head + this.#size) % this.#handlers.length;
    this.#handlers[i] = handler;
    this.#tags[i] = tag;
    this.#kinds[i] = kind;
    this.#lines[i] = line;
    this.#joined[i] = joined ? 1 : 0;
    this.#size++;
  }

  /** Marks every request not yet stamped as written at `now`: one clock read per write. */
  stamp(now: number): void {
    for (let k = this.#stamped; k < this.#size; k++) {
      this.#sentAt[(this.#head + k) % this.#handlers.length] = now;
    }
    this.#stamped = this.#size;
  }

  /**
   * Removes the oldest request; its handler, tag and write time are left in `handler`, `tag`
   * and `sentAt`.
   */
  shift(): void {
    const i = this.#head;
    this.handler = this.#handlers[i]!;
    this.tag = this.#tags[i];
    if (this.#stamped > 0) {
      this.sentAt = this.#sentAt[i];
      this.#stamped--;
    } else {
      this.sentAt = -1;
    }
    this.#handlers[i] = undefined;
    this.#lines[i] = undefined;
    this.#head = (i + 1) % this.#handlers.length;
    this.#size--;
  }

  /** The handler of the request last removed by {@linkcode shift}. */
  handler: ReplyHandler | undefined = undefined;
  /** The tag of the request last removed by {@linkcode shift}. */
  tag = 0;
  /** When the request last removed by {@linkcode shift} was written; -1 if it never was. */
  sentAt = -1;

  #grow(): void {
    const capacity = this.#handlers.length * 2;
    const handlers: (ReplyHandler | undefined)[] = new Array(capacity);
    const tags = new Float64Array(capacity);
    const kinds = new Uint8Array(capacity);
    const lines: (Uint8Array | undefined)[] = new Array(capacity);
    const joined = new Uint8Array(capacity);
    const sentAt = new Float64Array(capacity);
    for (let k = 0; k < this.#size; k++) {
      const i = (this.#head + k) % this.#handlers.length;
      handlers[k] = this.#handlers[i];
      tags[k] = this.#tags[i];
      kinds[k] = this.#kinds[i];
      lines[k] = this.#lines[i];
      joined[k] = this.#joined[i];
      sentAt[k] = this.#sentAt[i];
    }
    this.#handlers = handlers;
    this.#tags = tags;
    this.#kinds = kinds;
    this.#lines = lines;
    this.#joined = joined;
    this.#sentAt = sentAt;
    this.#head = 0;
  }
}
