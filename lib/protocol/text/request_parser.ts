import { bytesEqualAt, compacted } from "../bytes.ts";
import { ByteSlab } from "../byte_slab.ts";
import { Command, type CommandCode, commandCode, isMetaKeyed, isStorage } from "./command.ts";
import { buildMetaRequest, firstFlag, metaRequest, SILENT } from "../meta/meta_request.ts";
import { decodeBase64Key, MAX_KEY_LENGTH } from "../meta/meta_key.ts";
import { isInt32, isUint64, parseUnsigned } from "./numbers.ts";
import {
  BAD_COMMAND_LINE,
  BAD_DATA_CHUNK,
  BAD_DELETE,
  END,
  ERROR,
  INVALID_DELTA,
  INVALID_EXPTIME,
  LINE_TOO_LONG,
  replyLine,
  TOO_LARGE,
} from "./replies.ts";
import { buildLine } from "./request_lines.ts";
import { TextRequest } from "./text_request.ts";

/** The longest value length memcached accepts on a storage line (INT_MAX - 2). */
const MAX_VALUE_LENGTH = 0x7ffffffd;

/** Limits a parser applies to one client's stream. */
export interface TextParserLimits {
  /** The largest value a storage command may carry, in bytes. Default 1 MiB, as memcached. */
  maxItemSize: number;
  /** The longest command line, `\r\n` included, except retrieval lines. Default 2048. */
  maxLineLength: number;
  /**
   * The longest `get`/`gets`/`gat`/`gats` line. Default: what `maxKeys` keys of 250 bytes need,
   * so that a get is refused for its key count, never for its length.
   */
  maxRetrievalLineLength: number;
  /**
   * The most keys one retrieval may name; more are answered with a `CLIENT_ERROR` and the
   * connection stays in step. Default 10,000.
   */
  maxKeys: number;
  /**
   * A value over `maxItemSize` but at most this size is read and dropped, so the stream stays in
   * step; a larger one closes the connection at once. Default 64 MiB.
   */
  maxSwallowSize: number;
}

/** The limits memcached applies by default. */
export const DEFAULT_TEXT_LIMITS: Readonly<TextParserLimits> = {
  maxItemSize: 1024 * 1024,
  maxLineLength: 2048,
  maxRetrievalLineLength: retrievalLineLength(10_000),
  maxKeys: 10_000,
  maxSwallowSize: 64 * 1024 * 1024,
};

/** The longest retrieval line `maxKeys` keys of the longest length make, with room to spare. */
function retrievalLineLength(maxKeys: number): number {
  return maxKeys * (MAX_KEY_LENGTH + 1) + 32;
}

/** The parser gave up on the stream: send `reply` if there is one, then close the connection. */
export class ProtocolClose {
  /**
   * Says why the stream ends.
   *
   * @param reason What was wrong, for the log.
   * @param reply A last line for the client.
   */
  constructor(readonly reason: string, readonly reply: Uint8Array | null) {}
}

/**
 * What a push yields, in stream order: a request to route, a reply the parser gives itself
 * (a protocol error, already dropped when the client asked for `noreply`), or the end.
 */
export type ParsedItem = TextRequest | Uint8Array | ProtocolClose;

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const NOREPLY = new TextEncoder().encode("noreply");
const DELETE = new TextEncoder().encode("delete");
const MN = replyLine("MN");
const META_DELETE = new TextEncoder().encode("md");
const BASE64_FLAG = new TextEncoder().encode("b");
const EMPTY_DATA = new Uint8Array(0);
/**
 * The most flags memcached 1.6 takes on an `ms` line, and on `mg`, `md`, `ma` lines. Past them
 * it answers an error, and for `ms` reads no data block: the proxy must answer it the same way,
 * since forwarding the data would make the server answer it as a command.
 */
const MAX_SET_FLAGS = 16;
const MAX_META_FLAGS = 17;
const FLAGS_TOO_LONG = new Map<CommandCode, Uint8Array>([
  [Command.MetaSet, replyLine("CLIENT_ERROR options flags too long")],
  [Command.MetaGet, replyLine("CLIENT_ERROR options flags are too long")],
  [Command.MetaDelete, replyLine("CLIENT_ERROR options flags too long")],
  [Command.MetaArithmetic, replyLine("CLIENT_ERROR options flags too long")],
]);

