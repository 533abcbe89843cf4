import type { BackendError } from "../backend/reply_handler.ts";
import { replyLine } from "../protocol/text/replies.ts";

/** The `SERVER_ERROR` line a client gets when no server could answer its request. */
export function failureReply(error: BackendError): Uint8Array {
  return replyLine(`SERVER_ERROR backend ${error.server} ${error.message}`);
}
