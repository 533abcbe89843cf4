import { type ByteStream, readSoon, writeSoon } from "../net/tcp.ts";
import { ScratchBuffer } from "../protocol/scratch_buffer.ts";
import { concatBytes } from "../protocol/bytes.ts";
import { ByteSlab } from "../protocol/byte_slab.ts";
import { BinaryRequestParser } from "../protocol/binary/binary_parser.ts";
import { Opcode, REQUEST_MAGIC, Status } from "../protocol/binary/opcodes.ts";
import { errorResponse } from "../protocol/binary/binary_responses.ts";
import { Command, isRetrieval } from "../protocol/text/command.ts";
import {
  type ParsedItem,
  ProtocolClose,
  type TextParserLimits,
  TextRequestParser,
} from "../protocol/text/request_parser.ts";
import { OK, replyLine } from "../protocol/text/replies.ts";
import type { TextRequest } from "../protocol/text/text_request.ts";
import type { ReplySink } from "../routing/reply_sink.ts";
import type { Router } from "../routing/router.ts";
import type { ProxyStats } from "../observability/stats.ts";
import type { Logger } from "../observability/log.ts";
import { type CredentialCheck, TextAuthParser } from "../protocol/text/auth_parser.ts";
import type { ReplySizeEstimate } from "./reply_size_estimate.ts";

/** What every session of a listener shares. */
export interface SessionContext {
  /** The route tree requests go through. */
  router: Router;
  /** The proxy's counters. */
  stats: ProxyStats;
  /** The version the proxy reports. */
  version: string;
  /** Limits on each client's input. */
  limits: Partial<TextParserLimits>;
  /** The reply to `stats` with `args`, the words after `stats`. */
  statsReply(args: readonly string[]): Uint8Array;
  /**
   * Bytes one client may hold in the proxy, replies unread and requests in flight, before the
   * proxy stops reading from it; four times this closes it. Default 16 MiB.
   */
  maxClientBuffer?: number;
  /** When set, clients must authenticate first, as with memcached's `-Y`. */
  authenticate?: CredentialCheck | null;
  /** Milliseconds a client may send and receive nothing before it is closed; 0 for never. */
  idleTimeoutMs?: number;
  /** Where a session logs why it closed a client. */
  logger?: Logger;
  /**
   * The bytes per key retrievals have lately brought back, shared by the pool's clients: a
   * retrieval in flight counts that much per key against its client's bound.
   */
  replySizes?: ReplySizeEstimate;
}

const decoder = new TextDecoder();

/** Requests one client may have in flight before the proxy stops reading from it. */
const MAX_IN_FLIGHT = 1024;
/** The default of {@linkcode SessionContext.maxClientBuffer}. */
const DEFAULT_MAX_CLIENT_BUFFER = 16 * 1024 * 1024;
/** The hard bound on a client's bytes, as a multiple of the soft one. */
const HARD_BOUND_FACTOR = 4;
/**
 * How long a client that is cut off (after `quit` or a request it may not send) is read from
 * and ignored, once its replies are written and its side of the connection ended. Closing a
 * socket with unread input makes the kernel send a reset, and the client may then lose replies
 * it had not read yet.
 */
const LINGER_MS = 2000;
/** How much a cut-off client may still send before it is closed without more ado. */
const LINGER_BYTES = 1024 * 1024;
/**
 * What a request in flight is taken to hold per key, besides its bytes: the key's view, hash and
 * place in the split by server.
 */
const COST_PER_KEY = 128;
/** Replies are joined into one write up to this size; a larger one is written alone, uncopied. */
const WRITE_BATCH = 256 * 1024;
/**
 * Where the replies of one write are joined, for every session: the write is made before any
 * other session's, and `writeSoon` copies what the socket does not take at once.
 */
const writeJoin = new ScratchBuffer();
/** How long a client over the hard bound has to take its last reply before it is cut off. */
const OVERFLOW_GRACE_MS = 10_000;
/**
 * A client's read buffer starts this small, and grows fourfold up to `MAX_READ_SIZE` each time a
 * read fills it: a thousand clients that send a request at a time hold 4 MiB, not 64.
 */
