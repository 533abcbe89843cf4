import type { Backend } from "../backend/backend.ts";
import type { PoolConfig, ProxyConfig, ServerConfig } from "../config/proxy_config.ts";
import { buildDistribution } from "../distribution/build.ts";
import { hashFunction } from "../hash/hash_functions.ts";
import { magent } from "../hash/magent.ts";
import type { Logger } from "../observability/log.ts";
import type { ProxyStats } from "../observability/stats.ts";
import { Pool } from "../routing/pool.ts";
import { Router } from "../routing/router.ts";
import { ServerGroup } from "../routing/server_group.ts";

/** A backend of the route tree, and what it is to its pool. */
export interface BackendEntry {
  /** The backend. */
  readonly backend: Backend;
  /** The pool that owns it: each pool has its own connections to a server. */
  readonly pool: string;
  /** `primary`, `backup`, or `primary+backup`. */
  readonly role: string;
  /** Its pool's timeout, which bounds how long its requests can stay in flight. */
  readonly timeoutMs: number;
}

/**
 * How long a server that answers again is left to run what it had buffered (a hung server
 * does, once resumed) before the writes it missed are replayed on it.
 */
const REPLAY_SETTLE_MS = 100;

/** One pool of the tree. */
export interface PoolRoutes {
  /** The pool's configuration. */
  readonly config: PoolConfig;
  /** Its placement and replication state. */
  readonly pool: Pool;
  /** The router its listeners hand requests to. */
  readonly router: Router;
  /** Its primaries, in configuration order. */
  readonly primaries: readonly Backend[];
}

/** Everything requests are routed over, built from one configuration. Never changed once built. */
export interface RouteTree {
  /** The configuration it was built from. */
  readonly config: ProxyConfig;
  /** The pools, in configuration order. */
  readonly pools: readonly PoolRoutes[];
  /** Every backend, by {@linkcode backendKey}. */
  readonly backends: ReadonlyMap<string, BackendEntry>;
}

/**
 * What identifies a backend across reloads: its pool, its address, and every pool setting a
 * backend is built with. A reload keeps (connections and health included) each backend whose key
 * it still has, and replaces the others.
 */
export function backendKey(pool: PoolConfig, server: ServerConfig): string {
  return [
    pool.name,
    `${server.host}:${server.port}`,
    pool.timeoutMs,
    pool.serverConnections,
    pool.serverFailureLimit,
    pool.serverRetryTimeoutMs,
  ].join("\0");
}

/**
 * The name twemproxy builds a server's ketama points from when it has no name of its own:
 * `host:port`, or just `host` on memcached's default port 11211.
 */
function continuumName(server: ServerConfig): string {
  return server.port === 11211 ? server.host : `${server.host}:${server.port}`;
}

/**
 * Builds the route tree of `config`: each pool's server groups, placement and router.
 *
 * @param config A valid configuration.
 * @param stats The counters operations update.
 * @param reuse The backends of the tree in use, by key: those the new tree also has are taken.
 * @param create Makes a backend the old tree did not have (not yet connected).
 * @param logger Where replays and refills are logged.
 */
export function buildRouteTree(
  config: ProxyConfig,
  stats: ProxyStats,
  reuse: ReadonlyMap<string, BackendEntry>,
  create: (pool: PoolConfig, server: ServerConfig) => Backend,
  logger: Logger,
): RouteTree {
  const backends = new Map<string, BackendEntry>();
  const pools: PoolRoutes[] = [];
  for (const poolConfig of config.pools) {
    const roles = new Map<string, Set<string>>();
    const backendFor = (server: ServerConfig, role: string): Backend => {
      // Within a pool, a server that is both primary and backup is one backend.
      const key = backendKey(poolConfig, server);
      let entry = backends.get(key);
      if (entry === undefined) {
        const backend = reuse.get(key)?.backend ?? create(poolConfig, server);
        entry = { backend, pool: poolConfig.name, role, timeoutMs: poolConfig.timeoutMs };
        backends.set(key, entry);
      }
      if (!roles.has(key)) roles.set(key, new Set());
      roles.get(key)!.add(role);
      return entry.backend;
    };
    const groupOf = (servers: ServerConfig[], role: string): ServerGroup => {
      const weighted = servers.map((s) => ({ name: s.name ?? continuumName(s), weight: s.weight }));
      return new ServerGroup(
        servers.map((s) => backendFor(s, role)),
        (live) => buildDistribution(poolConfig.distribution, live.map((i) => weighted[i])),
        poolConfig.autoEjectHosts,
      );
    };
    // magent's placement hashes whole keys with its own hash, whatever the pool names.
    const magentPlacement = poolConfig.distribution === "magent";
    const primaries = groupOf(poolConfig.servers, "primary");
    const pool = new Pool(
      primaries,
      poolConfig.backups.map((group) => groupOf(group, "backup")),
      magentPlacement ? magent : hashFunction(poolConfig.hash),
      poolConfig.hashTag === null || magentPlacement
        ? null
        : new TextEncoder().encode(poolConfig.hashTag),
      stats,
      {
        options: {
          replayLimit: poolConfig.replayLimit,
          refillRate: poolConfig.refillRate,
          settleMs: REPLAY_SETTLE_MS,
          timeoutMs: poolConfig.timeoutMs,
        },
        logger,
      },
    );
    for (const [key, set] of roles) {
      const entry = backends.get(key)!;
      backends.set(key, { ...entry, role: [...set].sort().reverse().join("+") });
    }
    pools.push({
      config: poolConfig,
      pool,
      router: new Router(pool),
      primaries: primaries.backends,
    });
  }
  return { config, pools, backends };
}
