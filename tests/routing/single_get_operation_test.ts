import assert from "node:assert/strict";
import { BackendError, type ReplyHandler } from "../../lib/backend/reply_handler.ts";
import { ProxyStats } from "../../lib/observability/stats.ts";
import { TextRequestParser } from "../../lib/protocol/text/request_parser.ts";
import type { TextRequest } from "../../lib/protocol/text/text_request.ts";
import type { Pool } from "../../lib/routing/pool.ts";
import { SingleGetOperation } from "../../lib/routing/single_get_operation.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A pool of one server that records what is sent to it, and the replies its sink gets. */
function fakePool() {
  const sent: { bytes: string; handler: ReplyHandler; affinity: number }[] = [];
  const replies: { seq: number; reply: string }[] = [];
  const stats = new ProxyStats();
  const backend = {
    send(bytes: Uint8Array, _kind: number, handler: ReplyHandler, _tag: number, affinity: number) {
      sent.push({ bytes: decoder.decode(bytes), handler, affinity });
    },
  };
  const pool = {
    primaries: { pick: () => backend },
    hashOfKey: () => 0,
    replication: null,
    stats,
  } as unknown as Pool;
  const sink = {
    affinity: 7,
    complete: (seq: number, reply: Uint8Array) =>
      replies.push({ seq, reply: decoder.decode(reply) }),
  };
  return { pool, sink, sent, replies, stats };
}

function request(line: string): TextRequest {
  return new TextRequestParser().push(encoder.encode(line))[0] as TextRequest;
}

Deno.test("a one-key get goes to its server as received, and its hit is passed on and counted", () => {
  const { pool, sink, sent, replies, stats } = fakePool();
  new SingleGetOperation(pool, sink, 3).start(request("gets k\r\n"));
  assert.deepEqual(sent.map((s) => [s.bytes, s.affinity]), [["gets k\r\n", 7]]);
  sent[0].handler.onReply(encoder.encode("VALUE k 0 1 9\r\nv\r\nEND\r\n"), 0);
  assert.deepEqual(replies, [{ seq: 3, reply: "VALUE k 0 1 9\r\nv\r\nEND\r\n" }]);
  assert.deepEqual([stats.getHits, stats.getMisses], [1, 0]);
});

Deno.test("a one-key get's miss and a server's error line are passed on, each counted a miss", () => {
  const { pool, sink, sent, replies, stats } = fakePool();
  new SingleGetOperation(pool, sink, 0).start(request("get k\r\n"));
  new SingleGetOperation(pool, sink, 1).start(request("get k\r\n"));
  sent[0].handler.onReply(encoder.encode("END\r\n"), 0);
  sent[1].handler.onReply(encoder.encode("SERVER_ERROR out of memory\r\n"), 0);
  assert.deepEqual(replies.map((r) => r.reply), ["END\r\n", "SERVER_ERROR out of memory\r\n"]);
  assert.deepEqual([stats.getHits, stats.getMisses, stats.backendErrors], [0, 2, 0]);
});

Deno.test("a one-key get whose server failed gets SERVER_ERROR naming the server and the cause", () => {
  const { pool, sink, sent, replies, stats } = fakePool();
  new SingleGetOperation(pool, sink, 0).start(request("get k\r\n"));
  sent[0].handler.onFailure(new BackendError("127.0.0.1:11211", "timed out after 500 ms", true), 0);
  assert.deepEqual(replies.map((r) => r.reply), [
    "SERVER_ERROR backend 127.0.0.1:11211 timed out after 500 ms\r\n",
  ]);
  assert.deepEqual([stats.getMisses, stats.backendErrors, stats.requestTimeouts], [1, 1, 1]);
});

Deno.test("a reply goes to the sink as transient only when the connection handed it over as one", () => {
  const { pool, sent } = fakePool();
  const flags: (boolean | undefined)[] = [];
  const sink = {
    affinity: 0,
    complete: (_seq: number, _reply: Uint8Array, transient?: boolean) => flags.push(transient),
  };
  new SingleGetOperation(pool, sink, 0).start(request("get k\r\n"));
  new SingleGetOperation(pool, sink, 1).start(request("get k\r\n"));
  assert.equal(sent[0].handler.takesTransientReplies, true);
  sent[0].handler.onReply(encoder.encode("END\r\n"), 0);
  sent[1].handler.onReply(encoder.encode("END\r\n"), 0, true);
  assert.deepEqual(flags, [false, true]);
});
