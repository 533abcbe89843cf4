/**
 * Reads a twemproxy (nutcracker) configuration file, YAML or JSON, as it is, into a
 * {@linkcode ProxyConfig}: each top-level key is a pool, each pool one listener.
 *
 * twemproxy's keys, as its 0.5 `src/nc_conf.c` reads them:
 *
 * | key                    | memrelay                                                        |
 * | ---------------------- | --------------------------------------------------------------- |
 * | `listen`               | `host:port`, `[v6addr]:port`, or `/unix/path [mode]` (0700)     |
 * | `hash`                 | one of the 12 hash names; default `fnv1a_64`, as twemproxy's    |
 * | `hash_tag`             | two bytes, such as `"{}"`                                       |
 * | `distribution`         | `ketama` (default), `modula`, `random`, and memrelay's `magent` |
 * | `timeout`              | ms; default 1000 (twemproxy: wait forever); `0`: the default    |
 * | `backlog`              | accepted with a warning: Deno's `listen` cannot set it          |
 * | `client_connections`   | default 4096 (twemproxy: no limit); `0`: no limit               |
 * | `redis`                | `false` only: memrelay speaks the memcached protocol            |
 * | `redis_auth`           | an error, as in twemproxy for a memcached pool                  |
 * | `redis_db`             | accepted with a warning: it means nothing to memcached          |
 * | `tcpkeepalive`         | accepted with a warning: not applied yet                        |
 * | `preconnect`           | `true` or `false`; default `false`                              |
 * | `auto_eject_hosts`     | `true` or `false`; default `false`                              |
 * | `server_connections`   | at least 1; default 1                                           |
 * | `server_retry_timeout` | ms, at least 1; default 1000 (twemproxy: 30000)                 |
 * | `server_failure_limit` | at least 1; default 2                                           |
 * | `servers`              | a list of `host:port[:weight] [name]`                           |
 *
 * memrelay's own keys, which twemproxy would reject:
 *
 * - `backups`: a list of servers (one backup pool), or a list of such lists (several pools);
 *   each backup pool holds one more replica of every key;
 * - `max_item_size`: the largest value accepted, in bytes; default 1048576;
 * - `replay_limit`: keys remembered per server as missed while it failed; default 100000;
 * - `refill_rate`: keys per second copied to a server that came back empty; default 20000.
 * - `max_keys`, `max_client_buffer`, `idle_timeout` (seconds), `auth_file`, `tls_cert` and
 *   `tls_key`: as the flags `--max-keys` and so on.
 *
 * @module
 */

import { parseYaml } from "../deps.ts";
import { DISTRIBUTION_NAMES, type DistributionName } from "../distribution/build.ts";
import { HASH_NAMES, type HashName } from "../hash/hash_functions.ts";
import {
  type ListenConfig,
  MIN_CLIENT_BUFFER,
  POOL_DEFAULTS,
  type PoolConfig,
  type ProxyConfig,
  type ServerConfig,
} from "./proxy_config.ts";
import { ConfigError, parsePort, parseServer } from "./server_address.ts";

/** What {@linkcode parseConfigText} and {@linkcode loadConfigFile} return. */
export interface LoadedConfig {
  /** The proxy configuration, one pool per top-level key, in file order. */
  config: ProxyConfig;
  /**
   * Settings that were accepted but cannot be applied as written, one line each, already
   * naming the file, the pool and the key. Print them before starting.
   */
  warnings: string[];
}

/**
 * `client_connections: 0` (twemproxy's "no limit"): the listener never refuses a client, and the
 * process's file-descriptor limit is the only bound.
 */
export const UNLIMITED_CLIENT_CONNECTIONS: number = Number.MAX_SAFE_INTEGER;

const encoder = new TextEncoder();

/** The largest number twemproxy reads (a C `int`), and the longest `setTimeout`. */
const MAX_NUMBER = 2_147_483_647;

/** Every key a pool may have, twemproxy's first, then memrelay's. */
const POOL_KEYS: readonly string[] = [
  "listen",
  "hash",
  "hash_tag",
  "distribution",
  "timeout",
  "backlog",
  "client_connections",
  "redis",
  "redis_auth",
  "redis_db",
  "tcpkeepalive",
  "preconnect",
  "auto_eject_hosts",
  "server_connections",
  "server_retry_timeout",
  "server_failure_limit",
  "servers",
  "backups",
  "max_item_size",
  "replay_limit",
  "refill_rate",
  "max_keys",
  "max_client_buffer",
  "idle_timeout",
  "auth_file",
  "tls_cert",
  "tls_key",
];

