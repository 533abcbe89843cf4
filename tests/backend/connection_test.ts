import assert from "node:assert/strict";
import {
  BackendConnection,
  DEFERRED_WRITE_DELAY_MS,
  JOINED_LINE_MAX_BYTES,
} from "../../lib/backend/connection.ts";
import { BackendStats } from "../../lib/backend/backend_stats.ts";
import {
  type BackendError,
  IGNORE_REPLIES,
  type ReplyHandler,
} from "../../lib/backend/reply_handler.ts";
import { ReplyKind, type ReplyKindCode } from "../../lib/protocol/text/response_parser.ts";
import type { ValueBlockIndex } from "../../lib/protocol/text/value_block_index.ts";
import { startMemcached } from "../helpers/memcached.ts";
import { freePort } from "../helpers/free_port.ts";
import { SeededRandom } from "../helpers/random.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Collects the replies and failures of a connection's requests, by tag. */
class Collector implements ReplyHandler {
  readonly replies = new Map<number, Uint8Array>();
  readonly failures = new Map<number, BackendError>();
  #waiting: { count: number; resolve: () => void } | null = null;

  onReply(reply: Uint8Array, tag: number): void {
    this.replies.set(tag, reply);
    this.#check();
  }

  onFailure(error: BackendError, tag: number): void {
    this.failures.set(tag, error);
    this.#check();
  }

  /** Resolves once `count` requests in all have an answer. */
  until(count: number): Promise<void> {
    return new Promise((resolve) => {
      this.#waiting = { count, resolve };
      this.#check();
    });
  }

  #check(): void {
    const waiting = this.#waiting;
    if (waiting && this.replies.size + this.failures.size >= waiting.count) {
      this.#waiting = null;
      waiting.resolve();
    }
  }
}

function connectionTo(port: number, stats?: BackendStats): BackendConnection {
  return new BackendConnection({
    hostname: "127.0.0.1",
    port,
    timeoutMs: 2000,
    onHealth() {},
    stats,
  });
}

Deno.test("each reply keeps its own bytes after the connection reads more", async () => {
  const server = await startMemcached();
  const connection = connectionTo(server.port);
  try {
    const collector = new Collector();
    const n = 200;
    for (let i = 0; i < n; i++) {
      const value = `value-${i}-${"x".repeat(i % 37)}`;
      const set = `set key:${i} 0 0 ${value.length}\r\n${value}\r\n`;
      connection.send(encoder.encode(set), ReplyKind.Line, collector, i);
    }
    await collector.until(n);
    // Pipelined, the gets' replies arrive many to a read: each must stay intact while later
    // reads fill the connection's buffer again.
    for (let i = 0; i < n; i++) {
      connection.send(encoder.encode(`get key:${i}\r\n`), ReplyKind.Retrieval, collector, n + i);
    }
    await collector.until(2 * n);
    for (let i = 0; i < n; i++) {
      connection.send(
        encoder.encode(`get key:${n - 1 - i}\r\n`),
        ReplyKind.Retrieval,
        collector,
        2 * n + i,
      );
    }
    await collector.until(3 * n);
    assert.equal(collector.failures.size, 0);
    for (let i = 0; i < n; i++) {
      const value = `value-${i}-${"x".repeat(i % 37)}`;
      const expected = `VALUE key:${i} 0 ${value.length}\r\n${value}\r\nEND\r\n`;
      assert.equal(decoder.decode(collector.replies.get(n + i)), expected);
      assert.equal(decoder.decode(collector.replies.get(3 * n - 1 - i)), expected);
    }
  } finally {
    connection.close();
    await server.stop();
  }
});

