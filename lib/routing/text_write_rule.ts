import { startsWith } from "../protocol/bytes.ts";
import { Command, type CommandCode } from "../protocol/text/command.ts";
import { type ItemState, itemStateRequest, setItemRequest } from "../protocol/text/item_state.ts";
import { STORED, TOUCHED } from "../protocol/text/replies.ts";
import { deleteBytes, forwardBytes, setBytes } from "../protocol/text/request_lines.ts";
import { ReplyKind } from "../protocol/text/response_parser.ts";
import type { TextRequest } from "../protocol/text/text_request.ts";
import { AWAIT_STATE, type WriteRule } from "./write_rule.ts";

const SERVER_ERROR = new TextEncoder().encode("SERVER_ERROR");

/**
 * The replication of a text write (storage commands, `delete`, `incr`/`decr`, `touch`):
 * - `add`, `replace`, `cas` that stored: a plain `set` of the same value (cas uniques differ
 *   from server to server);
 * - `set`, `append`, `prepend`, `touch` that succeeded: the same command;
 * - `incr`, `decr` that succeeded: a `set` of the primary's result with its flags and TTL, read
 *   with `mg` right after, so a delta is never applied twice and a backup that lacked the key
 *   gets it; without that state, a `delete`;
 * - `delete`: the same command, whatever the primary answered, since a backup may still hold a
 *   key its primary lost;
 * - a storage command the primary failed with `SERVER_ERROR` (memcached then drops the old
 *   value): a `delete`, so no backup keeps the old value.
 *
 * A write is on the hot path, so the rule is one object with its methods on the class, and the
 * key's view is made only when something needs it: a backup line, a failure, the state read of
 * an `incr` or `decr`.
 *
 * @example
 * ```ts
 * import { TextRequestParser } from "../protocol/text/request_parser.ts";
 * import { TextRequest } from "../protocol/text/text_request.ts";
 * import { TextWriteRule } from "./text_write_rule.ts";
 * const [request] = new TextRequestParser().push(new TextEncoder().encode("add k 0 0 1\r\nv\r\n"));
 * const rule = new TextWriteRule(request as TextRequest);
 * const backup = rule.afterPrimary(new TextEncoder().encode("STORED\r\n"));
 * console.log(new TextDecoder().decode(backup as Uint8Array)); // "set k 0 0 1\r\nv\r\n"
 * ```
 */
export class TextWriteRule implements WriteRule {
  readonly request: TextRequest;
  readonly bytes: Uint8Array;
  /** Text replies are one line. */
  readonly replyKind = ReplyKind.Line;
  readonly noreply: boolean;
  readonly #command: CommandCode;

  /** @param request A text write, as parsed. */
  constructor(request: TextRequest) {
    this.request = request;
    this.bytes = forwardBytes(request);
    this.noreply = request.noreply;
    this.#command = request.command;
  }

  /** The key, as a view into the request. */
  get key(): Uint8Array {
    return this.request.keys[0];
  }

  /** For `incr` and `decr`, the item's state as the change left it; null for the others. */
  get stateRequest(): Uint8Array | null {
    const command = this.#command;
    return command === Command.Incr || command === Command.Decr ? itemStateRequest(this.key) : null;
  }

  /** What the backups get once the primary answered `reply`. */
  afterPrimary(reply: Uint8Array): Uint8Array | null | typeof AWAIT_STATE {
    switch (this.#command) {
      case Command.Set:
      case Command.Append:
      case Command.Prepend:
        if (startsWith(reply, STORED)) return this.bytes;
        return startsWith(reply, SERVER_ERROR) ? deleteBytes(this.key) : null;
      case Command.Add:
      case Command.Replace:
      case Command.Cas:
        if (startsWith(reply, STORED)) return setBytes(this.request);
        return startsWith(reply, SERVER_ERROR) ? deleteBytes(this.key) : null;
      case Command.Incr:
      case Command.Decr:
        // A number waits for the state; anything else changed nothing.
        return reply[0] >= 0x30 && reply[0] <= 0x39 ? AWAIT_STATE : null;
      case Command.Touch:
        return startsWith(reply, TOUCHED) ? this.bytes : null;
      default: // delete
        return this.bytes;
    }
  }

  /** What the backups get given the primary's state after an `incr` or `decr`. */
  fromState(item: ItemState | null): Uint8Array {
    return item === null ? deleteBytes(this.key) : setItemRequest(this.key, item);
  }
}
