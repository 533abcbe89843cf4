/**
 * TCP connections and listeners over non-blocking sockets that an {@linkcode EpollReactor}
 * watches. They have the part of `Deno.Conn` and `Deno.Listener` that memrelay uses, with the
 * same errors, so the code above them does not know which transport it has.
 *
 * A read or write makes its system call at once; only when the kernel says `EAGAIN` does it
 * wait, for the reactor's next edge. A call that completes at once costs no Deno op and no
 * thread: that is the point of this transport.
 *
 * @module
 */

import type { EpollReactor, ReadyHandler } from "./epoll_reactor.ts";
import {
  CLOEXEC,
  EAGAIN,
  EINPROGRESS,
  EINTR,
  EPOLLERR,
  EPOLLHUP,
  EPOLLIN,
  EPOLLOUT,
  EPOLLRDHUP,
  IPPROTO_TCP,
  type Libc,
  MSG_NOSIGNAL,
  NONBLOCK,
  SHUT_WR,
  SO_ERROR,
  SO_REUSEADDR,
  SOCK_STREAM,
  SOL_SOCKET,
  TCP_NODELAY,
} from "./libc.ts";
import { decodeSockaddr, encodeSockaddr, SOCKADDR_SIZE } from "./socket_address.ts";

/** Deno's error class for the errno values a socket meets. */
const ERROR_CLASSES: Record<number, new (message: string) => Error> = {
  13: Deno.errors.PermissionDenied,
  32: Deno.errors.BrokenPipe,
  98: Deno.errors.AddrInUse,
  99: Deno.errors.AddrNotAvailable,
  104: Deno.errors.ConnectionReset,
  110: Deno.errors.TimedOut,
  111: Deno.errors.ConnectionRefused,
};

/** An error like the one Deno's own sockets throw for `errno`. */
function socketError(libc: Libc, errno: number): Error {
  const ErrorClass = ERROR_CLASSES[errno] ?? Error;
  return new ErrorClass(`${libc.describe(errno)} (os error ${errno})`);
}

function closedError(): Error {
  return new Deno.errors.BadResource("the connection is closed");
}

const ONE = new Uint8Array(new Int32Array([1]).buffer);

/**
 * What accept(2) may fail with for one client, to be tried again: ECONNABORTED, and the network
 * errors it passes on (ENETDOWN, EPROTO, ENOPROTOOPT, EHOSTDOWN, ENONET, EHOSTUNREACH,
 * EOPNOTSUPP, ENETUNREACH).
 */
const RETRY_ACCEPT = new Set([103, 100, 71, 92, 112, 64, 113, 95, 101]);

/**
 * A descriptor the reactor watches, owned by one socket object: what connections and listeners
 * share.
 */
abstract class WatchedSocket implements ReadyHandler {
  protected readonly libc: Libc;
  protected readonly reactor: EpollReactor;
  protected readonly fd: number;
  protected closed = false;

  /**
   * Takes over `fd` and has the reactor watch it.
   *
   * @throws {Error} when the kernel refuses the watch; `fd` is closed then.
   */
  constructor(libc: Libc, reactor: EpollReactor, fd: number) {
    this.libc = libc;
    this.reactor = reactor;
    this.fd = fd;
    try {
      reactor.watch(fd, this);
    } catch (error) {
      libc.fn.close(fd);
      throw error;
    }
  }

  abstract onReady(events: number): void;

  /**
   * Stops watching and closes the descriptor.
   *
   * @throws {Deno.errors.BadResource} when it is closed already, as Deno's sockets do.
   */
  protected release(): void {
    if (this.closed) throw closedError();
    this.closed = true;
    this.reactor.unwatch(this.fd);
    this.libc.fn.close(this.fd);
  }
}

/** A promise's two ends, kept while a call waits for the socket. */
interface Waiter<T> {
  resolve(value: T): void;
  reject(error: Error): void;
}

/** A read or a write that waits for the socket: its bytes and its promise. */
class WaitingCall<T> {
  /** What to read into or write from; null when nothing waits. */
  bytes: Uint8Array | null = null;
  #waiter: Waiter<T> | null = null;

  /** @param name "read" or "write", for the error of a second call. */
  constructor(readonly name: string) {}

