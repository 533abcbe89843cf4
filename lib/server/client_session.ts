import { concatBytes, writeAll } from "../protocol/bytes.ts";
import { BinaryRequestParser } from "../protocol/binary/binary_parser.ts";
import { REQUEST_MAGIC } from "../protocol/binary/opcodes.ts";
import { Command } from "../protocol/text/command.ts";
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
}

const decoder = new TextDecoder();

/** Requests one client may have in flight before the proxy stops reading from it. */
const MAX_IN_FLIGHT = 1024;
/** Reply bytes waiting for a slow client before the proxy stops reading from it. */
const MAX_UNWRITTEN = 16 * 1024 * 1024;
const READ_SIZE = 64 * 1024;
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
  readonly #conn: Deno.Conn;
  readonly #context: SessionContext;
  /** The text parser (meta included), until a first byte of 0x80 makes it the binary one. */
  #parser: TextRequestParser | BinaryRequestParser;
  #firstRead = true;
  /** Replies by request number; null while pending. A ring whose size is a power of two. */
  #slots: (Uint8Array | null)[] = new Array(64).fill(null);
  #mask = 63;
  /** The number of the next reply to write. */
  #head = 0;
  /** The number the next request gets. */
  #next = 0;
  #unwrittenBytes = 0;
  #flushScheduled = false;
  #writing = false;
  #closing = false;
  #closed = false;
  /** Set by {@linkcode drain}: read no more, answer what was read, then close. */
  #draining = false;
  #resumeReading: (() => void) | null = null;
  /** Requests dispatched whose reply has not come yet. */
  #incomplete = 0;
  /** A `flush_all` waiting for every earlier request to finish, and its number. */
  #barrier: { request: TextRequest; seq: number } | null = null;
  /** Items parsed while a barrier stands, dispatched in order once it falls. */
  #held: ParsedItem[] | null = null;

  /**
   * @param conn The client's connection.
   * @param context What all sessions share.
   */
  constructor(conn: Deno.Conn, context: SessionContext) {
    this.#conn = conn;
    this.#context = context;
    this.#parser = new TextRequestParser(context.limits);
  }

  /** Serves the client until it leaves or the connection breaks. */
  async serve(): Promise<void> {
    const buf = new Uint8Array(READ_SIZE);
    const stats = this.#context.stats;
    try {
      while (!this.#closing && !this.#draining) {
        if (
          this.#next - this.#head >= MAX_IN_FLIGHT || this.#unwrittenBytes >= MAX_UNWRITTEN ||
          (this.#held?.length ?? 0) >= MAX_IN_FLIGHT
        ) {
          await new Promise<void>((resolve) => this.#resumeReading = resolve);
          continue;
        }
        const n = await this.#conn.read(buf);
        if (n === null) break;
        stats.bytesRead += n;
        if (this.#firstRead) this.#detectProtocol(buf[0]);
        const items = this.#parser.push(buf.subarray(0, n));
        for (let i = 0; i < items.length && !this.#closing; i++) this.#dispatch(items[i]);
      }
    } catch {
      // A reset or broken connection ends the session like a close does.
    }
    this.#closing = true;
    if (this.#head === this.#next) this.#close();
  }

  /**
   * Picks the protocol from the first byte, as memcached does: 0x80 is a binary request's
   * magic byte, anything else starts a text (or meta) command.
   */
  #detectProtocol(first: number): void {
    this.#firstRead = false;
    if (first !== REQUEST_MAGIC) return;
    const context = this.#context;
    this.#parser = new BinaryRequestParser(
      { version: context.version, statsReply: context.statsReply },
      context.limits,
    );
  }

  /** Delivers the reply to request `seq`. */
  complete(seq: number, reply: Uint8Array): void {
    if (this.#closed) return;
    this.#incomplete--;
    this.#slots[seq & this.#mask] = reply;
    this.#unwrittenBytes += reply.length;
    if (seq === this.#head && !this.#flushScheduled && !this.#writing) {
      this.#flushScheduled = true;
      queueMicrotask(this.#flush);
    }
    if (this.#held !== null) this.#advanceBarrier();
  }

  /**
   * Starts a waiting `flush_all` once all before it have finished, and lets the held requests
   * go once it has finished too.
   */
  #advanceBarrier(): void {
    if (this.#barrier !== null) {
      if (this.#incomplete > 1) return;
      const { request, seq } = this.#barrier;
      this.#barrier = null;
      this.#context.router.route(request, this, seq);
      return;
    }
    if (this.#incomplete > 0) return;
    const held = this.#held!;
    this.#held = null;
    // A flush_all among them raises a new barrier, and #dispatch holds the rest behind it.
    for (const item of held) this.#dispatch(item);
  }

  #dispatch(item: ParsedItem): void {
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
        else this.#context.router.route(request, this, seq);
        return;
      default:
        this.#context.router.route(request, this, seq);
    }
  }

  #stats(request: TextRequest): Uint8Array {
    return this.#context.statsReply(request.tokens.slice(1).map((t) => decoder.decode(t)));
  }

  /** Takes the next request number, growing the ring when it is full. */
  #take(): number {
    if (this.#next - this.#head === this.#slots.length) {
      const old = this.#slots;
      const size = old.length * 2;
      const slots: (Uint8Array | null)[] = new Array(size).fill(null);
      for (let s = this.#head; s < this.#next; s++) slots[s & (size - 1)] = old[s & this.#mask];
      this.#slots = slots;
      this.#mask = size - 1;
    }
    this.#incomplete++;
    return this.#next++;
  }

  /** Writes every reply ready from the head on, in one write, until none is ready. */
  #flush = async (): Promise<void> => {
    this.#flushScheduled = false;
    if (this.#writing || this.#closed) return;
    this.#writing = true;
    try {
      while (true) {
        const chunks: Uint8Array[] = [];
        let total = 0;
        let close = false;
        while (this.#head < this.#next) {
          const i = this.#head & this.#mask;
          const reply = this.#slots[i];
          if (reply === null) break;
          this.#slots[i] = null;
          this.#head++;
          if (reply === CLOSE) {
            close = true;
            break;
          }
          if (reply.length > 0) {
            chunks.push(reply);
            total += reply.length;
          }
        }
        if (total > 0) {
          await writeAll(this.#conn, concatBytes(chunks, total));
          this.#context.stats.bytesWritten += total;
        }
        this.#unwrittenBytes -= total;
        if (
          close ||
          ((this.#closing || this.#draining) && this.#head === this.#next && this.#held === null)
        ) {
          this.#close();
          return;
        }
        if (
          this.#resumeReading !== null && this.#next - this.#head < MAX_IN_FLIGHT / 2 &&
          this.#unwrittenBytes < MAX_UNWRITTEN / 2
        ) {
          const resume = this.#resumeReading;
          this.#resumeReading = null;
          resume();
        }
        if (total === 0) break;
      }
    } catch {
      this.#close();
    } finally {
      this.#writing = false;
    }
  };

  /** Closes the connection now, whatever is in flight. */
  close(): void {
    this.#close();
  }

  /**
   * Ends the session gently: reads nothing after the read in progress, answers every request
   * already read, then closes. An idle session closes at once.
   */
  drain(): void {
    if (this.#closed) return;
    this.#draining = true;
    if (this.#head === this.#next && this.#held === null && !this.#writing) {
      this.#close();
      return;
    }
    // A session waiting for room to read wakes up, sees it is draining, and reads no more.
    const resume = this.#resumeReading;
    this.#resumeReading = null;
    resume?.();
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing = true;
    try {
      this.#conn.close();
    } catch {
      // Already closed: nothing left to release.
    }
    this.#resumeReading?.();
  }
}
