import { bytesEqual, compacted, concatBytes } from "../bytes.ts";
import { Command } from "../text/command.ts";
import { buildMetaRequest, SILENT } from "../meta/meta_request.ts";
import { isMetaKey, MAX_KEY_LENGTH, metaKeyWords } from "../meta/meta_key.ts";
import {
  DEFAULT_TEXT_LIMITS,
  type ParsedItem,
  ProtocolClose,
  type TextParserLimits,
} from "../text/request_parser.ts";
import { binaryResponse, errorResponse } from "./binary_responses.ts";
import { type BinaryRequest, binaryToMeta } from "./binary_to_meta.ts";
import { HEADER_SIZE, loudOpcode, Opcode, REQUEST_MAGIC, Status } from "./opcodes.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const MD = encoder.encode("md");
const LF = 0x0a;
/** The extras length of `Flush`: none, or a 4-byte expiration. */
const ZERO_OR_FOUR = -1;

/** What the proxy answers itself: its version, its stats, and who may come in. */
export interface BinaryLocalAnswers {
  /** What `Version` answers. */
  version: string;
  /** The text reply to `stats` with `args`, turned into stat packets. */
  statsReply(args: readonly string[]): Uint8Array;
  /**
   * When set, clients must authenticate with SASL `PLAIN` first, and this checks the user and
   * password they send. Unset, the SASL opcodes are unknown, as in memcached without SASL.
   */
  authenticate?: ((user: Uint8Array, password: Uint8Array) => boolean) | null;
}

/** The extras length, and whether a key and a value are allowed, of each opcode memrelay serves. */
interface Shape {
  extras: number;
  key: "required" | "optional" | "none";
  value: boolean;
}

const SHAPES = new Map<number, Shape>([
  [Opcode.Get, { extras: 0, key: "required", value: false }],
  [Opcode.GetK, { extras: 0, key: "required", value: false }],
  [Opcode.Set, { extras: 8, key: "required", value: true }],
  [Opcode.Add, { extras: 8, key: "required", value: true }],
  [Opcode.Replace, { extras: 8, key: "required", value: true }],
  [Opcode.Append, { extras: 0, key: "required", value: true }],
  [Opcode.Prepend, { extras: 0, key: "required", value: true }],
  [Opcode.Delete, { extras: 0, key: "required", value: false }],
  [Opcode.Increment, { extras: 20, key: "required", value: false }],
  [Opcode.Decrement, { extras: 20, key: "required", value: false }],
  [Opcode.Touch, { extras: 4, key: "required", value: false }],
  [Opcode.Gat, { extras: 4, key: "required", value: false }],
  [Opcode.GatK, { extras: 4, key: "required", value: false }],
  [Opcode.Quit, { extras: 0, key: "none", value: false }],
  [Opcode.Flush, { extras: ZERO_OR_FOUR, key: "none", value: false }],
  [Opcode.Noop, { extras: 0, key: "none", value: false }],
  [Opcode.Version, { extras: 0, key: "none", value: false }],
  [Opcode.Stat, { extras: 0, key: "optional", value: false }],
  [Opcode.Verbosity, { extras: 4, key: "none", value: false }],
  [Opcode.SaslListMechs, { extras: 0, key: "none", value: false }],
  [Opcode.SaslAuth, { extras: 0, key: "required", value: true }],
  [Opcode.SaslStep, { extras: 0, key: "required", value: true }],
]);

const PLAIN = encoder.encode("PLAIN");
const AUTHENTICATED = encoder.encode("Authenticated");

/** The big-endian unsigned 64-bit number at `buf[at..at+8)`: a cas, most often 0. */
function uint64(buf: Uint8Array, at: number): bigint {
  const high = ((buf[at] << 24) | (buf[at + 1] << 16) | (buf[at + 2] << 8) | buf[at + 3]) >>> 0;
  const low = ((buf[at + 4] << 24) | (buf[at + 5] << 16) | (buf[at + 6] << 8) | buf[at + 7]) >>> 0;
  if (high === 0 && low === 0) return 0n;
  return (BigInt(high) << 32n) | BigInt(low);
}

/** True for the SASL opcodes. */
function isSasl(opcode: number): boolean {
  return opcode >= Opcode.SaslListMechs && opcode <= Opcode.SaslStep;
}

/** True for the opcodes memcached serves before a client has authenticated. */
function allowedBeforeAuth(opcode: number): boolean {
  return isSasl(opcode) || opcode === Opcode.Version;
}

/** True for the opcodes that store a value, whose size the item limit bounds. */
function stores(loud: number): boolean {
  return loud === Opcode.Set || loud === Opcode.Add || loud === Opcode.Replace ||
    loud === Opcode.Append || loud === Opcode.Prepend;
}

