/**
 * One epoll instance that watches every socket of the epoll transport, and the loop that hands
 * their readiness to them. Sockets are watched edge-triggered for reading and writing at once;
 * each one tries its system call first and waits for an edge only after `EAGAIN`, so no edge can
 * be missed.
 *
 * The loop polls without blocking while there is work, and blocks on a thread of Deno's (a
 * non-blocking FFI call) when there is none. It also gives Deno's own event loop a turn at least
 * every {@linkcode TURN_EVERY_MS}, so that timers and Deno's sockets are never starved.
 *
 * @module
 */

import {
  EPOLL_CTL_ADD,
  EPOLL_CTL_DEL,
  EPOLLET,
  EPOLLIN,
  EPOLLOUT,
  EPOLLRDHUP,
  type Libc,
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
/** `struct epoll_event` on x86-64 and arm64 Linux: a u32 of events and a u64 of data, packed. */
const EVENT_SIZE = 12;

/** A socket the reactor watches. */
export interface ReadyHandler {
  /** The socket's readiness changed; `events` holds the epoll bits. */
  onReady(events: number): void;
}

/** The epoll instance and its loop. See the module's documentation. */
export class EpollReactor {
  readonly #libc: Libc;
  readonly #ep: number;
  readonly #wakeFd: number;
  readonly #handlers: (ReadyHandler | undefined)[] = [];
  readonly #events = new Uint8Array(EVENT_SIZE * MAX_EVENTS);
  readonly #eventView = new DataView(this.#events.buffer);
  readonly #ctl = new Uint8Array(EVENT_SIZE);
  readonly #ctlView = new DataView(this.#ctl.buffer);
  readonly #wakeBytes = new Uint8Array(8);
  #watched = 0;
  #running = false;
  #blocked = false;

  /** @throws {Error} when the kernel gives no epoll instance or eventfd. */
  constructor(libc: Libc) {
    this.#libc = libc;
    this.#ep = libc.fn.epoll_create1(0o2000000); // EPOLL_CLOEXEC
    if (this.#ep < 0) throw new Error(`epoll_create1 failed: ${libc.describe(libc.errno())}`);
    this.#wakeFd = libc.fn.eventfd(0, 0o4000 | 0o2000000); // EFD_NONBLOCK | EFD_CLOEXEC
    if (this.#wakeFd < 0) throw new Error(`eventfd failed: ${libc.describe(libc.errno())}`);
    this.#control(EPOLL_CTL_ADD, this.#wakeFd, EPOLLIN);
  }

  /** Descriptors watched now, the wake-up one aside. */
  get watched(): number {
    return this.#watched;
  }

  /** Watches `fd` for reading and writing, edge-triggered, and runs the loop if it is not. */
  watch(fd: number, handler: ReadyHandler): void {
    this.#control(EPOLL_CTL_ADD, fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET);
    this.#handlers[fd] = handler;
    this.#watched++;
    if (!this.#running) {
      this.#running = true;
      this.#run();
    }
  }

  /** Stops watching `fd`; call it before the descriptor is closed. */
  unwatch(fd: number): void {
    if (this.#handlers[fd] === undefined) return;
    this.#control(EPOLL_CTL_DEL, fd, 0);
    this.#handlers[fd] = undefined;
    this.#watched--;
    // A loop blocked with nothing left to watch would keep the process alive: wake it to end.
    if (this.#watched === 0 && this.#blocked) {
      this.#wakeBytes[0] = 1;
      this.#libc.fn.write(this.#wakeFd, this.#wakeBytes, 8n);
    }
  }

  #control(op: number, fd: number, events: number): void {
    this.#ctlView.setUint32(0, events >>> 0, true);
    this.#ctlView.setUint32(4, fd, true);
    this.#ctlView.setUint32(8, 0, true);
    if (this.#libc.fn.epoll_ctl(this.#ep, op, fd, this.#ctl) !== 0 && op === EPOLL_CTL_ADD) {
      throw new Error(`epoll_ctl failed for fd ${fd}: ${this.#libc.describe(this.#libc.errno())}`);
    }
  }

  async #run(): Promise<void> {
    const fn = this.#libc.fn;
    const events = this.#events;
    const view = this.#eventView;
    let lastTurn = performance.now();
    while (this.#watched > 0) {
      for (let i = 0; i < SETTLE_TURNS; i++) await undefined;
      if (this.#watched === 0) break;
      const now = performance.now();
      const turnDue = now - lastTurn >= TURN_EVERY_MS;
      let n = turnDue ? 0 : fn.epoll_wait(this.#ep, events, MAX_EVENTS, 0);
      if (n <= 0) {
        this.#blocked = true;
        n = await fn.epoll_wait_async(this.#ep, events, MAX_EVENTS, turnDue ? 0 : -1);
        this.#blocked = false;
        lastTurn = performance.now();
      }
      for (let i = 0; i < n; i++) {
        const fd = view.getUint32(i * EVENT_SIZE + 4, true);
        if (fd === this.#wakeFd) {
          fn.read(this.#wakeFd, this.#wakeBytes, 8n);
          continue;
        }
        this.#handlers[fd]?.onReady(view.getUint32(i * EVENT_SIZE, true));
      }
    }
    this.#running = false;
  }
}
