import type { SeededRandom } from "../helpers/random.ts";
import { randomTextCommands } from "../helpers/random_text_commands.ts";
import { checkBinaryResponses } from "./binary_protocol.ts";
import { type FuzzProtocol, join } from "./protocol.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const CR = 13;
const LF = 10;

/** Every line a memcached text reply may hold, except `VALUE`, which is followed by data. */
const REPLY_LINE =
  /^(ERROR|STORED|NOT_STORED|EXISTS|NOT_FOUND|DELETED|TOUCHED|OK|END|\d+|(CLIENT_ERROR|SERVER_ERROR) [\x20-\x7e]*|VERSION [\x20-\x7e]+|STAT \S+ [\x20-\x7e]*)$/;

/**
 * A meta reply line other than `VA` (the text port speaks meta too): a code and its flags, or
 * `ME` and its key's state. Flags echo what the client sent, whatever bytes those were.
 */
const META_LINE = /^((HD|EN|NF|NS|EX|MN)( .*)?|ME .+)$/s;

/** Words and numbers that parsers trip on. */
const VOCABULARY = [
  "get",
  "gets",
  "gat",
  "gats",
  "set",
  "add",
  "replace",
  "append",
  "prepend",
  "cas",
  "delete",
  "incr",
  "decr",
  "touch",
  "flush_all",
  "version",
  "verbosity",
  "stats",
  "noreply",
  "quit",
  "k",
  "key:1",
  "0",
  "1",
  "-1",
  "2",
  "100",
  "4294967295",
  "4294967296",
  "2147483647",
  "-2147483649",
  "18446744073709551615",
  "18446744073709551616",
  "99999999999999999999",
  "1048577",
  "0x10",
  "1e3",
  "",
  " ",
  "\t",
  "\0",
  "\r",
  "\n",
  "\r\n",
  "k".repeat(250),
  "k".repeat(251),
];
const EXTREMES = ["-1", "4294967296", "abc", "", "99999999999999999999", "2147483647", "0"];

/** A byte run of `length`, random or one repeated byte. */
function run(random: SeededRandom, length: number): Uint8Array {
  return random.next() < 0.5 ? random.bytes(length) : new Uint8Array(length).fill(random.int(256));
}