Deno.test("requests sent in one turn, small ones joined in a block and large ones apart, reach memcached whole and in order", async () => {
  const server = await startMemcached();
  const connection = connectionTo(server.port);
  try {
    const collector = new Collector();
    // Sizes on both sides of the 8 KiB a joined write may fill, so that writes are joined in the
    // connection's block, joined in a buffer of their own, and passed on alone.
    const sizes = [1, 300, 5000, 9000, 2, 20_000, 7, 8100, 3];
    let tag = 0;
    for (const [i, size] of sizes.entries()) {
      const value = String.fromCharCode(97 + i).repeat(size);
      const set = `set joined:${i} 0 0 ${size}\r\n${value}\r\n`;
      connection.send(encoder.encode(set), ReplyKind.Line, collector, tag++);
      connection.send(encoder.encode(`get joined:${i}\r\n`), ReplyKind.Retrieval, collector, tag++);
    }
    await collector.until(tag);
    assert.equal(collector.failures.size, 0);
    for (const [i, size] of sizes.entries()) {
      assert.equal(decoder.decode(collector.replies.get(2 * i)), "STORED\r\n");
      const value = String.fromCharCode(97 + i).repeat(size);
      assert.equal(
        decoder.decode(collector.replies.get(2 * i + 1)),
        `VALUE joined:${i} 0 ${size}\r\n${value}\r\nEND\r\n`,
      );
    }
  } finally {
    connection.close();
    await server.stop();
  }
});

/**
 * Runs `body` over a connection to a fresh memcached that is already open (a `version` was
 * answered, as tag 0), so that what it sends is written as the connection decides.
 */
async function withOpenConnection(
  body: (
    connection: BackendConnection,
    collector: Collector,
    stats: BackendStats,
    port: number,
  ) => Promise<void>,
): Promise<void> {
  const server = await startMemcached();
  const stats = new BackendStats();
  const connection = connectionTo(server.port, stats);
  try {
    const collector = new Collector();
    connection.send(encoder.encode("version\r\n"), ReplyKind.Line, collector, 0);
    await collector.until(1);
    await body(connection, collector, stats, server.port);
  } finally {
    connection.close();
    await server.stop();
  }
}

Deno.test("joined gets are answered by memcached as each would be alone: misses, repeats, cas values", async () => {
  await withOpenConnection(async (connection, collector, stats) => {
    let tag = 1;
    for (const key of ["a", "b", "c", "e"]) {
      connection.send(
        encoder.encode(`set ${key} 1 0 3\r\n${key}${key}${key}\r\n`),
        ReplyKind.Line,
        collector,
        tag++,
      );
    }
    await collector.until(tag);
    const lines = [
      "get a b\r\n",
      "get b\r\n",
      "get x\r\n",
      "get a a x c\r\n",
      "gets c\r\n",
      "gets e d e\r\n",
      "get e\r\n",
      "get y z\r\n",
    ];
    // Alone: each sent once the one before it is answered, so none is joined.
    const alone: string[] = [];
    for (const line of lines) {
      connection.send(encoder.encode(line), ReplyKind.Get, collector, tag);
      await collector.until(++tag);
      alone.push(decoder.decode(collector.replies.get(tag - 1)));
    }
    const first = tag;
    const bytesBefore = stats.bytesOut;
    for (const line of lines) {
      connection.send(encoder.encode(line), ReplyKind.Get, collector, tag++);
    }
    await collector.until(tag);
    assert.equal(collector.failures.size, 0);
    // Joined: three lines, one per run of the same command.
    const joined = "get a b b x a a x c\r\ngets c e d e\r\nget e y z\r\n";
    assert.equal(stats.bytesOut - bytesBefore, joined.length);
    assert.deepEqual(
      lines.map((_, k) => decoder.decode(collector.replies.get(first + k))),
      alone,
    );
    assert.match(alone[3], /^VALUE a 1 3\r\naaa\r\nVALUE a 1 3\r\naaa\r\nVALUE c/);
  });
});

/**
 * Records each reply's blocks as its connection indexed them, during the call, as
 * `<key of its line>:<block>`; null for a reply that came without an index.
 */
class IndexRecorder extends Collector {
  readonly indexed = new Map<number, string[] | null>();

  override onReply(
    reply: Uint8Array,
    tag: number,
    _transient?: boolean,
    blocks?: ValueBlockIndex,
  ): void {
    let found: string[] | null = null;
    if (blocks !== undefined) {
      found = [];
      for (let b = 0; b < blocks.count; b++) {
        found.push(
          `${blocks.key(b)}:${decoder.decode(reply.subarray(blocks.start(b), blocks.end(b)))}`,
        );
      }
    }
    this.indexed.set(tag, found);
    super.onReply(reply.slice(), tag);
  }
}

