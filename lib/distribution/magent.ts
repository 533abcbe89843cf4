/**
 * magent's placement: its own key hash modulo the server count.
 *
 * @module
 */

import type { Distribution, WeightedServer } from "./distribution.ts";
import { checkServers } from "./servers.ts";

/**
 * magent's placement without `-k`: server `hash % serverCount`, weights ignored (magent has
 * none).
 *
 * magent does not use the pool's configured hash: `hash` must be `magent(key)` from
 * `lib/hash/magent.ts` (a DJB hash with the top bit cleared), computed over the whole key (magent
 * has no hash tags). With that hash, `pick` reproduces magent's `hashme(key) % matrixcnt`.
 * magent's `-k` ketama mode is a different continuum and is not implemented here.
 *
 * @example
 * ```ts
 * import { Magent } from "./magent.ts";
 * import { magent } from "../hash/magent.ts";
 * const placement = new Magent([{ name: "a", weight: 1 }, { name: "b", weight: 1 }]);
 * console.log(placement.pick(magent(new TextEncoder().encode("a")))); // 0 (177670 % 2)
 * ```
 */
export class Magent implements Distribution {
  /** The number of servers. */
  readonly size: number;

  /**
   * @param servers the servers, in magent's `-s` order
   * @throws {RangeError} on an empty list or a weight that is not a positive integer
   */
  constructor(servers: readonly WeightedServer[]) {
    checkServers(servers);
    this.size = servers.length;
  }

  /** Server `hash % serverCount`, where `hash` is `magent(key)`. */
  pick(hash: number): number {
    return hash % this.size;
  }
}
