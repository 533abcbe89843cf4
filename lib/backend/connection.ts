import {
  type ByteStream,
  connectTcp,
  readSoon,
  type TransportChoice,
  writeSoon,
} from "../net/tcp.ts";
import { ByteSlab } from "../protocol/byte_slab.ts";
import { ScratchBuffer } from "../protocol/scratch_buffer.ts";
import { compacted, concatBytes, copyBytes } from "../protocol/bytes.ts";
import {
  joinableVerbLength,
  JoinedReplyFramer,
  lineBodyEnd,
} from "../protocol/text/joined_gets.ts";
import { END } from "../protocol/text/replies.ts";
import { ValueBlockIndex } from "../protocol/text/value_block_index.ts";
import {
  ReplyKind,
  type ReplyKindCode,
  TextResponseFramer,
} from "../protocol/text/response_parser.ts";
import { BackendStats } from "./backend_stats.ts";
import { BackendError, type ReplyHandler } from "./reply_handler.ts";
import { RequestQueue } from "./request_queue.ts";

/** How a connection reaches its server and how long it waits. */
export interface ConnectionOptions {
  /** Host name or address of the memcached server. */
  hostname: string;
  /** TCP port of the memcached server. */
  port: number;
  /** Milliseconds to wait for a connection, and for a reply while any is due. */
  timeoutMs: number;
  /** The TCP transport (`lib/net/tcp.ts`); default `auto`. */
  transport?: TransportChoice;
  /** Told of every failure (connect, timeout, I/O, garbage) and of each batch of good replies. */
  onHealth(ok: boolean, error?: BackendError): void;
  /** Told each time the connection is established, before queued requests are written. */
  onConnect?(connection: BackendConnection): void;
  /** Where bytes, timeouts and latencies are counted; a private set when not given. */
  stats?: BackendStats;
}

const READ_BUFFER_SIZE = 64 * 1024;
/**
 * The replies of one read share one copy when they fill at most this many bytes, and so do the
 * requests of one write: copied into a block of {@linkcode SLAB_BLOCK_SIZE} bytes.
 */
const MAX_SHARED_REPLIES = 8 * 1024;
/**
 * The blocks that shared copies are carved from: a reply kept while others are awaited holds at
 * most one, and many reads' replies fill one block before a new buffer is needed.
 */
const SLAB_BLOCK_SIZE = 16 * 1024;
/** Reads after the last growth of the read buffer before an empty buffer goes back to its size. */
const SHRINK_AFTER_READS = 64;
/**
 * How long a deferred request (a copy of a write for a backup) may wait to be written with the
 * ones after it. memcached's cost is per read and write more than per command: a backup that
 * took each copy in a write of its own cost about as much CPU as its primary, which also serves
 * every read.
 */
export const DEFERRED_WRITE_DELAY_MS = 2;
/** Deferred requests are written at once when they fill this many bytes. */
const DEFERRED_WRITE_MAX_BYTES = 64 * 1024;
/**
 * Gets are joined into one line up to this many bytes: room for dozens of small gets. 8 KiB
 * measured no better on 100-key gets, whose share for each of two servers is a line of about
 * 1.1 KiB.
 */
export const JOINED_LINE_MAX_BYTES = 2048;
/** A reply's flag: a joined get's blocks without the `END`, which comes later. */
const OPEN = 1;
/** A reply's flag: its blocks are indexed in `#blocks`, for its handler. */
const INDEXED = 2;

/**
 * One pipelined connection to a memcached server, shared by many clients.
 *
 * Requests are written in the order they are sent, coalesced into one write per microtask, and
 * their replies are matched to them in that order. `get` lines sent one after another (kind
 * {@linkcode ReplyKind.Get}) are joined into one line, up to {@linkcode JOINED_LINE_MAX_BYTES}:
 * the server answers each command with a write of its own. The joined line's reply is framed
 * request by request, and each request's part is handed out as soon as it is in, with its
 * `VALUE` blocks indexed for the handler (`ValueBlockIndex`), as is any get line's reply. A
 * deferred request waits up to {@linkcode DEFERRED_WRITE_DELAY_MS} for others to share its write;
 * any request that is not deferred takes the waiting ones with it. When anything goes wrong every
 * request in flight fails at once, the socket is closed, and the next request reconnects.
 */
