import { isIP, parseArgs } from "../deps.ts";
import { DISTRIBUTION_NAMES, type DistributionName } from "../distribution/build.ts";
import { HASH_NAMES, type HashName } from "../hash/hash_functions.ts";
import { OPS_FLAG_OPTIONS, OPS_USAGE, type OpsOptions, opsOptions } from "./ops_flags.ts";
import {
  type ListenConfig,
  MIN_CLIENT_BUFFER,
  POOL_DEFAULTS,
  type ProxyConfig,
} from "./proxy_config.ts";
import { ConfigError, parsePort, parseServer } from "./server_address.ts";

/**
 * What the command line asks for: a proxy to run from flags, one to run from a configuration
 * file (`-c`, read by the caller with `loadConfigFile`), or only help or the version. `testOnly`
 * (`--test-config`): check the configuration, print the warnings, and exit. `ops`: how to run
 * the process (logs, admin endpoint, shutdown), whichever way the configuration comes.
 */
export type CommandLine =
  | { action: "run"; config: ProxyConfig; warnings: string[]; testOnly: boolean; ops: OpsOptions }
  | { action: "load"; path: string; verbose: boolean; testOnly: boolean; ops: OpsOptions }
  | { action: "help" }
  | { action: "version" };

/** The usage text printed by `--help` and after a bad flag. */
export const USAGE = `Usage: memrelay [options] -s host:port [-s host:port ...] [-b host:port ...]
       memrelay -c FILE [-v] [--test-config]

magent's flags:
  -s, --server host:port[:weight]  a primary memcached server (repeatable, at least one)
  -b, --backup host:port[:weight]  a backup server; every key has one replica on the backups
  -p, --port N                     TCP port to listen on (default 11211; 0: no TCP listener)
  -l, --listen ADDR                address to listen on (default 127.0.0.1; 0.0.0.0 for all)
  -n, --max-conns N                most client connections at once (default 4096)
  -f, --unix-socket PATH           also listen on this unix socket
  -i, --server-connections N       pipelined connections per server (default 1)
  -k, --ketama                     ketama placement (the default; accepted for magent users)
  -D, --no-daemon                  accepted: memrelay always runs in the foreground
  -u, --user USER / -g, --group G  not supported by Deno: a warning is printed
  -v, --verbose                    log debug events
  -h, --help                       print this help
  -V, --version                    print the version

A configuration file instead of the flags above:
  -c, --config FILE                twemproxy's YAML (nutcracker.yml), or JSON for FILE.json;
                                   each pool is a listener; more keys: backups, max_item_size,
                                   max_keys, max_client_buffer, idle_timeout, auth_file,
                                   tls_cert, tls_key
      --test-config                check the configuration (file or flags), print it is ok or
                                   why not, and exit

More:
  -t, --timeout MS                 connect and reply timeout per server (default 1000)
      --hash NAME                  ${HASH_NAMES.join(", ")}
                                   (default fnv1a_64)
      --distribution NAME          ${DISTRIBUTION_NAMES.join(", ")} (default ketama;
                                   magent: magent's own hash modulo the server count)
      --hash-tag XY                hash only the part of a key between X and Y, e.g. {}
  -I, --max-item-size BYTES        largest value accepted (default 1048576)
      --max-keys N                 most keys in one get (default 10000)
      --max-client-buffer BYTES    bytes of unread replies and requests in flight one client
                                   may hold before the proxy stops reading from it; four
                                   times this closes it with SERVER_ERROR out of memory
                                   (default 16777216)
      --idle-timeout SECONDS       close clients idle this long (default 0: never)
      --server-failure-limit N     failures before a server is marked down (default 2)
      --server-retry-timeout MS    first wait before a down server is probed (default 1000)
      --auto-eject-hosts           take a down server out of the distribution (default off:
                                   its keys would move, causing misses and stale reads)
      --replay-limit N             keys remembered per server as missed while it failed, to
                                   replay on its return; past it, flush and refill (100000)
      --refill-rate N              keys per second copied to a server that came back empty
                                   (default 20000)

${OPS_USAGE}

Security:
      --auth-file FILE             clients must authenticate first, as with memcached -Y:
                                   "set <any> 0 0 <len>\\r\\n<user> <password>\\r\\n", checked
                                   against FILE's user:password lines
      --tls-cert FILE              serve TLS on the TCP port with this PEM certificate chain
      --tls-key FILE               and this PEM private key (both or neither)
      --unix-mode MODE             octal mode of the -f socket (default 0700, as memcached -a)

Example:
  memrelay -l 127.0.0.1 -p 11000 -s 127.0.0.1:13000 -s 127.0.0.1:14000 -b 127.0.0.1:12000`;

