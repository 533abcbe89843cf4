/**
 * Builds a distribution by the name a configuration gives it.
 *
 * @module
 */

import type { Distribution, WeightedServer } from "./distribution.ts";
import { Ketama } from "./ketama.ts";
import { Magent } from "./magent.ts";
import { Modula } from "./modula.ts";
import { RandomDistribution } from "./random.ts";

/**
 * A distribution's name: twemproxy's three `distribution:` values, plus `magent` for magent's
 * placement (which must be fed `magent(key)` hashes, see `Magent`).
 */
export type DistributionName = "ketama" | "modula" | "random" | "magent";

/**
 * Every distribution name (`ketama` is twemproxy's default).
 *
 * @example
 * ```ts
 * import { DISTRIBUTION_NAMES } from "./build.ts";
 * console.log(DISTRIBUTION_NAMES.length); // 4
 * ```
 */
export const DISTRIBUTION_NAMES: readonly DistributionName[] = Object.freeze([
  "ketama",
  "modula",
  "random",
  "magent",
]);

/**
 * Builds the `name` distribution over `servers`; `pick` returns indexes into `servers`.
 *
 * @throws {RangeError} on an unknown name (possible only from untyped input), an empty server
 *   list, or a weight that is not a positive integer
 *
 * @example
 * ```ts
 * import { buildDistribution } from "./build.ts";
 * const modula = buildDistribution("modula", [
 *   { name: "a", weight: 1 },
 *   { name: "b", weight: 1 },
 * ]);
 * console.log(modula.pick(3)); // 1
 * ```
 */
export function buildDistribution(
  name: DistributionName,
  servers: readonly WeightedServer[],
): Distribution {
  switch (name) {
    case "ketama":
      return new Ketama(servers);
    case "modula":
      return new Modula(servers);
    case "random":
      return new RandomDistribution(servers);
    case "magent":
      return new Magent(servers);
    default:
      throw new RangeError(
        `unknown distribution "${name}"; expected one of ${DISTRIBUTION_NAMES.join(", ")}`,
      );
  }
}
