import { Command, isMetaKeyed, isRetrieval, isTouchRetrieval } from "../protocol/text/command.ts";
import { metaFlag } from "../protocol/meta/meta_request.ts";
import { forwardBytes } from "../protocol/text/request_lines.ts";
import type { TextRequest } from "../protocol/text/text_request.ts";
import { BroadcastOperation } from "./broadcast_operation.ts";
import { ForwardOperation } from "./forward_operation.ts";
import { GetOperation } from "./get_operation.ts";
import { MetaGetOperation } from "./meta_get_operation.ts";
import { metaWriteRule } from "./meta_write_rule.ts";
import type { Pool } from "./pool.ts";
import { type ReplySink, ReshapingSink } from "./reply_sink.ts";
import { SingleGetOperation } from "./single_get_operation.ts";
import { TextWriteRule } from "./text_write_rule.ts";
import { WriteOperation } from "./write_operation.ts";

const T = 0x54;

/**
 * Sends each request that needs servers to the right ones, under the pool's replication policy:
 * retrievals to {@linkcode GetOperation} (of one key in a pool without backups, to
 * {@linkcode SingleGetOperation}), `mg` to {@linkcode MetaGetOperation}, single-key changes to
 * {@linkcode WriteOperation} (text and meta), `me` to the key's primary, `flush_all` to every
 * server. A request with a `toClient` shape gets its reply through it.
 */
export class Router {
  /** @param pool The pool requests are routed over. */
  constructor(readonly pool: Pool) {}

  /** Starts `request`; its reply reaches `sink` as number `seq`. */
  route(request: TextRequest, sink: ReplySink, seq: number): void {
    if (request.toClient !== null) sink = new ReshapingSink(sink, request.toClient);
    const stats = this.pool.stats;
    const command = request.command;
    if (isRetrieval(command)) {
      stats.cmdGet += request.keyCount;
      if (isTouchRetrieval(command)) stats.cmdTouch++;
      if (request.keyCount === 1 && this.pool.replication === null) {
        new SingleGetOperation(this.pool, sink, seq).start(request);
      } else {
        new GetOperation(this.pool, request, sink, seq).start();
      }
    } else if (command === Command.FlushAll) {
      stats.cmdFlush++;
      new BroadcastOperation(this.pool, forwardBytes(request), sink, seq, request.noreply)
        .start();
    } else if (command === Command.MetaGet) {
      stats.cmdGet++;
      if (metaFlag(request, T) !== null) stats.cmdTouch++;
      new MetaGetOperation(this.pool, request, sink, seq).start();
    } else if (command === Command.MetaDebug) {
      new ForwardOperation(this.pool, request, sink, seq).start();
    } else if (isMetaKeyed(command)) {
      if (command === Command.MetaSet) stats.cmdSet++;
      new WriteOperation(this.pool, metaWriteRule(request), sink, seq).start();
    } else {
      if (command <= Command.Cas) stats.cmdSet++;
      else if (command === Command.Touch) stats.cmdTouch++;
      new WriteOperation(this.pool, new TextWriteRule(request), sink, seq).start();
    }
  }
}
