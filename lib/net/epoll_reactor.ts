/**
 * One epoll instance that watches every socket of the epoll transport, and the loop that hands
 * their readiness to them. Sockets are watched edge-triggered for reading and writing at once;
 * each one tries its system call first and waits for an edge only after `EAGAIN`, so no edge can
 * be missed.
 *
 * The loop polls without blocking while there is work, and blocks on a thread of Deno's (a
 * non-blocking FFI call) when there is none. It also gives Deno's own event loop a turn every
 * {@linkcode TURN_EVERY_MS}, so that timers, signals and Deno's sockets are not starved; and since
 * a socket call that completes at once never reaches the loop, such calls wait for the loop too
 * once that turn is overdue ({@linkcode EpollReactor.mayCompleteNow}).
 *
 * @module
 */

import {
  CLOEXEC,
  EPOLL_CTL_ADD,
  EPOLL_CTL_DEL,
  EPOLLET,
  EPOLLIN,
  EPOLLOUT,
  EPOLLRDHUP,
  type Libc,
  NONBLOCK,
} from "./libc.ts";

/** Events taken per poll. */
const MAX_EVENTS = 256;
/** Milliseconds of non-blocking polls after which Deno's event loop gets a turn. */
const TURN_EVERY_MS = 5;
/**
 * Microtask turns given to promise continuations before each poll: a read's continuation
 * parses and queues a send, whose flush is one more turn, and so on. Letting them finish first
 * means their writes go out before the loop looks for what came back.
 */
const SETTLE_TURNS = 4;
/**
 * `struct epoll_event` on x86-64 Linux: a u32 of events and a u64 of data, packed. Other
 * architectures lay it out otherwise, and `openLibc` offers epoll on x86-64 only. The data holds
 * the descriptor in its low half and the registration's token in its high half.
 */
const EVENT_SIZE = 12;
/** The 8-byte 1 written to the eventfd to wake the loop. */
const WAKE_ONE = new Uint8Array(new BigUint64Array([1n]).buffer);
/** Socket calls completed at once between two looks at the clock. */
const QUICK_CALLS_PER_CHECK = 64;
/** How late Deno's turn may be before socket calls stop completing at once. */
const TURN_OVERDUE_MS = 2 * TURN_EVERY_MS;

/** A socket the reactor watches. */
export interface ReadyHandler {
  /**
   * The socket's readiness changed; `events` holds the epoll bits. It must not throw: the
   * reactor contains a throw (see {@linkcode EpollReactor}) but cannot mend the socket.
   */
  onReady(events: number): void;
}

/**
 * The epoll instance and its loop. See the module's documentation.
 *
 * Each registration gets a token, kept in the event's data beside the descriptor: an event the
 * kernel reported for a descriptor that was closed, and reused by a new socket, before the loop
 * handled it, carries the old token and is dropped.
 */
export class EpollReactor {
  readonly #libc: Libc;
  readonly #ep: number;
  readonly #wakeFd: number;
  readonly #handlers: (ReadyHandler | undefined)[] = [];
  readonly #tokens: number[] = [];
  readonly #events = new Uint8Array(EVENT_SIZE * MAX_EVENTS);
  readonly #eventView = new DataView(this.#events.buffer);
  readonly #ctl = new Uint8Array(EVENT_SIZE);
  readonly #ctlView = new DataView(this.#ctl.buffer);
  readonly #wakeBytes = new Uint8Array(8);
  /** Handlers whose call completed without waiting, to be retried after Deno's turn. */
  #deferred: ReadyHandler[] = [];
  #nextToken = 1;
  #watched = 0;
  #running = false;
  #blocked = false;
  #lastTurn = 0;
  #quickCalls = 0;

