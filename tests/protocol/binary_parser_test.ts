import assert from "node:assert/strict";
import { BinaryRequestParser } from "../../lib/protocol/binary/binary_parser.ts";
import { Opcode, Status } from "../../lib/protocol/binary/opcodes.ts";
import { ProtocolClose } from "../../lib/protocol/text/request_parser.ts";
import { TextRequest } from "../../lib/protocol/text/text_request.ts";
import { binaryPacket, setExtras } from "../helpers/binary_client.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const bytes = (s: string) => new TextEncoder().encode(s);
const local = { version: "1.6.0-test", statsReply: () => bytes("STAT pid 1\r\nEND\r\n") };
const status = (packet: Uint8Array) => new DataView(packet.buffer).getUint16(6);

Deno.test("keyed binary requests become meta commands, base64 for keys that are not plain", () => {
  const parser = new BinaryRequestParser(local);
  const items = parser.push(Uint8Array.from([
    ...binaryPacket(Opcode.GetKQ, { key: "k" }),
    ...binaryPacket(Opcode.Set, { key: "k", value: "hi", extras: setExtras(5, 60), cas: 9n }),
    ...binaryPacket(Opcode.AddQ, { key: "a b", value: "x", extras: setExtras(0, 0) }),
    ...binaryPacket(Opcode.DeleteQ, { key: "k" }),
  ])) as TextRequest[];
  assert.deepEqual(items.map((r) => text(r.raw)), [
    "mg k v f c\r\n",
    "ms k 2 F5 T60 c C9\r\nhi\r\n",
    "ms YSBi 1 b F0 T0 c ME\r\nx\r\n",
    "md k\r\n",
  ]);
  assert.equal(text(items[2].keys[0]), "a b", "placed by the key's own bytes");
});

Deno.test("replies become binary responses; quiet forms drop what memcached drops", () => {
  const [getq, setq, get] = new BinaryRequestParser(local).push(Uint8Array.from([
    ...binaryPacket(Opcode.GetQ, { key: "k", opaque: 1 }),
    ...binaryPacket(Opcode.SetQ, { key: "k", value: "v", extras: setExtras(0, 0) }),
    ...binaryPacket(Opcode.Get, { key: "k", opaque: 3 }),
  ])) as TextRequest[];
  assert.equal(getq.toClient!(bytes("EN\r\n")).length, 0, "a quiet get's miss");
  assert.equal(setq.toClient!(bytes("HD c5\r\n")).length, 0, "a quiet set's success");
  assert.equal(status(setq.toClient!(bytes("NS\r\n"))), Status.NotStored, "a quiet set's failure");
  const hit = get.toClient!(bytes("VA 2 f7 c42\r\nhi\r\n"));
  const view = new DataView(hit.buffer);
  assert.equal(hit[0], 0x81);
  assert.equal(view.getUint32(12), 3, "the opaque");
  assert.equal(view.getBigUint64(16), 42n, "the cas");
  assert.equal(view.getUint32(24), 7, "the flags extra");
  assert.equal(text(hit.subarray(28)), "hi");
});

Deno.test("noop, version and stat are answered in place; an unknown opcode is answered and skipped", () => {
  const items = new BinaryRequestParser(local).push(Uint8Array.from([
    ...binaryPacket(0x55, { key: "x" }),
    ...binaryPacket(Opcode.Version),
    ...binaryPacket(Opcode.Stat),
    ...binaryPacket(Opcode.Noop),
  ])) as Uint8Array[];
  assert.equal(status(items[0]), Status.UnknownCommand);
  assert.equal(text(items[1].subarray(24)), "1.6.0-test");
  assert.equal(items[2].length, 24 + 3 + 1 + 24, "one stat, then the empty terminator");
  assert.equal(items[3][1], Opcode.Noop);
});

