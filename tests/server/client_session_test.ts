import assert from "node:assert/strict";
import { ClientSession } from "../../lib/server/client_session.ts";
import { ProxyStats } from "../../lib/observability/stats.ts";
import type { Router } from "../../lib/routing/router.ts";
import type { ReplySink } from "../../lib/routing/reply_sink.ts";
import type { TextRequest } from "../../lib/protocol/text/text_request.ts";
import { type ByteStream, listenTcp } from "../../lib/net/tcp.ts";
import { writeAll } from "../../lib/protocol/bytes.ts";

const encoder = new TextEncoder();

/**
 * A client connection that sends `input` once, then nothing until it is closed, and whose first
 * write does not finish until `releaseFirstWrite` is called: a client that has stopped reading.
 */
class StalledConn {
  readonly writes: Uint8Array[] = [];
  #input: Uint8Array | null;
  #release: (() => void) | null = null;
  #closed = Promise.withResolvers<null>();

  constructor(input: string) {
    this.#input = encoder.encode(input);
  }

  read(buf: Uint8Array): Promise<number | null> {
    const input = this.#input;
    if (input === null) return this.#closed.promise;
    this.#input = null;
    buf.set(input);
    return Promise.resolve(input.length);
  }

  write(data: Uint8Array): Promise<number> {
    this.writes.push(data);
    if (this.writes.length > 1) return Promise.resolve(data.length);
    return new Promise((resolve) => this.#release = () => resolve(data.length));
  }

  releaseFirstWrite(): void {
    this.#release?.();
  }

  close(): void {
    this.#closed.resolve(null);
  }

  get remoteAddr(): Deno.NetAddr {
    return { transport: "tcp", hostname: "127.0.0.1", port: 1 };
  }
}

/** A connection whose socket takes 5 bytes at once and the rest only through `write`. */
class PartialConn extends StalledConn {
  tryWrite(_data: Uint8Array): number {
    return 5;
  }
}

/** The bytes of `chunks`, joined. */
function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Resolves once `pending()` no longer holds, checking every millisecond. */
async function waitWhile(pending: () => boolean): Promise<void> {
  while (pending()) await new Promise((resolve) => setTimeout(resolve, 1));
}

/**
 * A session over `conn`, serving, whose router only records what it is asked to route: each
 * request's sink and number, to complete it with.
 */
function recordingSession(conn: ByteStream) {
  const routed: { sink: ReplySink; seq: number }[] = [];
  const router = {
    route(_request: TextRequest, sink: ReplySink, seq: number) {
      routed.push({ sink, seq });
    },
  } as unknown as Router;
  const session = new ClientSession(conn, {
    router,
    stats: new ProxyStats(),
    version: "test",
    limits: {},
    statsReply: () => new Uint8Array(0),
  });
  return { session, routed, serving: session.serve() };
}

/** {@linkcode recordingSession} over `conn`, once `count` requests have been routed. */
async function serveUntilRouted(conn: StalledConn, count: number) {
  const served = recordingSession(conn as unknown as ByteStream);
  await waitWhile(() => served.routed.length < count);
  return served;
}

Deno.test("a reply that waits behind a blocked write holds its own bytes, not the read it shares", async () => {
  const conn = new StalledConn("get a\r\nget b\r\n");
  const { session, routed, serving } = await serveUntilRouted(conn, 2);
  // Both replies are views into one backend read, as BackendConnection hands them out.
  const read = encoder.encode("VALUE a 0 1\r\n1\r\nEND\r\nVALUE b 0 1\r\n2\r\nEND\r\n");
  routed[0].sink.complete(routed[0].seq, read.subarray(0, 21));
  await new Promise((resolve) => setTimeout(resolve, 1));
  assert.equal(conn.writes.length, 1, "the first reply's write is under way");
  routed[1].sink.complete(routed[1].seq, read.subarray(21));
  conn.releaseFirstWrite();
  await waitWhile(() => conn.writes.length < 2);
  const second = conn.writes[1];
  assert.equal(new TextDecoder().decode(second), "VALUE b 0 1\r\n2\r\nEND\r\n");
  assert.equal(second.buffer.byteLength, second.byteLength, "the waiting reply was copied");
  session.close();
  await serving;
});

Deno.test("a client that half-closes gets its last reply whole, though the socket takes it slowly", async () => {
  /** Sends its input, then ends its side when told; counts the closes. */
  class EndingConn extends StalledConn {
    closes = 0;
    #sent = false;
    #end = Promise.withResolvers<null>();
    override read(buf: Uint8Array): Promise<number | null> {
      if (this.#sent) return this.#end.promise;
      this.#sent = true;
      return super.read(buf);
    }
    endInput(): void {
      this.#end.resolve(null);
    }
    override close(): void {
      this.closes++;
      this.#end.resolve(null);
      super.close();
    }
  }
  const conn = new EndingConn("get a\r\n");
  const { routed, serving } = await serveUntilRouted(conn, 1);
  routed[0].sink.complete(routed[0].seq, encoder.encode("VALUE a 0 1\r\n1\r\nEND\r\n"));
  await waitWhile(() => conn.writes.length < 1);
  // The reply's write is under way, and then the client ends its side.
  conn.endInput();
  await serving;
  assert.equal(conn.closes, 0, "not closed under the write");
  conn.releaseFirstWrite();
  await waitWhile(() => conn.closes === 0);
  assert.equal(new TextDecoder().decode(conn.writes[0]), "VALUE a 0 1\r\n1\r\nEND\r\n");
});

/**
 * A connection whose socket takes whole writes at once (`tryWrite`, recorded in `tried`) unless
 * `full`; then it takes nothing, and the write waits as a `StalledConn`'s first write does.
 */
class FillingConn extends StalledConn {
  readonly tried: Uint8Array[] = [];
  full = false;

  tryWrite(data: Uint8Array): number {
    if (this.full) return 0;
    this.tried.push(data);
    return data.length;
  }
}

/** Two replies of 150 KiB, views into one block: too large to be joined into one write. */
function twoLargeReplies(): [Uint8Array, Uint8Array] {
  const block = new Uint8Array(300 * 1024 + 16).fill(0x78);
  return [block.subarray(0, 150 * 1024), block.subarray(150 * 1024, 300 * 1024)];
}

Deno.test("the one reply a client awaits is written as it completes, and a pipeline's first waits for the turn's flush", async () => {
  const read = encoder.encode("VALUE a 0 1\r\n1\r\nEND\r\nVALUE b 0 1\r\n2\r\nEND\r\n");
  const alone = new FillingConn("get a\r\n");
  const one = await serveUntilRouted(alone, 1);
  one.routed[0].sink.complete(one.routed[0].seq, read.subarray(0, 21));
  assert.equal(alone.tried.length, 1, "written before complete() returned");
  assert.equal(alone.tried[0].buffer, read.buffer, "from the read, uncopied");
  const pipelined = new FillingConn("get a\r\nget b\r\n");
  const two = await serveUntilRouted(pipelined, 2);
  two.routed[0].sink.complete(two.routed[0].seq, read.subarray(0, 21));
  assert.equal(pipelined.tried.length, 0, "the second reply may still join its write");
  two.routed[1].sink.complete(two.routed[1].seq, read.subarray(21));
  await waitWhile(() => pipelined.tried.length < 1);
  assert.equal(new TextDecoder().decode(pipelined.tried[0]), new TextDecoder().decode(read));
  one.session.close();
  two.session.close();
  await Promise.all([one.serving, two.serving]);
});

for (const transient of [false, true]) {
  Deno.test(`a client that ends its side after a flush_all is answered and closed once the flush_all is (${transient ? "transient" : "kept"} reply)`, async () => {
    /** Sends its input, then ends its side; the socket takes every write at once. */
    class EndingConn extends FillingConn {
      #sent = false;
      closed = false;
      override read(buf: Uint8Array): Promise<number | null> {
        if (this.#sent) return Promise.resolve(null);
        this.#sent = true;
        return super.read(buf);
      }
      override close(): void {
        this.closed = true;
        super.close();
      }
    }
    const conn = new EndingConn("get a\r\nflush_all\r\n");
    const { routed, serving } = await serveUntilRouted(conn, 1);
    routed[0].sink.complete(routed[0].seq, encoder.encode("END\r\n"));
    // The flush_all waited for the get; it is routed now, and its reply completes the session.
    await waitWhile(() => routed.length < 2);
    // A view into a larger read, as a backend connection hands replies out.
    const read = encoder.encode("OK\r\nmore replies");
    routed[1].sink.complete(routed[1].seq, read.subarray(0, 4), transient);
    await serving;
    await waitWhile(() => !conn.closed);
    assert.equal(new TextDecoder().decode(concat(conn.tried)), "END\r\nOK\r\n");
  });
}

Deno.test("a pipeline's replies that come in together are written in the same turn from the block they share, not copied each", async () => {
  const conn = new FillingConn("get a\r\nget b\r\n");
  const { session, routed, serving } = await serveUntilRouted(conn, 2);
  const [a, b] = twoLargeReplies();
  routed[0].sink.complete(routed[0].seq, a);
  routed[1].sink.complete(routed[1].seq, b);
  await waitWhile(() => conn.tried.length < 2);
  assert.equal(conn.tried[0].buffer, a.buffer);
  assert.equal(conn.tried[1].buffer, b.buffer, "the second reply was written from the block");
  session.close();
  await serving;
});

Deno.test("a reply still waiting for an earlier one at the end of its turn is copied out of the block it shares", async () => {
  const conn = new FillingConn("get a\r\nget b\r\n");
  const { session, routed, serving } = await serveUntilRouted(conn, 2);
  const [a, b] = twoLargeReplies();
  routed[1].sink.complete(routed[1].seq, b);
  await new Promise((resolve) => setTimeout(resolve, 1));
  routed[0].sink.complete(routed[0].seq, a);
  await waitWhile(() => conn.tried.length < 2);
  assert.equal(conn.tried[0].buffer, a.buffer, "the head's reply went out from the block");
  const second = conn.tried[1];
  assert.equal(second.length, b.length);
  assert.equal(second.buffer.byteLength, second.byteLength, "the waiting reply was copied");
  session.close();
  await serving;
});

Deno.test("a small reply that must wait is copied into the session's own block, not a buffer of its own", async () => {
  const conn = new FillingConn("get a\r\nget b\r\n");
  const { session, routed, serving } = await serveUntilRouted(conn, 2);
  const read = encoder.encode("VALUE b 0 1\r\n2\r\nEND\r\nother replies");
  routed[1].sink.complete(routed[1].seq, read.subarray(0, 21));
  await new Promise((resolve) => setTimeout(resolve, 1));
  // A first reply too large to share a write with the second, which is then written alone.
  routed[0].sink.complete(routed[0].seq, new Uint8Array(300 * 1024).fill(0x78));
  await waitWhile(() => conn.tried.length < 2);
  const second = conn.tried[1];
  assert.equal(new TextDecoder().decode(second), "VALUE b 0 1\r\n2\r\nEND\r\n");
  assert.notEqual(second.buffer, read.buffer, "copied out of the read");
  assert.equal(second.buffer.byteLength, 4096, "into one of the session's blocks");
  session.close();
  await serving;
});

Deno.test("replies left behind a write that must wait are copied out of the block they share", async () => {
  const conn = new FillingConn("get a\r\nget b\r\n");
  const { session, routed, serving } = await serveUntilRouted(conn, 2);
  const [a, b] = twoLargeReplies();
  conn.full = true;
  routed[0].sink.complete(routed[0].seq, a);
  routed[1].sink.complete(routed[1].seq, b);
  await waitWhile(() => conn.writes.length < 1);
  conn.full = false;
  conn.releaseFirstWrite();
  await waitWhile(() => conn.tried.length < 1);
  const second = conn.tried[0];
  assert.equal(second.length, b.length);
  assert.equal(second.buffer.byteLength, second.byteLength, "the waiting reply was copied");
  session.close();
  await serving;
});

Deno.test("what the socket does not take at once is written from the session's own copy, not the block the reply shares", async () => {
  const conn = new PartialConn("get a\r\n");
  const { session, routed, serving } = await serveUntilRouted(conn, 1);
  // The reply is a piece of a larger block, as a merged multi-get reply is of the pool's slab.
  const block = encoder.encode("VALUE a 0 1\r\n1\r\nEND\r\nother replies");
  routed[0].sink.complete(routed[0].seq, block.subarray(0, 21));
  await waitWhile(() => conn.writes.length < 1);
  const rest = conn.writes[0];
  assert.equal(new TextDecoder().decode(rest), " a 0 1\r\n1\r\nEND\r\n");
  assert.equal(rest.buffer.byteLength, rest.byteLength, "the rest was copied out of the block");
  conn.releaseFirstWrite();
  session.close();
  await serving;
});

Deno.test("replies joined into one write that must wait keep their bytes while other sessions join theirs", async () => {
  // A session answered two one-byte hits in one turn: joined into one write, of which the
  // socket takes 5 bytes at once; the rest waits.
  const answerTwo = async (keys: [string, string], values: [string, string]) => {
    const conn = new PartialConn(`get ${keys[0]}\r\nget ${keys[1]}\r\n`);
    const served = await serveUntilRouted(conn, 2);
    const read = encoder.encode(
      `VALUE ${keys[0]} 0 1\r\n${values[0]}\r\nEND\r\nVALUE ${keys[1]} 0 1\r\n${
        values[1]
      }\r\nEND\r\n`,
    );
    served.routed[0].sink.complete(served.routed[0].seq, read.subarray(0, 21));
    served.routed[1].sink.complete(served.routed[1].seq, read.subarray(21));
    await waitWhile(() => conn.writes.length < 1);
    return { conn, ...served };
  };
  const slow = await answerTwo(["a", "b"], ["1", "2"]);
  // Another session joins its replies while the first one's rest waits.
  const fast = await answerTwo(["c", "d"], ["3", "4"]);
  const [stalled, other] = [slow.conn, fast.conn];
  assert.equal(
    new TextDecoder().decode(stalled.writes[0]),
    " a 0 1\r\n1\r\nEND\r\nVALUE b 0 1\r\n2\r\nEND\r\n",
  );
  stalled.releaseFirstWrite();
  other.releaseFirstWrite();
  slow.session.close();
  fast.session.close();
  await Promise.all([slow.serving, fast.serving]);
});

Deno.test("on a connection without tryWrite, a write that may wait has its own bytes, not the block its reply shares", async () => {
  const conn = new StalledConn("get a\r\n");
  const { session, routed, serving } = await serveUntilRouted(conn, 1);
  const block = encoder.encode("VALUE a 0 1\r\n1\r\nEND\r\nother replies");
  routed[0].sink.complete(routed[0].seq, block.subarray(0, 21));
  await waitWhile(() => conn.writes.length < 1);
  const written = conn.writes[0];
  assert.equal(new TextDecoder().decode(written), "VALUE a 0 1\r\n1\r\nEND\r\n");
  assert.equal(written.buffer.byteLength, written.byteLength, "the write holds only its reply");
  conn.releaseFirstWrite();
  session.close();
  await serving;
});

Deno.test("a transient reply is written at once when it is next, and copied when it must wait", async () => {
  const conn = new PartialConn("get a\r\nget b\r\n");
  const { session, routed, serving } = await serveUntilRouted(conn, 2);
  // A backend's read buffer, reused for the next read as soon as complete() returns.
  const readBuffer = encoder.encode("....VALUE a 0 1\r\n1\r\nEND\r\n....");
  routed[0].sink.complete(routed[0].seq, readBuffer.subarray(4, 25), true);
  assert.equal(conn.writes.length, 1, "the reply that is next went to the socket during the call");
  // A reply that fills its buffer does not look shared, yet it is transient all the same.
  const wholeBuffer = encoder.encode("VALUE b 0 1\r\n2\r\nEND\r\n");
  routed[1].sink.complete(routed[1].seq, wholeBuffer, true);
  readBuffer.fill(0x3f);
  wholeBuffer.fill(0x3f);
  conn.releaseFirstWrite();
  await waitWhile(() => conn.writes.length < 2);
  const decoder = new TextDecoder();
  assert.equal(decoder.decode(conn.writes[0]), " a 0 1\r\n1\r\nEND\r\n", "the rest, copied");
  assert.equal(
    decoder.decode(conn.writes[1]),
    " b 0 1\r\n2\r\nEND\r\n",
    "the one that waited, copied (its rest, after the 5 bytes the socket took)",
  );
  session.close();
  await serving;
});

Deno.test("a client that read or wrote since the idle sweep last looked is not idle, however long ago that was", async () => {
  const conn = new StalledConn("get a\r\n");
  const { session, routed, serving } = await serveUntilRouted(conn, 1);
  const sweep = Date.now() + 60_000;
  assert.equal(session.idle(sweep, 1000), false, "a request waits for its server");
  routed[0].sink.complete(routed[0].seq, encoder.encode("END\r\n"));
  await waitWhile(() => conn.writes.length < 1);
  conn.releaseFirstWrite();
  await new Promise((resolve) => setTimeout(resolve, 1));
  assert.equal(session.idle(sweep + 999, 1000), false, "the write is seen now");
  assert.equal(session.idle(sweep + 1998, 1000), false);
  assert.equal(
    session.idle(sweep + 1999, 1000),
    true,
    "idle a whole timeout after the sweep saw it",
  );
  session.close();
  await serving;
});

for (const io of ["epoll", "deno"] as const) {
  Deno.test(`a request that comes after drain() while the session waits to read is still answered (--io ${io})`, async () => {
    const listener = listenTcp("127.0.0.1", 0, io);
    const client = await Deno.connect({
      hostname: "127.0.0.1",
      port: (listener.addr as Deno.NetAddr).port,
    });
    const { session, routed, serving } = recordingSession(await listener.accept());
    await writeAll(client, encoder.encode("get a\r\n"));
    await waitWhile(() => routed.length < 1);
    session.drain();
    await writeAll(client, encoder.encode("get b\r\n"));
    const deadline = Date.now() + 2000;
    await waitWhile(() => routed.length < 2 && Date.now() < deadline);
    assert.equal(routed.length, 2, "the request read after drain() is routed");
    routed[0].sink.complete(routed[0].seq, encoder.encode("END\r\n"));
    routed[1].sink.complete(routed[1].seq, encoder.encode("END\r\n"));
    let text = "";
    const buf = new Uint8Array(64);
    while (true) {
      const n = await client.read(buf);
      if (n === null) break;
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
    assert.equal(text, "END\r\nEND\r\n", "both answered, then the connection closed");
    await serving;
    client.close();
    listener.close();
  });
}

Deno.test("a request whose routing throws closes its client and is logged, rather than holding the connection open", async () => {
  class ClosingConn extends StalledConn {
    closes = 0;
    override close(): void {
      this.closes++;
      super.close();
    }
  }
  const conn = new ClosingConn("get a\r\n");
  const logged: string[] = [];
  const session = new ClientSession(conn as unknown as ByteStream, {
    router: {
      route() {
        throw new Error("a bug");
      },
    } as unknown as Router,
    stats: new ProxyStats(),
    version: "test",
    limits: {},
    statsReply: () => new Uint8Array(0),
    logger: { log: (level, message) => logged.push(`${level}: ${message}`) },
  });
  await session.serve();
  assert.equal(conn.closes, 1);
  assert.deepEqual(logged, ["error: client closed: a request failed inside the proxy"]);
});