Deno.test("each get's reply from memcached comes with its blocks indexed, in one read or many, and other replies without", async () => {
  await withOpenConnection(async (connection, _collector, _stats) => {
    const recorder = new IndexRecorder();
    const large = "L".repeat(150_000);
    let tag = 0;
    for (const [key, value] of [["a", "1"], ["b", "22"], ["big", large], ["c", "333"]]) {
      connection.send(
        encoder.encode(`set ${key} 0 0 ${value.length}\r\n${value}\r\n`),
        ReplyKind.Line,
        recorder,
        tag++,
      );
    }
    const lines = ["get a x b\r\n", "get big c\r\n", "get c c\r\n", "gets a\r\n", "gat 0 a\r\n"];
    for (const line of lines) {
      connection.send(encoder.encode(line), ReplyKind.Get, recorder, tag++);
    }
    await recorder.until(tag);
    assert.equal(recorder.failures.size, 0);
    for (let t = 0; t < 4; t++) assert.equal(recorder.indexed.get(t), null, "a set's reply");
    const blockOf = (key: string, value: string) => block(key, value);
    assert.deepEqual(recorder.indexed.get(4), [
      `0:${blockOf("a", "1")}`,
      `2:${blockOf("b", "22")}`,
    ]);
    assert.deepEqual(recorder.indexed.get(5), [
      `0:${blockOf("big", large)}`,
      `1:${blockOf("c", "333")}`,
    ]);
    assert.deepEqual(recorder.indexed.get(6), [
      `0:${blockOf("c", "333")}`,
      `1:${blockOf("c", "333")}`,
    ]);
    assert.equal(recorder.indexed.get(7)!.length, 1);
    assert.match(recorder.indexed.get(7)![0], /^0:VALUE a 0 1 \d+\r\n1\r\n$/);
    assert.equal(
      recorder.indexed.get(8),
      null,
      "a gat is not a line the connection joins or indexes",
    );
  });
});

Deno.test("deferred requests wait to share a write, and go out within the delay", async () => {
  await withOpenConnection(async (connection, collector, stats) => {
    const before = stats.bytesOut;
    const first = encoder.encode("set deferred:1 0 0 1\r\na\r\n");
    const second = encoder.encode("set deferred:2 0 0 1\r\nb\r\n");
    const sentAt = performance.now();
    connection.send(first, ReplyKind.Line, collector, 1, true);
    await Promise.resolve(); // a write due this turn would be under way by now
    assert.equal(stats.bytesOut, before, "a deferred request is not written in its own turn");
    connection.send(second, ReplyKind.Line, collector, 2, true);
    await collector.until(3);
    assert.ok(performance.now() - sentAt >= DEFERRED_WRITE_DELAY_MS - 1);
    assert.equal(stats.bytesOut, before + first.length + second.length);
    assert.equal(decoder.decode(collector.replies.get(1)), "STORED\r\n");
    assert.equal(decoder.decode(collector.replies.get(2)), "STORED\r\n");
  });
});

Deno.test("a request that is not deferred takes the deferred ones before it, at once", async () => {
  await withOpenConnection(async (connection, collector, stats) => {
    const before = stats.bytesOut;
    const set = encoder.encode("set deferred 0 0 1\r\nv\r\n");
    const get = encoder.encode("get deferred\r\n");
    connection.send(set, ReplyKind.Line, collector, 1, true);
    connection.send(get, ReplyKind.Retrieval, collector, 2);
    await Promise.resolve();
    assert.equal(stats.bytesOut, before + set.length + get.length);
    await collector.until(3);
    assert.equal(decoder.decode(collector.replies.get(2)), "VALUE deferred 0 1\r\nv\r\nEND\r\n");
  });
});

Deno.test("deferred requests that fill 64 KiB go out at once", async () => {
  await withOpenConnection(async (connection, collector, stats) => {
    const before = stats.bytesOut;
    const value = "v".repeat(20_000);
    const sets = [1, 2, 3, 4].map((i) => encoder.encode(`set big:${i} 0 0 20000\r\n${value}\r\n`));
    sets.forEach((set, i) => connection.send(set, ReplyKind.Line, collector, i + 1, true));
    await Promise.resolve();
    assert.equal(stats.bytesOut, before + sets.reduce((n, set) => n + set.length, 0));
    await collector.until(5);
  });
});

