import { type ParsedItem, type TextParserLimits, TextRequestParser } from "./request_parser.ts";

/**
 * {@linkcode TextRequestParser} as a `TransformStream`: client bytes in, parsed requests and the
 * parser's own replies out. For embedding and tests; the proxy's hot path calls the parser
 * directly, since a stream costs a promise per chunk.
 *
 * @example
 * ```ts
 * import { TextRequestStream } from "./request_stream.ts";
 * const items = await Array.fromAsync(
 *   ReadableStream.from([new TextEncoder().encode("get a b\r\n")])
 *     .pipeThrough(new TextRequestStream()),
 * );
 * console.log(items.length); // 1
 * ```
 */
export class TextRequestStream extends TransformStream<Uint8Array, ParsedItem> {
  /**
   * Makes the stream, with a parser of its own.
   *
   * @param limits Overrides of the parser's default limits.
   */
  constructor(limits: Partial<TextParserLimits> = {}) {
    const parser = new TextRequestParser(limits);
    super({
      transform(chunk, controller) {
        for (const item of parser.push(chunk)) controller.enqueue(item);
      },
    });
  }
}
