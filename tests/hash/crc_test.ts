import assert from "node:assert/strict";
import { crc16 } from "../../lib/hash/crc16.ts";
import { crc32, crc32a } from "../../lib/hash/crc32.ts";

const CHECK = new TextEncoder().encode("123456789");

Deno.test("crc32a gives the standard CRC-32 check value", () => {
  assert.equal(crc32a(CHECK), 0xcbf43926);
});

Deno.test("crc32 is bits 16..30 of the standard CRC-32", () => {
  assert.equal(crc32(CHECK), (0xcbf43926 >>> 16) & 0x7fff);
});

Deno.test("crc16's low 16 bits are the CRC-16/XMODEM of the key", () => {
  assert.equal(crc16(CHECK) & 0xffff, 0x31c3);
});

Deno.test("crc16 keeps the bits above 16 that twemproxy 0.5.0 never masks off", () => {
  assert.ok(crc16(CHECK) > 0xffff);
  assert.equal(crc16(Uint8Array.of(0x01)), 0x1021);
  assert.equal(crc16(Uint8Array.of(0x01, 0x00)), 0x103331);
});