/**
 * Parses the text of a twemproxy configuration file into a memrelay configuration.
 *
 * A `fileName` ending in `.json` is read as JSON (with `JSON.parse`, and duplicate keys refused);
 * any other as YAML 1.2, which takes JSON too. Reading YAML needs env access to `LOG_TOKENS` and
 * `LOG_STREAM`, which the `yaml` package checks.
 *
 * Settings a pool leaves out take memrelay's defaults ({@linkcode POOL_DEFAULTS}). Three differ
 * from twemproxy's, because a proxy in front of a dead server must not hang its clients:
 *
 * - `timeout`: 1000 ms, where twemproxy waits forever. `timeout: 0`, twemproxy's "forever",
 *   also gives 1000 ms, with a warning.
 * - `server_retry_timeout`: 1000 ms, where twemproxy waits 30 s. memrelay probes a down server
 *   after this wait and doubles it up to 30 s, so a server that is back is used again soon.
 * - `client_connections`: 4096, where twemproxy sets no limit (twemproxy 0.5 ignores the key).
 *   `client_connections: 0` asks for no limit, and gets
 *   {@linkcode UNLIMITED_CLIENT_CONNECTIONS}.
 *
 * Each pool's servers (and each backup pool's) come out in twemproxy's order, not the file's:
 * twemproxy sorts them by ketama name, the shorter name first, then byte by byte, and `modula`
 * numbers its slots in that order. (ketama does not depend on the order.)
 *
 * memrelay also accepts a server without a weight (`host:port`, weight 1), which twemproxy
 * refuses. Servers on unix sockets are not supported. Like twemproxy, it refuses two servers of
 * one pool with the same ketama name (the server's name, else `host:port`, or `host` alone on port
 * 11211), and two pools with the same `listen`.
 *
 * @param text The file's contents.
 * @param fileName The file's name: it starts every error and warning, and `.json` selects JSON.
 * @returns The configuration (with `verbose: false`) and the warnings.
 * @throws {ConfigError} on anything wrong, with a one-line message naming the file, the pool,
 *   the key, and what is allowed.
 *
 * @example
 * ```ts
 * import { parseConfigText } from "./yaml_config.ts";
 * const { config, warnings } = parseConfigText(
 *   `
 * alpha:
 *   listen: 127.0.0.1:22121
 *   hash: fnv1a_64
 *   distribution: ketama
 *   backlog: 1024
 *   servers:
 *    - 127.0.0.1:11212:1
 *    - 127.0.0.1:11213:2
 * `,
 *   "memrelay.yml",
 * );
 * console.log(config.pools[0].servers[1]); // { host: "127.0.0.1", port: 11213, weight: 2 }
 * console.log(config.pools[0].timeoutMs); // 1000
 * console.log(warnings.length); // 1, for backlog
 * ```
 *
 * @example A bad value
 * ```ts
 * import { parseConfigText } from "./yaml_config.ts";
 * try {
 *   parseConfigText("alpha:\n  listen: 127.0.0.1:22121\n  hash: fnv2\n", "memrelay.yml");
 * } catch (error) {
 *   // memrelay.yml: pool "alpha": key "hash": "fnv2" is not one of one_at_a_time, md5, ...
 *   console.log((error as Error).message);
 * }
 * ```
 */
export function parseConfigText(text: string, fileName: string): LoadedConfig {
  const document = fileName.toLowerCase().endsWith(".json")
    ? parseJson(text, fileName)
    : readYaml(text, fileName);
  if (!isMap(document) || Object.keys(document).length === 0) {
    throw new ConfigError(
      `${fileName}: no pools: expected a map of pool names to pool settings, such as ` +
        `"alpha:" followed by indented "listen:" and "servers:"`,
    );
  }
  const warnings: string[] = [];
  const pools: PoolConfig[] = [];
  for (const [name, settings] of Object.entries(document)) {
    pools.push(parsePool(name, settings, fileName, warnings));
  }
  const listeners = new Map<string, string>();
  for (const pool of pools) {
    for (const listen of pool.listen) {
      const address = listen.transport === "tcp"
        ? `${listen.hostname}:${listen.port}`
        : listen.path;
      const other = listeners.get(address);
      if (other !== undefined) {
        throw new ConfigError(
          `${fileName}: pools "${other}" and "${pool.name}" both listen on "${address}": ` +
            `give each pool its own listen address`,
        );
      }
      listeners.set(address, pool.name);
    }
  }
  return { config: { pools, verbose: false }, warnings };
}

