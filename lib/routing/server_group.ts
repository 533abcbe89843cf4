import type { Backend } from "../backend/backend.ts";
import type { Distribution } from "../distribution/distribution.ts";

/** Builds a distribution over some of a group's servers, given by their indexes, in order. */
export type DistributionBuilder = (servers: readonly number[]) => Distribution;

/**
 * A list of servers and the distribution that spreads keys over them: the primaries, or one
 * backup pool. With ejection on (twemproxy's `auto_eject_hosts`), a down server is taken out of
 * the distribution and its keys spread over the others until it answers again.
 */
export class ServerGroup {
  readonly #build: DistributionBuilder;
  readonly #ejects: boolean;
  #distribution: Distribution;
  /** The servers in the distribution, by index, when some are ejected; null when none are. */
  #live: number[] | null = null;

  /**
   * @param backends The servers, in configuration order.
   * @param build Builds the distribution over the servers given.
   * @param ejects Whether a down server is taken out of the distribution.
   */
  constructor(readonly backends: readonly Backend[], build: DistributionBuilder, ejects = false) {
    this.#build = build;
    this.#ejects = ejects;
    this.#distribution = build(backends.map((_, i) => i));
  }

  /** The index of the server that owns a key with hash `hash`. */
  indexOf(hash: number): number {
    const picked = this.#distribution.pick(hash);
    return this.#live === null ? picked : this.#live[picked];
  }

  /** The server that owns a key with hash `hash`. */
  pick(hash: number): Backend {
    return this.backends[this.indexOf(hash)];
  }

  /**
   * Rebuilds the distribution over the servers that are up, when ejection is on. Returns true
   * when that changed which servers are in it. With every server down, all stay in.
   */
  reconsider(): boolean {
    if (!this.#ejects) return false;
    const up = this.backends.flatMap((b, i) => b.up ? [i] : []);
    const live = up.length === this.backends.length || up.length === 0 ? null : up;
    if (String(live) === String(this.#live)) return false;
    this.#live = live;
    this.#distribution = this.#build(live ?? this.backends.map((_, i) => i));
    return true;
  }
}
