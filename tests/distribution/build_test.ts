import assert from "node:assert/strict";
import {
  buildDistribution,
  DISTRIBUTION_NAMES,
  type DistributionName,
} from "../../lib/distribution/build.ts";
import { Ketama } from "../../lib/distribution/ketama.ts";
import { Magent } from "../../lib/distribution/magent.ts";
import { Modula } from "../../lib/distribution/modula.ts";
import { RandomDistribution } from "../../lib/distribution/random.ts";

const servers = [{ name: "a", weight: 1 }, { name: "b", weight: 2 }];

Deno.test("buildDistribution builds the distribution of each name", () => {
  assert.ok(buildDistribution("ketama", servers) instanceof Ketama);
  assert.ok(buildDistribution("modula", servers) instanceof Modula);
  assert.ok(buildDistribution("random", servers) instanceof RandomDistribution);
  assert.ok(buildDistribution("magent", servers) instanceof Magent);
  assert.deepEqual(DISTRIBUTION_NAMES, ["ketama", "modula", "random", "magent"]);
});

Deno.test("every built distribution picks an index into the server list", () => {
  for (const name of DISTRIBUTION_NAMES) {
    const distribution = buildDistribution(name, servers);
    for (const hash of [0, 1, 2, 0x7fffffff, 0xffffffff]) {
      const index = distribution.pick(hash);
      assert.ok(index === 0 || index === 1, `${name}(${hash}) = ${index}`);
    }
  }
});

Deno.test("buildDistribution rejects an unknown name and an empty pool", () => {
  assert.throws(() => buildDistribution("vnode" as DistributionName, servers), RangeError);
  assert.throws(() => buildDistribution("ketama", []), RangeError);
});
