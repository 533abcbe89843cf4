/** One binary-protocol response, parsed. */
export interface BinaryResponse {
  /** The opcode it answers. */
  opcode: number;
  /** The status; 0 for success. */
  status: number;
  /** The request's opaque, echoed. */
  opaque: number;
  /** The cas unique. */
  cas: bigint;
  /** The extras, such as a get's flags. */
  extras: Uint8Array;
  /** The key, as latin1 text. */
  key: string;
  /** The value, as latin1 text. */
  value: string;
}

/** The parts of a binary request; absent parts are empty. */
export interface BinaryRequestParts {
  /** The opaque the response echoes. */
  opaque?: number;
  /** A cas to compare. */
  cas?: bigint;
  /** The extras, such as a set's flags and expiration. */
  extras?: Uint8Array;
  /** The key. */
  key?: string;
  /** The value. */
  value?: string | Uint8Array;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("latin1");

/** One request packet. */
export function binaryPacket(opcode: number, parts: BinaryRequestParts = {}): Uint8Array {
  const extras = parts.extras ?? new Uint8Array(0);
  const key = encoder.encode(parts.key ?? "");
  const value = typeof parts.value === "string"
    ? encoder.encode(parts.value)
    : parts.value ?? new Uint8Array(0);
  const out = new Uint8Array(24 + extras.length + key.length + value.length);
  const view = new DataView(out.buffer);
  out[0] = 0x80;
  out[1] = opcode;
  view.setUint16(2, key.length);
  out[4] = extras.length;
  view.setUint32(8, extras.length + key.length + value.length);
  view.setUint32(12, parts.opaque ?? 0);
  view.setBigUint64(16, parts.cas ?? 0n);
  out.set(extras, 24);
  out.set(key, 24 + extras.length);
  out.set(value, 24 + extras.length + key.length);
  return out;
}

/** The 8-byte extras of a set: flags and expiration. */
export function setExtras(flags: number, expiration: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setUint32(0, flags);
  new DataView(out.buffer).setUint32(4, expiration);
  return out;
}

/** A minimal binary-protocol client for tests: write packets, read responses one by one. */
export class BinaryClient {
  #conn: Deno.Conn;
  #buf = new Uint8Array(0);

  private constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  /** Connects to 127.0.0.1:`port`. */
  static async connect(port: number): Promise<BinaryClient> {
    return new BinaryClient(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  /** Writes packets as they are, joined, so that the server may read them all at once. */
  async write(...packets: Uint8Array[]): Promise<void> {
    let rest = new Uint8Array(packets.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const packet of packets) {
      rest.set(packet, at);
      at += packet.length;
    }
    while (rest.length > 0) rest = rest.subarray(await this.#conn.write(rest));
  }

  /** Reads the next response; null when the server closed the connection. */
  async read(): Promise<BinaryResponse | null> {
    while (true) {
      if (this.#buf.length >= 24) {
        const view = new DataView(this.#buf.buffer, this.#buf.byteOffset);
        const total = 24 + view.getUint32(8);
        if (this.#buf.length >= total) {
          const keyLength = view.getUint16(2);
          const extrasLength = this.#buf[4];
          const response: BinaryResponse = {
            opcode: this.#buf[1],
            status: view.getUint16(6),
            opaque: view.getUint32(12),
            cas: view.getBigUint64(16),
            extras: this.#buf.slice(24, 24 + extrasLength),
            key: decoder.decode(
              this.#buf.subarray(24 + extrasLength, 24 + extrasLength + keyLength),
            ),
            value: decoder.decode(this.#buf.subarray(24 + extrasLength + keyLength, total)),
          };
          this.#buf = this.#buf.slice(total);
          return response;
        }
      }
      const chunk = new Uint8Array(64 * 1024);
      const n = await this.#conn.read(chunk);
      if (n === null) return null;
      const joined = new Uint8Array(this.#buf.length + n);
      joined.set(this.#buf);
      joined.set(chunk.subarray(0, n), this.#buf.length);
      this.#buf = joined;
    }
  }

  /** Sends one request and reads one response. */
  async call(opcode: number, parts: BinaryRequestParts = {}): Promise<BinaryResponse> {
    await this.write(binaryPacket(opcode, parts));
    const response = await this.read();
    if (response === null) throw new Error("the connection closed");
    return response;
  }

  /** Closes the connection. */
  close(): void {
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
  }
}
