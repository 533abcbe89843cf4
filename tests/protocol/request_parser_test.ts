import assert from "node:assert/strict";
import { Command } from "../../lib/protocol/text/command.ts";
import {
  type ParsedItem,
  ProtocolClose,
  TextRequestParser,
} from "../../lib/protocol/text/request_parser.ts";
import { TextRequest } from "../../lib/protocol/text/text_request.ts";
import { retrievalLine } from "../../lib/protocol/text/request_lines.ts";
import { ByteSlab } from "../../lib/protocol/byte_slab.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Each item as text: a request's raw bytes prefixed "req:", a reply "reply:", a close "close:". */
function describe(items: ParsedItem[]): string[] {
  return items.map((item) => {
    if (item instanceof TextRequest) return `req:${decoder.decode(item.raw)}`;
    if (item instanceof ProtocolClose) {
      return `close:${item.reply ? decoder.decode(item.reply) : ""}`;
    }
    return `reply:${decoder.decode(item)}`;
  });
}

function parseAll(input: string, chunkSize = input.length): string[] {
  const parser = new TextRequestParser({ maxItemSize: 100 });
  const bytes = encoder.encode(input);
  const items: ParsedItem[] = [];
  for (let i = 0; i < bytes.length; i += chunkSize) {
    items.push(...parser.push(bytes.subarray(i, i + chunkSize)));
  }
  return describe(items);
}

const STREAM = "set a 0 0 5\r\nhello\r\nget a b\r\nbogus\r\nset k 0 0 5\r\nhelloXX\r\n" +
  `set big 0 0 200\r\n${"x".repeat(200)}\r\nincr n 5 noreply\r\ndelete a 0\r\n` +
  "set a abc 0 1\r\nx\r\ngat 10\r\ncas c 1 2 3 4\r\nabc\r\n";

Deno.test("a stream parses the same whether it arrives whole or a byte at a time", () => {
  const whole = parseAll(STREAM);
  for (const size of [1, 2, 3, 7, 64]) {
    assert.deepEqual(parseAll(STREAM, size), whole, `chunks of ${size}`);
  }
  assert.deepEqual(whole, [
    "req:set a 0 0 5\r\nhello\r\n",
    "req:get a b\r\n",
    "reply:ERROR\r\n",
    "reply:CLIENT_ERROR bad data chunk\r\n",
    "reply:ERROR\r\n",
    "reply:SERVER_ERROR object too large for cache\r\n",
    "req:delete big noreply\r\n",
    "req:incr n 5 noreply\r\n",
    "req:delete a 0\r\n",
    "reply:CLIENT_ERROR bad command line format\r\n",
    "reply:ERROR\r\n",
    "reply:END\r\n",
    "req:cas c 1 2 3 4\r\nabc\r\n",
  ]);
});

Deno.test("a parsed request exposes its command, keys, noreply and data as views of its bytes", () => {
  const [set, get] = new TextRequestParser().push(
    encoder.encode("set k 7 0 3 noreply\r\nabc\r\ngets x y x\r\n"),
  ) as TextRequest[];
  assert.equal(set.command, Command.Set);
  assert.deepEqual(set.keys.map((k) => decoder.decode(k)), ["k"]);
  assert.equal(set.noreply, true);
  assert.equal(decoder.decode(set.data), "abc\r\n");
  assert.equal(get.command, Command.Gets);
  assert.deepEqual(get.keys.map((k) => decoder.decode(k)), ["x", "y", "x"]);
  assert.equal(get.noreply, false);
  assert.equal(get.data.length, 0);
});