Deno.test("closing while a deferred request waits writes it before failing it", async () => {
  await withOpenConnection(async (connection, collector, _stats, port) => {
    connection.send(encoder.encode("set closing 0 0 1\r\nv\r\n"), ReplyKind.Line, collector, 1);
    await collector.until(2);
    connection.send(encoder.encode("delete closing\r\n"), ReplyKind.Line, collector, 2, true);
    connection.close();
    await collector.until(3);
    assert.match(collector.failures.get(2)!.message, /shutting down/);
    const check = connectionTo(port);
    try {
      const after = new Collector();
      check.send(encoder.encode("get closing\r\n"), ReplyKind.Retrieval, after, 0);
      await after.until(1);
      assert.equal(decoder.decode(after.replies.get(0)), "END\r\n");
    } finally {
      check.close();
    }
  });
});

Deno.test("replies read before garbage are delivered, and the requests after it fail", async () => {
  const port = freePort();
  const listener = Deno.listen({ hostname: "127.0.0.1", port });
  const serving = (async () => {
    const conn = await listener.accept();
    const buf = new Uint8Array(1024);
    let seen = "";
    while (!seen.includes("delete c")) {
      const n = await conn.read(buf);
      if (n === null) break;
      seen += decoder.decode(buf.subarray(0, n));
    }
    await conn.write(encoder.encode("STORED\r\nDELETED\r\nthis is not memcached\r\n"));
    await conn.read(buf).catch(() => null);
    conn.close();
  })();
  const connection = connectionTo(port);
  try {
    const collector = new Collector();
    connection.send(encoder.encode("set a 0 0 1\r\n1\r\n"), ReplyKind.Line, collector, 0);
    connection.send(encoder.encode("delete b\r\n"), ReplyKind.Line, collector, 1);
    connection.send(encoder.encode("delete c\r\n"), ReplyKind.Line, collector, 2);
    await collector.until(3);
    assert.equal(decoder.decode(collector.replies.get(0)), "STORED\r\n");
    assert.equal(decoder.decode(collector.replies.get(1)), "DELETED\r\n");
    assert.match(collector.failures.get(2)!.message, /invalid reply/);
  } finally {
    connection.close();
    listener.close();
    await serving;
  }
});

Deno.test("a read buffer grown for a large reply goes back to 64 KiB after 64 reads without growth", async () => {
  const server = await startMemcached(["-I", "2m"]);
  const connection = connectionTo(server.port);
  try {
    const collector = new Collector();
    const big = "v".repeat(1_500_000);
    connection.send(
      encoder.encode(`set big 0 0 ${big.length}\r\n${big}\r\n`),
      ReplyKind.Line,
      collector,
      0,
    );
    connection.send(encoder.encode("get big\r\n"), ReplyKind.Retrieval, collector, 1);
    await collector.until(2);
    assert.equal(
      collector.replies.get(1)!.length,
      big.length + "VALUE big 0 1500000\r\n\r\nEND\r\n".length,
    );
    assert.ok(connection.readBufferSize > 64 * 1024);
    // One request at a time: each is a read of its own.
    for (let i = 0; i < 70; i++) {
      connection.send(encoder.encode("get small\r\n"), ReplyKind.Retrieval, collector, 2 + i);
      await collector.until(3 + i);
    }
    assert.equal(decoder.decode(collector.replies.get(71)), "END\r\n");
    assert.equal(connection.readBufferSize, 64 * 1024);
  } finally {
    connection.close();
    await server.stop();
  }
});

/**
 * A server that answers the first `requests` lines it reads with `reply`, in one write, and then
 * does the same for each of `more`. `done` resolves to all it read.
 */
function scriptedServer(
  requests: number,
  reply: string,
  ...more: [number, string][]
): { port: number; done: Promise<string> } {
  const port = freePort();
  const listener = Deno.listen({ hostname: "127.0.0.1", port });
  const done = (async () => {
    const conn = await listener.accept();
    const buf = new Uint8Array(4096);
    let received = "";
    for (const [count, answer] of [[requests, reply] as [number, string], ...more]) {
      let lines = 0;
      while (lines < count) {
        const n = await conn.read(buf);
        if (n === null) break;
        received += decoder.decode(buf.subarray(0, n));
        for (const byte of buf.subarray(0, n)) if (byte === 0x0a) lines++;
      }
      await conn.write(encoder.encode(answer));
    }
    await conn.read(buf).catch(() => null);
    conn.close();
    listener.close();
    return received;
  })();
  return { port, done };
}

