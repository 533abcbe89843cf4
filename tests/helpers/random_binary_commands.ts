import { binaryPacket, setExtras } from "./binary_client.ts";
import type { SeededRandom } from "./random.ts";

/**
 * A random pipelined stream of binary requests, one packet each: every keyed opcode in its loud
 * and quiet forms, with cas compares, counters made and refused, keys with spaces and control
 * bytes, values over the item size, unknown opcodes and noops. It leaves out what memrelay
 * answers differently on purpose (`Version`, `Stat`, `Verbosity`), `Flush` (see the text
 * stream's note), and malformed packets, after which memcached closes the connection. Each
 * request's opaque is its index.
 */
export function randomBinaryCommands(random: SeededRandom, commands: number): Uint8Array[] {
  const keys = [...Array.from({ length: 12 }, (_, i) => `bk:${i}`), "a key", "ctl\u0001\r\nkey"];
  const counters = Array.from({ length: 3 }, (_, i) => `bn:${i}`);
  const out: Uint8Array[] = [];
  const u32 = (n: number) => {
    const e = new Uint8Array(4);
    new DataView(e.buffer).setUint32(0, n);
    return e;
  };
  const counterExtras = (delta: bigint, initial: bigint, expiration: number) => {
    const e = new Uint8Array(20);
    const view = new DataView(e.buffer);
    view.setBigUint64(0, delta);
    view.setBigUint64(8, initial);
    view.setUint32(16, expiration);
    return e;
  };
  const value = () => {
    const roll = random.next();
    if (roll < 0.2) return new TextEncoder().encode(String(random.int(1000)));
    if (roll < 0.97) return random.valueBytes(random.int(roll < 0.8 ? 50 : 3000));
    return random.valueBytes(1024 * 1024 + 1 + random.int(1000));
  };
  const cas = () => (random.next() < 0.1 ? BigInt(1 + random.int(30)) : 0n);
  for (let opaque = 0; opaque < commands; opaque++) {
    const key = random.pick(keys);
    const roll = random.int(100);
    let packet: Uint8Array;
    if (roll < 35) {
      const opcode = random.pick([0x00, 0x09, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x23, 0x24]);
      const touches = opcode >= 0x1c;
      packet = binaryPacket(opcode, {
        key,
        opaque,
        extras: touches ? u32(random.pick([0, 1000])) : undefined,
      });
    } else if (roll < 65) {
      const opcode = random.pick([0x01, 0x11, 0x02, 0x12, 0x03, 0x13, 0x0e, 0x19, 0x0f, 0x1a]);
      const concat = opcode === 0x0e || opcode === 0x19 || opcode === 0x0f || opcode === 0x1a;
      packet = binaryPacket(opcode, {
        key,
        opaque,
        cas: cas(),
        value: value(),
        extras: concat ? undefined : setExtras(random.int(65536), random.pick([0, 0, 1000])),
      });
    } else if (roll < 80) {
      // Numbers shrink (and memcached pads them, or not, by timing) only on the counters, which
      // nothing appends to: other keys are only incremented.
      const onCounter = random.next() < 0.8;
      const counter = onCounter ? random.pick(counters) : key;
      packet = binaryPacket(random.pick(onCounter ? [0x05, 0x15, 0x06, 0x16] : [0x05, 0x15]), {
        key: counter,
        opaque,
        cas: cas(),
        extras: counterExtras(
          BigInt(random.pick([1, 7, 100])),
          BigInt(random.int(50)),
          random.pick([0, 1000, 0xffffffff]),
        ),
      });
    } else if (roll < 92) {
      packet = binaryPacket(random.pick([0x04, 0x14]), { key, opaque, cas: cas() });
    } else if (roll < 97) {
      packet = binaryPacket(0x0a, { opaque });
    } else {
      packet = binaryPacket(random.pick([0x44, 0x30, 0x20]), { opaque });
    }
    out.push(packet);
  }
  return out;
}
