import assert from "node:assert/strict";
import { EpollConn, EpollListener } from "../../lib/net/epoll_socket.ts";
import { EpollReactor } from "../../lib/net/epoll_reactor.ts";
import { EPOLLIN, NONBLOCK, openLibc } from "../../lib/net/libc.ts";
import { decodeSockaddr, encodeSockaddr } from "../../lib/net/socket_address.ts";
import { type ByteStream, connectTcp, listenTcp } from "../../lib/net/tcp.ts";
import { writeAll } from "../../lib/protocol/bytes.ts";
import { freePort } from "../helpers/free_port.ts";
import { startMemcached } from "../helpers/memcached.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

Deno.test("numeric addresses go to sockaddr and back; names are left to Deno", () => {
  for (const host of ["127.0.0.1", "::1", "::", "fe80::1:2", "2001:db8:0:0:1:0:0:1"]) {
    const back = decodeSockaddr(encodeSockaddr(host, 11211)!);
    assert.deepEqual(back, {
      transport: "tcp",
      hostname: host === "2001:db8:0:0:1:0:0:1" ? "2001:db8::1:0:0:1" : host,
      port: 11211,
    });
  }
  assert.equal(encodeSockaddr("localhost", 11211), null);
  assert.equal(encodeSockaddr("::ffff:127.0.0.1", 11211), null);
});

Deno.test("an epoll connection to memcached writes a request and reads its reply", async () => {
  const server = await startMemcached();
  const [host, port] = server.address.split(":");
  const conn = await connectTcp(host, Number(port), "epoll");
  try {
    assert.ok(conn instanceof EpollConn);
    await writeAll(conn, encoder.encode("set k 0 0 1\r\nv\r\nget k\r\n"));
    let text = "";
    const buf = new Uint8Array(64);
    while (!text.endsWith("END\r\n")) {
      text += decoder.decode(buf.subarray(0, (await conn.read(buf))!));
    }
    assert.equal(text, "STORED\r\nVALUE k 0 1\r\nv\r\nEND\r\n");
  } finally {
    conn.close();
    await server.stop();
  }
});

Deno.test("a connect to a port nobody listens on fails with ConnectionRefused", async () => {
  await assert.rejects(
    connectTcp("127.0.0.1", freePort(), "epoll"),
    (error) => error instanceof Deno.errors.ConnectionRefused && /os error 111/.test(error.message),
  );
});

Deno.test("a listener gives the port the kernel chose, serves clients, and its accept fails with BadResource at close", async () => {
  const listener = listenTcp("127.0.0.1", 0, "epoll");
  assert.ok(listener instanceof EpollListener);
  const port = (listener.addr as Deno.NetAddr).port;
  assert.ok(port > 0);
  const accepted: string[] = [];
  const serving = (async () => {
    while (true) {
      const conn = await listener.accept();
      accepted.push((conn.remoteAddr as Deno.NetAddr).hostname);
      conn.close();
    }
  })();
  const client = await Deno.connect({ hostname: "127.0.0.1", port });
  assert.equal(await client.read(new Uint8Array(1)), null, "the server closed it");
  client.close();
  listener.close();
  await assert.rejects(serving, Deno.errors.BadResource);
  assert.deepEqual(accepted, ["127.0.0.1"]);
});

Deno.test("a read that waits fails with BadResource when its connection is closed", async () => {
  const { listener, client, conn } = await acceptedPair();
  const read = conn.read(new Uint8Array(16));
  conn.close();
  await assert.rejects(read, Deno.errors.BadResource);
  assert.throws(() => conn.close(), Deno.errors.BadResource);
  client.close();
  listener.close();
});

Deno.test("a write larger than the socket buffers waits, and completes once the peer reads", async () => {
  const listener = listenTcp("127.0.0.1", 0, "epoll");
  const client = await connectTcp("127.0.0.1", (listener.addr as Deno.NetAddr).port, "epoll");
  const server = await listener.accept();
  const data = new Uint8Array(16 * 1024 * 1024).map((_, i) => i % 251);
  let written = false;
  const writing = writeAll(client, data).then(() => written = true);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(written, false, "16 MiB do not fit in the socket buffers");
  const received = new Uint8Array(data.length);
  let at = 0;
  while (at < data.length) at += (await server.read(received.subarray(at)))!;
  await writing;
  assert.deepEqual(received, data);
  client.close();
  assert.equal(await server.read(new Uint8Array(1)), null, "then the end of the stream");
  server.close();
  listener.close();
});

Deno.test("tryWrite writes what the socket takes at once, 0 once it is full or while a write waits", async () => {
  const { listener, client, conn } = await acceptedPair();
  const epollConn = conn as EpollConn;
  assert.equal(epollConn.tryWrite(encoder.encode("hello")), 5);
  const got = new Uint8Array(5);
  assert.equal(await client.read(got), 5);
  assert.equal(decoder.decode(got), "hello");
  const data = new Uint8Array(1024 * 1024);
  assert.ok(epollConn.tryWrite(data) > 0);
  // However large the socket's buffers, they fill up, and then it takes nothing.
  while (epollConn.tryWrite(data) > 0);
  assert.equal(epollConn.tryWrite(data), 0, "the socket is full");
  const waiting = epollConn.write(data);
  assert.equal(epollConn.tryWrite(data), 0, "a write waits");
  conn.close();
  await assert.rejects(waiting, Deno.errors.BadResource);
  assert.throws(() => epollConn.tryWrite(data), Deno.errors.BadResource);
  client.close();
  listener.close();
});