/** A `VALUE` block of `key` holding `value`. */
const block = (key: string, value: string) => `VALUE ${key} 0 ${value.length}\r\n${value}\r\n`;

/**
 * Sends `lines` in one turn over a new connection to a server that answers the first `requests`
 * lines it reads with `reply`; returns what the server read, and each request's answer (a reply,
 * or `failed: …`).
 */
async function exchangeWithScript(
  lines: [string, ReplyKindCode][],
  requests: number,
  reply: string,
): Promise<{ received: string; answers: string[] }> {
  const server = scriptedServer(requests, reply);
  const connection = connectionTo(server.port);
  try {
    const collector = new Collector();
    for (const [tag, [line, kind]] of lines.entries()) {
      connection.send(encoder.encode(line), kind, collector, tag);
    }
    await collector.until(lines.length);
    const answers = lines.map((_, tag) =>
      collector.replies.has(tag)
        ? decoder.decode(collector.replies.get(tag))
        : `failed: ${collector.failures.get(tag)!.message}`
    );
    connection.close();
    return { received: await server.done, answers };
  } finally {
    connection.close();
  }
}

Deno.test("gets sent in one turn go to the server as one line, and each gets its own blocks", async () => {
  const { received, answers } = await exchangeWithScript(
    [["get a b\r\n", ReplyKind.Get], ["get c\r\n", ReplyKind.Get], ["get d\r\n", ReplyKind.Get]],
    1,
    block("a", "1") + block("c", "3") + "END\r\n",
  );
  assert.equal(received, "get a b c d\r\n");
  assert.deepEqual(answers, [block("a", "1") + "END\r\n", block("c", "3") + "END\r\n", "END\r\n"]);
});

Deno.test("get and gets lines are joined only with their own command, and a write between them ends the line", async () => {
  const { received, answers } = await exchangeWithScript(
    [
      ["get a\r\n", ReplyKind.Get],
      ["gets b\r\n", ReplyKind.Get],
      ["gets c\r\n", ReplyKind.Get],
      ["set x 0 0 1\r\n1\r\n", ReplyKind.Line],
      ["get d\r\n", ReplyKind.Get],
      ["get e\r\n", ReplyKind.Get],
      ["gat 10 f\r\n", ReplyKind.Get],
      ["gat 10 g\r\n", ReplyKind.Get],
    ],
    7,
    "END\r\nEND\r\nSTORED\r\nEND\r\nEND\r\nEND\r\n",
  );
  assert.equal(
    received,
    "get a\r\ngets b c\r\nset x 0 0 1\r\n1\r\nget d e\r\ngat 10 f\r\ngat 10 g\r\n",
  );
  assert.deepEqual(answers, [
    ...Array(3).fill("END\r\n"),
    "STORED\r\n",
    ...Array(4).fill("END\r\n"),
  ]);
});

Deno.test("gets are joined into lines of at most 2 KiB", async () => {
  // Each get of one 200-byte key adds 201 bytes to the line: ten fit in 2048, the rest start a
  // line of their own.
  const keys = Array.from({ length: 12 }, (_, i) => String(i).padStart(200, "k"));
  const { received, answers } = await exchangeWithScript(
    keys.map((key) => [`get ${key}\r\n`, ReplyKind.Get]),
    2,
    "END\r\nEND\r\n",
  );
  const lines = received.split("\r\n").slice(0, -1);
  assert.deepEqual(lines, [
    `get ${keys.slice(0, 10).join(" ")}`,
    `get ${keys.slice(10).join(" ")}`,
  ]);
  assert.ok(lines[0].length + 2 <= JOINED_LINE_MAX_BYTES);
  assert.deepEqual(answers, Array(12).fill("END\r\n"));
});

