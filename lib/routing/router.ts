import { Command, isRetrieval } from "../protocol/text/command.ts";
import { forwardBytes } from "../protocol/text/request_lines.ts";
import type { TextRequest } from "../protocol/text/text_request.ts";
import { BroadcastOperation } from "./broadcast_operation.ts";
import { GetOperation } from "./get_operation.ts";
import type { Pool } from "./pool.ts";
import type { ReplySink } from "./reply_sink.ts";
import { WriteOperation } from "./write_operation.ts";

/**
 * Sends each request that needs servers to the right ones, under the pool's replication policy:
 * retrievals to {@linkcode GetOperation}, single-key changes to {@linkcode WriteOperation},
 * `flush_all` to every server.
 */
export class Router {
  /** @param pool The pool requests are routed over. */
  constructor(readonly pool: Pool) {}

  /** Starts `request`; its reply reaches `sink` as number `seq`. */
  route(request: TextRequest, sink: ReplySink, seq: number): void {
    const stats = this.pool.stats;
    const command = request.command;
    if (isRetrieval(command)) {
      stats.cmdGet += request.keys.length;
      if (command === Command.Gat || command === Command.Gats) stats.cmdTouch++;
      new GetOperation(this.pool, request, sink, seq).start();
    } else if (command === Command.FlushAll) {
      stats.cmdFlush++;
      new BroadcastOperation(this.pool, forwardBytes(request), sink, seq, request.noreply)
        .start();
    } else {
      if (command <= Command.Cas) stats.cmdSet++;
      else if (command === Command.Touch) stats.cmdTouch++;
      new WriteOperation(this.pool, request, sink, seq).start();
    }
  }
}
