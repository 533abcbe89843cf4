import { encodeBase64Key } from "../../lib/protocol/meta/meta_key.ts";
import type { SeededRandom } from "./random.ts";

const encoder = new TextEncoder();

/**
 * A random pipelined stream of meta commands (`mg`, `ms`, `md`, `ma`, `mn`, `me`), one array of
 * chunks per command: keys plain and in base64, the quiet mode, opaques, compares, modes, and
 * malformed lines memcached refuses. Values hold `\r\n`. It leaves out the invalidation flag
 * `I`: in runs here, which later `mg` saw a stale item (`X`, `Z`) differed between two
 * memcached servers given the same stream. Numbers shrink only on "mc:" keys, as
 * in the text stream, so that memcached's padding of a shrunk number can be normalized away.
 */
export function randomMetaCommands(random: SeededRandom, commands: number): Uint8Array[][] {
  const keys = Array.from({ length: 16 }, (_, i) => `mk:${i}`);
  const counters = Array.from({ length: 4 }, (_, i) => `mc:${i}`);
  const stream: Uint8Array[][] = [];
  let chunks: Uint8Array[] = [];
  const line = (text: string) => chunks.push(encoder.encode(text + "\r\n"));
  const maybe = (p: number, flag: string) => (random.next() < p ? ` ${flag}` : "");
  /** The key as a command names it: plain, or in base64 with the `b` flag after it. */
  const named = (key: string): [string, string] =>
    random.next() < 0.2 ? [new TextDecoder().decode(encodeBase64Key(encoder.encode(key))), " b"] : [
      key,
      "",
    ];
  const value = (): Uint8Array => {
    const roll = random.next();
    if (roll < 0.15) return encoder.encode(String(random.int(1000)));
    const size = roll < 0.8 ? random.int(60) : random.int(5000);
    const bytes = random.valueBytes(size);
    if (size > 4) bytes.set([13, 10], 1 + random.int(size - 3));
    return bytes;
  };
  const common = () => `${maybe(0.3, `O${random.int(1000)}`)}${maybe(0.2, "k")}${maybe(0.25, "q")}`;
  for (let i = 0; i < commands; i++) {
    chunks = [];
    stream.push(chunks);
    const [key, b] = named(random.pick(keys));
    const roll = random.int(100);
    if (roll < 30) {
      const flags = ["v", "f", "t", "c", "s"].filter(() => random.next() < 0.4).map((f) => ` ${f}`)
        .join("");
      const touch = random.next() < 0.1 ? ` T${random.pick(["0", "1000"])}` : "";
      line(`mg ${key}${b}${flags}${touch}${common()}`);
    } else if (roll < 55) {
      const v = value();
      const mode = random.next() < 0.35 ? ` M${random.pick(["E", "A", "P", "R", "S", "a"])}` : "";
      const cas = random.next() < 0.1 ? ` C${random.int(40)}` : "";
      line(
        `ms ${key} ${v.length}${b}${maybe(0.5, `F${random.int(65536)}`)}${
          maybe(0.4, `T${random.pick(["0", "1000"])}`)
        }${mode}${cas}${maybe(0.3, "c")}${common()}`,
      );
      chunks.push(v, encoder.encode("\r\n"));
    } else if (roll < 68) {
      const [num, nb] = named(random.pick(counters));
      line(random.pick([
        `ma ${num}${nb}${maybe(0.5, "v")}${maybe(0.2, "t")}${maybe(0.2, "c")}${common()}`,
        `ma ${num}${nb} D${random.pick(["1", "7", "18446744073709551615"])} v${common()}`,
        `ma ${num}${nb} MD D${random.pick(["1", "3"])}${maybe(0.5, "v")}${common()}`,
        // No q here: memcached answers an item it just created even in quiet mode, and the
        // proxy cannot tell that from the reply (see DESIGN.md).
        `ma ${num}${nb} N0 J${random.int(100)} v${maybe(0.3, `O${random.int(1000)}`)}`,
        `ma ${key}${b}${maybe(0.5, "v")}${common()}`,
        `ms ${num} 3${nb}\r\n${100 + random.int(900)}`,
        `mg ${num}${nb} v${common()}`,
      ]));
    } else if (roll < 80) {
      line(
        `md ${key}${b}${maybe(0.1, `C${random.int(40)}`)}${maybe(0.05, "x")}${common()}`,
      );
    } else if (roll < 88) {
      line(random.pick(["mn", "mn", `me ${key}${b}`]));
    } else if (roll < 95) {
      line(random.pick([
        "mg",
        "md",
        "ma",
        "me",
        "ms",
        `ms ${key}`,
        `ms ${key} abc`,
        `mg ${key} zz`,
        `mg ${key} v v`,
        `mg ${key} q q`,
        `ma ${key} MX`,
        `mg !!! b v`,
        `mg ${"k".repeat(251)} v`,
        `md ${"k".repeat(251)}`,
        `ms ${"k".repeat(251)} 2`,
        // Past memcached's flag limits: refused, and an ms's data block not read.
        `ms ${key} 2 q${" T1".repeat(16)}\r\nmn`,
        `ms ${key} 2 q${" T1".repeat(15)}\r\nhi`,
        `mg ${key} q${" v".repeat(17)}`,
        `ma ${key} q${" v".repeat(17)}`,
      ]));
    } else {
      line(`ms ${key} 5${b} ${random.pick(["zz", "MX", "Fx"])}`);
      chunks.push(encoder.encode("hello\r\n"));
    }
  }
  return stream;
}