const FIRST_READ_SIZE = 4 * 1024;
const MAX_READ_SIZE = 64 * 1024;
const OUT_OF_MEMORY = replyLine("SERVER_ERROR out of memory");
/** The same for a binary client: it answers no one request, so it has a noop's opcode. */
const BINARY_OUT_OF_MEMORY = errorResponse(Opcode.Noop, new Uint8Array(4), Status.OutOfMemory);
/** Marks the slot after which the connection closes (`quit`, or a protocol violation). */
const CLOSE = new Uint8Array(0);
const EMPTY = new Uint8Array(0);

let nextAffinity = 0;

/**
 * One client connection: reads and parses its requests, hands them to the router, and writes
 * the replies back in request order, all that are ready in one write. A client whose first
 * byte is 0x80 speaks the binary protocol: its requests reach the router as meta commands that
 * answer in binary (`binary_to_meta.ts`), so the rest of the session is the same.
 */
export class ClientSession implements ReplySink {
  /** This client's connection choice on every backend. */
  readonly affinity: number = nextAffinity++;
  readonly #conn: ByteStream;
  readonly #context: SessionContext;
  /** The text parser (meta included), until a first byte of 0x80 makes it the binary one. */
  #parser: TextRequestParser | BinaryRequestParser;
  #firstRead = true;
  /** The last reply of a client closed for holding too much: in its protocol. */
  #outOfMemory = OUT_OF_MEMORY;
  /** Checks credentials until the client has authenticated; then null. */
  #auth: TextAuthParser | null = null;
  #authFailureLogged = false;
  readonly #softBound: number;
  readonly #hardBound: number;
  /** Replies by request number; null while pending. A ring whose size is a power of two. */
  #slots: (Uint8Array | null)[] = new Array(64).fill(null);
  /** What each request in flight is taken to hold, by request number, in the same ring. */
  #costs = new Float64Array(64);
  /** The keys of each retrieval in flight, by request number; 0 for other requests. */
  #keyCounts = new Uint32Array(64);
  #mask = 63;
  /** The number of the next reply to write. */
  #head = 0;
  /** Where replies that must wait are copied to: blocks that hold this client's bytes only. */
  readonly #replyCopies = new ByteSlab();
  /** The number the next request gets. */
  #next = 0;
  #unwrittenBytes = 0;
  /** The sum of `#costs`: bytes held by requests waiting for a server. */
  #inFlightBytes = 0;
  /**
   * Reads and writes so far. The idle sweep compares it with what it saw last time, so that
   * no read or write has to look at the clock (`Date.now()` costs about 50 ns, on every one).
   */
  #activity = 0;
  /** The count the last idle sweep saw, and the time it saw it change. */
  #activitySeen = 0;
  #lastActive = Date.now();
  /** Set once the client went over the hard bound: replies are dropped, the end is near. */
  #overflowed = false;
  #overflowTimer: ReturnType<typeof setTimeout> | undefined;
  #flushScheduled = false;
  #writing = false;
  #closing = false;
  #closed = false;
  /** True while {@linkcode serve} runs: it is the one reader of the connection. */
  #serving = false;
  /** Set while a closed connection is read from and ignored; it closes the socket for good. */
  #lingerTimer: ReturnType<typeof setTimeout> | undefined;
  /** Set by {@linkcode drain}: read no more, answer what was read, then close. */
  #draining = false;
  #resumeReading: (() => void) | null = null;
  /** Where the client's bytes are read to: small at first, grown when a read fills it. */
  #readBuffer = new Uint8Array(FIRST_READ_SIZE);
  /** Set once the client has ended its side, or the connection broke. */
  #ended = false;
  /** Set while {@linkcode #pump} waits for a read: the read in progress, which a drain lets finish. */
  #readInProgress = false;
  /**
   * True while requests are dispatched ({@linkcode #pump}, or the requests a `flush_all` held
   * back): a reply completed then (one the proxy gives itself, or a failure a handler reports at
   * once) waits for the turn's flush, as the dispatcher may yet decide to wait for room and needs
   * the flush to resume it.
   */
  #dispatching = false;
  /** Resolves {@linkcode serve}'s wait once {@linkcode #pump} has stopped for good. */
  #served: (() => void) | null = null;
  /** Requests dispatched whose reply has not come yet. */
  #incomplete = 0;
  /** A `flush_all` waiting for every earlier request to finish, and its number. */
  #barrier: { request: TextRequest; seq: number } | null = null;
  /** Items parsed while a barrier stands, dispatched in order once it falls. */
  #held: ParsedItem[] | null = null;
  /** Items parsed and not yet dispatched: `#queue[#queueAt…]`, waiting for room in the bound. */
  #queue: ParsedItem[] = [];
  #queueAt = 0;

