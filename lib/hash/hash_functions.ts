/**
 * twemproxy's twelve key hashes, by the names its `hash:` setting takes.
 *
 * @module
 */

import { crc16 } from "./crc16.ts";
import { crc32, crc32a } from "./crc32.ts";
import { fnv1_32, fnv1_64, fnv1a_32, fnv1a_64 } from "./fnv.ts";
import type { HashFunction } from "./hash_function.ts";
import { hsieh } from "./hsieh.ts";
import { jenkins } from "./jenkins.ts";
import { md5 } from "./md5.ts";
import { murmur } from "./murmur.ts";
import { one_at_a_time } from "./one_at_a_time.ts";

/** The value of a twemproxy pool's `hash:` setting. */
export type HashName =
  | "one_at_a_time"
  | "md5"
  | "crc16"
  | "crc32"
  | "crc32a"
  | "fnv1_64"
  | "fnv1a_64"
  | "fnv1_32"
  | "fnv1a_32"
  | "hsieh"
  | "murmur"
  | "jenkins";

const FUNCTIONS: Readonly<Record<HashName, HashFunction>> = {
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

/**
 * Every hash name, in twemproxy's order (`fnv1a_64` is twemproxy's default).
 *
 * @example
 * ```ts
 * import { HASH_NAMES } from "./hash_functions.ts";
 * console.log(HASH_NAMES.includes("murmur")); // true
 * ```
 */
export const HASH_NAMES: readonly HashName[] = Object.freeze([
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

/**
 * The hash function twemproxy uses for `hash: <name>`.
 *
 * @throws {RangeError} if `name` is not a {@link HashName} (possible only from untyped input).
 *
 * @example
 * ```ts
 * import { hashFunction } from "./hash_functions.ts";
 * const hash = hashFunction("fnv1a_64");
 * console.log(hash(new TextEncoder().encode("apple"))); // 1488911807
 * ```
 */
export function hashFunction(name: HashName): HashFunction {
  if (!Object.hasOwn(FUNCTIONS, name)) {
    throw new RangeError(`unknown hash "${name}"; expected one of ${HASH_NAMES.join(", ")}`);
  }
  return FUNCTIONS[name];
}