export class BackendConnection {
  readonly #options: ConnectionOptions;
  readonly #server: string;
  readonly #queue = new RequestQueue();
  readonly #framer = new TextResponseFramer();
  readonly #joinedFramer = new JoinedReplyFramer();
  readonly #stats: BackendStats;
  #conn: ByteStream | null = null;
  #connecting = false;
  #out: Uint8Array[] = [];
  #outBytes = 0;
  /**
   * The command word's length when the last request in `#out` is a `get` line the next one may
   * join (see {@linkcode joinableVerbLength}); 0 when there is none.
   */
  #joinVerb = 0;
  /** The length of the line the last request in `#out` ends, when `#joinVerb` is not 0. */
  #joinLineBytes = 0;
  readonly #slab = new ByteSlab(SLAB_BLOCK_SIZE, MAX_SHARED_REPLIES);
  /**
   * Where a large joined get's part is put together for a handler that takes it transient, when
   * it cannot be patched in place (see {@linkcode #endPatched}).
   */
  readonly #scratch = new ScratchBuffer();
  /** The bytes an `END` patched in place covers, until they are put back. */
  readonly #patchedOver = new Uint8Array(END.length);
  /**
   * Where the requests of a write too large for the slab are joined: written at once, or copied
   * by `writeSoon` (told it is reused) if the socket makes it wait.
   */
  readonly #writeJoin = new ScratchBuffer();
  #flushScheduled = false;
  #writing = false;
  /** The timer that writes deferred requests, while they wait. */
  #deferredTimer: ReturnType<typeof setTimeout> | undefined;
  #buf = new Uint8Array(READ_BUFFER_SIZE);
  #start = 0;
  #end = 0;
  /** Reads since the read buffer last grew. */
  #readsSinceGrowth = 0;
  /** Where each complete reply of a read ends, reused from read to read. */
  #replyEnds = new Int32Array(64);
  /**
   * How many requests each of those replies answers: 1, or all the requests of a joined line
   * that the server answered with an error line.
   */
  #replyShares = new Int32Array(64);
  /** Each of those replies' {@linkcode OPEN} and {@linkcode INDEXED} bits. */
  #replyFlags = new Uint8Array(64);
  /** Where each of those replies' entries in `#blocks` end, for one that is {@linkcode INDEXED}. */
  #replyBlocks = new Int32Array(64);
  /** The `VALUE` blocks of the `get` replies framed, for their handlers. */
  readonly #blocks = new ValueBlockIndex();
  /** When a reply last arrived, or the queue last became non-empty. */
  #lastProgress = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  /** @param options Where to connect, and whom to tell about failures. */
  constructor(options: ConnectionOptions) {
    this.#options = options;
    this.#server = `${options.hostname}:${options.port}`;
    this.#stats = options.stats ?? new BackendStats();
  }

  /** Requests sent and not yet answered. */
  get inFlight(): number {
    return this.#queue.size;
  }

  /** Bytes the connection holds to read replies into. */
  get readBufferSize(): number {
    return this.#buf.length;
  }

