import assert from "node:assert/strict";
import type { ReplyHandler } from "../../lib/backend/reply_handler.ts";
import { ProxyStats } from "../../lib/observability/stats.ts";
import { TextRequestParser } from "../../lib/protocol/text/request_parser.ts";
import type { TextRequest } from "../../lib/protocol/text/text_request.ts";
import { GetOperation } from "../../lib/routing/get_operation.ts";
import type { Pool } from "../../lib/routing/pool.ts";
import { Router } from "../../lib/routing/router.ts";
import { SingleGetOperation } from "../../lib/routing/single_get_operation.ts";

const encoder = new TextEncoder();

/** The handlers a one-server pool's backend was sent requests with, for `line`. */
function handlersFor(line: string, withBackups: boolean): ReplyHandler[] {
  const handlers: ReplyHandler[] = [];
  const backend = {
    send(_bytes: Uint8Array, _kind: number, handler: ReplyHandler) {
      handlers.push(handler);
    },
  };
  const group = { backends: [backend], indexOf: () => 0, pick: () => backend };
  const pool = {
    primaries: group,
    group: () => group,
    replicas: withBackups ? 2 : 1,
    hashOfKey: () => 0,
    // A pool with backups has a replication policy; these tests only need it to suspect nothing.
    replication: withBackups ? { suspects: () => false, tracker: { now: () => 0 } } : null,
    stats: new ProxyStats(),
  } as unknown as Pool;
  const request = new TextRequestParser().push(encoder.encode(line))[0] as TextRequest;
  new Router(pool).route(request, { affinity: 0, complete() {} }, 0);
  return handlers;
}

Deno.test("a one-key get in a pool without backups takes the lean path; more keys or backups take the full one", () => {
  assert.ok(handlersFor("get k\r\n", false)[0] instanceof SingleGetOperation);
  assert.ok(handlersFor("gats 10 k\r\n", false)[0] instanceof SingleGetOperation);
  assert.ok(handlersFor("get k j\r\n", false)[0] instanceof GetOperation);
  assert.ok(handlersFor("get k\r\n", true)[0] instanceof GetOperation);
});