/**
 * Reads a twemproxy configuration file and parses it with {@linkcode parseConfigText}.
 *
 * @param path The file; `.json` is read as JSON, anything else as YAML.
 * @throws {ConfigError} when the file cannot be read (naming it and why) or is wrong.
 *
 * @example
 * ```ts
 * import { loadConfigFile } from "./yaml_config.ts";
 * const path = await Deno.makeTempFile({ suffix: ".yml" });
 * await Deno.writeTextFile(path, "gamma:\n  listen: 127.0.0.1:22123\n  servers:\n   - 127.0.0.1:11212:1\n");
 * const { config } = await loadConfigFile(path);
 * console.log(config.pools[0].name); // "gamma"
 * await Deno.remove(path);
 * ```
 */
export async function loadConfigFile(path: string): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound
      ? "no such file"
      : error instanceof Deno.errors.IsADirectory
      ? "it is a directory"
      : (error as Error).message;
    throw new ConfigError(`${path}: cannot read the configuration file: ${reason}`);
  }
  return parseConfigText(text, path);
}

function readYaml(text: string, fileName: string): unknown {
  for (const variable of ["LOG_TOKENS", "LOG_STREAM"]) {
    if (Deno.permissions.querySync({ name: "env", variable }).state !== "granted") {
      throw new ConfigError(
        `${fileName}: reading YAML needs env access to LOG_TOKENS and LOG_STREAM, which the ` +
          `yaml package checks: run deno with --allow-env (or --allow-env=LOG_TOKENS,LOG_STREAM)`,
      );
    }
  }
  try {
    // logLevel "error": YAML warnings (such as an unknown tag) are not printed; errors throw.
    return parseYaml(text, {
      prettyErrors: true,
      uniqueKeys: true,
      maxAliasCount: 100,
      logLevel: "error",
    });
  } catch (error) {
    if (!(error instanceof Error) || error.name !== "YAMLParseError") throw error;
    // The message's first line says what and where; the rest is a picture of the line.
    const what = error.message.split("\n")[0].replace(/:$/, "");
    throw new ConfigError(`${fileName}: not valid YAML: ${what}`);
  }
}

function parseJson(text: string, fileName: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${fileName}: not valid JSON: ${(error as Error).message}`);
  }
  const duplicate = duplicateJsonKey(text);
  if (duplicate !== null) {
    throw new ConfigError(
      `${fileName}: not valid JSON for memrelay: key ${JSON.stringify(duplicate)} appears twice ` +
        `in one object`,
    );
  }
  return value;
}

/**
 * The first key that appears twice in one object of `text`, which must be valid JSON; null if
 * none does. `JSON.parse` would silently keep the last, and so drop a pool or a setting.
 */
function duplicateJsonKey(text: string): string | null {
  const stack: Array<Set<string> | null> = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "{") {
      stack.push(new Set());
      expectKey = true;
    } else if (c === "[") {
      stack.push(null);
    } else if (c === "}" || c === "]") {
      stack.pop();
    } else if (c === ",") {
      expectKey = stack.at(-1) != null;
    } else if (c === '"') {
      const start = i;
      for (i++; text[i] !== '"'; i++) if (text[i] === "\\") i++;
      const keys = stack.at(-1);
      if (expectKey && keys != null) {
        const key = JSON.parse(text.slice(start, i + 1)) as string;
        if (keys.has(key)) return key;
        keys.add(key);
      }
      expectKey = false;
    }
  }
  return null;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** How a value looks in an error: as the file wrote it, roughly, and never more than a line. */
function show(value: unknown): string {
  if (value === null || value === undefined) return "an empty value";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a map";
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}..."` : text;
}

