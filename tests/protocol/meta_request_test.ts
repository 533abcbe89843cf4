import assert from "node:assert/strict";
import { decodeBase64Key, encodeBase64Key, isPlainKey } from "../../lib/protocol/meta/meta_key.ts";
import { quietReply } from "../../lib/protocol/meta/meta_request.ts";
import { Command } from "../../lib/protocol/text/command.ts";
import { TextRequestParser } from "../../lib/protocol/text/request_parser.ts";
import { TextRequest } from "../../lib/protocol/text/text_request.ts";

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test("base64 keys decode to their bytes and encode back, and bad base64 is refused", () => {
  for (const key of ["k", "k1", "key", "a longer key with spaces\r\n", ""]) {
    assert.equal(text(decodeBase64Key(encodeBase64Key(bytes(key))) ?? bytes("?")), key || "?");
  }
  assert.equal(decodeBase64Key(bytes("!!!")), null);
  assert.equal(decodeBase64Key(bytes("azE")), null);
  assert.ok(isPlainKey(bytes("k:1")));
  assert.ok(!isPlainKey(bytes("with space")));
  assert.ok(!isPlainKey(new Uint8Array(251).fill(0x61)));
});

Deno.test("a key is plain unless a space, a line feed or a NUL would end it on a command line", () => {
  // memcached's text protocol takes these as key bytes (memcaslap's keys hold control bytes).
  for (const key of ["tab\tkey", "cr\rkey", "del\x7fkey", "\x10\x01ctl"]) {
    assert.ok(isPlainKey(bytes(key)), JSON.stringify(key));
  }
  for (const key of ["a b", "a\nb", "a\0b", ""]) {
    assert.ok(!isPlainKey(bytes(key)), JSON.stringify(key));
  }
});

Deno.test("a meta request is placed by its decoded key, and its q flag is kept from the server", () => {
  const items = new TextRequestParser().push(bytes("mg azE= b v q O5\r\nms k 2 T0 q\r\nhi\r\n"));
  const [get, set] = items as TextRequest[];
  assert.equal(get.command, Command.MetaGet);
  assert.equal(text(get.keys[0]), "k1");
  assert.equal(text(get.raw), "mg azE= b v O5\r\n");
  assert.equal(get.toClient?.(bytes("EN\r\n")).length, 0);
  assert.equal(text(get.toClient!(bytes("VA 1\r\nx\r\n"))), "VA 1\r\nx\r\n");
  assert.equal(text(set.raw), "ms k 2 T0\r\nhi\r\n");
  assert.equal(text(set.data), "hi\r\n");
});

Deno.test("quiet mode suppresses what memcached suppresses: a get's miss, a change's success", () => {
  const shown = (command: number, reply: string) =>
    quietReply(command as typeof Command.MetaGet, bytes(reply)).length > 0;
  assert.ok(!shown(Command.MetaGet, "EN\r\n"));
  assert.ok(shown(Command.MetaGet, "HD\r\n"));
  assert.ok(!shown(Command.MetaSet, "HD\r\n"));
  assert.ok(shown(Command.MetaSet, "NS\r\n"));
  assert.ok(!shown(Command.MetaDelete, "HD\r\n"));
  assert.ok(shown(Command.MetaDelete, "NF\r\n"));
  assert.ok(!shown(Command.MetaArithmetic, "VA 1\r\n5\r\n"));
  assert.ok(shown(Command.MetaArithmetic, "NF\r\n"));
});

Deno.test("meta lines the servers could not keep in step are answered by the proxy", () => {
  const replies = new TextRequestParser({ maxItemSize: 4 }).push(
    bytes(`mn\r\nmg\r\nme\r\nms k abc\r\nms ${"k".repeat(251)} 2\r\nms k 5\r\nhello\r\nmn\r\n`),
  ).map((item) =>
    item instanceof TextRequest ? `request ${text(item.raw)}` : text(item as Uint8Array)
  );
  assert.deepEqual(replies, [
    "MN\r\n",
    "ERROR\r\n",
    "CLIENT_ERROR bad command line format\r\n",
    "CLIENT_ERROR bad command line format\r\n",
    "CLIENT_ERROR bad command line format\r\n",
    "SERVER_ERROR object too large for cache\r\n",
    "request md k\r\n",
    "MN\r\n",
  ]);
});

Deno.test("a meta line with more flags than memcached takes is refused, and an ms's data is not read", () => {
  const flags = (count: number) => " v".repeat(count);
  const replies = new TextRequestParser().push(
    bytes(
      `ms k 2 q${flags(16)}\r\nmn\r\nmg k q${flags(17)}\r\nmd k${flags(18)}\r\nme k${
        flags(20)
      }\r\n`,
    ),
  ).map((item) =>
    item instanceof TextRequest ? `request ${text(item.raw)}` : text(item as Uint8Array)
  );
  assert.deepEqual(replies, [
    "CLIENT_ERROR options flags too long\r\n",
    "MN\r\n",
    "CLIENT_ERROR options flags are too long\r\n",
    "CLIENT_ERROR options flags too long\r\n",
    `request me k${flags(20)}\r\n`,
  ]);
});