  /**
   * Sends one request; its reply, or its failure, goes to `handler` with `tag`. A `deferred`
   * request may wait up to {@linkcode DEFERRED_WRITE_DELAY_MS} to share a write with the next.
   */
  send(
    bytes: Uint8Array,
    kind: ReplyKindCode,
    handler: ReplyHandler,
    tag: number,
    deferred = false,
  ): void {
    if (this.#closed) {
      handler.onFailure(new BackendError(this.#server, "proxy is shutting down"), tag);
      return;
    }
    if (this.#queue.size === 0) this.#lastProgress = Date.now();
    if (kind === ReplyKind.Get) {
      this.#queueGet(bytes, handler, tag);
    } else {
      this.#joinVerb = 0;
      this.#queue.push(handler, tag, kind);
      this.#out.push(bytes);
      this.#outBytes += bytes.length;
    }
    if (this.#conn === null) {
      if (!this.#connecting) this.#connect();
    } else if (!this.#flushScheduled && !this.#writing) {
      if (!deferred || this.#outBytes >= DEFERRED_WRITE_MAX_BYTES) {
        this.#flushScheduled = true;
        queueMicrotask(this.#flush);
      } else {
        this.#deferredTimer ??= setTimeout(this.#flush, DEFERRED_WRITE_DELAY_MS);
      }
    }
  }

  /**
   * Queues a `get` line, joined to the one before it when both are joinable gets of the same
   * command and the joined line stays within {@linkcode JOINED_LINE_MAX_BYTES}.
   */
  #queueGet(line: Uint8Array, handler: ReplyHandler, tag: number): void {
    const verb = joinableVerbLength(line);
    const out = this.#out;
    const joined = verb !== 0 && verb === this.#joinVerb &&
      this.#joinLineBytes + line.length - verb <= JOINED_LINE_MAX_BYTES;
    if (joined) {
      // `get a\r\n` and `get b\r\n` go out as `get a` and ` b\r\n`: views, no copy.
      const last = out[out.length - 1];
      const body = lineBodyEnd(last);
      const rest = line.subarray(verb);
      out[out.length - 1] = last.subarray(0, body);
      out.push(rest);
      const added = rest.length - (last.length - body);
      this.#outBytes += added;
      this.#joinLineBytes += added;
    } else {
      out.push(line);
      this.#outBytes += line.length;
      this.#joinLineBytes = line.length;
    }
    this.#joinVerb = verb;
    this.#queue.push(handler, tag, ReplyKind.Get, verb === 0 ? undefined : line, joined);
  }

  /** Opens the connection now, if it is not open or opening. */
  connect(): void {
    if (this.#conn === null && !this.#connecting && !this.#closed) this.#connect();
  }

  /**
   * Fails what is in flight and closes the socket for good. Deferred requests still waiting are
   * written first, as far as the socket takes them at once: a copy for a backup made before the
   * close reaches it, as it would have without the wait.
   */
  close(): void {
    this.#closed = true;
    if (this.#deferredTimer !== undefined) this.#flush();
    this.#fail(new BackendError(this.#server, "proxy is shutting down"), false);
  }

  async #connect(): Promise<void> {
    this.#connecting = true;
    this.#startTimer();
    const { hostname, port, timeoutMs, transport = "auto" } = this.#options;
    let conn: ByteStream | null = null;
    try {
      conn = await connectTcp(hostname, port, transport, AbortSignal.timeout(timeoutMs));
    } catch (error) {
      this.#connecting = false;
      const timedOut = error instanceof DOMException && error.name === "TimeoutError";
      if (timedOut) this.#stats.timeouts++;
      const reason = timedOut
        ? `connect timed out after ${timeoutMs} ms`
        : `connect failed: ${(error as Error).message}`;
      this.#fail(new BackendError(this.#server, reason, timedOut), true);
      return;
    }
    this.#connecting = false;
    if (this.#closed) {
      conn.close();
      return;
    }
    this.#conn = conn;
    this.#lastProgress = Date.now();
    this.#options.onConnect?.(this);
    this.#readLoop(conn);
    this.#flush();
  }

  /**
   * Writes what is queued, in one write while the socket takes it all. Not an async function, so
   * that a write that completes at once allocates no promise: only one that waits for the socket
   * goes on in {@linkcode #writeAfter}.
   */
  #flush = (): void => {
    this.#flushScheduled = false;
    clearTimeout(this.#deferredTimer);
    this.#deferredTimer = undefined;
    const conn = this.#conn;
    if (conn === null || this.#writing) return;
    this.#writing = true;
    this.#writeQueued(conn);
  };

  /** The loop of {@linkcode #flush}, entered with `#writing` set; it clears it when it ends. */
  #writeQueued(conn: ByteStream): void {
    try {
      while (this.#out.length > 0 && conn === this.#conn) {
        // Joined in the slab's blocks, where small batches need no buffer of their own, and
        // larger ones in a buffer reused from write to write.
        const join = this.#outBytes > MAX_SHARED_REPLIES ? this.#writeJoin : this.#slab;
        const data = concatBytes(this.#out, this.#outBytes, join);
        this.#out.length = 0;
        this.#outBytes = 0;
        this.#joinVerb = 0;
        this.#queue.stamp(performance.now());
        this.#stats.bytesOut += data.length;
        const waiting = writeSoon(conn, data, this.#writeJoin.holds(data));
        if (waiting !== null) {
          this.#writeAfter(conn, waiting);
          return;
        }
      }
      this.#writing = false;
    } catch (error) {
      this.#writing = false;
      this.#writeFailed(conn, error as Error);
    }
  }

  /** Waits for a write the socket could not take at once, then goes on writing. */
  async #writeAfter(conn: ByteStream, waiting: Promise<void>): Promise<void> {
    try {
      await waiting;
    } catch (error) {
      this.#writing = false;
      this.#writeFailed(conn, error as Error);
      return;
    }
    // The loop goes on, and clears `#writing` when it ends.
    this.#writeQueued(conn);
  }

  /** Fails the connection after a write to `conn` failed, unless it was replaced already. */
  #writeFailed(conn: ByteStream, error: Error): void {
    if (conn === this.#conn) {
      this.#fail(new BackendError(this.#server, `write failed: ${error.message}`), true);
    }
  }

  /**
   * Reads the server's replies from `conn` and hands them out, until it ends or fails, or is
   * replaced. On a connection with `readNow` (epoll) a read that has to wait costs no promise:
   * the socket calls back when it has bytes. Deno's sockets are read through `read().then`.
   */
  #readLoop(conn: ByteStream): void {
    const failed = (error: Error): void => {
      if (conn !== this.#conn) return;
      const reason = error instanceof TypeError
        ? `server sent an invalid reply: ${error.message}`
        : `read failed: ${error.message}`;
      this.#fail(new BackendError(this.#server, reason), true);
    };
    /** Takes `n` bytes read (null at the end); false when reading is over. */
    const took = (n: number | null): boolean => {
      // A read may come back after the connection failed (a failed write, a timeout): its bytes
      // belong to requests that were failed, and the buffer was reset.
      if (conn !== this.#conn) return false;
      if (n === null) {
        this.#fail(new BackendError(this.#server, "server closed the connection"), true);
        return false;
      }
      this.#stats.bytesIn += n;
      this.#end += n;
      this.#readsSinceGrowth++;
      this.#deliver();
      return true;
    };
    /** A read that waited (on Deno's sockets) has come back. */
    const tookThenPump = (n: number | null): void => {
      try {
        if (took(n)) pump();
      } catch (error) {
        failed(error as Error);
      }
    };
    const pump = (): void => {
      try {
        while (conn === this.#conn) {
          if (this.#end === this.#buf.length) this.#makeRoom();
          const into = this.#buf.subarray(this.#end);
          const n = readSoon(conn, into, pump, tookThenPump, failed);
          if (n === -1 || !took(n)) return;
        }
      } catch (error) {
        failed(error as Error);
      }
    };
    pump();
  }

  /**
   * Hands every complete reply in the buffer to its request's handler. Small replies of one read
   * are copied out together, into one new array, and each handler gets a view of its part: one
   * allocation per read rather than one per reply (see {@linkcode #handOut}). Whoever keeps a
   * reply for long copies it (`ClientSession.complete`), so that it does not hold the others'.
   */
  #deliver(): void {
    const queue = this.#queue;
    let replies = 0;
    let count = 0;
    let open = false;
    let garbage: unknown = null;
    try {
      for (let pos = this.#start; count < queue.size;) {
        // A get line's reply, or a joined get's part of its line's reply, is framed by the
        // JoinedReplyFramer, which indexes its blocks for the handler.
        const line = queue.lineAt(count);
        const joinedNext = count + 1 < queue.size && queue.joinedAt(count + 1);
        const end = line !== undefined
          ? this.#joinedFramer.frame(
            this.#buf,
            pos,
            this.#end,
            line,
            !queue.joinedAt(count),
            !joinedNext,
            this.#blocks,
          )
          : this.#framer.frame(this.#buf, pos, this.#end, queue.kindAt(count));
        if (end < 0) break;
        let shares = 1;
        const error = line !== undefined && this.#joinedFramer.error;
        if (error) {
          while (count + shares < queue.size && queue.joinedAt(count + shares)) shares++;
        }
        if (replies === this.#replyEnds.length) this.#growReplies();
        const partOpen = joinedNext && shares === 1;
        this.#replyEnds[replies] = pos = end;
        this.#replyShares[replies] = shares;
        this.#replyBlocks[replies] = this.#blocks.size;
        this.#replyFlags[replies++] = (partOpen ? OPEN : 0) |
          (line !== undefined && !error ? INDEXED : 0);
        open ||= partOpen;
        count += shares;
      }
    } catch (error) {
      // The replies before the garbage are good: they are delivered before the connection fails.
      garbage = error;
    }
    if (replies > 0) this.#handOut(replies, open);
    if (garbage !== null) throw garbage;
    if (this.#start === this.#end) {
      this.#start = this.#end = 0;
      // A buffer grown for large replies goes back to its first size once none has come for a
      // while: steady large replies keep it, and one large reply does not hold it for good.
      if (this.#buf.length > READ_BUFFER_SIZE && this.#readsSinceGrowth >= SHRINK_AFTER_READS) {
        this.#buf = new Uint8Array(READ_BUFFER_SIZE);
      }
    } else if (queue.size === 0) {
      throw new TypeError("bytes arrived that no request asked for");
    }
  }

  /**
   * Gives the oldest queued requests their `replies`, which end at `#replyEnds`. Replies that
   * fill at most {@linkcode MAX_SHARED_REPLIES} bytes in all share one copy, in the slab, unless
   * some are `open` (a joined get's blocks, to which an `END` is added): then each is copied on
   * its own, as larger ones are (into the slab when small), so that a small reply kept for a while
   * never holds a large one. An {@linkcode INDEXED} reply's handler is given its blocks.
   */
  #handOut(replies: number, open: boolean): void {
    const queue = this.#queue;
    const conn = this.#conn;
    const buf = this.#buf;
    const base = this.#start;
    const end = this.#replyEnds[replies - 1];
    const shared = !open && end - base <= MAX_SHARED_REPLIES
      ? this.#slab.copy(buf, base, end)
      : null;
    const latency = this.#stats.latency;
    const now = performance.now();
    const blocks = this.#blocks;
    this.#start = end;
    let from = base;
    let firstBlock = 0;
    for (let r = 0; r < replies; r++) {
      const to = this.#replyEnds[r];
      const shares = this.#replyShares[r];
      const flags = this.#replyFlags[r];
      const indexed = (flags & INDEXED) !== 0;
      if (indexed) {
        blocks.select(firstBlock, this.#replyBlocks[r]);
        firstBlock = this.#replyBlocks[r];
      }
      for (let k = 0; k < shares; k++) {
        // A handler that failed the connection failed the rest too.
        if (this.#conn !== conn) return;
        queue.shift();
        const handler = queue.handler!;
        // A large reply is a buffer of its own, unless its handler is done with it on return:
        // at 10 KiB a reply, one buffer each made V8 collect its whole heap every 50 ms. Such a
        // handler gets a large joined get's part where it lies, with an END written over the
        // bytes after it for the call, or in the scratch buffer when the read buffer ends there.
        const partOpen = (flags & OPEN) !== 0;
        const transient = shares === 1 && handler.takesTransientReplies === true &&
          (partOpen ? to - from > MAX_SHARED_REPLIES : shared === null);
        const patched = transient && partOpen && to + END.length <= buf.length;
        const reply = patched
          ? this.#endPatched(buf, from, to)
          : partOpen
          ? this.#withEnd(buf, from, to, transient)
          : shared === null
          ? (transient ? buf.subarray(from, to) : this.#slab.copy(buf, from, to))
          : replies === 1
          ? shared
          : shared.subarray(from - base, to - base);
        if (queue.sentAt >= 0) latency.record(now - queue.sentAt, now);
        try {
          handler.onReply(reply, queue.tag, transient, indexed ? blocks : undefined);
        } finally {
          if (patched) copyBytes(buf, to, this.#patchedOver, 0, END.length);
        }
      }
      from = to;
    }
    // What is left is the blocks of a reply not all in yet.
    blocks.discard(firstBlock);
    this.#lastProgress = Date.now();
    this.#options.onHealth(true);
  }

  /**
   * A joined get's blocks `buf[from..to)` and an `END` written after them, in place: the bytes
   * it covers (the next part's, or room not read into yet) are kept in `#patchedOver`, to be put
   * back once the handler has returned. For a transient reply, whose handler is done with it by
   * then: no copy of a large part.
   */
  #endPatched(buf: Uint8Array, from: number, to: number): Uint8Array {
    copyBytes(this.#patchedOver, 0, buf, to, to + END.length);
    copyBytes(buf, to, END, 0, END.length);
    return buf.subarray(from, to + END.length);
  }

  /**
   * A joined get's blocks `buf[from..to)` and an `END`, copied into the slab, or into the scratch
   * buffer for a `transient` reply.
   */
  #withEnd(buf: Uint8Array, from: number, to: number, transient: boolean): Uint8Array {
    if (from === to) return END;
    const length = to - from + END.length;
    const reply = transient ? this.#scratch.alloc(length) : this.#slab.alloc(length);
    copyBytes(reply, copyBytes(reply, 0, buf, from, to), END, 0, END.length);
    return reply;
  }

  /** Doubles the arrays that describe a read's replies. */
  #growReplies(): void {
    this.#replyEnds = growInt32(this.#replyEnds);
    this.#replyShares = growInt32(this.#replyShares);
    this.#replyBlocks = growInt32(this.#replyBlocks);
    const flags = new Uint8Array(this.#replyFlags.length * 2);
    flags.set(this.#replyFlags);
    this.#replyFlags = flags;
  }

  /** Makes room to read into: moves the partial reply to the front, or doubles the buffer. */
  #makeRoom(): void {
    const buf = compacted(this.#buf, this.#start, this.#end, 1);
    if (buf !== this.#buf) this.#readsSinceGrowth = 0;
    this.#buf = buf;
    this.#end -= this.#start;
    this.#start = 0;
  }

  #startTimer(): void {
    if (this.#timer !== undefined) return;
    const period = Math.max(5, Math.min(250, this.#options.timeoutMs / 4));
    const timer = setInterval(this.#checkTimeout, period);
    Deno.unrefTimer(timer as unknown as number);
    this.#timer = timer;
  }

  #checkTimeout = (): void => {
    if (this.#queue.size === 0 || this.#connecting) return;
    const waited = Date.now() - this.#lastProgress;
    if (waited > this.#options.timeoutMs) {
      this.#stats.timeouts++;
      this.#fail(new BackendError(this.#server, `timed out after ${waited} ms`, true), true);
    }
  };

  /** Fails every request in flight, drops the socket and the buffers. */
  #fail(error: BackendError, report: boolean): void {
    const conn = this.#conn;
    this.#conn = null;
    if (conn !== null) {
      try {
        conn.close();
      } catch {
        // Already closed by the peer: nothing left to release.
      }
    }
    this.#out = [];
    this.#outBytes = 0;
    this.#joinVerb = 0;
    clearTimeout(this.#deferredTimer);
    this.#deferredTimer = undefined;
    this.#start = this.#end = 0;
    if (this.#buf.length > READ_BUFFER_SIZE) this.#buf = new Uint8Array(READ_BUFFER_SIZE);
    this.#framer.reset();
    this.#joinedFramer.reset();
    this.#blocks.clear();
    if (this.#closed) clearInterval(this.#timer);
    if (report) this.#options.onHealth(false, error);
    // Only the requests in flight now fail. One that a handler sends from onFailure (a fallback
    // to a backup on the same server) is queued behind them with its bytes, for the next
    // connection; had this loop failed it too, its bytes would go out without a request, and
    // their reply to the request after it.
    const queue = this.#queue;
    for (let n = queue.size; n > 0 && queue.size > 0; n--) {
      queue.shift();
      queue.handler!.onFailure(error, queue.tag);
    }
  }
}

/** A copy of `a` twice as long. */
function growInt32(a: Int32Array): Int32Array<ArrayBuffer> {
  const grown = new Int32Array(a.length * 2);
  grown.set(a);
  return grown;
}
