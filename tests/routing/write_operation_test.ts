import assert from "node:assert/strict";
import { BackendError, type ReplyHandler } from "../../lib/backend/reply_handler.ts";
import { ProxyStats } from "../../lib/observability/stats.ts";
import { TextRequestParser } from "../../lib/protocol/text/request_parser.ts";
import type { TextRequest } from "../../lib/protocol/text/text_request.ts";
import type { Pool } from "../../lib/routing/pool.ts";
import { Router } from "../../lib/routing/router.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface Sent {
  replica: number;
  line: string;
  handler: ReplyHandler;
  tag: number;
  deferred: boolean;
}

/** Routes `line` through a pool of one primary and one backup, and records what each was sent. */
function routeWrite(line: string): { sent: Sent[]; replies: string[] } {
  const sent: Sent[] = [];
  const groups = [0, 1].map((replica) => {
    const backend = {
      send(
        bytes: Uint8Array,
        _kind: number,
        handler: ReplyHandler,
        tag: number,
        _affinity: number,
        deferred = false,
      ) {
        sent.push({ replica, line: decoder.decode(bytes), handler, tag, deferred });
      },
    };
    return { backends: [backend], indexOf: () => 0, pick: () => backend };
  });
  const pool = {
    primaries: groups[0],
    backups: [groups[1]],
    group: (replica: number) => groups[replica],
    replicas: 2,
    hashOfKey: () => 0,
    replication: { tracker: { begin() {}, end() {}, now: () => 0 }, missed() {} },
    stats: new ProxyStats(),
  } as unknown as Pool;
  const replies: string[] = [];
  const sink = {
    affinity: 0,
    complete: (_: number, r: Uint8Array) => replies.push(decoder.decode(r)),
  };
  const request = new TextRequestParser().push(encoder.encode(line))[0] as TextRequest;
  new Router(pool).route(request, sink, 0);
  return { sent, replies };
}

Deno.test("a write's copy for the backup, made once the primary stored it, is deferred", () => {
  const { sent, replies } = routeWrite("set k 0 0 1\r\nv\r\n");
  assert.equal(sent.length, 1);
  assert.deepEqual([sent[0].replica, sent[0].deferred], [0, false]);
  sent[0].handler.onReply(encoder.encode("STORED\r\n"), sent[0].tag);
  assert.deepEqual(replies, ["STORED\r\n"]);
  assert.equal(sent.length, 2);
  assert.deepEqual([sent[1].replica, sent[1].line, sent[1].deferred], [
    1,
    "set k 0 0 1\r\nv\r\n",
    true,
  ]);
});

Deno.test("when the primary fails, the write goes to the backup at once, since the client waits for it", () => {
  const { sent, replies } = routeWrite("set k 0 0 1\r\nv\r\n");
  sent[0].handler.onFailure(new BackendError("127.0.0.1:1", "connection refused"), sent[0].tag);
  assert.equal(sent.length, 2);
  assert.deepEqual([sent[1].replica, sent[1].deferred], [1, false]);
  assert.deepEqual(replies, []);
  sent[1].handler.onReply(encoder.encode("STORED\r\n"), sent[1].tag);
  assert.deepEqual(replies, ["STORED\r\n"]);
});
