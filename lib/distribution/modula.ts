/**
 * twemproxy's `modula` distribution: the key's hash modulo the total weight.
 *
 * @module
 */

import type { Distribution, WeightedServer } from "./distribution.ts";
import { checkServers } from "./servers.ts";

/**
 * twemproxy's modula distribution, bit-compatible with `modula_update` and `modula_dispatch`:
 * server `i` fills `weight` consecutive slots, in server order, and a key's owner is slot
 * `hash % totalWeight`.
 *
 * @example
 * ```ts
 * import { Modula } from "./modula.ts";
 * const modula = new Modula([{ name: "a", weight: 1 }, { name: "b", weight: 2 }]);
 * console.log([0, 1, 2, 3].map((hash) => modula.pick(hash))); // [0, 1, 1, 0]
 * ```
 */
export class Modula implements Distribution {
  /** `slots[j]` is the index of the server that owns hashes equal to `j` modulo `slots.length`. */
  readonly slots: Uint32Array;

  /**
   * Lays out the slots of `servers`, in their order.
   *
   * @throws {RangeError} on an empty list or a weight that is not a positive integer
   */
  constructor(servers: readonly WeightedServer[]) {
    checkServers(servers);
    const owners: number[] = [];
    servers.forEach((server, index) => {
      for (let copy = 0; copy < server.weight; copy++) {
        owners.push(index);
      }
    });
    this.slots = Uint32Array.from(owners);
  }

  /** The index of the server owning slot `hash % totalWeight`. */
  pick(hash: number): number {
    return this.slots[hash % this.slots.length];
  }
}