Deno.test("a joined get's part is handed out as soon as it is in, before the rest of the line's reply", async () => {
  const port = freePort();
  const listener = Deno.listen({ hostname: "127.0.0.1", port });
  const firstAnswered = Promise.withResolvers<void>();
  const server = (async () => {
    const conn = await listener.accept();
    await conn.read(new Uint8Array(4096));
    // The second block is sent only once the first get has its answer.
    await conn.write(encoder.encode(block("a", "1")));
    await firstAnswered.promise;
    await conn.write(encoder.encode(block("b", "2") + "END\r\n"));
    await conn.read(new Uint8Array(4096)).catch(() => null);
    conn.close();
    listener.close();
  })();
  const connection = connectionTo(port);
  try {
    const collector = new Collector();
    connection.send(encoder.encode("get a\r\n"), ReplyKind.Get, collector, 0);
    connection.send(encoder.encode("get b\r\n"), ReplyKind.Get, collector, 1);
    await collector.until(1);
    assert.equal(decoder.decode(collector.replies.get(0)), block("a", "1") + "END\r\n");
    firstAnswered.resolve();
    await collector.until(2);
    assert.equal(decoder.decode(collector.replies.get(1)), block("b", "2") + "END\r\n");
  } finally {
    firstAnswered.resolve();
    connection.close();
    await server;
  }
});

Deno.test("an error reply to joined gets goes to each of them", async () => {
  const { answers } = await exchangeWithScript(
    [["get a\r\n", ReplyKind.Get], ["get b\r\n", ReplyKind.Get]],
    1,
    "SERVER_ERROR out of memory writing get response\r\n",
  );
  assert.deepEqual(answers, Array(2).fill("SERVER_ERROR out of memory writing get response\r\n"));
});

Deno.test("a block for a key none of the joined gets asked for fails the connection where it is found", async () => {
  const { answers } = await exchangeWithScript(
    [["get a\r\n", ReplyKind.Get], ["get b\r\n", ReplyKind.Get], ["get c\r\n", ReplyKind.Get]],
    1,
    block("z", "1") + "END\r\n",
  );
  // The first get's part ends where a block that is not its own begins: a miss. The block is
  // none of the last get's keys either, so the reply is garbage from there on.
  assert.equal(answers[0], "END\r\n");
  assert.equal(answers[1], "END\r\n");
  assert.match(
    answers[2],
    /^failed: server sent an invalid reply: a reply to joined gets holds a key/,
  );
});

Deno.test("a small reply read together with a large one does not hold the large one's bytes", async () => {
  const big = "b".repeat(20_000);
  const small = "VALUE a 0 1\r\n1\r\nEND\r\n";
  const server = scriptedServer(
    3,
    `${small}VALUE big 0 ${big.length}\r\n${big}\r\nEND\r\n${small}`,
  );
  const connection = connectionTo(server.port);
  try {
    const collector = new Collector();
    for (const [tag, key] of ["a", "big", "a"].entries()) {
      connection.send(encoder.encode(`get ${key}\r\n`), ReplyKind.Retrieval, collector, tag);
    }
    await collector.until(3);
    for (const tag of [0, 2]) {
      const reply = collector.replies.get(tag)!;
      assert.equal(decoder.decode(reply), small);
      // At most one of the connection's 16 KiB blocks, which the large reply does not fit.
      assert.ok(reply.buffer.byteLength <= 16 * 1024, `reply ${tag} holds the large reply's bytes`);
    }
  } finally {
    connection.close();
    await server.done;
  }
});

/** What a {@linkcode transientRecorder} saw of a reply during the call. */
interface SeenReply {
  text: string;
  /** Whether the bytes were a buffer of their own. */
  ownBuffer: boolean;
  /** The size of the buffer they lie in. */
  buffer: number;
  transient?: boolean;
}

/** A handler that takes transient replies, and what it saw of each during the call. */
function transientRecorder(): { seen: SeenReply[]; transient: ReplyHandler } {
  const seen: SeenReply[] = [];
  const transient: ReplyHandler = {
    takesTransientReplies: true,
    onReply(bytes, _tag, isTransient) {
      seen.push({
        text: decoder.decode(bytes),
        ownBuffer: bytes.buffer.byteLength === bytes.byteLength,
        buffer: bytes.buffer.byteLength,
        transient: isTransient,
      });
    },
    onFailure() {},
  };
  return { seen, transient };
}

