import type { SeededRandom } from "../helpers/random.ts";
import { randomMetaCommands } from "../helpers/random_meta_commands.ts";
import { type FuzzProtocol, join } from "./protocol.ts";
import { checkRepliesOnTextPort } from "./text_protocol.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** Meta words and flags that parsers trip on. */
const VOCABULARY = [
  "mg",
  "ms",
  "md",
  "ma",
  "mn",
  "me",
  "b",
  "q",
  "k",
  "v",
  "f",
  "t",
  "c",
  "s",
  "O1",
  "T0",
  "T-1",
  "F4294967296",
  "MA",
  "MX",
  "N0",
  "J18446744073709551616",
  "D1",
  "C0",
  "azE=",
  "!!!",
  "0",
  "1",
  "-1",
  "2",
  "4294967295",
  "1048577",
  " ",
  "\r\n",
  "\n",
  "\0",
  "k".repeat(251),
];

function mutate(random: SeededRandom, bytes: Uint8Array): Uint8Array {
  const at = random.int(bytes.length + 1);
  const insert = (piece: Uint8Array) => join([bytes.subarray(0, at), piece, bytes.subarray(at)]);
  switch (random.int(4)) {
    case 0: {
      const out = bytes.slice();
      if (out.length > 0) out[random.int(out.length)] ^= 1 << random.int(8);
      return out;
    }
    case 1:
      return join([bytes.subarray(0, at), bytes.subarray(at + 1 + random.int(40))]);
    case 2:
      return bytes.subarray(0, at);
    default:
      return insert(encoder.encode(` ${random.pick(VOCABULARY)}`));
  }
}

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

/** The meta protocol's fuzz cases: valid meta pipelines with mutations, and word soups. */
export const metaProtocol: FuzzProtocol = {
  name: "meta",
  generate(random) {
    if (random.next() < 0.7) {
      let bytes = join(randomMetaCommands(random, 1 + random.int(10)).flat());
      const mutations = random.int(4);
      for (let i = 0; i < mutations; i++) bytes = mutate(random, bytes);
      return chunked(random, bytes);
    }
    const words: string[] = [];
    const count = 1 + random.int(40);
    for (let i = 0; i < count; i++) {
      words.push(random.pick(VOCABULARY), random.pick([" ", " ", "\r\n", "\n"]));
    }
    return chunked(random, encoder.encode(words.join("")));
  },
  check: checkRepliesOnTextPort,
  probe: (key) => encoder.encode(`ms ${key} 2 T0\r\nok\r\nmg ${key} v\r\n`),
  checkProbe(key, reply) {
    const text = decoder.decode(reply);
    if (text === "HD\r\nVA 2\r\nok\r\n" || text === "HD\r\nEN\r\n") return null;
    return `a fresh connection for ${key} got ${JSON.stringify(text.slice(0, 200))}`;
  },
};