  /**
   * @param conn The client's connection.
   * @param context What all sessions share.
   */
  constructor(conn: ByteStream, context: SessionContext) {
    this.#conn = conn;
    this.#context = context;
    this.#parser = new TextRequestParser(context.limits);
    this.#softBound = context.maxClientBuffer ?? DEFAULT_MAX_CLIENT_BUFFER;
    this.#hardBound = this.#softBound * HARD_BOUND_FACTOR;
    if (context.authenticate) this.#auth = new TextAuthParser(this.#checkCredentials);
  }

  /**
   * True when the client has sent and taken nothing for `timeoutMs`, and no request of its
   * waits for a server. A read or write is only counted; this call notes the time when it finds
   * the count changed. So a sweep that asks every `period` ms finds a client idle between
   * `timeoutMs` and `timeoutMs + 2 * period` after its last read or write.
   */
  idle(now: number, timeoutMs: number): boolean {
    if (this.#activity !== this.#activitySeen) {
      this.#activitySeen = this.#activity;
      this.#lastActive = now;
      return false;
    }
    return this.#incomplete === 0 && now - this.#lastActive >= timeoutMs;
  }

  /**
   * Serves the client until it leaves or the connection breaks. Requests are dispatched while
   * the client is within its bound; past it, they wait, and nothing more is read.
   */
  async serve(): Promise<void> {
    this.#serving = true;
    const served = Promise.withResolvers<void>();
    this.#served = served.resolve;
    this.#pump();
    await served.promise;
    // Cut off (quit, a request it may not send, a drain) while it may still be sending: its
    // input is read and dropped until its replies are written and the linger is over.
    if (!this.#ended && (!this.#closed || this.#lingerTimer !== undefined)) {
      await this.#ignoreInput(this.#readBuffer);
    }
    this.#serving = false;
    if (this.#lingerTimer !== undefined) {
      this.#endLinger();
      return;
    }
    this.#closing = true;
    // A write under way finishes first: the flush closes the connection after it.
    if (this.#head === this.#next && !this.#writing) this.#close();
  }

  /**
   * Dispatches what was parsed, and reads and parses more, until it has to wait: for room in the
   * client's bound, or for the client to send. On a connection with `readNow` (epoll), a read
   * that has to wait costs no promise: the socket calls this again when it has bytes. Ends the
   * serving (`#served`) when the client has left, been cut off, or the connection broke.
   */
  #pump = (): void => {
    const outer = this.#dispatching;
    this.#dispatching = true;
    try {
      this.#readAndDispatch();
    } finally {
      this.#dispatching = outer;
    }
  };

  /** The body of {@linkcode #pump}. */
  #readAndDispatch(): void {
    try {
      while (!this.#closing) {
        const queue = this.#queue;
        while (this.#queueAt < queue.length && !this.#closing && !this.#overBound()) {
          this.#dispatch(queue[this.#queueAt++]);
        }
        const queued = this.#queueAt < queue.length;
        if ((this.#ended || (this.#draining && !this.#readInProgress)) && !queued) break;
        if (queued || this.#overBound()) {
          this.#resumeReading = this.#pumpSoon;
          return;
        }
        const n = readSoon(
          this.#conn,
          this.#readBuffer,
          this.#pump,
          this.#onRead,
          this.#onReadFailed,
        );
        if (n === -1) {
          this.#readInProgress = true;
          return;
        }
        this.#took(n);
      }
    } catch {
      // A reset or broken connection ends the session like a close does.
      this.#ended = true;
    }
    this.#served!();
  }

  /** Lets a session that waits for room in its bound go on, if it waits. */
  #resume(): void {
    const resume = this.#resumeReading;
    this.#resumeReading = null;
    resume?.();
  }

  /** Resumes {@linkcode #pump} from a microtask: not inside the write or close that made room. */
  #pumpSoon = (): void => queueMicrotask(this.#pump);