/** True for an IP address, or a name that could be a host's: what `-l` accepts. */
function isListenAddress(text: string): boolean {
  if (/^[\d.]+$/.test(text)) return isIP(text) === 4;
  if (text.includes(":")) return isIP(text) === 6;
  return /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/
    .test(text);
}

/** The value of a whole-number flag of at least 1, or `fallback` when it was not given. */
function intFlag(text: string | undefined, flag: string, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n === 0) {
    throw new ConfigError(`${flag} takes a whole number of at least 1, not "${text}"`);
  }
  return n;
}

/** An octal file mode such as `0700` or `600`. */
function modeFlag(text: string, flag: string): number {
  if (!/^0?[0-7]{3}$/.test(text)) {
    throw new ConfigError(`${flag} takes an octal mode such as 0700 or 0660, not "${text}"`);
  }
  return parseInt(text, 8);
}

/**
 * Turns magent-style arguments into a proxy configuration. Throws a {@linkcode ConfigError}
 * whose message is one line saying what was wrong.
 *
 * @example
 * ```ts
 * import { parseCommandLine } from "./magent_flags.ts";
 * const parsed = parseCommandLine(["-p", "11000", "-s", "127.0.0.1:13000", "-b", "127.0.0.1:12000"]);
 * if (parsed.action === "run") console.log(parsed.config.pools[0].backups.length); // 1
 * ```
 */
