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