function parsePool(
  name: string,
  settings: unknown,
  fileName: string,
  warnings: string[],
): PoolConfig {
  const where = `${fileName}: pool "${name}"`;
  if (name.trim() === "") {
    throw new ConfigError(`${fileName}: a pool has an empty name: give each pool a name`);
  }
  if (!isMap(settings)) {
    throw new ConfigError(
      `${where}: expected a map of settings such as "listen:" and "servers:", not ${
        show(settings)
      }`,
    );
  }
  const fail = (key: string, message: string): never => {
    throw new ConfigError(`${where}: key "${key}": ${message}`);
  };
  const warn = (key: string, message: string) =>
    warnings.push(`${where}: key "${key}": ${message}`);

  const wholeNumber = (key: string, value: unknown, min: number, unit = ""): number => {
    const n = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
    if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > MAX_NUMBER) {
      fail(key, `${show(value)} is not a whole number${unit} from ${min} to ${MAX_NUMBER}`);
    }
    return n as number;
  };
  const boolean = (key: string, value: unknown): boolean =>
    typeof value === "boolean" ? value : fail(key, `${show(value)} is not true or false`);
  const oneOf = <T extends string>(key: string, value: unknown, allowed: readonly T[]): T =>
    typeof value === "string" && (allowed as readonly string[]).includes(value)
      ? value as T
      : fail(key, `${show(value)} is not one of ${allowed.join(", ")}`);

  const pool: PoolConfig = {
    ...POOL_DEFAULTS,
    name,
    listen: [],
    servers: [],
    backups: [],
  };
  let hasServers = false;
  let tlsCert: string | undefined;
  let tlsKey: string | undefined;
  for (const [key, value] of Object.entries(settings)) {
    switch (key) {
      case "listen":
        pool.listen = [parseListen(value, (message) => fail(key, message))];
        break;
      case "hash":
        pool.hash = oneOf<HashName>(key, value, HASH_NAMES);
        break;
      case "hash_tag":
        if (typeof value !== "string" || encoder.encode(value).length !== 2) {
          fail(key, `${show(value)} is not two characters, such as "{}" (quote it in YAML)`);
        }
        pool.hashTag = value as string;
        break;
      case "distribution":
        pool.distribution = oneOf<DistributionName>(key, value, DISTRIBUTION_NAMES);
        break;
      case "timeout": {
        const ms = wholeNumber(key, value, 0, " of milliseconds");
        if (ms === 0) {
          warn(
            key,
            `0 (twemproxy's "wait forever") is not supported: using ${POOL_DEFAULTS.timeoutMs} ms`,
          );
        } else {
          pool.timeoutMs = ms;
        }
        break;
      }
      case "backlog":
        wholeNumber(key, value, 0);
        warn(key, "ignored: Deno cannot set a listener's backlog, so the system's default applies");
        break;
      case "client_connections": {
        const n = wholeNumber(key, value, 0);
        pool.maxClientConnections = n === 0 ? UNLIMITED_CLIENT_CONNECTIONS : n;
        break;
      }
      case "redis":
        if (boolean(key, value)) {
          fail(
            key,
            "true is not supported: memrelay speaks the memcached protocol only; " +
              "remove this pool or set redis: false",
          );
        }
        break;
      case "redis_auth":
        fail(key, "is only valid for a redis pool, and memrelay speaks memcached only");
        break;
      case "redis_db":
        wholeNumber(key, value, 0);
        warn(key, "ignored: memcached has no numbered databases");
        break;
      case "tcpkeepalive":
        if (boolean(key, value)) warn(key, "ignored: memrelay does not set TCP keepalive yet");
        break;
      case "preconnect":
        pool.preconnect = boolean(key, value);
        break;
      case "auto_eject_hosts":
        pool.autoEjectHosts = boolean(key, value);
        break;
      case "server_connections":
        pool.serverConnections = wholeNumber(key, value, 1);
        break;
      case "server_retry_timeout":
        pool.serverRetryTimeoutMs = wholeNumber(key, value, 1, " of milliseconds");
        break;
      case "server_failure_limit":
        pool.serverFailureLimit = wholeNumber(key, value, 1);
        break;
      case "servers":
        pool.servers = parseServerList(value, (message) => fail(key, message));
        hasServers = true;
        break;
      case "backups":
        pool.backups = parseBackups(value, (message) => fail(key, message));
        break;
      case "max_item_size":
        pool.maxItemSize = wholeNumber(key, value, 1, " of bytes");
        break;
      case "replay_limit":
        pool.replayLimit = wholeNumber(key, value, 1, " of keys");
        break;
      case "refill_rate":
        pool.refillRate = wholeNumber(key, value, 1, " of keys per second");
        break;
      case "max_keys":
        pool.maxKeys = wholeNumber(key, value, 1);
        break;
      case "max_client_buffer":
        pool.maxClientBuffer = wholeNumber(key, value, MIN_CLIENT_BUFFER, " of bytes");
        break;
      case "idle_timeout":
        pool.idleTimeout = wholeNumber(key, value, 0, " of seconds");
        break;
      case "auth_file":
      case "tls_cert":
      case "tls_key":
        if (typeof value !== "string" || value === "") fail(key, `${show(value)} is not a file`);
        if (key === "auth_file") pool.authFile = value as string;
        else if (key === "tls_cert") tlsCert = value as string;
        else tlsKey = value as string;
        break;
      default:
        fail(key, `unknown; a pool's keys are ${POOL_KEYS.join(", ")}`);
    }
  }
  if (pool.listen.length === 0) {
    fail("listen", "missing; give host:port, or the absolute path of a unix socket");
  }
  if ((tlsCert === undefined) !== (tlsKey === undefined)) {
    fail(tlsCert === undefined ? "tls_cert" : "tls_key", "TLS needs both tls_cert and tls_key");
  }
  if (tlsCert !== undefined) pool.tls = { certFile: tlsCert, keyFile: tlsKey! };
  if (!hasServers) {
    fail("servers", 'missing; give a list of servers, each "host:port:weight [name]"');
  }
  if (pool.distribution === "magent") {
    for (const key of ["hash", "hash_tag"]) {
      if (Object.hasOwn(settings, key)) {
        warn(key, "ignored: distribution magent hashes whole keys with magent's own hash");
      }
    }
  }
  return pool;
}