  /** Waits with `bytes`; the reactor's next retry settles it. */
  wait(bytes: Uint8Array): Promise<T> {
    this.bytes = bytes;
    return new Promise((resolve, reject) => this.#waiter = { resolve, reject });
  }

  /** Resolves the call and frees the slot. */
  settle(value: T): void {
    const waiter = this.#waiter!;
    this.bytes = this.#waiter = null;
    waiter.resolve(value);
  }

  /** Rejects the call, if one waits, and frees the slot. */
  fail(error: Error): void {
    const waiter = this.#waiter;
    this.bytes = this.#waiter = null;
    waiter?.reject(error);
  }
}

/** A connected TCP socket: `read`, `write`, `close` and the addresses of `Deno.Conn`. */
export class EpollConn extends WatchedSocket {
  /**
   * False once a read came back short or with EAGAIN: the socket is drained, and the next read
   * waits for an edge instead of making a system call that would find nothing (as tokio does).
   */
  #readable = true;
  /**
   * Set for good once the peer has closed its side or the socket failed. Its edge may have come
   * before a short read cleared `#readable`, and no other will come, so reads go on trying.
   */
  #peerClosed = false;
  readonly #reading = new WaitingCall<number | null>("read");
  /** What {@linkcode whenReadable} was given: called once the socket may be read again. */
  #onReadable: (() => void) | null = null;
  readonly #writing = new WaitingCall<number>("write");
  #connecting: Waiter<void> | null = null;

  /** The peer's address. */
  readonly remoteAddr: Deno.NetAddr;

  /** Takes over `fd`, a connected (or connecting) non-blocking socket. */
  constructor(libc: Libc, reactor: EpollReactor, fd: number, remoteAddr: Deno.NetAddr) {
    super(libc, reactor, fd);
    this.remoteAddr = remoteAddr;
  }

  /** Reads into `buf`: the count read, or null at the end of the stream. */
  read(buf: Uint8Array): Promise<number | null> {
    if (buf.length === 0 && !this.closed) return Promise.resolve(0);
    return this.#call(this.#reading, buf, this.#readable || this.#peerClosed);
  }

  /** Writes some of `data`, at least one byte unless it is empty: the count written. */
  write(data: Uint8Array): Promise<number> {
    return this.#call(this.#writing, data, true);
  }