/** One random change to `bytes`. */
function mutate(random: SeededRandom, bytes: Uint8Array): Uint8Array {
  const at = random.int(bytes.length + 1);
  const insert = (piece: Uint8Array) => join([bytes.subarray(0, at), piece, bytes.subarray(at)]);
  switch (random.int(9)) {
    case 0: { // flip a byte
      const out = bytes.slice();
      if (out.length > 0) out[random.int(out.length)] ^= 1 << random.int(8);
      return out;
    }
    case 1:
      return insert(random.bytes(1 + random.int(8)));
    case 2: // drop a range
      return join([bytes.subarray(0, at), bytes.subarray(at + 1 + random.int(64))]);
    case 3: // repeat a range
      return insert(bytes.subarray(at, at + 1 + random.int(256)));
    case 4: // cut short
      return bytes.subarray(0, at);
    case 5: // a number made extreme
      return insert(encoder.encode(` ${random.pick(EXTREMES)}`));
    case 6:
      return insert(encoder.encode(random.pick(["\r\n", "\n", "\r", "\0", " ", "  "])));
    case 7: // a long run with no line end
      return insert(
        run(random, random.pick([300, 2049, 5000, 70_000])).map((b) => b === LF ? 0x6b : b),
      );
    default:
      return insert(encoder.encode(random.pick(VOCABULARY)));
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

/**
 * Checks what came back for a case sent on the text port: a case that begins with 0x80 (random
 * bytes may) makes the proxy, as memcached, speak the binary protocol on that connection, and is
 * answered with binary responses; any other, with text replies.
 */
export function checkRepliesOnTextPort(bytes: Uint8Array): string | null {
  return bytes[0] === RESPONSE_MAGIC ? checkBinaryResponses(bytes) : checkTextReplies(bytes);
}

/** The first byte of a binary response. */
const RESPONSE_MAGIC = 0x81;

/**
 * Checks a stream of replies on memcached's text port, meta replies included; null when every
 * reply is whole and valid.
 */
export function checkTextReplies(bytes: Uint8Array): string | null {
  let at = 0;
  while (at < bytes.length) {
    let lf = bytes.indexOf(LF, at);
    if (lf < 0) return `a reply without its line end at byte ${at}`;
    if (lf === at || bytes[lf - 1] !== CR) return `a line not ended by \\r\\n at byte ${at}`;
    const line = decoder.decode(bytes.subarray(at, lf - 1));
    at = lf + 1;
    if (line.startsWith("VALUE ")) {
      const fields = line.split(" ");
      const length = Number(fields[3]);
      if (
        (fields.length !== 4 && fields.length !== 5) || !/^\d+$/.test(fields[2]) ||
        !/^\d+$/.test(fields[3]) || (fields.length === 5 && !/^\d+$/.test(fields[4]))
      ) {
        return `a bad VALUE line ${JSON.stringify(line)}`;
      }
      lf = at + length;
      if (lf + 2 > bytes.length || bytes[lf] !== CR || bytes[lf + 1] !== LF) {
        return `a VALUE of ${length} bytes not ended by \\r\\n`;
      }
      at = lf + 2;
    } else if (line.startsWith("VA ")) {
      const length = Number(/^VA (\d+)/.exec(line)?.[1] ?? NaN);
      if (!Number.isInteger(length)) return `a bad VA line ${JSON.stringify(line.slice(0, 80))}`;
      lf = at + length;
      if (lf + 2 > bytes.length || bytes[lf] !== CR || bytes[lf + 1] !== LF) {
        return `a VA of ${length} bytes not ended by \\r\\n`;
      }
      at = lf + 2;
    } else if (!REPLY_LINE.test(line) && !META_LINE.test(line)) {
      return `not a memcached reply: ${JSON.stringify(line.slice(0, 80))}`;
    }
  }
  return null;
}

/**
 * The text protocol's fuzz cases: random bytes; valid pipelined commands (values up to 70 KB)
 * with one to four mutations; and soups of protocol words, numbers and separators.
 */
export const textProtocol: FuzzProtocol = {
  name: "text",
  generate(random) {
    const kind = random.next();
    if (kind < 0.25) {
      const length = random.next() < 0.9 ? random.int(4096) : random.int(70_000);
      return chunked(random, random.bytes(length));
    }
    if (kind < 0.75) {
      const commands = randomTextCommands(random, 1 + random.int(8))
        .filter((chunks) => chunks.reduce((n, c) => n + c.length, 0) < 100_000);
      let bytes = join(commands.flat());
      const mutations = 1 + random.int(4);
      for (let i = 0; i < mutations; i++) bytes = mutate(random, bytes);
      return chunked(random, bytes);
    }
    const words: string[] = [];
    const count = 1 + random.int(40);
    for (let i = 0; i < count; i++) {
      words.push(random.pick(VOCABULARY), random.pick([" ", " ", " ", "\r\n", "\n", "  "]));
    }
    return chunked(random, encoder.encode(words.join("")));
  },
  check: checkRepliesOnTextPort,
  probe: (key) => encoder.encode(`set ${key} 0 0 2\r\nok\r\nget ${key}\r\n`),
  checkProbe(key, reply) {
    const text = decoder.decode(reply);
    // A case may have sent a flush_all with a delay: memcached then drops what is stored in the
    // second it falls due, so the get may miss.
    if (text === `STORED\r\nVALUE ${key} 0 2\r\nok\r\nEND\r\n` || text === "STORED\r\nEND\r\n") {
      return null;
    }
    return `a fresh connection got ${JSON.stringify(text.slice(0, 200))}`;
  },
};