/**
 * An incremental parser of memcached's binary protocol, client side. Keyed requests and
 * `Flush` become meta requests for the router (see `binary_to_meta.ts`), each answering in
 * binary; `Noop`, `Version`, `Stat`, `Verbosity` and errors are answered here, in order. A
 * value over the item size is dropped unread and answered `Too large`; an unknown opcode is
 * answered `Unknown command` and skipped. As in memcached, a packet whose lengths do not fit its
 * opcode is answered `Invalid arguments` and ends the stream, and so does a bad magic byte,
 * without an answer.
 *
 * @example
 * ```ts
 * import { BinaryRequestParser } from "./binary_parser.ts";
 * const parser = new BinaryRequestParser({ version: "1.6.0", statsReply: () => new Uint8Array() });
 * const noop = new Uint8Array(24);
 * noop[0] = 0x80;
 * noop[1] = 0x0a;
 * const [reply] = parser.push(noop) as Uint8Array[];
 * console.log(reply[0], reply[1]); // 129 10
 * ```
 */
export class BinaryRequestParser {
  readonly #limits: TextParserLimits;
  readonly #local: BinaryLocalAnswers;
  #buf = new Uint8Array(16 * 1024);
  #start = 0;
  #end = 0;
  /** Bytes of an oversized body still to drop. */
  #skip = 0;
  #closed = false;
  /** Whether requests are served: always without authentication, else once SASL succeeded. */
  #authenticated: boolean;

  /**
   * @param local What the proxy answers itself.
   * @param limits Overrides of the text protocol's limits: the item size and how much of an
   *   oversized value is skipped before the connection is closed instead.
   */
  constructor(local: BinaryLocalAnswers, limits: Partial<TextParserLimits> = {}) {
    this.#local = local;
    this.#authenticated = !local.authenticate;
    this.#limits = { ...DEFAULT_TEXT_LIMITS, ...limits };
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
    while (!this.#closed && this.#end - this.#start >= HEADER_SIZE) {
      if (!this.#parsePacket(out)) break;
    }
    return out;
  }

  #append(chunk: Uint8Array, offset: number): void {
    const length = chunk.length - offset;
    if (this.#end + length > this.#buf.length) {
      this.#buf = compacted(this.#buf, this.#start, this.#end, length);
      this.#end -= this.#start;
      this.#start = 0;
    }
    this.#buf.set(offset === 0 ? chunk : chunk.subarray(offset), this.#end);
    this.#end += length;
  }

  #consume(length: number): void {
    const available = this.#end - this.#start;
    if (length > available) {
      this.#skip = length - available;
      length = available;
    }
    this.#start += length;
    if (this.#start === this.#end) this.#start = this.#end = 0;
  }