Deno.test("bytes and the peer's close that came before a read are read, then the end of the stream", async () => {
  const { listener, client, conn } = await acceptedPair();
  await writeAll(client, encoder.encode("abc"));
  client.close();
  // The reactor takes the close's edge while no read waits; the short read below must not
  // then wait for another.
  await new Promise((resolve) => setTimeout(resolve, 50));
  const buf = new Uint8Array(64);
  assert.equal(await conn.read(buf), 3);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise((resolve) => timer = setTimeout(() => resolve("no end in 2 s"), 2000));
  assert.equal(await Promise.race([conn.read(buf), late]), null);
  clearTimeout(timer);
  conn.close();
  listener.close();
});

Deno.test("a read of zero bytes completes at once, even on a drained socket", async () => {
  const { listener, client, conn } = await acceptedPair();
  await writeAll(client, encoder.encode("x"));
  assert.equal(await conn.read(new Uint8Array(8)), 1, "a short read: the socket is drained");
  assert.equal(await conn.read(new Uint8Array(0)), 0);
  await assert.rejects(Promise.all([listener.accept(), listener.accept()]), /already waiting/);
  client.close();
  conn.close();
  listener.close();
});

Deno.test("reads that complete at once yield to Deno's timers once the reactor's turn is overdue", async () => {
  const { listener, client, conn } = await acceptedPair();
  await writeAll(client, new Uint8Array(1000));
  await new Promise((resolve) => setTimeout(resolve, 50)); // the bytes have arrived
  let timerRan = false;
  setTimeout(() => timerRan = true, 0);
  const busy = performance.now() + 30; // Deno's event loop is now overdue for a turn
  while (performance.now() < busy);
  // Each one-byte read fills its buffer and could complete at once, forever: a socket that
  // never runs dry. One of the first 64 must wait for the turn, in which the timer runs.
  const buf = new Uint8Array(1);
  let reads = 0;
  while (!timerRan && reads < 1000) reads += (await conn.read(buf))!;
  assert.ok(timerRan, `the timer did not run during ${reads} reads`);
  assert.ok(reads <= 64, `the timer ran after ${reads} reads`);
  client.close();
  conn.close();
  listener.close();
});

Deno.test("an event for a closed descriptor does not reach the new one that took its number", async () => {
  const libc = openLibc()!;
  const reactor = new EpollReactor(libc);
  const old = libc.fn.eventfd(0, NONBLOCK);
  const seenByNew: number[] = [];
  reactor.watch(old, { onReady: () => {} });
  for (let i = 0; i < 10; i++) await undefined; // the reactor now blocks in epoll_wait
  libc.fn.write(old, new Uint8Array(new BigUint64Array([1n]).buffer), 8n);
  const busy = performance.now() + 200; // meanwhile the kernel reports it readable
  while (performance.now() < busy);
  reactor.unwatch(old);
  libc.fn.close(old);
  const held: number[] = [];
  let reused = libc.fn.eventfd(0, NONBLOCK);
  while (reused !== old) {
    held.push(reused);
    reused = libc.fn.eventfd(0, NONBLOCK);
  }
  reactor.watch(reused, { onReady: (events) => seenByNew.push(events) });
  await new Promise((resolve) => setTimeout(resolve, 50));
  reactor.unwatch(reused);
  for (const fd of [reused, ...held]) libc.fn.close(fd);
  await new Promise((resolve) => setTimeout(resolve, 20)); // the reactor stops
  assert.ok(seenByNew.length > 0, "the new descriptor's own event (writable) came");
  assert.deepEqual(seenByNew.filter((events) => events & EPOLLIN), [], "no readable event");
});

Deno.test("readNow reads what is there without a promise, -1 once drained; whenReadable calls back when more comes", async () => {
  const { listener, client, conn } = await acceptedPair();
  const epollConn = conn as EpollConn;
  const buf = new Uint8Array(64);
  await writeAll(client, encoder.encode("get a\r\n"));
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(epollConn.readNow(buf), 7);
  assert.equal(epollConn.readNow(buf), -1, "a short read drained the socket: no system call");
  const readable = Promise.withResolvers<void>();
  let calls = 0;
  epollConn.whenReadable(() => {
    calls++;
    readable.resolve();
  });
  await writeAll(client, encoder.encode("get b\r\n"));
  await readable.promise;
  assert.equal(decoder.decode(buf.subarray(0, epollConn.readNow(buf)!)), "get b\r\n");
  client.close();
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(epollConn.readNow(buf), null, "the end of the stream");
  assert.equal(calls, 1, "one call per whenReadable");
  conn.close();
  listener.close();
});

Deno.test("closing a connection calls back whoever waits on whenReadable, and readNow then throws BadResource", async () => {
  const { listener, client, conn } = await acceptedPair();
  const epollConn = conn as EpollConn;
  assert.equal(epollConn.readNow(new Uint8Array(8)), -1);
  let called = false;
  epollConn.whenReadable(() => called = true);
  conn.close();
  assert.equal(called, false, "not from inside close");
  await Promise.resolve();
  assert.equal(called, true);
  assert.throws(() => epollConn.readNow(new Uint8Array(8)), Deno.errors.BadResource);
  client.close();
  listener.close();
});

/** An epoll listener on a free port, a client of Deno's, and the epoll connection it accepted. */
async function acceptedPair(): Promise<
  { listener: ReturnType<typeof listenTcp>; client: Deno.Conn; conn: ByteStream }
> {
  const listener = listenTcp("127.0.0.1", 0, "epoll");
  const client = await Deno.connect({
    hostname: "127.0.0.1",
    port: (listener.addr as Deno.NetAddr).port,
  });
  return { listener, client, conn: await listener.accept() };
}
