import { Backend } from "../backend/backend.ts";
import type { PoolConfig, ProxyConfig, ServerConfig } from "../config/proxy_config.ts";
import { buildDistribution } from "../distribution/build.ts";
import { hashFunction } from "../hash/hash_functions.ts";
import { magent } from "../hash/magent.ts";
import { createLogger, type Logger } from "../observability/log.ts";
import { ProxyStats } from "../observability/stats.ts";
import { Pool } from "../routing/pool.ts";
import { Router } from "../routing/router.ts";
import { ServerGroup } from "../routing/server_group.ts";
import { VERSION_REPLY } from "../version.ts";
import { bindListener } from "./bind.ts";
import { Listener } from "./listener.ts";
import { sessionSettings } from "./session_settings.ts";

/** A running proxy. */
export interface ProxyHandle {
  /** The address of the first listener (the one tests and most users connect to). */
  readonly addr: Deno.Addr;
  /** Every address the proxy listens on, in configuration order. */
  readonly addrs: Deno.Addr[];
  /** The proxy's counters, as `stats` reports them. */
  stats(): Record<string, string | number>;
  /** Stops accepting, closes every client and backend connection. */
  close(): Promise<void>;
}

/** Options of {@linkcode startProxy} that are not configuration. */
export interface StartOptions {
  /** Where events are logged; default: info and above to stderr. */
  logger?: Logger;
}

/**
 * Starts a proxy: binds every pool's listeners, and connects to servers on first use.
 *
 * @example
 * ```ts ignore
 * import { startProxy } from "./proxy.ts";
 * import { configFromFlags } from "../config/magent_flags.ts";
 * const proxy = await startProxy(configFromFlags(["-p", "11000", "-s", "127.0.0.1:11211"]));
 * console.log(proxy.addr);
 * await proxy.close();
 * ```
 */
// deno-lint-ignore require-await -- async so that a failure to bind rejects rather than throws.
export async function startProxy(
  config: ProxyConfig,
  options: StartOptions = {},
): Promise<ProxyHandle> {
  const logger = options.logger ?? createLogger({ level: config.verbose ? "debug" : "info" });
  const stats = new ProxyStats();
  const backends = new Map<string, Backend>();
  const listeners: Listener[] = [];
  const serving: Promise<void>[] = [];

  const backendFor = (pool: PoolConfig, server: ServerConfig): Backend => {
    // Each pool has its own connections to a server, with its own timeout and limits, as in
    // twemproxy; within a pool, a server that is both primary and backup is one backend.
    const key = `${pool.name}\0${server.host}:${server.port}`;
    let backend = backends.get(key);
    if (backend === undefined) {
      backend = new Backend({
        hostname: server.host,
        port: server.port,
        timeoutMs: pool.timeoutMs,
        connections: pool.serverConnections,
        failureLimit: pool.serverFailureLimit,
        retryTimeoutMs: pool.serverRetryTimeoutMs,
        onStateChange(b, up, reason) {
          stats.backendStateChanges++;
          logger.log(up ? "info" : "warn", up ? "server up" : "server down", {
            server: b.address,
            reason,
          });
        },
      });
      backends.set(key, backend);
    }
    return backend;
  };

  const groupOf = (pool: PoolConfig, servers: ServerConfig[]): ServerGroup =>
    new ServerGroup(
      servers.map((s) => backendFor(pool, s)),
      buildDistribution(
        pool.distribution,
        servers.map((s) => ({ name: s.name ?? continuumName(s), weight: s.weight })),
      ),
    );

  const extraStats = (): Array<[string, string | number]> => {
    let down = 0;
    for (const b of backends.values()) if (!b.up) down++;
    return [["servers", backends.size], ["servers_down", down]];
  };

  try {
    for (const poolConfig of config.pools) {
      // magent's placement hashes whole keys with its own hash, whatever the pool names.
      const magentPlacement = poolConfig.distribution === "magent";
      const pool = new Pool(
        groupOf(poolConfig, poolConfig.servers),
        poolConfig.backups.map((backupServers) => groupOf(poolConfig, backupServers)),
        magentPlacement ? magent : hashFunction(poolConfig.hash),
        poolConfig.hashTag === null || magentPlacement
          ? null
          : new TextEncoder().encode(poolConfig.hashTag),
        stats,
      );
      if (poolConfig.preconnect) { for (const b of pool.allBackends()) b.connect(); }
      const context = {
        router: new Router(pool),
        stats,
        version: VERSION_REPLY,
        ...sessionSettings(poolConfig, logger),
        extraStats,
      };
      for (const listen of poolConfig.listen) {
        const bound = bindListener(listen, poolConfig, logger);
        const listener = new Listener(bound, context, poolConfig.maxClientConnections);
        listeners.push(listener);
        logger.log("info", "listening", { pool: poolConfig.name, address: formatAddr(bound.addr) });
      }
    }
  } catch (error) {
    for (const l of listeners) l.close();
    throw error;
  }
  for (const l of listeners) serving.push(l.serve());

  return {
    addr: listeners[0].addr,
    addrs: listeners.map((l) => l.addr),
    stats: () => Object.fromEntries([...stats.entries(VERSION_REPLY), ...extraStats()]),
    async close() {
      for (const l of listeners) l.close();
      await Promise.all(serving);
      await Promise.all(listeners.map((l) => l.closeSessions()));
      for (const b of backends.values()) b.close();
    },
  };
}

/**
 * The name twemproxy builds a server's ketama points from when it has no name of its own:
 * `host:port`, or just `host` on memcached's default port 11211.
 */
function continuumName(server: ServerConfig): string {
  return server.port === 11211 ? server.host : `${server.host}:${server.port}`;
}

/** `host:port` or the socket path of an address. */
export function formatAddr(addr: Deno.Addr): string {
  if (addr.transport === "unix" || addr.transport === "unixpacket") return addr.path;
  if (addr.transport === "tcp" || addr.transport === "udp") {
    const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
    return `${host}:${addr.port}`;
  }
  return addr.transport;
}
