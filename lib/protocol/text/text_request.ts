import type { CommandCode } from "./command.ts";

/**
 * One request from a client, parsed and validated: what the router needs, over bytes the
 * request owns.
 *
 * `raw` holds the whole request as the client sent it: the command line and, for storage
 * commands, the data block. Every other field is a view into `raw` or a number, so forwarding
 * the request unchanged is writing `raw`. One exception: a meta command with a base64 key (the
 * `b` flag) has the decoded key in `keys`, since keys are placed and tracked by their bytes.
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
   * @param toClient Turns the server's reply into what the client gets: the meta quiet mode's
   *   suppression, or a binary-protocol response. Null when the client gets the reply as it is.
   */
  constructor(
    readonly command: CommandCode,
    readonly raw: Uint8Array,
    readonly tokens: Uint8Array[],
    readonly keys: Uint8Array[],
    readonly noreply: boolean,
    readonly dataStart: number,
    readonly toClient: ((reply: Uint8Array) => Uint8Array) | null = null,
  ) {}

  /** The data block with its trailing `\r\n`; empty for commands that carry none. */
  get data(): Uint8Array {
    return this.raw.subarray(this.dataStart);
  }
}