Deno.test("a parsed request's keys can be read where they lie, with the same bytes as its key views", () => {
  const [gat] = new TextRequestParser().push(
    encoder.encode("  gat  60 alpha   b\x01c  alpha\r\n"),
  ) as TextRequest[];
  assert.equal(gat.keyCount, 3);
  const inPlace = Array.from(
    { length: gat.keyCount },
    (_, i) => decoder.decode(gat.keySource(i).subarray(gat.keyStart(i), gat.keyEnd(i))),
  );
  assert.deepEqual(inPlace, ["alpha", "b\x01c", "alpha"]);
  assert.deepEqual(gat.keys.map((k) => decoder.decode(k)), inPlace);
  assert.equal(gat.keySource(1), gat.raw);
  assert.deepEqual(gat.tokens.map((t) => decoder.decode(t)), ["gat", "60", ...inPlace]);
});

Deno.test("a request built from views reads its keys in those views", () => {
  const raw = encoder.encode("mg abc v\r\n");
  const decoded = encoder.encode("decoded");
  const request = new TextRequest(Command.MetaGet, raw, [], [decoded], false, raw.length);
  assert.equal(request.keyCount, 1);
  assert.equal(request.keySource(0), decoded);
  assert.deepEqual([request.keyStart(0), request.keyEnd(0)], [0, decoded.length]);
});

Deno.test("a retrieval's share for one server keeps its command and exptime, and only its keys", () => {
  const parser = new TextRequestParser();
  const [get, gats] = parser.push(
    encoder.encode("get a bb ccc\r\ngats  -1 k1 k2 k3\r\n"),
  ) as TextRequest[];
  assert.equal(decoder.decode(retrievalLine(get, [2, 0])), "get ccc a\r\n");
  assert.equal(decoder.decode(retrievalLine(gats, [1])), "gats -1 k2\r\n");
  const long = "k".repeat(250);
  const [big] = parser.push(encoder.encode(`gets x ${long}\r\n`)) as TextRequest[];
  assert.equal(decoder.decode(retrievalLine(big, [1, 0], new ByteSlab())), `gets ${long} x\r\n`);
});

Deno.test("argument counts and numbers are checked as memcached 1.6 checks them", () => {
  assert.deepEqual(parseAll("set k 0 0\r\n"), ["reply:ERROR\r\n"]);
  assert.deepEqual(parseAll("incr k\r\n"), ["reply:ERROR\r\n"]);
  assert.deepEqual(parseAll("incr k -1\r\n"), [
    "reply:CLIENT_ERROR invalid numeric delta argument\r\n",
  ]);
  assert.deepEqual(parseAll("incr k 18446744073709551616\r\n"), [
    "reply:CLIENT_ERROR invalid numeric delta argument\r\n",
  ]);
  assert.deepEqual(parseAll("incr k 18446744073709551615\r\n"), [
    "req:incr k 18446744073709551615\r\n",
  ]);
  assert.deepEqual(parseAll("touch k x\r\n"), ["reply:CLIENT_ERROR invalid exptime argument\r\n"]);
  assert.deepEqual(parseAll("touch k x noreply\r\n"), []);
  assert.deepEqual(parseAll("delete k 5\r\n"), [
    "reply:CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n",
  ]);
  assert.deepEqual(parseAll("delete k 0 noreply\r\n"), ["req:delete k 0 noreply\r\n"]);
  assert.deepEqual(parseAll("verbosity\r\n"), ["reply:ERROR\r\n"]);
  assert.deepEqual(parseAll("verbosity 1 2 3\r\n"), ["reply:ERROR\r\n"]);
  assert.deepEqual(parseAll("flush_all x\r\n"), [
    "reply:CLIENT_ERROR invalid exptime argument\r\n",
  ]);
  assert.deepEqual(parseAll("flush_all 1 2 3\r\n"), ["reply:ERROR\r\n"]);
  assert.deepEqual(parseAll("set k 4294967296 0 1\r\nx\r\n"), [
    "reply:CLIENT_ERROR bad command line format\r\n",
    "reply:ERROR\r\n",
  ]);
});

Deno.test("a value length that is negative, not a number or over 2147483645 closes the stream", () => {
  for (const length of ["-1", "abc", "4294967296", "2147483646"]) {
    assert.deepEqual(parseAll(`set k 0 0 ${length}\r\nget k\r\n`), [
      "close:CLIENT_ERROR bad command line format\r\n",
    ], length);
  }
  assert.deepEqual(parseAll("set k 0 0 1 noreply\r\nx\r\n"), ["req:set k 0 0 1 noreply\r\nx\r\n"]);
});

