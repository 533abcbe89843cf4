import { binaryPacket, setExtras } from "../helpers/binary_client.ts";
import type { SeededRandom } from "../helpers/random.ts";
import { randomBinaryCommands } from "../helpers/random_binary_commands.ts";
import { type FuzzProtocol, join } from "./protocol.ts";

const decoder = new TextDecoder();
/** The statuses memrelay's binary responses may carry. */
const STATUSES = new Set([0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x20, 0x81, 0x82, 0x84]);

/** One random change to a stream of packets: bytes flipped, cut, inserted, or a length made odd. */
function mutate(random: SeededRandom, bytes: Uint8Array): Uint8Array {
  const at = random.int(bytes.length + 1);
  switch (random.int(5)) {
    case 0: {
      const out = bytes.slice();
      if (out.length > 0) out[random.int(out.length)] ^= 1 << random.int(8);
      return out;
    }
    case 1:
      return join([bytes.subarray(0, at), random.bytes(1 + random.int(30)), bytes.subarray(at)]);
    case 2:
      return bytes.subarray(0, at);
    case 3: { // a header's length field made extreme
      const out = bytes.slice();
      const view = new DataView(out.buffer);
      if (out.length >= 24) {
        const field = random.pick([2, 4, 8]);
        if (field === 2) view.setUint16(2, random.pick([0, 251, 0xffff]));
        else if (field === 4) out[4] = random.pick([0, 3, 20, 255]);
        else view.setUint32(8, random.pick([0, 7, 1024 * 1024 + 30, 0x7fffffff, 0xffffffff]));
      }
      return out;
    }
    default:
      return join([bytes.subarray(0, at), bytes.subarray(at + 1 + random.int(40))]);
  }
}

/** Splits `bytes` into the chunks a client might write. */
function chunked(random: SeededRandom, bytes: Uint8Array): Uint8Array[] {
  if (random.next() < 0.5) return [bytes];
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < bytes.length;) {
    const size = 1 + random.int(random.next() < 0.5 ? 16 : 4096);
    chunks.push(bytes.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

/** Checks a stream of binary responses; null when every response is whole and valid. */
export function checkBinaryResponses(bytes: Uint8Array): string | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  let at = 0;
  while (at < bytes.length) {
    if (bytes.length - at < 24) return `a response header cut short at byte ${at}`;
    if (bytes[at] !== 0x81) return `a bad response magic 0x${bytes[at].toString(16)} at ${at}`;
    const keyLength = view.getUint16(at + 2);
    const extrasLength = bytes[at + 4];
    const status = view.getUint16(at + 6);
    const body = view.getUint32(at + 8);
    if (!STATUSES.has(status)) return `an unknown status 0x${status.toString(16)} at ${at}`;
    if (keyLength + extrasLength > body) return `key and extras longer than the body at ${at}`;
    if (at + 24 + body > bytes.length) return `a response body cut short at byte ${at}`;
    at += 24 + body;
  }
  return null;
}

/**
 * The binary protocol's fuzz cases: random bytes after a first 0x80 (so the proxy takes them as
 * binary), valid pipelined requests with one to four mutations, and packets with extreme
 * header fields.
 */
export const binaryProtocol: FuzzProtocol = {
  name: "binary",
  generate(random) {
    const kind = random.next();
    if (kind < 0.2) {
      const bytes = random.bytes(random.next() < 0.9 ? 24 + random.int(4096) : random.int(70_000));
      bytes[0] = 0x80;
      return chunked(random, bytes);
    }
    const packets = randomBinaryCommands(random, 1 + random.int(10))
      .filter((packet) => packet.length < 100_000);
    let bytes = join(packets);
    const mutations = kind < 0.8 ? 1 + random.int(4) : 0;
    for (let i = 0; i < mutations; i++) bytes = mutate(random, bytes);
    if (bytes.length > 0) bytes[0] = 0x80;
    return chunked(random, bytes);
  },
  check: checkBinaryResponses,
  probe: (key) =>
    join([
      binaryPacket(0x01, { key, value: "ok", extras: setExtras(0, 0), opaque: 1 }),
      binaryPacket(0x00, { key, opaque: 2 }),
    ]),
  checkProbe(_key, reply) {
    const problem = checkBinaryResponses(reply);
    if (problem !== null) return problem;
    const view = new DataView(reply.buffer, reply.byteOffset, reply.length);
    const second = 24 + view.getUint32(8);
    const stored = reply.length > second && view.getUint16(6) === 0;
    const got = reply.length === second + 24 + 4 + 2 && view.getUint16(second + 6) === 0 &&
      decoder.decode(reply.subarray(second + 28)) === "ok";
    // A case may have sent a delayed flush: the get may then miss.
    const missed = reply.length > second + 24 && view.getUint16(second + 6) === 1;
    if (stored && (got || missed)) return null;
    return `a fresh connection got ${JSON.stringify(decoder.decode(reply).slice(0, 200))}`;
  },
};