export function parseCommandLine(args: string[]): CommandLine {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        server: { type: "string", short: "s", multiple: true },
        backup: { type: "string", short: "b", multiple: true },
        port: { type: "string", short: "p" },
        listen: { type: "string", short: "l" },
        "max-conns": { type: "string", short: "n" },
        "unix-socket": { type: "string", short: "f" },
        "server-connections": { type: "string", short: "i" },
        ketama: { type: "boolean", short: "k" },
        "no-daemon": { type: "boolean", short: "D" },
        user: { type: "string", short: "u" },
        group: { type: "string", short: "g" },
        verbose: { type: "boolean", short: "v" },
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "V" },
        timeout: { type: "string", short: "t" },
        hash: { type: "string" },
        distribution: { type: "string" },
        "hash-tag": { type: "string" },
        "max-item-size": { type: "string", short: "I" },
        "server-failure-limit": { type: "string" },
        "server-retry-timeout": { type: "string" },
        "auto-eject-hosts": { type: "boolean" },
        "replay-limit": { type: "string" },
        "refill-rate": { type: "string" },
        "max-keys": { type: "string" },
        "max-client-buffer": { type: "string" },
        "idle-timeout": { type: "string" },
        "auth-file": { type: "string" },
        "tls-cert": { type: "string" },
        "tls-key": { type: "string" },
        "unix-mode": { type: "string" },
        config: { type: "string", short: "c" },
        "test-config": { type: "boolean" },
        ...OPS_FLAG_OPTIONS,
      },
    });
  } catch (error) {
    throw new ConfigError((error as Error).message.split("\n")[0]);
  }
  const v = parsed.values;
  if (v.help) return { action: "help" };
  if (v.version) return { action: "version" };
  const testOnly = v["test-config"] ?? false;
  const ops = opsOptions(v);
  if (v.config !== undefined) {
    const alongside = new Set([
      "config",
      "test-config",
      "verbose",
      "no-daemon",
      ...Object.keys(OPS_FLAG_OPTIONS),
    ]);
    const others = Object.keys(v).filter((name) => !alongside.has(name));
    if (others.length > 0) {
      throw new ConfigError(
        `-c/--config takes every setting from the file: drop ${
          others.map((name) => `--${name}`).join(", ")
        }, or put it in the file`,
      );
    }
    return { action: "load", path: v.config, verbose: v.verbose ?? false, testOnly, ops };
  }

  const warnings: string[] = [];
  if (v.user !== undefined || v.group !== undefined) {
    warnings.push(
      "-u/-g ignored: Deno cannot drop privileges; run memrelay as the user you want " +
        "(systemd User=, or su) instead",
    );
  }
  const servers = (v.server ?? []).map(parseServer);
  if (servers.length === 0) {
    throw new ConfigError("no servers: give at least one primary with -s host:port");
  }
  const backups = (v.backup ?? []).map(parseServer);

  const hostname = v.listen ?? "127.0.0.1";
  if (!isListenAddress(hostname)) {
    throw new ConfigError(
      `bad -l address "${hostname}": expected an IPv4 or IPv6 address, or a host name`,
    );
  }
  const port = v.port === undefined ? 11211 : parsePort(v.port, "-p", true);
  const listen: ListenConfig[] = [];
  if (port !== 0) listen.push({ transport: "tcp", hostname, port });
  if (v["unix-socket"] !== undefined) {
    const mode = v["unix-mode"] === undefined ? undefined : modeFlag(v["unix-mode"], "--unix-mode");
    listen.push({
      transport: "unix",
      path: v["unix-socket"],
      ...(mode === undefined ? {} : { mode }),
    });
  } else if (v["unix-mode"] !== undefined) {
    throw new ConfigError("--unix-mode sets the mode of the -f socket: give -f PATH too");
  }
  if (listen.length === 0) {
    throw new ConfigError("nothing to listen on: -p 0 needs -f PATH for a unix socket");
  }

  const hash = v.hash ?? POOL_DEFAULTS.hash;
  if (!(HASH_NAMES as readonly string[]).includes(hash)) {
    throw new ConfigError(`unknown --hash "${hash}": use one of ${HASH_NAMES.join(", ")}`);
  }
  const distribution = v.distribution ?? POOL_DEFAULTS.distribution;
  if (!(DISTRIBUTION_NAMES as readonly string[]).includes(distribution)) {
    throw new ConfigError(
      `unknown --distribution "${distribution}": use one of ${DISTRIBUTION_NAMES.join(", ")}`,
    );
  }
  const hashTag = v["hash-tag"] ?? null;
  if (hashTag !== null && hashTag.length !== 2) {
    throw new ConfigError(`--hash-tag takes two characters, such as {}, not "${hashTag}"`);
  }

  if ((v["tls-cert"] === undefined) !== (v["tls-key"] === undefined)) {
    throw new ConfigError("TLS needs both --tls-cert FILE and --tls-key FILE");
  }
  const tls = v["tls-cert"] === undefined
    ? null
    : { certFile: v["tls-cert"], keyFile: v["tls-key"]! };
  const maxClientBuffer = intFlag(
    v["max-client-buffer"],
    "--max-client-buffer",
    POOL_DEFAULTS.maxClientBuffer,
  );
  if (maxClientBuffer < MIN_CLIENT_BUFFER) {
    throw new ConfigError(
      `--max-client-buffer must be at least ${MIN_CLIENT_BUFFER} bytes, not ${maxClientBuffer}`,
    );
  }
  const idle = v["idle-timeout"];
  if (idle !== undefined && !/^\d+$/.test(idle)) {
    throw new ConfigError(`--idle-timeout takes whole seconds (0 for never), not "${idle}"`);
  }

  const config: ProxyConfig = {
    verbose: v.verbose ?? false,
    pools: [{
      ...POOL_DEFAULTS,
      name: "default",
      listen,
      servers,
      backups: backups.length > 0 ? [backups] : [],
      hash: hash as HashName,
      hashTag,
      distribution: distribution as DistributionName,
      timeoutMs: intFlag(v.timeout, "-t/--timeout", POOL_DEFAULTS.timeoutMs),
      serverConnections: intFlag(
        v["server-connections"],
        "-i/--server-connections",
        POOL_DEFAULTS.serverConnections,
      ),
      maxClientConnections: intFlag(
        v["max-conns"],
        "-n/--max-conns",
        POOL_DEFAULTS.maxClientConnections,
      ),
      maxItemSize: intFlag(v["max-item-size"], "-I/--max-item-size", POOL_DEFAULTS.maxItemSize),
      maxClientBuffer,
      maxKeys: intFlag(v["max-keys"], "--max-keys", POOL_DEFAULTS.maxKeys),
      idleTimeout: idle === undefined ? POOL_DEFAULTS.idleTimeout : Number(idle),
      authFile: v["auth-file"] ?? null,
      tls,
      serverFailureLimit: intFlag(
        v["server-failure-limit"],
        "--server-failure-limit",
        POOL_DEFAULTS.serverFailureLimit,
      ),
      serverRetryTimeoutMs: intFlag(
        v["server-retry-timeout"],
        "--server-retry-timeout",
        POOL_DEFAULTS.serverRetryTimeoutMs,
      ),
      autoEjectHosts: v["auto-eject-hosts"] ?? false,
      replayLimit: intFlag(v["replay-limit"], "--replay-limit", POOL_DEFAULTS.replayLimit),
      refillRate: intFlag(v["refill-rate"], "--refill-rate", POOL_DEFAULTS.refillRate),
    }],
  };
  return { action: "run", config, warnings, testOnly, ops };
}
