/**
 * twemproxy's `random` distribution: any server, whatever the key.
 *
 * @module
 */

import type { Distribution, WeightedServer } from "./distribution.ts";
import { checkServers } from "./servers.ts";

/**
 * twemproxy's random distribution: each pick is a uniformly random server, ignoring the hash.
 *
 * As in twemproxy's `random_update`, which gives every live server exactly one slot, weights
 * are ignored: a server of weight 3 is picked as often as one of weight 1.
 *
 * @example
 * ```ts
 * import { RandomDistribution } from "./random.ts";
 * const random = new RandomDistribution([{ name: "a", weight: 1 }, { name: "b", weight: 1 }]);
 * console.log(random.pick(0) < 2); // true
 * ```
 */
export class RandomDistribution implements Distribution {
  /** The number of servers picked from. */
  readonly size: number;
  readonly #random: () => number;

  /**
   * @param servers the servers, in order
   * @param random a source of numbers uniform in [0, 1); `Math.random` unless given (tests pass a
   *   deterministic one)
   * @throws {RangeError} on an empty list or a weight that is not a positive integer
   */
  constructor(servers: readonly WeightedServer[], random: () => number = Math.random) {
    checkServers(servers);
    this.size = servers.length;
    this.#random = random;
  }

  /** A random server index; `_hash` is ignored. */
  pick(_hash: number): number {
    return Math.floor(this.#random() * this.size);
  }
}
