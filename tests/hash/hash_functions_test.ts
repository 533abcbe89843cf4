import assert from "node:assert/strict";
import { crc16 } from "../../lib/hash/crc16.ts";
import { crc32, crc32a } from "../../lib/hash/crc32.ts";
import { fnv1_32, fnv1_64, fnv1a_32, fnv1a_64 } from "../../lib/hash/fnv.ts";
import { HASH_NAMES, hashFunction, type HashName } from "../../lib/hash/hash_functions.ts";
import { hsieh } from "../../lib/hash/hsieh.ts";
import { jenkins } from "../../lib/hash/jenkins.ts";
import { md5 } from "../../lib/hash/md5.ts";
import { murmur } from "../../lib/hash/murmur.ts";
import { one_at_a_time } from "../../lib/hash/one_at_a_time.ts";
import { SeededRandom } from "../helpers/random.ts";

Deno.test("HASH_NAMES lists twemproxy's twelve hashes in its order", () => {
  assert.deepEqual(HASH_NAMES, [
    "one_at_a_time",
    "md5",
    "crc16",
    "crc32",
    "crc32a",
    "fnv1_64",
    "fnv1a_64",
    "fnv1_32",
    "fnv1a_32",
    "hsieh",
    "murmur",
    "jenkins",
  ]);
  assert.ok(Object.isFrozen(HASH_NAMES));
});

Deno.test("hashFunction returns the function of each name", () => {
  const expected = {
    one_at_a_time,
    md5,
    crc16,
    crc32,
    crc32a,
    fnv1_64,
    fnv1a_64,
    fnv1_32,
    fnv1a_32,
    hsieh,
    murmur,
    jenkins,
  };
  for (const name of HASH_NAMES) {
    assert.equal(hashFunction(name), expected[name]);
  }
});

Deno.test("hashFunction rejects an unknown name", () => {
  assert.throws(() => hashFunction("sha1" as HashName), RangeError);
  assert.throws(() => hashFunction("toString" as HashName), RangeError);
});

Deno.test("every hash of a key where it lies in a longer buffer equals the hash of the key alone", () => {
  const random = new SeededRandom(7);
  for (const name of HASH_NAMES) {
    const hash = hashFunction(name);
    for (let length = 0; length <= 40; length++) {
      const before = random.int(5);
      const buffer = new Uint8Array(before + length + random.int(5));
      for (let i = 0; i < buffer.length; i++) buffer[i] = random.int(256);
      const key = buffer.slice(before, before + length);
      assert.equal(hash(buffer, before, before + length), hash(key), `${name}, ${length} bytes`);
    }
  }
});
