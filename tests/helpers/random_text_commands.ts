import type { SeededRandom } from "./random.ts";

const encoder = new TextEncoder();

/**
 * A random pipelined stream, one array of chunks per command, of every text command, valid and not, with binary values of 0 to
 * 70 KB holding `\r\n`. It leaves out what memrelay answers differently on purpose: `version` and
 * `stats` (the proxy's own), `flush_all` that runs (an item written just before it survives on
 * memcached 1.6 now and then, so the reference itself is not repeatable), and gets with a key over 250 bytes: after one, memcached 1.6 drops
 * the rest of its read buffer, so how many later commands it loses depends on how TCP split the
 * stream; the proxy answers the error and every command after it.
 */
export function randomTextCommands(random: SeededRandom, commands: number): Uint8Array[][] {
  const keys = Array.from({ length: 24 }, (_, i) => `key:${i}`);
  const counters = Array.from({ length: 4 }, (_, i) => `num:${i}`);
  const stream: Uint8Array[][] = [];
  let chunks: Uint8Array[] = [];
  const line = (text: string) => chunks.push(encoder.encode(text + "\r\n"));
  const value = (): Uint8Array => {
    const roll = random.next();
    if (roll < 0.15) return encoder.encode(String(random.int(1000)));
    const size = roll < 0.7 ? random.int(100) : roll < 0.95 ? random.int(5000) : random.int(70_000);
    const bytes = random.valueBytes(size);
    if (size > 4) bytes.set([13, 10], 1 + random.int(size - 3));
    return bytes;
  };
  const noreply = () => (random.next() < 0.2 ? " noreply" : "");
  const exptime = () => random.pick(["0", "0", "1000", "-1"]);
  for (let i = 0; i < commands; i++) {
    chunks = [];
    stream.push(chunks);
    const key = random.pick(keys);
    const roll = random.int(100);
    if (roll < 30) {
      const v = value();
      const command = random.pick(["set", "set", "add", "replace", "append", "prepend", "cas"]);
      const cas = command === "cas" ? ` ${1e15 + random.int(1e6)}` : "";
      line(`${command} ${key} ${random.int(65536)} ${exptime()} ${v.length}${cas}${noreply()}`);
      chunks.push(v, encoder.encode("\r\n"));
    } else if (roll < 55) {
      const count = 1 + random.int(random.next() < 0.8 ? 3 : 30);
      const asked = Array.from({ length: count }, () => random.pick(keys)).join(" ");
      line(random.pick([`get ${asked}`, `gets ${asked}`, `gat 1000 ${asked}`, `gats 0 ${asked}`]));
    } else if (roll < 65) {
      // Numbers shrink only under decr or an incr that wraps, and only on "num:" keys, which
      // nothing appends to: memcached pads a shrunk number with spaces or not depending on
      // timing, and only a value that is all digits can be compared without the padding.
      const num = random.pick(counters);
      line(random.pick([
        `incr ${key} ${random.pick(["1", "7", "abc"])}${noreply()}`,
        `incr ${num} ${random.pick(["1", "7", "18446744073709551615"])}${noreply()}`,
        `decr ${num} ${random.pick(["1", "7", "abc"])}${noreply()}`,
        `set ${num} 0 0 3${noreply()}\r\n${100 + random.int(900)}`,
        `get ${num} ${key}`,
      ]));
    } else if (roll < 72) {
      line(`delete ${key}${random.pick(["", "", " 0", " 5"])}${noreply()}`);
    } else if (roll < 78) {
      line(`touch ${key} ${random.pick(["0", "1000", "x"])}${noreply()}`);
    } else if (roll < 80) {
      line(random.pick(["verbosity 1", "verbosity 0 noreply", "flush_all 0 x y", "flush_all x"]));
    } else if (roll < 86) {
      line(random.pick(["bogus", "", "GET x", "set", "incr x", "get", "gats", "delete a b c d e"]));
    } else if (roll < 90) {
      line(
        `${random.pick(["delete", "incr", "touch"])} ${"k".repeat(251)}${random.pick(["", " 1"])}`,
      );
    } else if (roll < 94) {
      line(`set ${key} 0 0 5${noreply()}`);
      // Each bad chunk carries its own extra byte, so it never eats into the next command.
      chunks.push(encoder.encode(random.pick(["helloXX\r\n", "hello\nX\r\n", "hi\r\n\r\nX\r\n"])));
    } else if (roll < 97) {
      line(`set ${key} ${random.pick(["-1", "x"])} 0 3${noreply()}`);
      line(random.pick(["abc", "get x"]));
    } else {
      const size = 1024 * 1024 + 1 + random.int(100_000);
      line(`set ${key} 0 0 ${size}${noreply()}`);
      chunks.push(random.bytes(size), encoder.encode("\r\n"));
    }
  }
  return stream;
}
