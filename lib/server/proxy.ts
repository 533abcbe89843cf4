import { DEFAULT_DRAIN_TIMEOUT_MS } from "../config/ops_flags.ts";
import type { TransportChoice } from "../net/tcp.ts";
import type { ProxyConfig } from "../config/proxy_config.ts";
import { createLogger, type Logger } from "../observability/log.ts";
import type { ServerSnapshot } from "../observability/snapshot.ts";
import { statsEntries } from "../observability/stats_report.ts";
import { formatAddr, ProxyRuntime, type ReloadSummary } from "./proxy_runtime.ts";

export { DEFAULT_DRAIN_TIMEOUT_MS, formatAddr, type ReloadSummary };

/** One backend's state, as `stats servers` shows it. */
export interface ServerStatus {
  /** The pool it belongs to. */
  pool: string;
  /** `host:port`. */
  address: string;
  /** `primary`, `backup`, or `primary+backup`. */
  role: string;
  /** False while it is marked down. */
  up: boolean;
  /** Failures since its last success. */
  failures: number;
  /** Requests sent and not yet answered. */
  inFlight: number;
  /** Median reply latency of the last one to two minutes, in µs; null without replies. */
  p50Us: number | null;
  /** 99th percentile of the same. */
  p99Us: number | null;
  /** Bytes read from it. */
  bytesIn: number;
  /** Bytes written to it. */
  bytesOut: number;
  /** Connects and replies that timed out. */
  timeouts: number;
}

/** Options of {@linkcode ProxyHandle.close}. */
export interface CloseOptions {
  /**
   * How long clients may take to get the replies to what they already sent, in milliseconds;
   * then their connections close anyway. Default: {@linkcode StartOptions.drainTimeoutMs}.
   * `0` closes at once, and also cuts short a close already draining.
   */
  drainTimeoutMs?: number;
}

/** A running proxy. */
export interface ProxyHandle {
  /** The address of the first listener (the one tests and most users connect to). */
  readonly addr: Deno.Addr;
  /** Every address the proxy listens on, in configuration order; a reload may change them. */
  readonly addrs: Deno.Addr[];
  /** The admin HTTP endpoint's address, when {@linkcode StartOptions.admin} asked for one. */
  readonly adminAddr: Deno.NetAddr | null;
  /** The configuration in use: the one started with, or the last one reloaded. */
  readonly config: ProxyConfig;
  /** The proxy's counters, as `stats` reports them. */
  stats(): Record<string, string | number>;
  /** Each backend's state, as `stats servers` reports it. */
  servers(): ServerStatus[];
  /** The counters and backends in Prometheus text, as the admin endpoint's `/metrics`. */
  metrics(): string;
  /**
   * Applies a new configuration without closing any client connection: the route tree is
   * rebuilt and swapped in, backends whose address and pool settings did not change keep their
   * connections, removed backends close once their requests in flight finish. Listen addresses
   * may be added (bound first, so a failure changes nothing) or removed (their clients are
   * answered what they sent, then closed). Without `config`, reads {@linkcode
   * StartOptions.loadConfig} again.
   *
   * @throws {ConfigError} for a configuration that is invalid or cannot be applied; the one in
   *   use stays.
   * @throws {Deno.errors.NotSupported} without `config`, when there is no `loadConfig`.
   */
  reload(config?: ProxyConfig): Promise<ReloadSummary>;
  /**
   * Stops accepting, lets every client get the replies to what it already sent (up to the drain
   * timeout), then closes every client and backend connection.
   */
  close(options?: CloseOptions): Promise<void>;
}

/** Options of {@linkcode startProxy} that are not configuration. */
export interface StartOptions {
  /** Where events are logged; default: info and above to stderr, as text. */
  logger?: Logger;
  /** How long {@linkcode ProxyHandle.close} waits for requests in flight, in ms; default 5000. */
  drainTimeoutMs?: number;
  /**
   * Serve the admin HTTP endpoint (`/metrics`, `/healthz`, `/readyz`, `POST /reload`) here;
   * port 0 picks a free port. Default: none.
   */
  admin?: { hostname: string; port: number };
  /**
   * Reads the configuration again, for {@linkcode ProxyHandle.reload} without an argument and
   * the admin endpoint's `POST /reload`; throws a `ConfigError` for a bad one. The CLI passes
   * one that re-reads `-c FILE`. Default: none, and a reload without a configuration fails.
   */
  loadConfig?: () => Promise<ProxyConfig>;
  /**
   * The TCP transport of clients and servers: `epoll` (FFI, Linux, `--allow-ffi`), `deno`
   * (`Deno.listen`/`Deno.connect`), or `auto` (the default), which takes `epoll` where it can.
   * TLS and unix sockets always use Deno's.
   */
  io?: TransportChoice;
}

/**
 * Starts a proxy: binds every pool's listeners, and connects to servers on first use (or at
 * once for a pool with `preconnect`).
 *
 * @throws {ConfigError} for an invalid configuration; an error of `Deno.listen` when an address
 *   cannot be bound.
 *
 * @example
 * ```ts ignore
 * import { startProxy } from "./proxy.ts";
 * import { parseCommandLine } from "../config/magent_flags.ts";
 * const parsed = parseCommandLine(["-p", "11000", "-s", "127.0.0.1:11211"]);
 * if (parsed.action === "run") {
 *   const proxy = await startProxy(parsed.config, { admin: { hostname: "127.0.0.1", port: 0 } });
 *   console.log(proxy.addr, proxy.adminAddr, proxy.stats().curr_connections);
 *   await proxy.close();
 * }
 * ```
 */
// deno-lint-ignore require-await -- async so that a failure to bind rejects rather than throws.
export async function startProxy(
  config: ProxyConfig,
  options: StartOptions = {},
): Promise<ProxyHandle> {
  const logger = options.logger ?? createLogger({ level: config.verbose ? "debug" : "info" });
  const runtime = ProxyRuntime.start(config, {
    logger,
    drainTimeoutMs: options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS,
    admin: options.admin ?? null,
    loadConfig: options.loadConfig ?? null,
    io: options.io ?? "auto",
  });
  const first = runtime.addrs[0];
  return {
    get addr() {
      return runtime.addrs[0] ?? first;
    },
    get addrs() {
      return runtime.addrs;
    },
    get adminAddr() {
      return runtime.adminAddr;
    },
    get config() {
      return runtime.config;
    },
    stats: () => Object.fromEntries(statsEntries(runtime.snapshot())),
    servers: () => {
      const now = performance.now();
      return runtime.snapshot().servers.map((s: ServerSnapshot) => ({
        pool: s.pool,
        address: s.address,
        role: s.role,
        up: s.up,
        failures: s.failures,
        inFlight: s.inFlight,
        p50Us: s.latency.quantileUs(0.5, now),
        p99Us: s.latency.quantileUs(0.99, now),
        bytesIn: s.bytesIn,
        bytesOut: s.bytesOut,
        timeouts: s.timeouts,
      }));
    },
    metrics: () => runtime.metrics(),
    reload: (next) => runtime.reload(next),
    close: (closeOptions = {}) => runtime.close(closeOptions.drainTimeoutMs),
  };
}
