import type { Backend } from "../backend/backend.ts";
import type { Distribution } from "../distribution/distribution.ts";

/**
 * A list of servers and the distribution that spreads keys over them: the primaries, or one
 * backup pool.
 */
export class ServerGroup {
  /**
   * @param backends The servers, in configuration order.
   * @param distribution Built over the same servers, in the same order.
   */
  constructor(readonly backends: readonly Backend[], readonly distribution: Distribution) {}

  /** The index of the server that owns a key with hash `hash`. */
  indexOf(hash: number): number {
    return this.distribution.pick(hash);
  }

  /** The server that owns a key with hash `hash`. */
  pick(hash: number): Backend {
    return this.backends[this.distribution.pick(hash)];
  }
}
