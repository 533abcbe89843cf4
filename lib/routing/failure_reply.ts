import type { BackendError } from "../backend/reply_handler.ts";
import type { ProxyStats } from "../observability/stats.ts";
import { replyLine } from "../protocol/text/replies.ts";

/** The `SERVER_ERROR` line a client gets when no server could answer its request. */
export function failureReply(error: BackendError): Uint8Array {
  return replyLine(`SERVER_ERROR backend ${error.server} ${error.message}`);
}

/** Counts a request a server did not answer: a backend error, and a timeout if it was one. */
export function countFailure(stats: ProxyStats, error: BackendError): void {
  stats.backendErrors++;
  if (error.timedOut) stats.requestTimeouts++;
}