Deno.test("keys over 250 bytes or with a NUL byte are refused, other control bytes pass as in memcached", () => {
  assert.deepEqual(parseAll(`get ${"k".repeat(250)}\r\n`), [`req:get ${"k".repeat(250)}\r\n`]);
  assert.deepEqual(parseAll(`get ${"k".repeat(251)}\r\n`), [
    "reply:CLIENT_ERROR bad command line format\r\n",
  ]);
  assert.deepEqual(parseAll("get a\0b\r\n"), ["reply:CLIENT_ERROR bad command line format\r\n"]);
  assert.deepEqual(parseAll("get a\tb\x10\r\n"), ["req:get a\tb\x10\r\n"]);
});

Deno.test("a line over 2048 bytes without a newline closes the stream, a long get line does not", () => {
  const parser = new TextRequestParser();
  const items = parser.push(encoder.encode("x".repeat(2049)));
  assert.deepEqual(describe(items), ["close:CLIENT_ERROR line too long\r\n"]);
  assert.deepEqual(parser.push(encoder.encode("get a\r\n")), []);

  const getParser = new TextRequestParser();
  const keys = Array.from({ length: 1000 }, (_, i) => `key${i}`).join(" ");
  assert.deepEqual(getParser.push(encoder.encode(`get ${keys}`)), []);
  const [request] = getParser.push(encoder.encode("\r\n")) as TextRequest[];
  assert.equal(request.keys.length, 1000);
});

Deno.test("a value too large to skip closes the stream at once instead of waiting for it", () => {
  const parser = new TextRequestParser({ maxItemSize: 10, maxSwallowSize: 1000 });
  assert.deepEqual(describe(parser.push(encoder.encode("set k 0 0 100000\r\n"))), [
    "close:SERVER_ERROR object too large for cache\r\n",
  ]);
});

Deno.test("an incomplete value is held, not parsed, however it is split", () => {
  const parser = new TextRequestParser();
  assert.deepEqual(parser.push(encoder.encode("set k 0 0 10\r\nhello")), []);
  assert.equal(parser.buffered, 19);
  assert.deepEqual(describe(parser.push(encoder.encode("world\r\n"))), [
    "req:set k 0 0 10\r\nhelloworld\r\n",
  ]);
  assert.equal(parser.buffered, 0);
});

Deno.test("a retrieval naming more than maxKeys keys is refused whole, and the stream stays in step", () => {
  const parser = new TextRequestParser({ maxKeys: 3 });
  const items = parser.push(
    encoder.encode(
      "get a b c\r\nget a b c d\r\ngats 0 a b c d e f g\r\nset k 0 0 1 noreply\r\nx\r\n",
    ),
  );
  assert.deepEqual(describe(items), [
    "req:get a b c\r\n",
    "reply:CLIENT_ERROR too many keys: at most 3 per request\r\n",
    "reply:CLIENT_ERROR too many keys: at most 3 per request\r\n",
    "req:set k 0 0 1 noreply\r\nx\r\n",
  ]);
});

Deno.test("a get line may be as long as maxKeys keys of 250 bytes make, and no longer", () => {
  const keys = Array.from({ length: 10 }, (_, i) => `${i}`.padEnd(250, "k")).join(" ");
  const parser = new TextRequestParser({ maxKeys: 10 });
  assert.deepEqual(parser.push(encoder.encode(`get ${keys}`)), []);
  const [request] = parser.push(encoder.encode("\r\n")) as TextRequest[];
  assert.equal(request.keys.length, 10);

  const longer = new TextRequestParser({ maxKeys: 10 });
  assert.deepEqual(describe(longer.push(encoder.encode(`get ${keys} ${"k".repeat(300)}`))), [
    "close:CLIENT_ERROR line too long\r\n",
  ]);
});
