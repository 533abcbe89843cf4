import assert from "node:assert/strict";
import { HASH_NAMES, hashFunction, type HashName } from "../../lib/hash/hash_functions.ts";
import { LIBMEMCACHED_HASHES, LIBMEMCACHED_KEYS } from "./libmemcached_hash_vectors.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

/** twemproxy's `src/test_all.c`, `test_hash_algorithms`: every hash of "apple". */
const TEST_ALL_APPLE: Readonly<Record<HashName, number>> = {
  one_at_a_time: 2297466611,
  md5: 3195025439,
  crc16: 3662830516,
  crc32: 10542,
  crc32a: 2838417488,
  fnv1_32: 67176023,
  fnv1a_32: 280767167,
  fnv1_64: 473199127,
  fnv1a_64: 1488911807,
  hsieh: 3738850110,
  jenkins: 1442444624,
  murmur: 4142305122,
};

for (const name of HASH_NAMES) {
  Deno.test(`${name} matches twemproxy's test vector for "apple"`, () => {
    assert.equal(hashFunction(name)(bytes("apple")), TEST_ALL_APPLE[name]);
  });
}

for (const [name, expected] of Object.entries(LIBMEMCACHED_HASHES)) {
  Deno.test(`${name} matches libmemcached's vectors for 25 keys`, () => {
    const hash = hashFunction(name as HashName);
    assert.deepEqual(LIBMEMCACHED_KEYS.map((key) => hash(bytes(key))), expected);
  });
}

Deno.test("every hash returns an unsigned 32-bit integer, also for the empty key", () => {
  const keys = [new Uint8Array(0), bytes("x"), Uint8Array.from({ length: 300 }, (_, i) => 255 - i)];
  for (const name of HASH_NAMES) {
    for (const key of keys) {
      const value = hashFunction(name)(key);
      assert.ok(Number.isInteger(value) && value >= 0 && value <= 0xffffffff, `${name}: ${value}`);
    }
  }
});

Deno.test("hashes of the empty key are twemproxy's", () => {
  const empty = new Uint8Array(0);
  assert.equal(hashFunction("hsieh")(empty), 0);
  assert.equal(hashFunction("jenkins")(empty), (0xdeadbeef + 13) >>> 0);
  assert.equal(hashFunction("fnv1a_64")(empty), 0x84222325);
  assert.equal(hashFunction("fnv1a_32")(empty), 0x811c9dc5);
  assert.equal(hashFunction("crc32a")(empty), 0);
  assert.equal(hashFunction("one_at_a_time")(empty), 0);
});