  /** @throws {Error} when the kernel gives no epoll instance or eventfd. */
  constructor(libc: Libc) {
    this.#libc = libc;
    this.#ep = libc.fn.epoll_create1(CLOEXEC);
    if (this.#ep < 0) throw new Error(`epoll_create1 failed: ${libc.describe(libc.errno())}`);
    this.#wakeFd = libc.fn.eventfd(0, NONBLOCK | CLOEXEC);
    if (this.#wakeFd < 0) throw new Error(`eventfd failed: ${libc.describe(libc.errno())}`);
    this.#control(EPOLL_CTL_ADD, this.#wakeFd, EPOLLIN, 0);
  }

  /** Descriptors watched now, the wake-up one aside. */
  get watched(): number {
    return this.#watched;
  }

  /**
   * Watches `fd` for reading and writing, edge-triggered, and runs the loop if it is not.
   *
   * @throws {Error} when the kernel refuses (out of memory, or past `max_user_watches`).
   */
  watch(fd: number, handler: ReadyHandler): void {
    const token = this.#nextToken;
    this.#nextToken = (this.#nextToken + 1) >>> 0 || 1;
    this.#control(EPOLL_CTL_ADD, fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, token);
    this.#handlers[fd] = handler;
    this.#tokens[fd] = token;
    this.#watched++;
    if (!this.#running) {
      this.#running = true;
      this.#lastTurn = performance.now();
      this.#run();
    }
  }

  /** Stops watching `fd`; call it before the descriptor is closed. */
  unwatch(fd: number): void {
    if (this.#handlers[fd] === undefined) return;
    this.#control(EPOLL_CTL_DEL, fd, 0, 0);
    this.#handlers[fd] = undefined;
    this.#tokens[fd] = 0;
    this.#watched--;
    // A loop blocked with nothing left to watch would keep the process alive: wake it to end.
    if (this.#watched === 0 && this.#blocked) this.#wake();
  }

  /** Ends the loop's blocking wait. */
  #wake(): void {
    this.#libc.fn.write(this.#wakeFd, WAKE_ONE, 8n);
  }

  /**
   * Whether a socket call may complete at once, rather than wait for the loop. A read loop on a
   * socket that is never drained completes call after call within one chain of promise
   * continuations, which would keep Deno's event loop (timers, signals) from its turn. Every
   * {@linkcode QUICK_CALLS_PER_CHECK} calls, once the turn is overdue, the answer is no, and the
   * caller {@linkcode defer}s: its call is retried after the turn.
   */
  mayCompleteNow(): boolean {
    if (++this.#quickCalls < QUICK_CALLS_PER_CHECK) return true;
    this.#quickCalls = 0;
    return performance.now() - this.#lastTurn < TURN_OVERDUE_MS;
  }

  /** Calls `handler.onReady` after Deno's next turn, as if its socket had become ready. */
  defer(handler: ReadyHandler): void {
    this.#deferred.push(handler);
    if (this.#blocked) this.#wake();
  }

  #control(op: number, fd: number, events: number, token: number): void {
    this.#ctlView.setUint32(0, events >>> 0, true);
    this.#ctlView.setUint32(4, fd, true);
    this.#ctlView.setUint32(8, token, true);
    if (this.#libc.fn.epoll_ctl(this.#ep, op, fd, this.#ctl) !== 0 && op === EPOLL_CTL_ADD) {
      throw new Error(`epoll_ctl failed for fd ${fd}: ${this.#libc.describe(this.#libc.errno())}`);
    }
  }

  async #run(): Promise<void> {
    const fn = this.#libc.fn;
    const events = this.#events;
    const view = this.#eventView;
    while (this.#watched > 0) {
      for (let i = 0; i < SETTLE_TURNS; i++) await undefined;
      if (this.#watched === 0) break;
      const turnDue = this.#deferred.length > 0 ||
        performance.now() - this.#lastTurn >= TURN_EVERY_MS;
      let n = turnDue ? 0 : fn.epoll_wait(this.#ep, events, MAX_EVENTS, 0);
      if (n <= 0) {
        this.#blocked = true;
        n = await fn.epoll_wait_async(this.#ep, events, MAX_EVENTS, turnDue ? 0 : -1);
        this.#blocked = false;
        this.#lastTurn = performance.now();
        this.#quickCalls = 0;
        if (this.#deferred.length > 0) {
          const deferred = this.#deferred;
          this.#deferred = [];
          for (const handler of deferred) this.#call(handler, EPOLLIN | EPOLLOUT);
        }
      }
      for (let i = 0; i < n; i++) {
        const at = i * EVENT_SIZE;
        const fd = view.getUint32(at + 4, true);
        if (fd === this.#wakeFd) {
          fn.read(this.#wakeFd, this.#wakeBytes, 8n);
          continue;
        }
        const handler = this.#handlers[fd];
        if (handler === undefined || this.#tokens[fd] !== view.getUint32(at + 8, true)) continue;
        this.#call(handler, view.getUint32(at, true));
      }
    }
    this.#running = false;
  }

  /** Hands `events` to `handler`; a throw is reported, and the loop goes on for the others. */
  #call(handler: ReadyHandler, events: number): void {
    try {
      handler.onReady(events);
    } catch (error) {
      console.error(
        "memrelay: a socket's readiness handler threw (a bug: please report it):",
        error,
      );
    }
  }
}
