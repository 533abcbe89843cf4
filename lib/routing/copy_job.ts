import type { Backend } from "../backend/backend.ts";
import type { BackendError, ReplyHandler } from "../backend/reply_handler.ts";
import { startsWith } from "../protocol/bytes.ts";
import { addItemRequest, itemStateRequest, parseItemState } from "../protocol/text/item_state.ts";
import { replyLine, STORED } from "../protocol/text/replies.ts";
import { deleteBytes } from "../protocol/text/request_lines.ts";
import { ReplyKind } from "../protocol/text/response_parser.ts";
import type { WriteTracker } from "./write_tracker.ts";

/** How a copy ended. */
export interface CopyOutcome {
  /** The target acknowledged the delete asked for first. */
  deleted: boolean;
  /** The target stored the source's item. */
  copied: boolean;
  /** A client wrote the key while the copy ran, so it stored nothing: worth a retry. */
  raced: boolean;
  /** A server failed or timed out. */
  failed: boolean;
}

/** What to copy, from where, to where. */
export interface CopySpec {
  /** The key. */
  key: Uint8Array;
  /** Its placement hash. */
  hash: number;
  /** The replica to read the item from; null to only delete. */
  source: Backend | null;
  /** The replica to store it on. */
  target: Backend;
  /** Delete the key on the target first: it may hold an older value. */
  deleteFirst: boolean;
  /** The moment (a {@linkcode WriteTracker} reading) after which a client write makes the copy moot. */
  since: number;
}

const HD = replyLine("HD");
const DELETE_TAG = 0;
const READ_TAG = 1;
const STORE_TAG = 2;
/** Background copies use one connection of each server, whatever client caused them. */
const AFFINITY = 0;

/**
 * Copies one key from a replica to another: `delete` on the target if asked, `mg <key> v f t`
 * on the source, then `add` with the same value, flags and remaining TTL on the target (their
 * meta forms for a key that is not plain; see `item_state.ts`). `add`
 * never overwrites a value a client stored meanwhile, and the {@linkcode WriteTracker} stops
 * the copy when a client wrote or deleted the key after `since`, so a copy never resurrects a
 * deleted key or brings back an older value.
 */
export class CopyJob implements ReplyHandler {
  readonly #spec: CopySpec;
  readonly #tracker: WriteTracker;
  readonly #done: (outcome: CopyOutcome) => void;
  readonly #outcome: CopyOutcome = { deleted: false, copied: false, raced: false, failed: false };

  /**
   * @param spec What to copy.
   * @param tracker The pool's record of client writes.
   * @param done Told once, when the copy ends.
   */
  constructor(spec: CopySpec, tracker: WriteTracker, done: (outcome: CopyOutcome) => void) {
    this.#spec = spec;
    this.#tracker = tracker;
    this.#done = done;
  }

  /** Sends the first request. */
  start(): void {
    const spec = this.#spec;
    if (spec.deleteFirst) {
      spec.target.send(deleteBytes(spec.key), ReplyKind.Meta, this, DELETE_TAG, AFFINITY);
    } else {
      this.#read();
    }
  }

  #read(): void {
    const spec = this.#spec;
    if (spec.source === null) {
      this.#done(this.#outcome);
      return;
    }
    spec.source.send(itemStateRequest(spec.key), ReplyKind.Meta, this, READ_TAG, AFFINITY);
  }

  /** A server's answer moves the copy on. */
  onReply(reply: Uint8Array, tag: number): void {
    const spec = this.#spec;
    const outcome = this.#outcome;
    if (tag === DELETE_TAG) {
      // DELETED, NOT_FOUND; or HD, NF for a key deleted with md
      outcome.deleted = reply[0] === 0x44 || reply[0] === 0x4e || startsWith(reply, HD);
      if (outcome.deleted) this.#read();
      else this.#finish(true);
    } else if (tag === READ_TAG) {
      const item = parseItemState(reply);
      if (item === null) {
        this.#done(outcome);
      } else if (!this.#tracker.quietSince(spec.hash, spec.since)) {
        outcome.raced = true;
        this.#done(outcome);
      } else {
        spec.target.send(addItemRequest(spec.key, item), ReplyKind.Meta, this, STORE_TAG, AFFINITY);
      }
    } else {
      outcome.copied = startsWith(reply, STORED) || startsWith(reply, HD);
      this.#done(outcome);
    }
  }

  /** A server failed: the copy ends. */
  onFailure(_error: BackendError, _tag: number): void {
    this.#finish(true);
  }

  #finish(failed: boolean): void {
    this.#outcome.failed = failed;
    this.#done(this.#outcome);
  }
}