/**
 * An incremental parser of memcached's text protocol, client side. It answers malformed input
 * the way memcached 1.6 does, byte for byte, and hands on only requests that a memcached server
 * will accept, each with exactly one reply.
 *
 * @example
 * ```ts
 * import { TextRequestParser } from "./request_parser.ts";
 * import { TextRequest } from "./text_request.ts";
 * const parser = new TextRequestParser();
 * const items = parser.push(new TextEncoder().encode("set a 0 0 2\r\nhi\r\nget a b\r\n"));
 * console.log(items.length, items[1] instanceof TextRequest); // 2 true
 * ```
 */
export class TextRequestParser {
  readonly #limits: TextParserLimits;
  /** Tokens a line is split into at most: enough for `gats <exptime>`, maxKeys keys, and one. */
  readonly #maxTokens: number;
  readonly #tooManyKeys: Uint8Array;
  /** Unparsed bytes: small at first, doubled whenever a request needs more. */
  #buf = new Uint8Array(2 * 1024);
  #start = 0;
  #end = 0;
  /** Where the search for the current line's `\n` resumes. */
  #scanFrom = 0;
  /** Bytes the current storage request needs in all before it can be parsed again. */
  #waitFor = 0;
  /** Bytes of an oversized value still to drop. */
  #skip = 0;
  #closed = false;
  /** Where the bytes of each request are copied to, out of the buffer that the next read reuses. */
  readonly #slab = new ByteSlab();
  // Reused token boundaries of the current line.
  #tokenStarts: number[] = [];
  #tokenEnds: number[] = [];

