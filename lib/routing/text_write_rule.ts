import { startsWith } from "../protocol/bytes.ts";
import { Command } from "../protocol/text/command.ts";
import { itemStateRequest, setItemRequest } from "../protocol/text/item_state.ts";
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
 */
export function textWriteRule(request: TextRequest): WriteRule {
  const key = request.keys[0];
  const bytes = forwardBytes(request);
  const command = request.command;
  const counts = command === Command.Incr || command === Command.Decr;
  return {
    key,
    bytes,
    replyKind: ReplyKind.Line,
    noreply: request.noreply,
    stateRequest: counts ? itemStateRequest(key) : null,
    afterPrimary(reply) {
      switch (command) {
        case Command.Set:
        case Command.Append:
        case Command.Prepend:
          if (startsWith(reply, STORED)) return bytes;
          return startsWith(reply, SERVER_ERROR) ? deleteBytes(key) : null;
        case Command.Add:
        case Command.Replace:
        case Command.Cas:
          if (startsWith(reply, STORED)) return setBytes(request);
          return startsWith(reply, SERVER_ERROR) ? deleteBytes(key) : null;
        case Command.Incr:
        case Command.Decr:
          // A number waits for the state; anything else changed nothing.
          return reply[0] >= 0x30 && reply[0] <= 0x39 ? AWAIT_STATE : null;
        case Command.Touch:
          return startsWith(reply, TOUCHED) ? bytes : null;
        default: // delete
          return bytes;
      }
    },
    fromState(item) {
      return item === null ? deleteBytes(key) : setItemRequest(key, item);
    },
  };
}
