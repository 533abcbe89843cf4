/**
 * The few libc calls that memrelay's epoll transport makes, through Deno's FFI. They are opened
 * once, on Linux, and only when the process may load libraries (`--allow-ffi`).
 *
 * @module
 */

/**
 * The signatures memrelay calls; `epoll_wait_async` runs on a thread of Deno's and resolves.
 *
 * `recv` and `send` return a `ssize_t`, which Deno's FFI would hand over as a `bigint`, a heap
 * object made for every call. They are declared to return an `i32`, the low half of the same
 * register on x86-64 (the only architecture the transport runs on). That is exact for counts
 * under 2 GiB, and a call on a non-blocking socket moves at most the socket's buffer, a few MiB;
 * -1 stays -1.
 */
const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  listen: { parameters: ["i32", "i32"], result: "i32" },
  accept4: { parameters: ["i32", "buffer", "buffer", "i32"], result: "i32" },
  connect: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  recv: { parameters: ["i32", "buffer", "usize", "i32"], result: "i32" },
  send: { parameters: ["i32", "buffer", "usize", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  shutdown: { parameters: ["i32", "i32"], result: "i32" },
  epoll_create1: { parameters: ["i32"], result: "i32" },
  epoll_ctl: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32" },
  epoll_wait: { parameters: ["i32", "buffer", "i32", "i32"], result: "i32" },
  epoll_wait_async: {
    name: "epoll_wait",
    parameters: ["i32", "buffer", "i32", "i32"],
    result: "i32",
    nonblocking: true,
  },
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  strerror: { parameters: ["i32"], result: "pointer" },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

/** The libc functions, as Deno's FFI gives them. */
export type LibcSymbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/** Linux's numbers for the constants memrelay passes. */
export const AF_INET = 2;
/** IPv6 addresses. */
export const AF_INET6 = 10;
/** A stream socket. */
export const SOCK_STREAM = 1;
/**
 * Non-blocking from the start: `SOCK_NONBLOCK` for `socket` and `accept4`, `EFD_NONBLOCK` for
 * `eventfd` (Linux gives them all `O_NONBLOCK`'s value).
 */
export const NONBLOCK = 0o4000;
/**
 * Closed on exec: `SOCK_CLOEXEC`, `EFD_CLOEXEC` and `EPOLL_CLOEXEC` (all `O_CLOEXEC`'s value).
 */
export const CLOEXEC = 0o2000000;
/** `setsockopt` levels and names. */
export const SOL_SOCKET = 1;
/** Lets a restarted proxy bind while old connections linger in TIME_WAIT. */
export const SO_REUSEADDR = 2;
/** A connect's outcome, read once the socket is writable. */
export const SO_ERROR = 4;
/** The TCP level. */
export const IPPROTO_TCP = 6;
/** Sends small writes at once. */
export const TCP_NODELAY = 1;
/** `send` flag: a write to a closed peer fails with EPIPE rather than raising SIGPIPE. */
export const MSG_NOSIGNAL = 0x4000;
/** `shutdown` how: no more sends. */
export const SHUT_WR = 1;
/** `epoll_ctl` operations. */
export const EPOLL_CTL_ADD = 1;
/** Stops watching a descriptor. */
export const EPOLL_CTL_DEL = 2;
/** Readiness bits. */
export const EPOLLIN = 0x001;
/** Ready to write. */
export const EPOLLOUT = 0x004;
/** An error on the socket. */
export const EPOLLERR = 0x008;
/** The peer hung up. */
export const EPOLLHUP = 0x010;
/** The peer closed its writing side. */
export const EPOLLRDHUP = 0x2000;
/** Edge-triggered: one event per change of readiness. */
export const EPOLLET = 1 << 31;
/** errno values memrelay acts on. */
export const EAGAIN = 11;
/** Interrupted by a signal: try again. */
export const EINTR = 4;
/** A non-blocking connect under way. */
export const EINPROGRESS = 115;

/** libc, and the thread's errno. */
export interface Libc {
  readonly fn: LibcSymbols;
  /** errno of the main thread, as the last failed call left it. */
  errno(): number;
  /** libc's text for an errno value. */
  describe(errno: number): string;
}

let opened: Libc | null | undefined;

/**
 * libc through FFI, or null where it cannot be had: not Linux on x86-64, or no `--allow-ffi`.
 * Opened once.
 */
export function openLibc(): Libc | null {
  if (opened !== undefined) return opened;
  opened = null;
  // epoll_reactor.ts lays out `struct epoll_event` as x86-64 packs it.
  if (Deno.build.os !== "linux" || Deno.build.arch !== "x86_64") return null;
  if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return null;
  let fn: LibcSymbols;
  try {
    fn = Deno.dlopen("libc.so.6", SYMBOLS).symbols;
  } catch {
    return null;
  }
  const errnoView = new Deno.UnsafePointerView(fn.__errno_location()!);
  opened = {
    fn,
    errno: () => errnoView.getInt32(0),
    describe: (errno) => {
      const text = fn.strerror(errno);
      return text === null ? `errno ${errno}` : Deno.UnsafePointerView.getCString(text);
    },
  };
  return opened;
}
