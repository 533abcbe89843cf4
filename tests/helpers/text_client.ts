import {
  ReplyKind,
  type ReplyKindCode,
  TextResponseFramer,
} from "../../lib/protocol/text/response_parser.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A minimal memcached text client for tests: it writes raw bytes and reads replies one at a
 * time, framed by what the caller says each should look like.
 */
export class TextClient {
  #conn: Deno.Conn;
  #buf = new Uint8Array(0);
  #framer = new TextResponseFramer();

  private constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  /** Connects to `127.0.0.1:port`, or to a unix socket path. */
  static async connect(target: number | string): Promise<TextClient> {
    const conn = typeof target === "number"
      ? await Deno.connect({ hostname: "127.0.0.1", port: target })
      : await Deno.connect({ transport: "unix", path: target });
    return new TextClient(conn);
  }

  /** Connects over TLS to `127.0.0.1:port`, trusting the PEM certificates `caCerts`. */
  static async connectTls(port: number, caCerts: string[]): Promise<TextClient> {
    return new TextClient(await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts }));
  }

  /** Writes bytes or a string as they are. */
  async write(data: Uint8Array | string): Promise<void> {
    let bytes = typeof data === "string" ? encoder.encode(data) : data;
    while (bytes.length > 0) bytes = bytes.subarray(await this.#conn.write(bytes));
  }

  /** Ends the sending side (a FIN), leaving the connection open for reading. */
  async closeWrite(): Promise<void> {
    await this.#conn.closeWrite();
  }

  /** Reads one reply of the given kind, as bytes; rejects after `timeoutMs` or on close. */
  readReplyBytes(kind: ReplyKindCode = ReplyKind.Line, timeoutMs = 5000): Promise<Uint8Array> {
    return this.#take(
      (buf) => buf.length === 0 ? -1 : this.#framer.frame(buf, 0, buf.length, kind),
      timeoutMs,
    );
  }

  /** Reads one line as it comes, `\r\n` included, such as one `STAT` line of `stats`. */
  async readLine(timeoutMs = 5000): Promise<string> {
    return decoder.decode(await this.#take((buf) => buf.indexOf(10) + 1 || -1, timeoutMs));
  }

  /**
   * Reads until `end(buffer)` finds where the wanted bytes end, and takes them off the buffer.
   * Rejects after `timeoutMs`, or when the connection closes first.
   */
  async #take(end: (buf: Uint8Array) => number, timeoutMs: number): Promise<Uint8Array> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const at = end(this.#buf);
      if (at >= 0) {
        const taken = this.#buf.slice(0, at);
        this.#buf = this.#buf.slice(at);
        return taken;
      }
      const chunk = await this.#read(deadline - Date.now());
      if (chunk === null) throw new Error("connection closed before a complete reply");
      const grown = new Uint8Array(this.#buf.length + chunk.length);
      grown.set(this.#buf);
      grown.set(chunk, this.#buf.length);
      this.#buf = grown;
    }
  }

  /** Sends `stats` and returns every line up to and including `END`. */
  async stats(): Promise<string> {
    await this.write("stats\r\n");
    let stats = "";
    while (!stats.endsWith("END\r\n")) stats += await this.readLine();
    return stats;
  }

  /** Reads one reply of the given kind, as text. */
  async readReply(kind: ReplyKindCode = ReplyKind.Line, timeoutMs = 5000): Promise<string> {
    return decoder.decode(await this.readReplyBytes(kind, timeoutMs));
  }

  /** Sends a command (with `\r\n` added) and reads one line reply. */
  async call(command: string): Promise<string> {
    await this.write(command + "\r\n");
    return await this.readReply(ReplyKind.Line);
  }

  /** Sends a retrieval command (with `\r\n` added) and reads its whole reply. */
  async get(command: string): Promise<string> {
    await this.write(command + "\r\n");
    return await this.readReply(ReplyKind.Retrieval);
  }

  /** Stores `value` under `key` with `set` and returns the reply line. */
  set(key: string, value: string, flags = 0, exptime = 0): Promise<string> {
    return this.call(`set ${key} ${flags} ${exptime} ${encoder.encode(value).length}\r\n${value}`);
  }

  /**
   * Waits for the server to close the connection; returns what it sent before, or rejects
   * after `timeoutMs`.
   */
  async readUntilClosed(timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let text = decoder.decode(this.#buf);
    this.#buf = new Uint8Array(0);
    while (true) {
      const chunk = await this.#read(deadline - Date.now());
      if (chunk === null) return text;
      text += decoder.decode(chunk);
    }
  }

  async #read(timeoutMs: number): Promise<Uint8Array | null> {
    const buf = new Uint8Array(64 * 1024);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no reply within the time allowed`)),
        Math.max(0, timeoutMs),
      );
    });
    try {
      const n = await Promise.race([this.#conn.read(buf), timeout]).catch((error) => {
        if (error instanceof Deno.errors.ConnectionReset) return null;
        throw error;
      });
      return n === null ? null : buf.slice(0, n);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes the connection. */
  close(): void {
    try {
      this.#conn.close();
    } catch {
      // Already closed by the server.
    }
  }
}