/**
 * twemproxy's `listen:` value: `host:port` (split at the last colon), or a path starting with
 * `/`, optionally followed by a space and the socket's octal mode.
 */
function parseListen(
  value: unknown,
  fail: (message: string) => never,
): ListenConfig {
  if (typeof value !== "string" || value.trim() === "") {
    fail(`${show(value)} is not host:port or the absolute path of a unix socket`);
  }
  const text = value.trim();
  if (text.startsWith("/")) {
    const match = /^(\S+)(?:\s+(\S+))?$/.exec(text);
    if (match === null) fail(`bad unix socket "${text}": expected /path [mode], such as 0666`);
    const [, path, mode] = match;
    if (mode !== undefined) {
      if (!/^[0-7]{1,4}$/.test(mode) || parseInt(mode, 8) > 0o777) {
        fail(`bad mode "${mode}" for unix socket "${path}": expected octal from 0 to 0777`);
      }
      return { transport: "unix", path, mode: parseInt(mode, 8) };
    }
    return { transport: "unix", path };
  }
  const colon = text.lastIndexOf(":");
  if (colon <= 0 || /\s/.test(text)) {
    fail(`"${text}" is not host:port or the absolute path of a unix socket`);
  }
  let hostname = text.slice(0, colon);
  if (hostname.startsWith("[") && hostname.endsWith("]")) hostname = hostname.slice(1, -1);
  let port = 0;
  try {
    port = parsePort(text.slice(colon + 1), `"${text}"`);
  } catch (error) {
    fail((error as Error).message);
  }
  return { transport: "tcp", hostname, port };
}

/** The ketama name twemproxy gives a server: its own, else `host:port`, or `host` on 11211. */
function ketamaName(server: ServerConfig): string {
  return server.name ?? (server.port === 11211 ? server.host : `${server.host}:${server.port}`);
}

function parseServerList(value: unknown, fail: (message: string) => never): ServerConfig[] {
  if (!Array.isArray(value) || value.length === 0) {
    fail(`${show(value)} is not a list of servers, each "host:port:weight [name]"`);
  }
  const servers: ServerConfig[] = [];
  const names = new Map<string, string>();
  for (const text of value) {
    if (typeof text !== "string") {
      fail(`${show(text)} is not a server: expected "host:port:weight [name]"`);
    }
    if (text.trim().startsWith("/")) {
      fail(`"${text}": servers on unix sockets are not supported; give host:port:weight`);
    }
    const server = serverOrFail(text, fail);
    const name = ketamaName(server);
    const other = names.get(name);
    if (other !== undefined) {
      fail(
        `"${other}" and "${text}" have the same name "${name}": ketama needs unique names; ` +
          `add a name after the address, such as "${text.trim()} cache-2"`,
      );
    }
    names.set(name, text);
    servers.push(server);
  }
  return servers.sort((a, b) => compareNames(ketamaName(a), ketamaName(b)));
}

/**
 * twemproxy's `string_compare`, by which it sorts a pool's servers: the shorter name first,
 * then byte by byte.
 */
function compareNames(a: string, b: string): number {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  if (x.length !== y.length) return x.length - y.length;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return 0;
}

function serverOrFail(text: string, fail: (message: string) => never): ServerConfig {
  try {
    return parseServer(text);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return fail(error.message);
  }
}

function parseBackups(value: unknown, fail: (message: string) => never): ServerConfig[][] {
  if (!Array.isArray(value)) {
    fail(
      `${show(value)} is not a list of servers (one backup pool) or a list of such lists ` +
        `(several backup pools)`,
    );
  }
  const list: unknown[] = value;
  if (list.length === 0) return [];
  if (list.every((item) => typeof item === "string")) return [parseServerList(list, fail)];
  if (list.every(Array.isArray)) {
    return list.map((group, i) =>
      parseServerList(group, (message) => fail(`backup pool ${i + 1}: ${message}`))
    );
  }
  return fail(
    "mixes servers and lists: give a list of servers (one backup pool) or a list of lists " +
      "(several backup pools)",
  );
}
