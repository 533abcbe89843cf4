import type { CommandCode } from "./command.ts";

/**
 * One request from a client, parsed and validated: what the router needs, over bytes the
 * request owns.
 *
 * `raw` holds the whole request as the client sent it: the command line and, for storage
 * commands, the data block. Every other field is a view into `raw` or a number, so forwarding
 * the request unchanged is writing `raw`.
 */
export class TextRequest {
  /**
   * Wraps the parts of a parsed request.
   *
   * @param command The command's code.
   * @param raw The request's bytes, command line and data block.
   * @param tokens The words of the command line, the command word first, as views into `raw`.
   * @param keys The keys the request names, as views into `raw`.
   * @param noreply Whether the client asked for no reply.
   * @param dataStart Where the data block starts in `raw`; `raw.length` when there is none.
   */
  constructor(
    readonly command: CommandCode,
    readonly raw: Uint8Array,
    readonly tokens: Uint8Array[],
    readonly keys: Uint8Array[],
    readonly noreply: boolean,
    readonly dataStart: number,
  ) {}

  /** The data block with its trailing `\r\n`; empty for commands that carry none. */
  get data(): Uint8Array {
    return this.raw.subarray(this.dataStart);
  }
}
