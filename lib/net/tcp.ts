/**
 * TCP for memrelay's clients and servers, over one of two transports:
 * - `epoll`: non-blocking sockets and an epoll loop driven through FFI (`lib/net/epoll_*.ts`).
 *   A read or write that the kernel completes at once costs one system call and no Deno op.
 *   Linux on x86-64 only, with `--allow-ffi`, and for numeric addresses.
 * - `deno`: `Deno.listen` and `Deno.connect`, everywhere.
 *
 * `auto` takes `epoll` where it can be had and `deno` elsewhere.
 *
 * @module
 */

import { writeAll } from "../protocol/bytes.ts";
import { EpollReactor } from "./epoll_reactor.ts";
import { epollConnect, epollListen } from "./epoll_socket.ts";
import { type Libc, openLibc } from "./libc.ts";

/** The transports, and `auto`. */
export const TRANSPORTS = ["auto", "epoll", "deno"] as const;

/** Which transport TCP sockets use. */
export type TransportChoice = typeof TRANSPORTS[number];

/** What memrelay uses of a connection; `Deno.Conn` has it, and so does `EpollConn`. */
export interface ByteStream {
  /** Reads into `buf`: the count read, or null at the end of the stream. */
  read(buf: Uint8Array): Promise<number | null>;
  /** Writes some of `data`: the count written. */
  write(data: Uint8Array): Promise<number>;
  /**
   * Writes what the socket takes at once, without waiting and without a promise: the count
   * written, 0 when it takes nothing now. Only a transport whose writes are system calls made
   * on the spot has it (`EpollConn`); callers fall back to `write` for the rest.
   */
  tryWrite?(data: Uint8Array): number;
  /**
   * Reads into `buf` without waiting and without a promise: the count read, null at the end of
   * the stream, or -1 when nothing is there yet; then {@linkcode whenReadable} says when to try
   * again. Only `EpollConn` has it (and `whenReadable`); callers fall back to `read`.
   */
  readNow?(buf: Uint8Array): number | null;
  /**
   * Calls `callback` once, when `readNow` may find bytes, the end of the stream or an error, or
   * once the connection is closed (from a microtask then).
   */
  whenReadable?(callback: () => void): void;
  /**
   * Ends the sending side (a FIN after what was written), leaving the connection open for
   * reading; `Deno.Conn` and `EpollConn` have it.
   */
  closeWrite?(): Promise<void> | void;
  /** Closes the connection; throws when it is closed already. */
  close(): void;
  /** The peer's address. */
  readonly remoteAddr: Deno.Addr;
}

/**
 * Writes all of `data`: what the socket takes at once through `tryWrite`, without a promise,
 * and the rest through `write`. Null when nothing is left to wait for; else the promise of the
 * rest. A rest that waits is copied first when `data` shares its buffer (a piece of a block, or
 * a view into a read buffer), so that a slow peer holds only its own bytes; and when it lies in a
 * buffer the caller will reuse (`reused`: a `ScratchBuffer`, which it may fill whole).
 *
 * @example
 * ```ts ignore
 * const waiting = writeSoon(conn, reply);
 * if (waiting !== null) await waiting;
 * ```
 */
export function writeSoon(
  conn: ByteStream,
  data: Uint8Array,
  reused = false,
): Promise<void> | null {
  const written = conn.tryWrite?.(data) ?? 0;
  if (written === data.length) return null;
  const shared = reused || data.byteLength !== data.buffer.byteLength;
  return writeAll(conn, shared ? data.slice(written) : data.subarray(written));
}

/**
 * Reads into `buf` what is there now: the count, or null at the end of the stream. When the read
 * has to wait it answers -1, and then, on a connection with `readNow` (epoll), calls `retry` once
 * a read may find something, without a promise per read; on others (Deno's sockets) it hands the
 * outcome of a `read` to `took` or `failed`. The reading counterpart of {@linkcode writeSoon}.
 *
 * @example
 * ```ts ignore
 * const pump = (): void => {
 *   let n: number | null;
 *   while ((n = readSoon(conn, buf, pump, (m) => { use(m); pump(); }, fail)) !== -1) use(n);
 * };
 * ```
 */
export function readSoon(
  conn: ByteStream,
  buf: Uint8Array,
  retry: () => void,
  took: (n: number | null) => void,
  failed: (error: Error) => void,
): number | null {
  if (conn.readNow === undefined) {
    conn.read(buf).then(took, failed);
    return -1;
  }
  const n = conn.readNow(buf);
  if (n === -1) conn.whenReadable!(retry);
  return n;
}

/** What memrelay uses of a listener; `Deno.Listener` has it, and so does `EpollListener`. */
export interface StreamListener {
  /** The next client; rejects with `BadResource` once the listener is closed. */
  accept(): Promise<ByteStream>;
  /** The address bound. */
  readonly addr: Deno.Addr;
  /** Stops listening; throws when it is closed already. */
  close(): void;
}

/** Why `--io epoll` cannot be had, and what to do. */
export const EPOLL_UNAVAILABLE =
  "--io epoll needs Linux on x86-64 and --allow-ffi: run with --allow-ffi, or use --io auto or deno";

let epoll: { libc: Libc; reactor: EpollReactor } | null | undefined;

/** libc and the process's one reactor, or null where the epoll transport cannot be had. */
function epollTransport(choice: TransportChoice): { libc: Libc; reactor: EpollReactor } | null {
  if (choice === "deno") return null;
  if (epoll === undefined) {
    const libc = openLibc();
    epoll = libc === null ? null : { libc, reactor: new EpollReactor(libc) };
  }
  if (epoll === null && choice === "epoll") {
    throw new Error(EPOLL_UNAVAILABLE);
  }
  return epoll;
}

/** True where the epoll transport can be had: Linux on x86-64, with `--allow-ffi`. */
export function epollAvailable(): boolean {
  return epollTransport("auto") !== null;
}

/**
 * Listens on TCP.
 *
 * @throws {Deno.errors.AddrInUse} and the other errors of `Deno.listen`.
 */
export function listenTcp(hostname: string, port: number, choice: TransportChoice): StreamListener {
  const transport = epollTransport(choice);
  if (transport !== null) {
    const listener = epollListen(transport.libc, transport.reactor, hostname, port);
    if (listener !== null) return listener;
  }
  return Deno.listen({ hostname, port });
}

/**
 * Connects over TCP, with TCP_NODELAY set.
 *
 * @throws the errors of `Deno.connect`, or `signal`'s reason when it aborts first.
 */
export async function connectTcp(
  hostname: string,
  port: number,
  choice: TransportChoice,
  signal?: AbortSignal,
): Promise<ByteStream> {
  const transport = epollTransport(choice);
  if (transport !== null) {
    const conn = await epollConnect(transport.libc, transport.reactor, hostname, port, signal);
    if (conn !== null) return conn;
  }
  const conn = await Deno.connect({ hostname, port, signal });
  conn.setNoDelay(true);
  return conn;
}