Deno.test("a value over the item size is refused and dropped unread, and a set's old value deleted", () => {
  const parser = new BinaryRequestParser(local, { maxItemSize: 4 });
  const packet = binaryPacket(Opcode.Set, { key: "k", value: "too long", extras: setExtras(0, 0) });
  const items = parser.push(packet.subarray(0, 40));
  assert.equal(status(items[0] as Uint8Array), Status.TooLarge);
  assert.equal(text((items[1] as TextRequest).raw), "md k\r\n");
  const rest = parser.push(Uint8Array.from([...packet.subarray(40), ...binaryPacket(Opcode.Noop)]));
  assert.equal((rest[0] as Uint8Array)[1], Opcode.Noop);
});

Deno.test("malformed lengths and bad magic bytes end the stream, quit answers first, quitq does not", () => {
  const bad = new BinaryRequestParser(local).push(
    binaryPacket(Opcode.Get, { extras: setExtras(0, 0), key: "k" }),
  );
  assert.ok(bad[0] instanceof ProtocolClose);
  assert.equal(status((bad[0] as ProtocolClose).reply!), Status.InvalidArguments);
  const magic = new BinaryRequestParser(local).push(new Uint8Array(24).fill(0x42));
  assert.ok(magic[0] instanceof ProtocolClose && magic[0].reply === null);
  const [quit] = new BinaryRequestParser(local).push(binaryPacket(Opcode.Quit));
  assert.equal((quit as ProtocolClose).reply![1], Opcode.Quit);
  const [quitq] = new BinaryRequestParser(local).push(binaryPacket(Opcode.QuitQ));
  assert.equal((quitq as ProtocolClose).reply, null);
});

Deno.test("with credentials, SASL PLAIN must come first; a wrong password may try again", () => {
  const authenticate = (user: Uint8Array, password: Uint8Array) =>
    text(user) === "alice" && text(password) === "s3cret";
  const parser = new BinaryRequestParser({ ...local, authenticate });
  const [mechs, version, wrong, right, get] = parser.push(Uint8Array.from([
    ...binaryPacket(Opcode.SaslListMechs),
    ...binaryPacket(Opcode.Version),
    ...binaryPacket(Opcode.SaslAuth, { key: "PLAIN", value: "\0alice\0guess" }),
    ...binaryPacket(Opcode.SaslAuth, { key: "PLAIN", value: "\0alice\0s3cret" }),
    ...binaryPacket(Opcode.Get, { key: "k" }),
  ]));
  assert.equal(text((mechs as Uint8Array).subarray(24)), "PLAIN");
  assert.equal(status(version as Uint8Array), Status.Success);
  assert.equal(status(wrong as Uint8Array), Status.AuthError);
  assert.equal(status(right as Uint8Array), Status.Success);
  assert.ok(get instanceof TextRequest, "served once authenticated");

  const [refused] = new BinaryRequestParser({ ...local, authenticate }).push(
    binaryPacket(Opcode.Get, { key: "k" }),
  );
  assert.ok(refused instanceof ProtocolClose);
  assert.equal(status(refused.reply!), Status.AuthError);
});

Deno.test("without credentials, the SASL opcodes are unknown, as in memcached without SASL", () => {
  const [mechs] = new BinaryRequestParser(local).push(binaryPacket(Opcode.SaslListMechs));
  assert.equal(status(mechs as Uint8Array), Status.UnknownCommand);
});

Deno.test("a key no meta command can name (not plain, over 186 bytes) is refused, and the stream goes on", () => {
  const parser = new BinaryRequestParser(local);
  const [longKey, shortKey, tabKey] = parser.push(Uint8Array.from([
    ...binaryPacket(Opcode.Set, { key: " ".repeat(187), value: "v", extras: setExtras(0, 0) }),
    ...binaryPacket(Opcode.Get, { key: " ".repeat(186) }),
    ...binaryPacket(Opcode.Get, { key: "a\tb" }),
  ]));
  assert.equal(status(longKey as Uint8Array), Status.InvalidArguments);
  assert.equal((shortKey as TextRequest).tokens[1].length, 248, "in base64");
  assert.equal(
    text((tabKey as TextRequest).raw),
    "mg a\tb v f c\r\n",
    "plain: no space, LF or NUL",
  );
});
