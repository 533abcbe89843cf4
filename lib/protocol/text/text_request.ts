import type { CommandCode } from "./command.ts";

const NO_WORDS: Uint8Array[] = [];

/**
 * One request from a client, parsed and validated: what the router needs, over bytes the
 * request owns.
 *
 * `raw` holds the whole request as the client sent it: the command line and, for storage
 * commands, the data block. Every other field is a view into `raw` or a number, so forwarding
 * the request unchanged is writing `raw`. One exception: a meta command with a base64 key (the
 * `b` flag) has the decoded key in `keys`, since keys are placed and tracked by their bytes.
 *
 * A request from the text parser ({@linkcode TextRequest.parsed}) holds where its tokens lie in
 * `raw`, and makes the views of `tokens` and `keys` only when they are first asked for: the hot
 * path reads keys in place, through {@linkcode keySource}, {@linkcode keyStart} and
 * {@linkcode keyEnd}, and a 100-key `get` then costs no view per key.
 */
export class TextRequest {
  #tokens: Uint8Array[] | null;
  #keys: Uint8Array[] | null;
  /** Token `t` is `raw[spans[2t] .. spans[2t + 1])`; null when the tokens were given as views. */
  #spans: number[] | null = null;
  /** The index of the first key among the tokens, when the request has spans. */
  #firstKey = 0;
  #keyCount: number;

  /**
   * Wraps the parts of a request built as views.
   *
   * @param command The command's code.
   * @param raw The request's bytes, command line and data block.
   * @param tokens The words of the command line, the command word first, as views into `raw`.
   * @param keys The keys the request names, as views into `raw`.
   * @param noreply Whether the client asked for no reply.
   * @param dataStart Where the data block starts in `raw`; `raw.length` when there is none.
   * @param toClient Turns the server's reply into what the client gets: the meta quiet mode's
   *   suppression, or a binary-protocol response. Null when the client gets the reply as it is.
   */
  constructor(
    readonly command: CommandCode,
    readonly raw: Uint8Array,
    tokens: Uint8Array[],
    keys: Uint8Array[],
    readonly noreply: boolean,
    readonly dataStart: number,
    readonly toClient: ((reply: Uint8Array) => Uint8Array) | null = null,
  ) {
    this.#tokens = tokens;
    this.#keys = keys;
    this.#keyCount = keys.length;
  }

  /**
   * A request whose tokens are known by where they lie in `raw`; its views are made when first
   * asked for.
   *
   * @param command The command's code.
   * @param raw The request's bytes, command line and data block.
   * @param spans Token `t` is `raw[spans[2t] .. spans[2t + 1])`, the command word first.
   * @param firstKey The index of the first token that is a key.
   * @param endKey One past the index of the last token that is a key.
   * @param noreply Whether the client asked for no reply.
   * @param dataStart Where the data block starts in `raw`; `raw.length` when there is none.
   *
   * @example
   * ```ts
   * import { Command } from "./command.ts";
   * import { TextRequest } from "./text_request.ts";
   * const raw = new TextEncoder().encode("get a bc\r\n");
   * const request = TextRequest.parsed(Command.Get, raw, [0, 3, 4, 5, 6, 8], 1, 3, false, 10);
   * console.log(request.keyCount, request.keyStart(1), request.keyEnd(1)); // 2 6 8
   * console.log(new TextDecoder().decode(request.keys[1])); // "bc"
   * ```
   */
  static parsed(
    command: CommandCode,
    raw: Uint8Array,
    spans: number[],
    firstKey: number,
    endKey: number,
    noreply: boolean,
    dataStart: number,
  ): TextRequest {
    const request = new TextRequest(command, raw, NO_WORDS, NO_WORDS, noreply, dataStart);
    request.#tokens = null;
    request.#keys = null;
    request.#spans = spans;
    request.#firstKey = firstKey;
    request.#keyCount = endKey - firstKey;
    return request;
  }

  /** The words of the command line, the command word first, as views into `raw`. */
  get tokens(): Uint8Array[] {
    if (this.#tokens === null) {
      const spans = this.#spans!;
      const tokens = new Array<Uint8Array>(spans.length / 2);
      for (let t = 0; t < tokens.length; t++) {
        tokens[t] = this.raw.subarray(spans[2 * t], spans[2 * t + 1]);
      }
      this.#tokens = tokens;
    }
    return this.#tokens;
  }

  /** The keys the request names, as views (into `raw`, but for a decoded base64 key). */
  get keys(): Uint8Array[] {
    return this.#keys ??= this.tokens.slice(this.#firstKey, this.#firstKey + this.#keyCount);
  }

  /** How many keys the request names. */
  get keyCount(): number {
    return this.#keyCount;
  }

  /** The array key `i` lies in, from {@linkcode keyStart} to {@linkcode keyEnd}. */
  keySource(i: number): Uint8Array {
    return this.#spans === null ? this.#keys![i] : this.raw;
  }

  /** Where key `i` starts in {@linkcode keySource}. */
  keyStart(i: number): number {
    return this.#spans === null ? 0 : this.#spans[2 * (this.#firstKey + i)];
  }

  /** Where key `i` ends in {@linkcode keySource}. */
  keyEnd(i: number): number {
    return this.#spans === null ? this.#keys![i].length : this.#spans[2 * (this.#firstKey + i) + 1];
  }

  /** The data block with its `\r\n`; empty for commands that carry none. */
  get data(): Uint8Array {
    return this.raw.subarray(this.dataStart);
  }
}