  #close(out: ParsedItem[], reason: string, reply: Uint8Array | null): void {
    out.push(new ProtocolClose(reason, reply));
    this.#closed = true;
    this.#start = this.#end = 0;
  }

  /** Parses the packet at `#start`; false when its body has not all arrived. */
  #parsePacket(out: ParsedItem[]): boolean {
    const buf = this.#buf;
    const s = this.#start;
    if (buf[s] !== REQUEST_MAGIC) {
      this.#close(out, `bad magic byte 0x${buf[s].toString(16)}`, null);
      return false;
    }
    const opcode = buf[s + 1];
    const keyLength = (buf[s + 2] << 8) | buf[s + 3];
    const extrasLength = buf[s + 4];
    const bodyLength =
      ((buf[s + 8] << 24) | (buf[s + 9] << 16) | (buf[s + 10] << 8) | buf[s + 11]) >>>
      0;
    const opaque = buf.slice(s + 12, s + 16);
    const total = HEADER_SIZE + bodyLength;
    const loud = loudOpcode(opcode);
    const shape = SHAPES.get(loud);
    const valueLength = bodyLength - keyLength - extrasLength;
    if (bodyLength > this.#limits.maxSwallowSize) {
      this.#close(out, `a packet body of ${bodyLength} bytes is too large to skip`, null);
      return false;
    }
    if (!this.#authenticated && !allowedBeforeAuth(opcode)) {
      // As memcached with SASL: an error, then the connection closes.
      const reply = errorResponse(opcode, opaque, Status.AuthError);
      this.#close(out, `opcode 0x${opcode.toString(16)} before authenticating`, reply);
      return false;
    }
    if (shape === undefined || (isSasl(opcode) && !this.#local.authenticate)) {
      return this.#answer(out, total, errorResponse(opcode, opaque, Status.UnknownCommand));
    }
    const extrasValid = shape.extras === ZERO_OR_FOUR
      ? extrasLength === 0 || extrasLength === 4
      : extrasLength === shape.extras;
    const keyValid = shape.key === "required"
      ? keyLength > 0 && keyLength <= MAX_KEY_LENGTH
      : shape.key === "optional" || keyLength === 0;
    if (!extrasValid || !keyValid || valueLength < 0 || (!shape.value && valueLength > 0)) {
      // memcached answers a malformed packet, then closes: the stream cannot be trusted.
      const reply = errorResponse(opcode, opaque, Status.InvalidArguments);
      this.#close(out, `opcode 0x${opcode.toString(16)} with malformed lengths`, reply);
      return false;
    }
    if (stores(loud) && valueLength > this.#limits.maxItemSize) {
      const keyEnd = HEADER_SIZE + extrasLength + keyLength;
      if (this.#end - s < keyEnd) return false;
      out.push(errorResponse(opcode, opaque, Status.TooLarge));
      const key = buf.subarray(s + keyEnd - keyLength, s + keyEnd);
      if (loud === Opcode.Set && isMetaKey(key)) out.push(this.#silentDelete(key));
      this.#consume(total);
      return true;
    }
    if (this.#end - s < total) return false;
    const body = buf.slice(s + HEADER_SIZE, s + total);
    const request: BinaryRequest = {
      opcode,
      opaque,
      cas: uint64(buf, s + 16),
      extras: body.subarray(0, extrasLength),
      key: body.subarray(extrasLength, extrasLength + keyLength),
      value: body.subarray(extrasLength + keyLength),
    };
    this.#consume(total);
    if (keyLength > 0 && !isSasl(opcode) && !isMetaKey(request.key)) {
      // A key memcached serves in binary, but that no meta command can name.
      out.push(errorResponse(opcode, opaque, Status.InvalidArguments));
      return true;
    }
    this.#dispatch(request, out);
    return true;
  }

  #answer(out: ParsedItem[], total: number, reply: Uint8Array): true {
    out.push(reply);
    this.#consume(total);
    return true;
  }

  #dispatch(request: BinaryRequest, out: ParsedItem[]): void {
    const { opcode, opaque } = request;
    switch (loudOpcode(opcode)) {
      case Opcode.Noop:
        out.push(binaryResponse(opcode, opaque, {}));
        return;
      case Opcode.Version:
        out.push(binaryResponse(opcode, opaque, { value: encoder.encode(this.#local.version) }));
        return;
      case Opcode.Verbosity:
        out.push(binaryResponse(opcode, opaque, {}));
        return;
      case Opcode.Quit:
        this.#close(
          out,
          "quit",
          opcode === Opcode.Quit ? binaryResponse(opcode, opaque, {}) : null,
        );
        return;
      case Opcode.Stat:
        out.push(this.#stats(request));
        return;
      case Opcode.SaslListMechs:
        out.push(binaryResponse(opcode, opaque, { value: PLAIN }));
        return;
      case Opcode.SaslAuth:
      case Opcode.SaslStep:
        out.push(this.#saslAuth(request));
        return;
      default:
        out.push(binaryToMeta(request));
    }
  }

  /**
   * SASL `PLAIN`, in one step: the value is `[authzid] NUL user NUL password`. Another
   * mechanism, a step, or credentials that do not match get `Auth failure`, and the client may
   * try again.
   */
  #saslAuth(request: BinaryRequest): Uint8Array {
    const { opcode, opaque, key, value } = request;
    const first = value.indexOf(0);
    const second = first < 0 ? -1 : value.indexOf(0, first + 1);
    const plain = opcode === Opcode.SaslAuth && bytesEqual(key, PLAIN);
    if (
      plain && second > 0 &&
      this.#local.authenticate!(value.subarray(first + 1, second), value.subarray(second + 1))
    ) {
      this.#authenticated = true;
      return binaryResponse(opcode, opaque, { value: AUTHENTICATED });
    }
    return errorResponse(opcode, opaque, Status.AuthError);
  }

  /** The proxy's stats as one packet per value, then an empty packet. */
  #stats(request: BinaryRequest): Uint8Array {
    const args = request.key.length > 0 ? decoder.decode(request.key).split(" ") : [];
    const text = this.#local.statsReply(args);
    const packets: Uint8Array[] = [];
    let pos = 0;
    while (pos < text.length) {
      let lf = pos;
      while (lf < text.length && text[lf] !== LF) lf++;
      const line = decoder.decode(text.subarray(pos, lf)).replace(/\r$/, "");
      pos = lf + 1;
      const match = line.match(/^STAT (\S+) ?(.*)$/);
      if (match !== null) {
        packets.push(binaryResponse(request.opcode, request.opaque, {
          key: encoder.encode(match[1]),
          value: encoder.encode(match[2]),
        }));
      } else if (line !== "END") {
        return errorResponse(request.opcode, request.opaque, Status.KeyNotFound);
      }
    }
    packets.push(binaryResponse(request.opcode, request.opaque, {}));
    return concatBytes(packets, packets.reduce((n, p) => n + p.length, 0));
  }

  /**
   * A silent `md` of `view`, a key in the buffer: memcached drops the old value of a key
   * whose new value was too large for a set, and so does the proxy, on every replica.
   */
  #silentDelete(view: Uint8Array): ParsedItem {
    const key = view.slice();
    return buildMetaRequest(
      Command.MetaDelete,
      [MD, ...metaKeyWords(key)],
      new Uint8Array(0),
      key,
      SILENT,
    );
  }
}