  /**
   * Makes a parser with an empty buffer.
   *
   * @param limits Overrides of {@linkcode DEFAULT_TEXT_LIMITS}.
   */
  constructor(limits: Partial<TextParserLimits> = {}) {
    const maxKeys = limits.maxKeys ?? DEFAULT_TEXT_LIMITS.maxKeys;
    this.#limits = {
      ...DEFAULT_TEXT_LIMITS,
      maxRetrievalLineLength: retrievalLineLength(maxKeys),
      ...limits,
    };
    this.#maxTokens = Math.max(maxKeys + 3, 8);
    this.#tooManyKeys = replyLine(`CLIENT_ERROR too many keys: at most ${maxKeys} per request`);
  }

  /** Bytes received and not yet parsed into a request. */
  get buffered(): number {
    return this.#end - this.#start;
  }

  /** Feeds bytes from the client; returns what they complete, in order. */
  push(chunk: Uint8Array): ParsedItem[] {
    const out: ParsedItem[] = [];
    if (this.#closed) return out;
    let offset = 0;
    if (this.#skip > 0) {
      offset = Math.min(this.#skip, chunk.length);
      this.#skip -= offset;
    }
    if (offset < chunk.length) this.#append(chunk, offset);
    while (!this.#closed && this.#end > this.#start) {
      if (this.#end - this.#start < this.#waitFor) break;
      const lf = this.#findLineEnd();
      if (lf < 0) {
        this.#checkIncompleteLine(out);
        break;
      }
      if (!this.#parseRequest(lf, out)) break;
    }
    return out;
  }

  #append(chunk: Uint8Array, offset: number): void {
    const length = chunk.length - offset;
    if (this.#end + length > this.#buf.length) {
      this.#buf = compacted(this.#buf, this.#start, this.#end, length);
      this.#scanFrom -= this.#start;
      this.#end -= this.#start;
      this.#start = 0;
    }
    this.#buf.set(offset === 0 ? chunk : chunk.subarray(offset), this.#end);
    this.#end += length;
  }

  /** The index of the `\n` ending the line at `#start`, or -1. Never scans past valid data. */
  #findLineEnd(): number {
    const buf = this.#buf;
    const end = this.#end;
    for (let i = Math.max(this.#scanFrom, this.#start); i < end; i++) {
      if (buf[i] === LF) {
        this.#scanFrom = i + 1;
        return i;
      }
    }
    this.#scanFrom = end;
    return -1;
  }

  #checkIncompleteLine(out: ParsedItem[]): void {
    const length = this.#end - this.#start;
    if (length <= this.#limits.maxLineLength) return;
    if (this.#startsRetrieval() && length <= this.#limits.maxRetrievalLineLength) return;
    this.#close(out, `command line over ${length} bytes without a newline`, LINE_TOO_LONG);
  }

  /** True when the pending line starts with `get `, `gets `, `gat ` or `gats `. */
  #startsRetrieval(): boolean {
    const b = this.#buf;
    const s = this.#start;
    if (b[s] !== 0x67) return false; // g
    const t = b[s + 2] === 0x74 && (b[s + 1] === 0x65 || b[s + 1] === 0x61); // get, gat
    return t && (b[s + 3] === SPACE || (b[s + 3] === 0x73 && b[s + 4] === SPACE));
  }

  #close(out: ParsedItem[], reason: string, reply: Uint8Array | null): void {
    out.push(new ProtocolClose(reason, reply));
    this.#closed = true;
    this.#start = this.#end = this.#scanFrom = 0;
  }

  /** Drops the `total` bytes of a request from `#start`, those not received yet included. */
  #drop(total: number): void {
    const available = this.#end - this.#start;
    if (available >= total) {
      this.#consume(total);
    } else {
      this.#skip = total - available;
      this.#consume(available);
    }
  }

  /** True when the `total` bytes of the request at `#start` are all here; else waits for them. */
  #arrived(total: number): boolean {
    if (this.#end - this.#start >= total) return true;
    this.#waitFor = total;
    this.#scanFrom = this.#start;
    return false;
  }

  /** Consumes `length` bytes from `#start`, and resets the line state. */
  #consume(length: number): void {
    this.#start += length;
    this.#scanFrom = this.#start;
    this.#waitFor = 0;
    if (this.#start === this.#end) this.#start = this.#end = this.#scanFrom = 0;
  }

  /** Parses the line ending at `lf`; false when its data block has not all arrived. */
  #parseRequest(lf: number, out: ParsedItem[]): boolean {
    const buf = this.#buf;
    const lineStart = this.#start;
    const lineLength = lf + 1 - lineStart;
    const contentEnd = lf > lineStart && buf[lf - 1] === CR ? lf - 1 : lf;
    const starts = this.#tokenStarts;
    const ends = this.#tokenEnds;
    const maxTokens = this.#maxTokens;
    let n = 0;
    // Past maxTokens the line is an error whatever follows, so the rest is not split.
    for (let i = lineStart; i < contentEnd && n < maxTokens;) {
      while (i < contentEnd && buf[i] === SPACE) i++;
      if (i === contentEnd) break;
      starts[n] = i;
      while (i < contentEnd && buf[i] !== SPACE) i++;
      ends[n++] = i;
    }
    const code = n === 0 ? 0 : commandCode(buf, starts[0], ends[0]);
    if (code === 0) {
      return this.#reply(out, lineLength, false, ERROR);
    }
    if (code === Command.MetaNoop) return this.#reply(out, lineLength, false, MN);
    if (isMetaKeyed(code)) return this.#parseMeta(code, n, lineLength, out);
    const noreply = n > 1 && this.#isNoreply(starts[n - 1], ends[n - 1]);
    if (isStorage(code)) return this.#parseStorage(code, n, lineLength, noreply, out);
    switch (code) {
      case Command.Get:
      case Command.Gets:
        if (n < 2) return this.#reply(out, lineLength, false, ERROR);
        if (n - 1 > this.#limits.maxKeys) {
          return this.#reply(out, lineLength, false, this.#tooManyKeys);
        }
        return this.#emitKeyed(code, n, 1, n, lineLength, false, out);
      case Command.Gat:
      case Command.Gats:
        if (n < 2 || (code === Command.Gats && n < 3)) {
          return this.#reply(out, lineLength, false, ERROR);
        }
        if (!isInt32(buf, starts[1], ends[1])) {
          return this.#reply(out, lineLength, false, INVALID_EXPTIME);
        }
        if (n === 2) return this.#reply(out, lineLength, false, END);
        if (n - 2 > this.#limits.maxKeys) {
          return this.#reply(out, lineLength, false, this.#tooManyKeys);
        }
        return this.#emitKeyed(code, n, 2, n, lineLength, false, out);
      case Command.Incr:
      case Command.Decr:
        if (n !== 3 && n !== 4) return this.#reply(out, lineLength, false, ERROR);
        if (!isUint64(buf, starts[2], ends[2])) {
          return this.#reply(out, lineLength, noreply, INVALID_DELTA);
        }
        return this.#emitKeyed(code, n, 1, 2, lineLength, noreply, out);
      case Command.Touch:
        if (n !== 3 && n !== 4) return this.#reply(out, lineLength, false, ERROR);
        if (!isInt32(buf, starts[2], ends[2])) {
          return this.#reply(out, lineLength, noreply, INVALID_EXPTIME);
        }
        return this.#emitKeyed(code, n, 1, 2, lineLength, noreply, out);
      case Command.Delete: {
        if (n < 2 || n > 4) return this.#reply(out, lineLength, false, ERROR);
        if (n > 2) {
          const holdIsZero = ends[2] - starts[2] === 1 && buf[starts[2]] === 0x30;
          const valid = n === 3 ? holdIsZero || noreply : holdIsZero && noreply;
          if (!valid) return this.#reply(out, lineLength, noreply, BAD_DELETE);
        }
        return this.#emitKeyed(code, n, 1, 2, lineLength, noreply, out);
      }
      case Command.FlushAll:
        if (n > 3) return this.#reply(out, lineLength, false, ERROR);
        if (n > 1 && !(n === 2 && noreply) && !isInt32(buf, starts[1], ends[1])) {
          return this.#reply(out, lineLength, noreply, INVALID_EXPTIME);
        }
        return this.#emitKeyed(code, n, 0, 0, lineLength, noreply, out);
      case Command.Verbosity:
        if (n !== 2 && n !== 3) return this.#reply(out, lineLength, false, ERROR);
        if (!(n === 2 && noreply) && parseUnsigned(buf, starts[1], ends[1], 0xffffffff) < 0) {
          return this.#reply(out, lineLength, noreply, BAD_COMMAND_LINE);
        }
        return this.#emitKeyed(code, n, 0, 0, lineLength, noreply, out);
      default: // version, stats, quit
        return this.#emitKeyed(code, n, 0, 0, lineLength, false, out);
    }
  }

  #isNoreply(start: number, end: number): boolean {
    return bytesEqualAt(NOREPLY, this.#buf, start, end);
  }

  /**
   * True when the token is a key memcached handles: at most 250 bytes, and no NUL, at which
   * memcached would cut the key short. Other control bytes are allowed, as memcached allows them
   * (memcaslap's keys have some); the tokenizer already split on spaces and line ends.
   */
  #isKey(start: number, end: number): boolean {
    if (end - start > MAX_KEY_LENGTH) return false;
    const buf = this.#buf;
    for (let i = start; i < end; i++) {
      if (buf[i] === 0) return false;
    }
    return true;
  }

  #reply(out: ParsedItem[], consumed: number, noreply: boolean, reply: Uint8Array): true {
    if (!noreply) out.push(reply);
    this.#consume(consumed);
    return true;
  }

  /** Emits a request whose keys are tokens `[firstKey, endKey)`; the whole line is its bytes. */
  #emitKeyed(
    code: CommandCode,
    n: number,
    firstKey: number,
    endKey: number,
    length: number,
    noreply: boolean,
    out: ParsedItem[],
  ): true {
    for (let t = firstKey; t < endKey; t++) {
      if (!this.#isKey(this.#tokenStarts[t], this.#tokenEnds[t])) {
        return this.#reply(out, length, noreply, BAD_COMMAND_LINE);
      }
    }
    out.push(this.#request(code, n, firstKey, endKey, length, length, noreply));
    this.#consume(length);
    return true;
  }

  #request(
    code: CommandCode,
    n: number,
    firstKey: number,
    endKey: number,
    lineLength: number,
    totalLength: number,
    noreply: boolean,
  ): TextRequest {
    const base = this.#start;
    const raw = this.#slab.copy(this.#buf, base, base + totalLength);
    const spans = new Array<number>(2 * n);
    for (let t = 0; t < n; t++) {
      spans[2 * t] = this.#tokenStarts[t] - base;
      spans[2 * t + 1] = this.#tokenEnds[t] - base;
    }
    return TextRequest.parsed(code, raw, spans, firstKey, endKey, noreply, lineLength);
  }

  /** A meta request of `n` tokens whose bytes are the `totalLength` from `#start`. */
  #metaRequest(code: CommandCode, n: number, lineLength: number, totalLength: number): TextRequest {
    const tokens = new Array<Uint8Array>(n);
    return metaRequest(code, this.#copyOut(totalLength, tokens), tokens, lineLength);
  }

  /**
   * Copies the `totalLength` bytes from `#start` out of the buffer, which the next read reuses,
   * and fills `tokens` with views of the line's tokens in the copy, which it returns.
   */
  #copyOut(totalLength: number, tokens: Uint8Array[]): Uint8Array {
    const base = this.#start;
    const raw = this.#slab.copy(this.#buf, base, base + totalLength);
    for (let t = 0; t < tokens.length; t++) {
      tokens[t] = raw.subarray(this.#tokenStarts[t] - base, this.#tokenEnds[t] - base);
    }
    return raw;
  }

  /** `delete <key> noreply` for the key at `buf[start..end)`. */
  #silentDelete(start: number, end: number): TextRequest {
    const raw = buildLine([DELETE, this.#buf.subarray(start, end), NOREPLY]);
    const tokens = [
      raw.subarray(0, DELETE.length),
      raw.subarray(DELETE.length + 1, DELETE.length + 1 + end - start),
      raw.subarray(raw.length - 2 - NOREPLY.length, raw.length - 2),
    ];
    return new TextRequest(Command.Delete, raw, tokens, [tokens[1]], true, raw.length);
  }

  /**
   * A meta command: `<cmd> <key> <flag>*`, or `ms <key> <datalen> <flag>*` and a data block. Its
   * flags are left for the server to check: memcached reads (and so drops) the data block of an
   * `ms` whose flags it refuses. What a server could not keep in step is answered here: a
   * missing key or data length, a key over 250 bytes, a value over the item size.
   */
  #parseMeta(code: CommandCode, n: number, lineLength: number, out: ParsedItem[]): boolean {
    const starts = this.#tokenStarts;
    const ends = this.#tokenEnds;
    if (n < 2) {
      return this.#reply(
        out,
        lineLength,
        false,
        code === Command.MetaDebug ? BAD_COMMAND_LINE : ERROR,
      );
    }
    if (ends[1] - starts[1] > MAX_KEY_LENGTH) {
      return this.#reply(out, lineLength, false, BAD_COMMAND_LINE);
    }
    // Counted as the client sent them: the q the proxy takes off must not make a line pass.
    const tooMany = FLAGS_TOO_LONG.get(code); // me takes any flags
    const flags = n - firstFlag(code);
    if (tooMany && flags > (code === Command.MetaSet ? MAX_SET_FLAGS : MAX_META_FLAGS)) {
      return this.#reply(out, lineLength, false, tooMany);
    }
    if (code !== Command.MetaSet) {
      out.push(this.#metaRequest(code, n, lineLength, lineLength));
      this.#consume(lineLength);
      return true;
    }
    const valueLength = n < 3 ? -1 : parseUnsigned(this.#buf, starts[2], ends[2], MAX_VALUE_LENGTH);
    if (valueLength < 0) return this.#reply(out, lineLength, false, BAD_COMMAND_LINE);
    const total = lineLength + valueLength + 2;
    if (valueLength > this.#limits.maxItemSize) {
      if (valueLength > this.#limits.maxSwallowSize) {
        this.#close(
          out,
          `value of ${valueLength} bytes is over the item size limit and too large to skip`,
          TOO_LARGE,
        );
        return false;
      }
      out.push(TOO_LARGE);
      if (this.#isPlainMetaSet(n)) out.push(this.#silentMetaDelete(n));
      this.#drop(total);
      return true;
    }
    if (!this.#arrived(total)) return false;
    if (this.#buf[this.#start + total - 2] !== CR || this.#buf[this.#start + total - 1] !== LF) {
      return this.#reply(out, total, false, BAD_DATA_CHUNK);
    }
    out.push(this.#metaRequest(code, n, lineLength, total));
    this.#consume(total);
    return true;
  }

  /** True when the `ms` line has no mode flag other than set (`MS`), as memcached's default. */
  #isPlainMetaSet(n: number): boolean {
    for (let t = 3; t < n; t++) {
      const at = this.#tokenStarts[t];
      const mode = this.#buf[at + 1];
      if (this.#buf[at] === 0x4d && mode !== 0x53 && mode !== 0x73) return false; // M, S/s
    }
    return true;
  }

  /**
   * `md <key> [b]` for the key of the `ms` line, its reply dropped: memcached drops the old
   * value of a key whose new value was too large, and so does the proxy, on every replica.
   */
  #silentMetaDelete(n: number): TextRequest {
    const buf = this.#buf;
    const keyToken = buf.slice(this.#tokenStarts[1], this.#tokenEnds[1]);
    const words = [META_DELETE, keyToken];
    for (let t = 3; t < n; t++) {
      if (this.#tokenEnds[t] - this.#tokenStarts[t] === 1 && buf[this.#tokenStarts[t]] === 0x62) {
        words.push(BASE64_FLAG);
      }
    }
    const key = words.length === 3 ? decodeBase64Key(keyToken) ?? keyToken : keyToken;
    return buildMetaRequest(Command.MetaDelete, words, EMPTY_DATA, key, SILENT);
  }

  #parseStorage(
    code: CommandCode,
    n: number,
    lineLength: number,
    noreply: boolean,
    out: ParsedItem[],
  ): boolean {
    const buf = this.#buf;
    const starts = this.#tokenStarts;
    const ends = this.#tokenEnds;
    const isCas = code === Command.Cas;
    if (isCas ? n !== 6 && n !== 7 : n !== 5 && n !== 6) {
      return this.#reply(out, lineLength, false, ERROR);
    }
    const valueLength = parseUnsigned(buf, starts[4], ends[4], Number.MAX_SAFE_INTEGER);
    if (valueLength < 0 || valueLength > MAX_VALUE_LENGTH) {
      // Negative, not a number, or past what memcached can store: the bytes that follow cannot
      // be told from data, so the stream cannot be kept in step.
      this.#close(out, "the value length is not a number up to 2147483645", BAD_COMMAND_LINE);
      return false;
    }
    const valid = this.#isKey(starts[1], ends[1]) &&
      parseUnsigned(buf, starts[2], ends[2], 0xffffffff) >= 0 &&
      isInt32(buf, starts[3], ends[3]) &&
      (!isCas || isUint64(buf, starts[5], ends[5]));
    if (!valid) return this.#reply(out, lineLength, noreply, BAD_COMMAND_LINE);
    const total = lineLength + valueLength + 2;
    if (valueLength > this.#limits.maxItemSize) {
      if (valueLength > this.#limits.maxSwallowSize) {
        this.#close(
          out,
          `value of ${valueLength} bytes is over the item size limit and too large to skip`,
          noreply ? null : TOO_LARGE,
        );
        return false;
      }
      if (!noreply) out.push(TOO_LARGE);
      // memcached drops the old value of a key whose new value was too large for a set.
      if (code === Command.Set) out.push(this.#silentDelete(starts[1], ends[1]));
      this.#drop(total);
      return true;
    }
    if (!this.#arrived(total)) return false;
    if (buf[this.#start + total - 2] !== CR || buf[this.#start + total - 1] !== LF) {
      return this.#reply(out, total, noreply, BAD_DATA_CHUNK);
    }
    out.push(this.#request(code, n, 1, 2, lineLength, total, noreply));
    this.#consume(total);
    return true;
  }
}
