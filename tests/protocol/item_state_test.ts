import assert from "node:assert/strict";
import { addItemRequest, exptimeFor, parseItemState } from "../../lib/protocol/text/item_state.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const bytes = (s: string) => new TextEncoder().encode(s);

Deno.test("an mg reply gives the value, flags and TTL; a miss gives nothing", () => {
  const item = parseItemState(bytes("VA 3 f42 t120\r\na\r\n\r\n"))!;
  assert.equal(item.flags, 42);
  assert.equal(item.ttl, 120);
  assert.equal(text(item.data), "a\r\n\r\n");
  assert.equal(parseItemState(bytes("VA 0 t-1 f0\r\n\r\n"))!.ttl, -1);
  assert.equal(parseItemState(bytes("EN\r\n")), null);
});

Deno.test("a remaining TTL becomes the exptime memcached reads the same way", () => {
  assert.equal(exptimeFor(-1), 0, "no expiry");
  assert.equal(exptimeFor(0), 1, "about to expire is not forever");
  assert.equal(exptimeFor(3600), 3600);
  assert.equal(exptimeFor(60 * 60 * 24 * 31, 1_000_000), 1_000_000 + 60 * 60 * 24 * 31);
});

Deno.test("a copy is an add of the same bytes, flags and TTL", () => {
  const item = parseItemState(bytes("VA 2 f7 t99\r\nhi\r\n"))!;
  assert.equal(text(addItemRequest(bytes("k"), item)), "add k 7 99 2\r\nhi\r\n");
});