  /**
   * Reads into `buf` now, when the socket may have bytes and the reactor allows it: the count
   * read, null at the end of the stream, or -1 when the caller is to wait for
   * {@linkcode whenReadable}. A session reads this way without a promise per read.
   *
   * @throws {Deno.errors.BadResource} when the socket is closed; an `Error` when the read fails
   *   or a `read` already waits.
   */
  readNow(buf: Uint8Array): number | null {
    if (this.closed) throw closedError();
    if (this.#reading.bytes !== null) throw new Error("a read is already waiting");
    if (!this.#readable && !this.#peerClosed) return -1;
    if (!this.reactor.mayCompleteNow()) {
      this.reactor.defer(this);
      return -1;
    }
    return this.#tryRead(buf);
  }

  /**
   * Calls `callback` once, from the reactor, when {@linkcode readNow} may find something: bytes,
   * the end of the stream or an error; or from a microtask once the socket is closed. One
   * callback at a time: a second replaces the first.
   */
  whenReadable(callback: () => void): void {
    this.#onReadable = callback;
  }

  /**
   * Writes what the socket takes now: the count written, 0 when its buffer is full or a write
   * already waits. It does not ask {@linkcode EpollReactor.mayCompleteNow}: that guard is for
   * read loops, whose promise continuations chain without end, and a write settles no promise.
   *
   * @throws {Deno.errors.BadResource} when the socket is closed; an `Error` when the send fails.
   */
  tryWrite(data: Uint8Array): number {
    if (this.closed) throw closedError();
    if (this.#writing.bytes !== null) return 0;
    return Math.max(this.#trySend(data), 0);
  }

  /**
   * Makes the system call at once when the socket may be ready and the reactor allows it, or
   * waits for the reactor's retry.
   */
  #call<T extends number | null>(
    call: WaitingCall<T>,
    bytes: Uint8Array,
    ready: boolean,
  ): Promise<T> {
    if (this.closed) return Promise.reject(closedError());
    if (call.bytes !== null) return Promise.reject(new Error(`a ${call.name} is already waiting`));
    if (ready) {
      if (!this.reactor.mayCompleteNow()) this.reactor.defer(this);
      else {
        try {
          const n = this.#attempt(call, bytes);
          if (n !== -1) return Promise.resolve(n as T);
        } catch (error) {
          return Promise.reject(error);
        }
      }
    }
    return call.wait(bytes);
  }

  /** The read or send itself: its count (null at the end of the stream), or -1 to wait. */
  #attempt(call: WaitingCall<number | null>, bytes: Uint8Array): number | null {
    return call === this.#reading ? this.#tryRead(bytes) : this.#trySend(bytes);
  }

  /** Retries a waiting call, and settles it unless it must wait again. */
  #retry(call: WaitingCall<number | null>): void {
    try {
      const n = this.#attempt(call, call.bytes!);
      if (n !== -1) call.settle(n);
    } catch (error) {
      call.fail(error as Error);
    }
  }

  /**
   * Ends the sending side: the peer gets a FIN after what was sent. Reads go on.
   *
   * @throws {Deno.errors.BadResource} when the socket is closed.
   */
  closeWrite(): void {
    if (this.closed) throw closedError();
    this.libc.fn.shutdown(this.fd, SHUT_WR);
  }

  /**
   * Closes the socket. A read or write that waits fails with `BadResource`, as it does on
   * Deno's sockets.
   *
   * @throws {Deno.errors.BadResource} when it is closed already.
   */
  close(): void {
    this.release();
    const error = closedError();
    this.#reading.fail(error);
    this.#writing.fail(error);
    const onReadable = this.#onReadable;
    this.#onReadable = null;
    if (onReadable !== null) queueMicrotask(onReadable);
  }

  /** Resolves once a non-blocking connect has finished; rejects with its error. */
  connected(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const abort = () => {
        this.#connecting = null;
        if (!this.closed) this.close();
        reject(signal!.reason);
      };
      if (signal?.aborted) return abort();
      signal?.addEventListener("abort", abort, { once: true });
      this.#connecting = {
        resolve: () => {
          signal?.removeEventListener("abort", abort);
          resolve();
        },
        reject: (error) => {
          signal?.removeEventListener("abort", abort);
          reject(error);
        },
      };
    });
  }

  /** The reactor's call: retries whatever waits for the socket. */
  onReady(events: number): void {
    if (this.closed) return;
    if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) this.#peerClosed = true;
    if (events & EPOLLIN) this.#readable = true;
    if (this.#connecting !== null) {
      // A connect ends with the socket writable, or with an error or hang-up.
      if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) === 0) return;
      const connecting = this.#connecting;
      const status = new Int32Array(1);
      const length = new Uint32Array([4]);
      const asked = this.libc.fn.getsockopt(
        this.fd,
        SOL_SOCKET,
        SO_ERROR,
        new Uint8Array(status.buffer),
        new Uint8Array(length.buffer),
      );
      if (asked !== 0) status[0] = this.libc.errno();
      this.#connecting = null;
      if (status[0] === 0) connecting.resolve();
      else {
        this.close();
        connecting.reject(socketError(this.libc, status[0]));
      }
      return;
    }
    if (this.#readable || this.#peerClosed) {
      if (this.#reading.bytes !== null) this.#retry(this.#reading);
      else if (this.#onReadable !== null) {
        const onReadable = this.#onReadable;
        this.#onReadable = null;
        onReadable();
      }
    }
    if (this.#writing.bytes !== null) this.#retry(this.#writing);
  }

  /** The count read, null at the end of the stream, or -1 when nothing is there yet. */
  #tryRead(buf: Uint8Array): number | null {
    while (true) {
      const n = this.libc.fn.recv(this.fd, buf, BigInt(buf.length), 0);
      if (n > 0) {
        if (n < buf.length) this.#readable = false;
        return n;
      }
      if (n === 0) return null;
      const errno = this.libc.errno();
      if (errno === EAGAIN) {
        this.#readable = false;
        return -1;
      }
      if (errno !== EINTR) throw socketError(this.libc, errno);
    }
  }

  /** The count sent, or -1 when the socket's buffer is full. */
  #trySend(data: Uint8Array): number {
    if (data.length === 0) return 0;
    while (true) {
      const n = this.libc.fn.send(this.fd, data, BigInt(data.length), MSG_NOSIGNAL);
      if (n >= 0) return n;
      const errno = this.libc.errno();
      if (errno === EAGAIN) return -1;
      if (errno !== EINTR) throw socketError(this.libc, errno);
    }
  }
}

/** A listening TCP socket: `accept`, `addr` and `close` of `Deno.Listener`. */
export class EpollListener extends WatchedSocket {
  readonly #peer = new Uint8Array(SOCKADDR_SIZE);
  readonly #peerLength = new Uint32Array(1);
  #acceptor: Waiter<EpollConn> | null = null;

  /** The address bound, with the port the kernel chose when 0 was asked. */
  readonly addr: Deno.NetAddr;