Deno.test("a large reply is a view into the read buffer only for a handler that takes transient replies", async () => {
  const big = "b".repeat(20_000);
  const reply = `VALUE big 0 ${big.length}\r\n${big}\r\nEND\r\n`;
  const server = scriptedServer(2, reply + reply);
  const connection = connectionTo(server.port);
  try {
    const kept = new Collector();
    const { seen, transient } = transientRecorder();
    connection.send(encoder.encode("get big\r\n"), ReplyKind.Retrieval, kept, 0);
    connection.send(encoder.encode("get big\r\n"), ReplyKind.Retrieval, transient, 0);
    await kept.until(1);
    while (seen.length < 1) await new Promise((resolve) => setTimeout(resolve, 1));
    const owned = kept.replies.get(0)!;
    assert.equal(decoder.decode(owned), reply);
    assert.equal(owned.buffer.byteLength, owned.byteLength, "a kept reply has its own buffer");
    // A view into the 64 KiB read buffer.
    assert.deepEqual(seen, [{ text: reply, ownBuffer: false, buffer: 64 * 1024, transient: true }]);
  } finally {
    connection.close();
    await server.done;
  }
});

Deno.test("a large joined get's part goes to a handler that takes transient replies in place, with its END, and the part after it is intact", async () => {
  await withOpenConnection(async (connection, collector) => {
    const big = "b".repeat(20_000);
    connection.send(encoder.encode(`set big 0 0 ${big.length}\r\n${big}\r\n`), 0, collector, 1);
    connection.send(encoder.encode("set c 0 0 1\r\n3\r\n"), ReplyKind.Line, collector, 2);
    await collector.until(3);
    const { seen, transient } = transientRecorder();
    // Joined into one line, `get big c`: the END written after big's block for the call covers
    // the start of c's block.
    connection.send(encoder.encode("get big\r\n"), ReplyKind.Get, transient, 0);
    connection.send(encoder.encode("get c\r\n"), ReplyKind.Get, collector, 3);
    await collector.until(4);
    const part = block("big", big);
    // A view into the 64 KiB read buffer, not a copy.
    assert.deepEqual(seen, [
      { text: part + "END\r\n", ownBuffer: false, buffer: 64 * 1024, transient: true },
    ]);
    assert.equal(decoder.decode(collector.replies.get(3)), block("c", "3") + "END\r\n");
  });
});

Deno.test("a large joined get's part that ends where the read buffer does is put together in a reused buffer for a handler that takes transient replies", async () => {
  // The part fills the 64 KiB read buffer to its last byte: no room after it for an END.
  const header = "VALUE big 0 65515\r\n";
  const part = header + "b".repeat(64 * 1024 - header.length - 2) + "\r\n";
  const server = scriptedServer(1, part + block("c", "3") + "END\r\n");
  const connection = connectionTo(server.port);
  try {
    const kept = new Collector();
    const { seen, transient } = transientRecorder();
    connection.send(encoder.encode("get big\r\n"), ReplyKind.Get, transient, 0);
    connection.send(encoder.encode("get c\r\n"), ReplyKind.Get, kept, 0);
    await kept.until(1);
    assert.equal(seen.length, 1);
    assert.equal(seen[0].text, part + "END\r\n");
    assert.equal(seen[0].transient, true);
    assert.notEqual(seen[0].buffer, 64 * 1024, "a copy, not the read buffer");
    assert.equal(decoder.decode(kept.replies.get(0)), block("c", "3") + "END\r\n");
  } finally {
    connection.close();
    await server.done;
  }
});

Deno.test("a handler that sends on its own connection while replies are handed out gets its reply after them", async () => {
  const server = await startMemcached();
  const connection = connectionTo(server.port);
  try {
    const collector = new Collector();
    const chained: ReplyHandler = {
      onReply(reply, tag) {
        collector.onReply(reply, tag);
        if (tag < 10) {
          connection.send(
            encoder.encode(`get k${tag}\r\n`),
            ReplyKind.Retrieval,
            collector,
            100 + tag,
          );
        }
      },
      onFailure: (error, tag) => collector.onFailure(error, tag),
    };
    for (let i = 0; i < 10; i++) {
      const set = `set k${i} 0 0 ${String(i).length}\r\n${i}\r\n`;
      connection.send(encoder.encode(set), ReplyKind.Line, chained, i);
    }
    await collector.until(20);
    assert.equal(collector.failures.size, 0);
    for (let i = 0; i < 10; i++) {
      assert.equal(decoder.decode(collector.replies.get(i)), "STORED\r\n");
      assert.equal(
        decoder.decode(collector.replies.get(100 + i)),
        `VALUE k${i} 0 ${String(i).length}\r\n${i}\r\nEND\r\n`,
      );
    }
  } finally {
    connection.close();
    await server.stop();
  }
});

