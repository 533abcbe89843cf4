import { DISTRIBUTION_NAMES } from "../distribution/build.ts";
import { HASH_NAMES } from "../hash/hash_functions.ts";
import type { ListenConfig, ProxyConfig, ServerConfig } from "./proxy_config.ts";
import { ConfigError } from "./server_address.ts";

/**
 * `host:port` or the socket path of a listen address: what identifies a listener across reloads.
 * Port 0 (any free port) names no port, so such a listener is told apart by its `pool`'s name.
 */
export function listenKey(listen: ListenConfig, pool: string): string {
  if (listen.transport === "unix") return `unix:${listen.path}`;
  const host = listen.hostname.includes(":") ? `[${listen.hostname}]` : listen.hostname;
  return listen.port === 0 ? `${host}:0 (pool ${pool})` : `${host}:${listen.port}`;
}

function whole(value: number, min: number): boolean {
  return Number.isSafeInteger(value) && value >= min;
}

/**
 * Checks a configuration built in code, such as one handed to a running proxy's `reload`, for
 * what would break the proxy: no pools, a pool without servers or listeners, two pools on one
 * address, an unknown hash or distribution, a setting out of range. Configurations from
 * `parseCommandLine` and `loadConfigFile` always pass.
 *
 * @throws {ConfigError} naming the pool and the setting.
 *
 * @example
 * ```ts
 * import { validateConfig } from "./validate.ts";
 * import { parseCommandLine } from "./magent_flags.ts";
 * const parsed = parseCommandLine(["-s", "127.0.0.1:11211"]);
 * if (parsed.action === "run") {
 *   validateConfig(parsed.config); // passes
 *   try {
 *     validateConfig({ ...parsed.config, pools: [] });
 *   } catch (error) {
 *     console.log((error as Error).message); // "no pools: a configuration needs at least one"
 *   }
 * }
 * ```
 */
export function validateConfig(config: ProxyConfig): void {
  if (!Array.isArray(config.pools) || config.pools.length === 0) {
    throw new ConfigError("no pools: a configuration needs at least one");
  }
  const names = new Set<string>();
  const listeners = new Map<string, string>();
  for (const pool of config.pools) {
    const fail = (message: string): never => {
      throw new ConfigError(`pool "${pool.name}": ${message}`);
    };
    if (typeof pool.name !== "string" || pool.name.trim() === "") {
      throw new ConfigError("a pool has no name: give each pool a name");
    }
    if (names.has(pool.name)) fail("two pools have this name");
    names.add(pool.name);
    if (pool.listen.length === 0) fail("no listen address");
    for (const listen of pool.listen) {
      if (listen.transport === "tcp" && !(whole(listen.port, 0) && listen.port <= 65535)) {
        fail(`listen port ${listen.port} is not from 0 to 65535`);
      }
      const key = listenKey(listen, pool.name);
      const other = listeners.get(key);
      if (other !== undefined) {
        throw new ConfigError(`pools "${other}" and "${pool.name}" both listen on ${key}`);
      }
      listeners.set(key, pool.name);
    }
    if (pool.servers.length === 0) fail("no servers");
    const checkServers = (servers: ServerConfig[], what: string) => {
      for (const s of servers) {
        if (typeof s.host !== "string" || s.host === "") fail(`a ${what} has no host`);
        if (!(whole(s.port, 1) && s.port <= 65535)) fail(`${what} ${s.host}:${s.port}: bad port`);
        if (!whole(s.weight, 1)) fail(`${what} ${s.host}:${s.port}: weight must be at least 1`);
      }
    };
    checkServers(pool.servers, "server");
    for (const group of pool.backups) {
      if (group.length === 0) fail("an empty backup pool");
      checkServers(group, "backup");
    }
    if (!(HASH_NAMES as readonly string[]).includes(pool.hash)) {
      fail(`unknown hash "${pool.hash}"`);
    }
    if (!(DISTRIBUTION_NAMES as readonly string[]).includes(pool.distribution)) {
      fail(`unknown distribution "${pool.distribution}"`);
    }
    if (pool.hashTag !== null && new TextEncoder().encode(pool.hashTag).length !== 2) {
      fail(`hash tag "${pool.hashTag}" is not two characters`);
    }
    for (
      const [name, value] of [
        ["timeoutMs", pool.timeoutMs],
        ["serverConnections", pool.serverConnections],
        ["serverFailureLimit", pool.serverFailureLimit],
        ["serverRetryTimeoutMs", pool.serverRetryTimeoutMs],
        ["maxClientConnections", pool.maxClientConnections],
        ["maxItemSize", pool.maxItemSize],
      ] as const
    ) {
      if (!whole(value, 1)) fail(`${name} ${value} is not a whole number of at least 1`);
    }
  }
}
