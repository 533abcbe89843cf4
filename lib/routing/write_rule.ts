import type { ItemState } from "../protocol/text/item_state.ts";
import type { ReplyKindCode } from "../protocol/text/response_parser.ts";
import type { TextRequest } from "../protocol/text/text_request.ts";

/** {@linkcode WriteRule.afterPrimary}'s answer when the backups wait for the primary's state. */
export const AWAIT_STATE: unique symbol = Symbol("await state");

/**
 * What one protocol's write sends, and what its backups get once the primary has answered. A
 * {@linkcode WriteOperation} runs it: text commands have `TextWriteRule`, meta commands
 * `metaWriteRule`.
 */
export interface WriteRule {
  /** The write, as parsed: its first key, read in place, is the key placed and tracked. */
  readonly request: TextRequest;
  /**
   * The key, decoded when the client sent it in base64: for the replication state and the lines
   * the backups get. Placing the write reads it in place, in {@linkcode request}.
   */
  readonly key: Uint8Array;
  /** What the primary gets, and the backups when the primary fails. */
  readonly bytes: Uint8Array;
  /** The shape of the reply to `bytes`. */
  readonly replyKind: ReplyKindCode;
  /** Whether the client asked for no reply. */
  readonly noreply: boolean;
  /**
   * A read sent to the primary right after `bytes`, on the same connection, when the pool has
   * backups: the item as the write left it (`mg <key> v f t`). Null when the rule needs none.
   */
  readonly stateRequest: Uint8Array | null;
  /**
   * What the backups get after the primary answered `reply`: bytes to send, null for nothing,
   * or {@linkcode AWAIT_STATE} to decide once the state read has answered.
   */
  afterPrimary(reply: Uint8Array): Uint8Array | null | typeof AWAIT_STATE;
  /** What the backups get given the primary's state; `item` is null for a miss or a failure. */
  fromState(item: ItemState | null): Uint8Array;
}