Deno.test("a request sent from a failure handler gets its own reply on the next connection, and the request after it its own", async () => {
  await withOpenConnection(async (connection, collector) => {
    connection.send(encoder.encode("set secret 0 0 6\r\nSECRET\r\n"), ReplyKind.Line, collector, 1);
    await collector.until(2);
    const failed = Promise.withResolvers<void>();
    // memcached closes the connection at `quit`, so the get behind it fails; its handler asks
    // again on the same connection, as a get falls back to a backup on the same server.
    connection.send(encoder.encode("quit\r\n"), ReplyKind.Line, IGNORE_REPLIES, 0);
    connection.send(encoder.encode("get nothing\r\n"), ReplyKind.Get, {
      onReply() {},
      onFailure() {
        connection.send(encoder.encode("get secret\r\n"), ReplyKind.Get, collector, 10);
        failed.resolve();
      },
    }, 0);
    await failed.promise;
    connection.send(encoder.encode("get other\r\n"), ReplyKind.Get, collector, 11);
    await collector.until(4);
    assert.equal(
      decoder.decode(collector.replies.get(10)),
      "VALUE secret 0 6\r\nSECRET\r\nEND\r\n",
    );
    assert.equal(decoder.decode(collector.replies.get(11)), "END\r\n");
  });
});

Deno.test("replies read after a connection failed never reach the requests sent after it", async () => {
  // memcached closes the connection at each `quit`, some of them sent while replies are handed
  // out; a read that completed at once may resume after the failure. Every get must still get
  // only its own keys, and every set STORED.
  const server = await startMemcached();
  const connection = connectionTo(server.port);
  const wrong: string[] = [];
  let answered = 0;
  let failed = 0;
  const quit = () => connection.send(encoder.encode("quit\r\n"), ReplyKind.Line, IGNORE_REPLIES, 0);
  try {
    for (let seed = 1; seed <= 6; seed++) {
      const random = new SeededRandom(seed);
      for (let round = 0; round < 300; round++) {
        const sends = 1 + random.int(60);
        let pending = sends;
        const { promise, resolve } = Promise.withResolvers<void>();
        // Handlers send too: a write that fails at once (the server closed) fails the
        // connection between a read and the code after it.
        const settle = () => {
          if (random.int(200) === 0) quit();
          if (random.int(20) === 0) {
            connection.send(encoder.encode("get extra\r\n"), ReplyKind.Get, IGNORE_REPLIES, 0);
          }
          if (--pending === 0) resolve();
        };
        const expecting = (check: (text: string) => boolean, what: string): ReplyHandler => ({
          onReply(reply) {
            answered++;
            const text = decoder.decode(reply);
            if (!check(text)) wrong.push(`${what} got ${text.slice(0, 80)}`);
            settle();
          },
          onFailure() {
            failed++;
            settle();
          },
        });
        for (let i = 0; i < sends; i++) {
          if (random.int(10) === 0) await undefined;
          const key = () => `k${random.int(40)}`;
          if (random.int(10) < 7) {
            const keys = Array.from({ length: 1 + random.int(4) }, key);
            const ownKeys = (text: string) => {
              let next = 0;
              for (const [, found] of text.matchAll(/VALUE (\S+) /g)) {
                next = keys.indexOf(found, next) + 1;
                if (next === 0) return false;
              }
              return text.endsWith("END\r\n");
            };
            const line = encoder.encode(`get ${keys.join(" ")}\r\n`);
            connection.send(line, ReplyKind.Get, expecting(ownKeys, `get ${keys}`), 0);
          } else {
            const value = "v".repeat(random.int(3000));
            const set = encoder.encode(`set ${key()} 0 0 ${value.length}\r\n${value}\r\n`);
            const stored = (text: string) => text === "STORED\r\n";
            const deferred = random.int(2) === 0;
            connection.send(set, ReplyKind.Line, expecting(stored, "set"), 0, deferred);
          }
        }
        if (random.int(20) === 0) quit();
        await promise;
      }
    }
    assert.deepEqual(wrong, []);
    assert.ok(answered > 0 && failed > 0, `answered ${answered}, failed ${failed}`);
  } finally {
    connection.close();
    await server.stop();
  }
});
