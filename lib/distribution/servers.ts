/**
 * Checks shared by every distribution builder.
 *
 * @module
 */

import type { WeightedServer } from "./distribution.ts";

/**
 * Throws unless `servers` is non-empty and every weight is a positive integer, as twemproxy
 * requires of a pool.
 *
 * @throws {RangeError} on an empty list or a weight that is not a positive integer
 *
 * @example
 * ```ts
 * import { checkServers } from "./servers.ts";
 * checkServers([{ name: "a", weight: 1 }]); // passes
 * ```
 */
export function checkServers(servers: readonly WeightedServer[]): void {
  if (servers.length === 0) {
    throw new RangeError("a distribution needs at least one server");
  }
  for (const { name, weight } of servers) {
    if (!Number.isSafeInteger(weight) || weight < 1) {
      throw new RangeError(`server "${name}" has weight ${weight}; expected a positive integer`);
    }
  }
}