  /** Takes over `fd`, a bound, listening, non-blocking socket. */
  constructor(libc: Libc, reactor: EpollReactor, fd: number, addr: Deno.NetAddr) {
    super(libc, reactor, fd);
    this.addr = addr;
  }

  /** The next client. @throws {Deno.errors.BadResource} once the listener is closed. */
  accept(): Promise<EpollConn> {
    if (this.closed) return Promise.reject(closedError());
    if (this.#acceptor !== null) return Promise.reject(new Error("an accept is already waiting"));
    try {
      const conn = this.#tryAccept();
      if (conn !== null) return Promise.resolve(conn);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => this.#acceptor = { resolve, reject });
  }

  /** Stops listening. @throws {Deno.errors.BadResource} when it is closed already. */
  close(): void {
    this.release();
    const acceptor = this.#acceptor;
    this.#acceptor = null;
    acceptor?.reject(closedError());
  }

  /** The reactor's call: accepts for a waiting `accept`. */
  onReady(): void {
    const acceptor = this.#acceptor;
    if (acceptor === null) return;
    try {
      const conn = this.#tryAccept();
      if (conn === null) return;
      this.#acceptor = null;
      acceptor.resolve(conn);
    } catch (error) {
      this.#acceptor = null;
      acceptor.reject(error as Error);
    }
  }

  #tryAccept(): EpollConn | null {
    const fn = this.libc.fn;
    while (true) {
      this.#peerLength[0] = SOCKADDR_SIZE;
      const fd = fn.accept4(
        this.fd,
        this.#peer,
        new Uint8Array(this.#peerLength.buffer),
        NONBLOCK | CLOEXEC,
      );
      if (fd >= 0) {
        fn.setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, ONE, 4);
        return new EpollConn(this.libc, this.reactor, fd, decodeSockaddr(this.#peer));
      }
      const errno = this.libc.errno();
      if (errno === EAGAIN) return null;
      // The client gave up while it waited in the backlog, or its network failed: accept(2)
      // says to take the next one.
      if (errno === EINTR || RETRY_ACCEPT.has(errno)) continue;
      throw socketError(this.libc, errno);
    }
  }
}

/** A non-blocking TCP socket of `address`'s family (its first two bytes). */
function openSocket(libc: Libc, address: Uint8Array): number {
  const family = address[0] | (address[1] << 8);
  const fd = libc.fn.socket(family, SOCK_STREAM | NONBLOCK | CLOEXEC, 0);
  if (fd < 0) throw socketError(libc, libc.errno());
  return fd;
}

/**
 * Binds and listens on a numeric address, or returns null for a name.
 *
 * @throws {Deno.errors.AddrInUse} and the like, as `Deno.listen` does.
 */
export function epollListen(
  libc: Libc,
  reactor: EpollReactor,
  hostname: string,
  port: number,
): EpollListener | null {
  const address = encodeSockaddr(hostname, port);
  if (address === null) return null;
  const fn = libc.fn;
  const fd = openSocket(libc, address);
  fn.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, ONE, 4);
  if (fn.bind(fd, address, address.length) !== 0 || fn.listen(fd, 1024) !== 0) {
    const errno = libc.errno();
    fn.close(fd);
    throw socketError(libc, errno);
  }
  const bound = new Uint8Array(SOCKADDR_SIZE);
  fn.getsockname(fd, bound, new Uint8Array(new Uint32Array([SOCKADDR_SIZE]).buffer));
  return new EpollListener(libc, reactor, fd, decodeSockaddr(bound));
}

/**
 * Connects to a numeric address with TCP_NODELAY set, or returns null for a name.
 *
 * @throws {Deno.errors.ConnectionRefused} and the like, as `Deno.connect` does, or the
 *   signal's reason when it aborts first.
 */
export async function epollConnect(
  libc: Libc,
  reactor: EpollReactor,
  hostname: string,
  port: number,
  signal?: AbortSignal,
): Promise<EpollConn | null> {
  const address = encodeSockaddr(hostname, port);
  if (address === null) return null;
  const fn = libc.fn;
  const fd = openSocket(libc, address);
  fn.setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, ONE, 4);
  if (fn.connect(fd, address, address.length) !== 0) {
    const errno = libc.errno();
    if (errno !== EINPROGRESS) {
      fn.close(fd);
      throw socketError(libc, errno);
    }
    const conn = new EpollConn(libc, reactor, fd, { transport: "tcp", hostname, port });
    await conn.connected(signal);
    return conn;
  }
  return new EpollConn(libc, reactor, fd, { transport: "tcp", hostname, port });
}
