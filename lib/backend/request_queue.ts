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
  #head = 0;
  #size = 0;

  /** How many requests wait for a reply. */
  get size(): number {
    return this.#size;
  }

  /** The reply kind the oldest request expects. Only when `size > 0`. */
  get headKind(): ReplyKindCode {
    return this.#kinds[this.#head] as ReplyKindCode;
  }

  /** Queues a request at the tail. */
  push(handler: ReplyHandler, tag: number, kind: ReplyKindCode): void {
    if (this.#size === this.#handlers.length) this.#grow();
    const i = (this.#head + this.#size) % this.#handlers.length;
    this.#handlers[i] = handler;
    this.#tags[i] = tag;
    this.#kinds[i] = kind;
    this.#size++;
  }

  /** Removes the oldest request; its handler and tag are left in `handler` and `tag`. */
  shift(): void {
    const i = this.#head;
    this.handler = this.#handlers[i]!;
    this.tag = this.#tags[i];
    this.#handlers[i] = undefined;
    this.#head = (i + 1) % this.#handlers.length;
    this.#size--;
  }

  /** The handler of the request last removed by {@linkcode shift}. */
  handler: ReplyHandler | undefined = undefined;
  /** The tag of the request last removed by {@linkcode shift}. */
  tag = 0;

  #grow(): void {
    const capacity = this.#handlers.length * 2;
    const handlers: (ReplyHandler | undefined)[] = new Array(capacity);
    const tags = new Float64Array(capacity);
    const kinds = new Uint8Array(capacity);
    for (let k = 0; k < this.#size; k++) {
      const i = (this.#head + k) % this.#handlers.length;
      handlers[k] = this.#handlers[i];
      tags[k] = this.#tags[i];
      kinds[k] = this.#kinds[i];
    }
    this.#handlers = handlers;
    this.#tags = tags;
    this.#kinds = kinds;
    this.#head = 0;
  }
}
