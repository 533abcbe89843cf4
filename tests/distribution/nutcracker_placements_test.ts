import assert from "node:assert/strict";
import { buildDistribution, type DistributionName } from "../../lib/distribution/build.ts";
import { HASH_NAMES, hashFunction, type HashName } from "../../lib/hash/hash_functions.ts";
import { hashTagged } from "../../lib/hash/hash_tag.ts";
import {
  FOUR_SERVERS,
  LONG_NAMED_SERVERS,
  NUTCRACKER_PLACEMENTS,
  PLACEMENT_KEYS,
  type RecordedServer,
  TWENTY_FIVE_SERVERS,
} from "./nutcracker_placements.ts";

const KEYS = PLACEMENT_KEYS.map((key) => Uint8Array.from(key, (c) => c.charCodeAt(0)));

/** Where memrelay places every recorded key, as a base-36 placement string. */
function placements(
  hash: HashName,
  distribution: DistributionName,
  servers: readonly RecordedServer[],
  tag?: string,
): string {
  const pick = buildDistribution(distribution, servers);
  const hashOf = hashFunction(hash);
  const tagBytes = tag === undefined ? undefined : new TextEncoder().encode(tag);
  return KEYS.map((key) =>
    pick.pick(hashOf(tagBytes === undefined ? key : hashTagged(key, tagBytes))).toString(36)
  ).join("");
}

for (const hash of HASH_NAMES) {
  for (const distribution of ["ketama", "modula"] as const) {
    Deno.test(`${hash} with ${distribution} places keys where nutcracker 0.5.0 does`, () => {
      assert.equal(
        placements(hash, distribution, FOUR_SERVERS),
        NUTCRACKER_PLACEMENTS[`${hash}/${distribution}`],
      );
    });
  }
}

Deno.test("hash_tag {} places keys where nutcracker 0.5.0 does", () => {
  assert.equal(
    placements("fnv1a_64", "ketama", FOUR_SERVERS, "{}"),
    NUTCRACKER_PLACEMENTS["fnv1a_64/ketama/hash_tag"],
  );
});

Deno.test("ketama cuts point strings to 272 bytes as nutcracker 0.5.0 does", () => {
  assert.equal(
    placements("md5", "ketama", LONG_NAMED_SERVERS),
    NUTCRACKER_PLACEMENTS["md5/ketama/long_names"],
  );
});

Deno.test("ketama over 25 equal servers places keys where nutcracker 0.5.0 does", () => {
  assert.equal(
    placements("fnv1a_64", "ketama", TWENTY_FIVE_SERVERS),
    NUTCRACKER_PLACEMENTS["fnv1a_64/ketama/25_equal"],
  );
});
