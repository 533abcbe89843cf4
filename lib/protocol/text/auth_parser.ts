import { bytesEqual } from "../bytes.ts";
import { type ParsedItem, ProtocolClose } from "./request_parser.ts";
import { LINE_TOO_LONG, replyLine, STORED } from "./replies.ts";

/** Checks a user name and password, as a client sent them. */
export type CredentialCheck = (user: Uint8Array, password: Uint8Array) => boolean;

/** Any command before the client has authenticated. */
const UNAUTHENTICATED: Uint8Array = replyLine("CLIENT_ERROR unauthenticated");
/** The credentials were checked and did not match. */
const AUTH_FAILURE: Uint8Array = replyLine("CLIENT_ERROR authentication failure");
/** The data block held fewer than two words. */
const BAD_AUTH_FORMAT: Uint8Array = replyLine(
  "CLIENT_ERROR bad authentication token format",
);
/** The data block did not end with `\r\n`. */
const BAD_AUTH_TERMINATION: Uint8Array = replyLine(
  "CLIENT_ERROR bad command line termination",
);
const AUTH_TOO_LONG = replyLine("CLIENT_ERROR authentication token too long");

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const SET = new TextEncoder().encode("set");
/** The longest line before authentication, as in memcached. */
const MAX_LINE_LENGTH = 2048;
/**
 * The longest `user password` block read. memcached's auth file lines are at most 255 bytes, so
 * a longer block cannot match; the connection is closed rather than made to buffer it.
 */
const MAX_TOKEN_LENGTH = 1024;

/**
 * The text protocol's authentication, as memcached 1.6 runs it with `-Y FILE`: until a client
 * sends `set <any key> <any> <any> <length>\r\n<user> <password>\r\n` with credentials that
 * match, every line is answered with `CLIENT_ERROR unauthenticated` and nothing else happens.
 * A match is answered `STORED` (even with `noreply`, as memcached answers it); a mismatch
 * `CLIENT_ERROR authentication failure`.
 *
 * Where memcached 1.6 loses all but the last reply of a pipelined batch of unauthenticated
 * commands, this parser answers each one, in order.
 *
 * @example
 * ```ts
 * import { TextAuthParser } from "./auth_parser.ts";
 * const decoder = new TextDecoder();
 * const parser = new TextAuthParser((user, password) =>
 *   decoder.decode(user) === "alice" && decoder.decode(password) === "secret"
 * );
 * const bytes = new TextEncoder().encode("get k\r\nset a 0 0 12\r\nalice secret\r\nget k\r\n");
 * const replies = parser.push(bytes) as Uint8Array[];
 * console.log(replies.map((r) => decoder.decode(r))); // unauthenticated, then STORED
 * console.log(parser.authenticated, decoder.decode(parser.rest())); // true "get k\r\n"
 * ```
 */
export class TextAuthParser {
  readonly #check: CredentialCheck;
  #buf = new Uint8Array(0);
  /** Bytes of the credentials block, `\r\n` included, once its `set` line has been read. */
  #blockLength = -1;
  #authenticated = false;
  #closed = false;

  /** @param check Says whether a user name and password are allowed. */
  constructor(check: CredentialCheck) {
    this.#check = check;
  }

  /** True once credentials matched; the bytes after them are in {@linkcode rest}. */
  get authenticated(): boolean {
    return this.#authenticated;
  }

  /** The bytes received after the credentials that matched; empties the buffer. */
  rest(): Uint8Array {
    const rest = this.#buf;
    this.#buf = new Uint8Array(0);
    return rest;
  }

  /**
   * Feeds bytes from the client; returns the replies they complete, and a
   * {@linkcode ProtocolClose} when the client must be disconnected.
   */
  push(chunk: Uint8Array): ParsedItem[] {
    const out: ParsedItem[] = [];
    if (this.#closed || this.#authenticated) {
      if (this.#authenticated) this.#append(chunk);
      return out;
    }
    this.#append(chunk);
    while (!this.#authenticated && !this.#closed) {
      if (this.#blockLength < 0 ? !this.#readLine(out) : !this.#readBlock(out)) break;
    }
    return out;
  }

  #append(chunk: Uint8Array): void {
    if (this.#buf.length === 0) {
      this.#buf = chunk.slice();
      return;
    }
    const grown = new Uint8Array(this.#buf.length + chunk.length);
    grown.set(this.#buf);
    grown.set(chunk, this.#buf.length);
    this.#buf = grown;
  }

  /** Reads one command line; false when it has not all arrived. */
  #readLine(out: ParsedItem[]): boolean {
    const buf = this.#buf;
    const lf = buf.indexOf(LF);
    if (lf < 0) {
      if (buf.length > MAX_LINE_LENGTH) {
        this.#close(out, `line over ${MAX_LINE_LENGTH} bytes before authentication`, LINE_TOO_LONG);
      }
      return false;
    }
    const tokens = words(buf.subarray(0, lf > 0 && buf[lf - 1] === CR ? lf - 1 : lf));
    this.#buf = buf.subarray(lf + 1);
    const length = tokens.length >= 5 && bytesEqual(tokens[0], SET) ? uint32(tokens[4]) : -1;
    if (length < 0) {
      out.push(UNAUTHENTICATED);
      return true;
    }
    if (length > MAX_TOKEN_LENGTH) {
      this.#close(
        out,
        `authentication block of ${length} bytes, over ${MAX_TOKEN_LENGTH}`,
        AUTH_TOO_LONG,
      );
      return false;
    }
    this.#blockLength = length + 2;
    return true;
  }

  /** Reads the `user password` block and checks it; false when it has not all arrived. */
  #readBlock(out: ParsedItem[]): boolean {
    const buf = this.#buf;
    const length = this.#blockLength;
    if (buf.length < length) return false;
    this.#blockLength = -1;
    this.#buf = buf.subarray(length);
    if (buf[length - 2] !== CR || buf[length - 1] !== LF) {
      out.push(BAD_AUTH_TERMINATION);
      return true;
    }
    const tokens = words(buf.subarray(0, length - 2));
    if (tokens.length < 2) {
      out.push(BAD_AUTH_FORMAT);
      return true;
    }
    if (this.#check(tokens[0], tokens[1])) {
      this.#authenticated = true;
      this.#buf = this.#buf.slice();
      out.push(STORED);
    } else {
      out.push(AUTH_FAILURE);
    }
    return true;
  }

  #close(out: ParsedItem[], reason: string, reply: Uint8Array): void {
    this.#closed = true;
    this.#buf = new Uint8Array(0);
    out.push(new ProtocolClose(reason, reply));
  }
}

/** The space-separated words of `bytes`, as views. */
function words(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length;) {
    while (i < bytes.length && bytes[i] === SPACE) i++;
    const start = i;
    while (i < bytes.length && bytes[i] !== SPACE) i++;
    if (i > start) out.push(bytes.subarray(start, i));
  }
  return out;
}

/** The value of an unsigned 32-bit decimal, or -1. */
function uint32(bytes: Uint8Array): number {
  if (bytes.length === 0 || bytes.length > 10) return -1;
  let value = 0;
  for (const b of bytes) {
    if (b < 0x30 || b > 0x39) return -1;
    value = value * 10 + b - 0x30;
  }
  return value > 0xffffffff ? -1 : value;
}
