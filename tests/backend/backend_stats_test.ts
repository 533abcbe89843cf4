import assert from "node:assert/strict";
import { Backend, type BackendOptions } from "../../lib/backend/backend.ts";
import type { BackendError, ReplyHandler } from "../../lib/backend/reply_handler.ts";
import { ReplyKind } from "../../lib/protocol/text/response_parser.ts";
import { startMemcached } from "../helpers/memcached.ts";

/** Collects replies and failures by tag. */
function collector(): ReplyHandler & { replies: Map<number, string>; failures: Set<number> } {
  const replies = new Map<number, string>();
  const failures = new Set<number>();
  return {
    replies,
    failures,
    onReply(reply: Uint8Array, tag: number) {
      replies.set(tag, new TextDecoder().decode(reply));
    },
    onFailure(_error: BackendError, tag: number) {
      failures.add(tag);
    },
  };
}

/** A backend for the memcached on `port`: one connection, a 1 s timeout, down after 2 failures. */
function backendAt(port: number, options: Partial<BackendOptions> = {}): Backend {
  return new Backend({
    hostname: "127.0.0.1",
    port,
    timeoutMs: 1000,
    connections: 1,
    failureLimit: 2,
    retryTimeoutMs: 1000,
    ...options,
  });
}

async function until(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

Deno.test("a backend counts bytes each way, in-flight requests and a latency per reply", async () => {
  const server = await startMemcached();
  const backend = backendAt(server.port);
  try {
    const c = collector();
    const request = new TextEncoder().encode("version\r\n");
    for (let tag = 0; tag < 10; tag++) backend.send(request, ReplyKind.Line, c, tag, 0);
    assert.equal(backend.inFlight, 10);
    await until(() => c.replies.size === 10);
    // The backend's own `stats`, sent on connecting to learn which process answers, counts too.
    await until(() => backend.inFlight === 0);
    const identity = "stats\r\n".length;
    assert.equal(backend.stats.bytesOut, 10 * request.length + identity);
    const replyBytes = [...c.replies.values()].reduce((n, r) => n + r.length, 0);
    assert.ok(backend.stats.bytesIn > replyBytes, "the replies and the stats reply");
    assert.equal(backend.stats.latency.count, 11);
    const p50 = backend.stats.latency.quantileUs(0.5)!;
    assert.ok(p50 > 0 && p50 < 1_000_000, `p50 ${p50} µs`);
    assert.equal(backend.stats.timeouts, 0);
    assert.equal(backend.failures, 0);
  } finally {
    backend.close();
    await server.stop();
  }
});

Deno.test("a backend counts a reply timeout and its consecutive failures", async () => {
  const server = await startMemcached();
  const backend = backendAt(server.port, { timeoutMs: 100, failureLimit: 5 });
  try {
    const c = collector();
    const request = new TextEncoder().encode("version\r\n");
    backend.send(request, ReplyKind.Line, c, 0, 0);
    await until(() => c.replies.size === 1);
    await server.pause();
    backend.send(request, ReplyKind.Line, c, 1, 0);
    await until(() => c.failures.has(1));
    assert.equal(backend.stats.timeouts, 1);
    assert.equal(backend.failures, 1);
    assert.equal(backend.inFlight, 0);
    assert.ok(backend.up, "one failure of five does not mark it down");
  } finally {
    server.resume();
    backend.close();
    await server.stop();
  }
});

Deno.test("a copy for a backup waits over a server's one connection, and goes out at once over several", async () => {
  const encoder = new TextEncoder();
  const copy = encoder.encode("set k 0 0 1\r\nv\r\n");
  for (const connections of [1, 2]) {
    const server = await startMemcached();
    const backend = backendAt(server.port, { connections });
    try {
      const c = collector();
      for (let affinity = 0; affinity < connections; affinity++) {
        backend.send(encoder.encode("version\r\n"), ReplyKind.Line, c, affinity, affinity);
      }
      await until(() => backend.inFlight === 0);
      const before = backend.stats.bytesOut;
      backend.send(copy, ReplyKind.Line, c, 9, 0, true);
      await Promise.resolve(); // a write due this turn is under way by now
      assert.equal(backend.stats.bytesOut, connections === 1 ? before : before + copy.length);
      await until(() => c.replies.has(9));
      assert.equal(c.replies.get(9), "STORED\r\n");
    } finally {
      backend.close();
      await server.stop();
    }
  }
});
