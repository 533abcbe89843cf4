import assert from "node:assert/strict";
import { hashTagged } from "../../lib/hash/hash_tag.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const BRACES = encoder.encode("{}");

/** The tagged part of `key` under `tag`, as text. */
const tagged = (key: string, tag: Uint8Array = BRACES) =>
  decoder.decode(hashTagged(encoder.encode(key), tag));

Deno.test("hashTagged hashes only the part between the tags", () => {
  assert.equal(tagged("user:{42}:name"), "42");
  assert.equal(tagged("{a}"), "a");
  assert.equal(tagged("pre{tag}post{other}"), "tag");
});

Deno.test("hashTagged returns a view into the key, not a copy", () => {
  const key = encoder.encode("x{abc}y");
  const part = hashTagged(key, BRACES);
  assert.equal(part.buffer, key.buffer);
  assert.equal(part.byteOffset, key.byteOffset + 2);
  assert.equal(part.length, 3);
});

Deno.test("hashTagged hashes the whole key when there is no left tag", () => {
  assert.equal(tagged("plain"), "plain");
  assert.equal(tagged("a}b"), "a}b");
});

Deno.test("hashTagged hashes the whole key when the right tag is missing after the left", () => {
  assert.equal(tagged("a{bc"), "a{bc");
  assert.equal(tagged("x}y{z"), "x}y{z");
  assert.equal(tagged("{"), "{");
});

Deno.test("hashTagged hashes the whole key when the tag is empty", () => {
  assert.equal(tagged("user:{}:name"), "user:{}:name");
  assert.equal(tagged("{}"), "{}");
});

Deno.test("hashTagged tries only the first left tag", () => {
  assert.equal(tagged("a{}{b}"), "a{}{b}");
  assert.equal(tagged("{{a}}"), "{a");
  assert.equal(tagged("x}y{z}"), "z");
});

Deno.test("hashTagged looks for the right tag after the left one when both are the same byte", () => {
  const dollars = encoder.encode("$$");
  assert.equal(tagged("a$b$c", dollars), "b");
  assert.equal(tagged("a$$c", dollars), "a$$c");
  assert.equal(tagged("a$bc", dollars), "a$bc");
});

Deno.test("hashTagged rejects a tag that is not two bytes", () => {
  assert.throws(() => hashTagged(encoder.encode("k"), encoder.encode("{")), RangeError);
  assert.throws(() => hashTagged(encoder.encode("k"), encoder.encode("{}}")), RangeError);
});