  /** A read that waited (on a connection without `readNow`) has come back. */
  #onRead = (n: number | null): void => {
    try {
      this.#took(n);
    } catch {
      this.#ended = true;
    }
    this.#pump();
  };

  /** A `read` (on a connection without `readNow`) failed: the session ends as on a close. */
  #onReadFailed = (): void => {
    this.#ended = true;
    this.#served!();
  };

  /** Parses `n` bytes read into the read buffer; null is the end of the stream. */
  #took(n: number | null): void {
    this.#readInProgress = false;
    if (n === null) {
      this.#ended = true;
      return;
    }
    this.#context.stats.bytesRead += n;
    this.#activity++;
    const buf = this.#readBuffer;
    const chunk = buf.subarray(0, n);
    if (this.#firstRead) this.#detectProtocol(chunk[0]);
    this.#queue = this.#auth === null ? this.#parser.push(chunk) : this.#authenticate(chunk);
    this.#queueAt = 0;
    // The parsers copy what they keep, so the buffer can be replaced now.
    if (n === buf.length && n < MAX_READ_SIZE) this.#readBuffer = new Uint8Array(n * 4);
  }

  /**
   * Reads and drops what the client still sends (requests after the close are not answered),
   * until it ends, the linger is over, or it has sent {@linkcode LINGER_BYTES}.
   */
  async #ignoreInput(buf: Uint8Array): Promise<void> {
    let ignored = 0;
    try {
      while (ignored < LINGER_BYTES) {
        const n = await this.#conn.read(buf);
        if (n === null) return;
        ignored += n;
      }
    } catch {
      // Closed at the end of the linger, or broken.
    }
  }

  /**
   * Picks the protocol from the first byte, as memcached does: 0x80 is a binary request's
   * magic byte, anything else starts a text (or meta) command. A binary client authenticates
   * with SASL `PLAIN`, which its parser checks, not with the text protocol's `set`.
   */
  #detectProtocol(first: number): void {
    this.#firstRead = false;
    if (first !== REQUEST_MAGIC) return;
    const context = this.#context;
    this.#auth = null;
    this.#outOfMemory = BINARY_OUT_OF_MEMORY;
    this.#parser = new BinaryRequestParser(
      {
        version: context.version,
        statsReply: context.statsReply,
        authenticate: context.authenticate ? this.#checkCredentials : null,
      },
      context.limits,
    );
  }

  /** True when the client may not have more dispatched until some of its replies are taken. */
  #overBound(): boolean {
    return this.#next - this.#head >= MAX_IN_FLIGHT ||
      this.#unwrittenBytes + this.#inFlightBytes >= this.#softBound ||
      (this.#held?.length ?? 0) >= MAX_IN_FLIGHT;
  }

  /**
   * Delivers the reply to request `seq`. A `transient` one (a view into a backend's read buffer,
   * valid only during the call) is written at once when it is next and no write is under way;
   * otherwise it is copied. One that shares its buffer is written by this turn's flush, or
   * copied there if it has to wait.
   */
  complete(seq: number, reply: Uint8Array, transient = false): void {
    if (this.#closed || this.#overflowed) return;
    this.#incomplete--;
    const i = seq & this.#mask;
    const shares = reply.byteLength !== reply.buffer.byteLength;
    const next = seq === this.#head && !this.#writing;
    // The flush may run now, for this reply alone: not while a flush_all holds requests back, as
    // the flush may close the session only once they are answered (it comes after the barrier
    // moves on).
    const flushNow = next && !this.#flushScheduled && this.#held === null;
    // The flush copies a shared view before it waits; a view of a whole buffer would not look
    // shared, so such a transient one is copied here instead.
    const writeNow = transient && flushNow && shares;
    // A reply that shares its bytes with others (a backend read's replies do) must not wait in
    // the ring past this turn: a client slow to read holds its own replies, not its
    // neighbours'. It stays a view until this turn's flush, which writes it if the replies
    // before it are in by then (a pipeline's replies come in together) and copies it if not.
    // With a write under way, no flush comes this turn: it is copied now.
    if (transient && !writeNow) reply = reply.slice();
    else if (shares && this.#writing) reply = this.#ownCopy(reply);
    this.#slots[i] = reply;
    this.#inFlightBytes -= this.#costs[i];
    this.#costs[i] = 0;
    if (this.#keyCounts[i] > 0) {
      this.#context.replySizes?.observe(reply.length, this.#keyCounts[i]);
      this.#keyCounts[i] = 0;
    }
    this.#unwrittenBytes += reply.length;
    // One reply alone may be larger: the bound is on a backlog the client does not take.
    if (this.#unwrittenBytes > this.#hardBound && this.#unwrittenBytes > reply.length) {
      this.#overflow();
      return;
    }
    if (writeNow || (flushNow && this.#next === seq + 1 && !this.#dispatching)) {
      // Up to its first wait, the flush runs now: it writes the reply, or copies what the
      // socket does not take (a shared view is copied before any wait). So does it for the one
      // reply a client awaits, whose write no later reply could join this turn, when it comes
      // from a server.
      this.#flush();
    } else if ((seq === this.#head || shares) && !this.#flushScheduled && !this.#writing) {
      this.#flushScheduled = true;
      queueMicrotask(this.#flush);
    }
    if (this.#held !== null) this.#advanceBarrier();
  }

  /**
   * The client holds more than the hard bound: its replies are dropped, and it gets
   * `SERVER_ERROR out of memory` after the write under way, then the connection closes. A
   * client that takes nothing more is cut off after a grace period.
   */
  #overflow(): void {
    this.#context.logger?.log("warn", "client closed: it does not read its replies", {
      client: describePeer(this.#conn),
      unread_bytes: this.#unwrittenBytes,
      limit: this.#hardBound,
      fix: "have the client read replies as it sends requests, or raise --max-client-buffer",
    });
    this.#overflowed = true;
    this.#closing = true;
    this.#held = null;
    this.#barrier = null;
    this.#slots.fill(null);
    this.#costs.fill(0);
    this.#keyCounts.fill(0);
    this.#inFlightBytes = 0;
    this.#queue = [];
    this.#queueAt = 0;
    this.#slots[this.#head & this.#mask] = this.#outOfMemory;
    this.#slots[(this.#head + 1) & this.#mask] = CLOSE;
    this.#next = this.#head + 2;
    this.#overflowTimer = setTimeout(() => this.#close(), OVERFLOW_GRACE_MS);
    this.#resume();
    if (!this.#writing && !this.#flushScheduled) {
      this.#flushScheduled = true;
      queueMicrotask(this.#flush);
    }
  }

  /** Feeds bytes to the authentication; once it passes, the rest go to the request parser. */
  #authenticate(chunk: Uint8Array): ParsedItem[] {
    const auth = this.#auth!;
    const items = auth.push(chunk);
    if (!auth.authenticated) return items;
    this.#auth = null;
    const rest = auth.rest();
    return rest.length === 0 ? items : items.concat(this.#parser.push(rest));
  }

  #checkCredentials = (user: Uint8Array, password: Uint8Array): boolean => {
    const ok = this.#context.authenticate!(user, password);
    if (!ok && !this.#authFailureLogged) {
      this.#authFailureLogged = true;
      this.#context.logger?.log("info", "authentication failed", {
        client: describePeer(this.#conn),
      });
    }
    return ok;
  };

  /**
   * Starts a waiting `flush_all` once all before it have finished, and lets the held requests
   * go once it has finished too.
   */
  #advanceBarrier(): void {
    if (this.#barrier !== null) {
      if (this.#incomplete > 1) return;
      const { request, seq } = this.#barrier;
      this.#barrier = null;
      this.#route(request, seq);
      return;
    }
    if (this.#incomplete > 0) return;
    const held = this.#held!;
    this.#held = null;
    // A flush_all among them raises a new barrier, and #dispatch holds the rest behind it.
    const outer = this.#dispatching;
    this.#dispatching = true;
    try {
      for (const item of held) this.#dispatch(item);
    } finally {
      this.#dispatching = outer;
    }
  }

  #dispatch(item: ParsedItem): void {
    if (this.#overflowed) return;
    if (this.#held !== null) {
      this.#held.push(item);
      return;
    }
    if (item instanceof Uint8Array) {
      this.complete(this.#take(), item);
    } else if (item instanceof ProtocolClose) {
      const seq = this.#take();
      this.complete(seq, item.reply ?? EMPTY);
      this.complete(this.#take(), CLOSE);
      this.#closing = true;
    } else {
      this.#request(item);
    }
  }

  #request(request: TextRequest): void {
    const seq = this.#take();
    const i = seq & this.#mask;
    const keys = request.keyCount;
    let cost = request.raw.length + keys * COST_PER_KEY;
    // An mg (a meta or binary get) brings a value back as a retrieval does.
    if (isRetrieval(request.command) || request.command === Command.MetaGet) {
      this.#keyCounts[i] = keys;
      cost += keys * (this.#context.replySizes?.perKey() ?? 0);
    }
    this.#costs[i] = cost;
    this.#inFlightBytes += cost;
    switch (request.command) {
      case Command.Quit:
        this.complete(seq, CLOSE);
        this.#closing = true;
        return;
      case Command.Version:
        this.complete(seq, replyLine(`VERSION ${this.#context.version}`));
        return;
      case Command.Verbosity:
        this.complete(seq, request.noreply ? EMPTY : OK);
        return;
      case Command.Stats:
        this.complete(seq, this.#stats(request));
        return;
      case Command.FlushAll:
        // A barrier: backups get writes only as their primaries answer, so a flush sent while
        // earlier writes wait for that would overtake them, and a later read could overtake it.
        this.#held = [];
        if (this.#incomplete > 1) this.#barrier = { request, seq };
        else this.#route(request, seq);
        return;
      default:
        this.#route(request, seq);
    }
  }

  /**
   * Routes `request`, numbered `seq`. A router that throws has a bug: the request would never be
   * answered, and the connection would stay open for it. The client is closed instead, and the
   * error logged. (Answering it is not safe: what the router sent before it threw may still
   * answer it.)
   */
  #route(request: TextRequest, seq: number): void {
    try {
      this.#context.router.route(request, this, seq);
    } catch (error) {
      this.#context.logger?.log("error", "client closed: a request failed inside the proxy", {
        client: describePeer(this.#conn),
        error: (error as Error).message,
        fix: "this is a bug in memrelay: report it with this line",
      });
      this.#close();
    }
  }

  #stats(request: TextRequest): Uint8Array {
    return this.#context.statsReply(request.tokens.slice(1).map((t) => decoder.decode(t)));
  }

  /** Takes the next request number, growing the ring when it is full. */
  #take(): number {
    if (this.#next - this.#head === this.#slots.length) {
      const old = this.#slots;
      const oldCosts = this.#costs;
      const oldKeyCounts = this.#keyCounts;
      const size = old.length * 2;
      const slots: (Uint8Array | null)[] = new Array(size).fill(null);
      const costs = new Float64Array(size);
      const keyCounts = new Uint32Array(size);
      for (let s = this.#head; s < this.#next; s++) {
        slots[s & (size - 1)] = old[s & this.#mask];
        costs[s & (size - 1)] = oldCosts[s & this.#mask];
        keyCounts[s & (size - 1)] = oldKeyCounts[s & this.#mask];
      }
      this.#slots = slots;
      this.#costs = costs;
      this.#keyCounts = keyCounts;
      this.#mask = size - 1;
    }
    this.#incomplete++;
    return this.#next++;
  }

  /**
   * Writes every reply ready from the head on, in one write, until none is ready. It is not an
   * async function: most writes complete at once, and a call of one would allocate its promise
   * and frame for each (about a fifth of the bytes a single get allocates). Only a write that
   * waits for the socket goes on in {@linkcode #writeAfter}.
   */
  #flush = (): void => {
    this.#flushScheduled = false;
    if (this.#writing || this.#closed) return;
    this.#writing = true;
    this.#writeReady();
  };

  /** The loop of {@linkcode #flush}, entered with `#writing` set; it clears it when it ends. */
  #writeReady(): void {
    try {
      while (true) {
        // Most writes are of one reply: the array of several is made only when there are.
        let first: Uint8Array = EMPTY;
        let chunks: Uint8Array[] | null = null;
        let total = 0;
        let close = false;
        while (this.#head < this.#next) {
          const i = this.#head & this.#mask;
          const reply = this.#slots[i];
          if (reply === null || (total > 0 && total + reply.length > WRITE_BATCH)) break;
          this.#slots[i] = null;
          this.#head++;
          if (reply === CLOSE) {
            close = true;
            break;
          }
          if (reply.length > 0) {
            if (total === 0) first = reply;
            else (chunks ??= [first]).push(reply);
            total += reply.length;
          }
        }
        if (total > 0) {
          const waiting = chunks === null
            ? writeSoon(this.#conn, first)
            : writeSoon(this.#conn, concatBytes(chunks, total, writeJoin), true);
          if (waiting !== null) {
            this.#unshareWaiting();
            this.#writeAfter(waiting, total, close);
            return;
          }
        }
        if (!this.#written(total, close)) break;
        if (total === 0) {
          // What is left waits for an earlier reply, past this turn.
          this.#unshareWaiting();
          break;
        }
      }
    } catch {
      this.#close();
    }
    this.#writing = false;
  }

  /** Waits for a write the socket could not take at once, then goes on writing. */
  async #writeAfter(waiting: Promise<void>, total: number, close: boolean): Promise<void> {
    try {
      await waiting;
      if (this.#written(total, close)) {
        // The loop goes on, and clears `#writing` when it ends.
        this.#writeReady();
        return;
      }
    } catch {
      this.#close();
    }
    this.#writing = false;
  }

  /**
   * Accounts for `total` bytes written (none for an empty batch), closes the session when the
   * batch ended with {@linkcode CLOSE} or a draining session has answered all, and lets a
   * session waiting for room read again. False when the session is closed and writing ends.
   */
  #written(total: number, close: boolean): boolean {
    if (total > 0) {
      this.#context.stats.bytesWritten += total;
      this.#activity++;
    }
    this.#unwrittenBytes -= total;
    if (close) {
      this.#close(true);
      return false;
    }
    if ((this.#closing || this.#draining) && this.#answeredAll()) {
      this.#close();
      return false;
    }
    if (
      this.#resumeReading !== null && this.#next - this.#head < MAX_IN_FLIGHT / 2 &&
      this.#unwrittenBytes + this.#inFlightBytes < this.#softBound / 2
    ) {
      this.#resume();
    }
    return true;
  }

  /** Ends a linger, if one is on: the socket is closed for good. */
  #endLinger(): void {
    if (this.#lingerTimer === undefined) return;
    clearTimeout(this.#lingerTimer);
    closeQuietly(this.#conn);
  }

  /** Copies the replies in the ring that share others' bytes, as they are to wait. */
  #unshareWaiting(): void {
    for (let s = this.#head; s < this.#next; s++) {
      const reply = this.#slots[s & this.#mask];
      if (
        reply !== null && reply.byteLength !== reply.buffer.byteLength &&
        !this.#replyCopies.holds(reply)
      ) {
        this.#slots[s & this.#mask] = this.#ownCopy(reply);
      }
    }
  }

  /** A copy of `reply` in this session's own blocks, which only its replies share. */
  #ownCopy(reply: Uint8Array): Uint8Array {
    return this.#replyCopies.copy(reply, 0, reply.length);
  }

  /** Closes the connection now, whatever is in flight. */
  close(): void {
    this.#close();
    this.#endLinger();
  }

  /** True when every request read has been answered, and the answers handed to the writer. */
  #answeredAll(): boolean {
    return this.#head === this.#next && this.#held === null && this.#queueAt >= this.#queue.length;
  }

  /**
   * Ends the session gently: reads nothing after the read in progress, answers every request
   * already read, then closes. An idle session closes at once.
   */
  drain(): void {
    if (this.#closed) return;
    this.#draining = true;
    if (this.#answeredAll() && !this.#writing) {
      this.#close();
      return;
    }
    // A session waiting for room to read wakes up, sees it is draining, and reads no more.
    this.#resume();
  }

  /**
   * Closes the connection. With `linger`, when the client may still be sending (the session
   * reads on), only the sending side is ended: {@linkcode serve} reads and drops the rest for
   * up to {@linkcode LINGER_MS}, so that the kernel does not reset the connection under
   * replies the client has not read yet.
   */
  #close(linger = false): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing = true;
    clearTimeout(this.#overflowTimer);
    const conn = this.#conn;
    if (linger && this.#serving && conn.closeWrite !== undefined) {
      this.#lingerTimer = setTimeout(() => this.#endLinger(), LINGER_MS);
      try {
        // Deno's sockets answer with a promise, which fails only if the socket is gone.
        conn.closeWrite()?.catch(() => this.#endLinger());
      } catch {
        this.#endLinger();
      }
    } else {
      closeQuietly(conn);
    }
    this.#resume();
  }
}

/** Closes `conn`, which may be closed already. */
function closeQuietly(conn: ByteStream): void {
  try {
    conn.close();
  } catch {
    // Already closed: nothing left to release.
  }
}

/** The client's address for the log. */
function describePeer(conn: ByteStream): string {
  const addr = conn.remoteAddr;
  if (addr.transport !== "tcp") return addr.transport;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  return `${host}:${addr.port}`;
}
