import { Backend } from "../backend/backend.ts";
import type { PoolConfig, ProxyConfig, ServerConfig } from "../config/proxy_config.ts";
import { ConfigError } from "../config/server_address.ts";
import { listenKey, validateConfig } from "../config/validate.ts";
import type { Logger } from "../observability/log.ts";
import { EpollListener } from "../net/epoll_socket.ts";
import {
  EPOLL_UNAVAILABLE,
  epollAvailable,
  type StreamListener,
  type TransportChoice,
} from "../net/tcp.ts";
import { type AdminServer, serveAdmin } from "../observability/metrics_http.ts";
import { prometheusText } from "../observability/prometheus.ts";
import type { ExtraFigure, ProxySnapshot } from "../observability/snapshot.ts";
import { ProxyStats } from "../observability/stats.ts";
import { snakeCase, statsReply } from "../observability/stats_report.ts";
import { VERSION_REPLY } from "../version.ts";
import { bindListener } from "./bind.ts";
import type { SessionContext } from "./client_session.ts";
import { type SessionSettings, sessionSettings } from "./session_settings.ts";
import { Listener } from "./listener.ts";
import type { Pool } from "../routing/pool.ts";
import { type BackendEntry, buildRouteTree, type RouteTree } from "./route_tree.ts";

/** What a reload changed. */
export interface ReloadSummary {
  /** Servers the new configuration added, as `pool/host:port`. */
  serversAdded: string[];
  /** Servers it removed; their connections close once their requests in flight are done. */
  serversRemoved: string[];
  /** Servers kept with their connections and health, as they were. */
  serversKept: number;
  /** Addresses newly listened on. */
  listenersAdded: string[];
  /** Addresses no longer listened on; their clients are answered what they sent, then closed. */
  listenersRemoved: string[];
}

/** Runtime settings that are not part of the configuration. */
export interface RuntimeOptions {
  /** Where events go. */
  logger: Logger;
  /** How long `close` lets requests in flight finish, in milliseconds. */
  drainTimeoutMs: number;
  /** Where to serve the admin HTTP endpoint, if anywhere. */
  admin: { hostname: string; port: number } | null;
  /** Reads the configuration again, for `reload()` without an argument; null: nothing to read. */
  loadConfig: (() => Promise<ProxyConfig>) | null;
  /** The TCP transport of clients and servers (`lib/net/tcp.ts`). */
  io: TransportChoice;
}

/** One address the proxy listens on, and what its clients share. */
interface ListenerRecord {
  readonly listener: Listener;
  readonly context: SessionContext;
  readonly serving: Promise<void>;
}

const encoder = new TextEncoder();

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
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

/**
 * A running proxy: its listeners, its route tree and backends, its counters. A reload builds a
 * new route tree and swaps it in under the listeners; a close drains the clients.
 */
export class ProxyRuntime {
  /** The counters operations update. */
  readonly stats: ProxyStats = new ProxyStats();
  readonly #options: RuntimeOptions;
  readonly #logger: Logger;
  #tree: RouteTree;
  /** By {@linkcode listenKey}. */
  readonly #listeners = new Map<string, ListenerRecord>();
  /** Listeners a reload removed, while their clients finish. */
  readonly #leaving = new Set<Listener>();
  /** Backends a reload removed, waiting for their requests in flight. */
  readonly #retiring = new Map<Backend, ReturnType<typeof setTimeout>>();
  #retiredTimeouts = 0;
  #reloads = 0;
  #reloadsRejected = 0;
  #reloadChain: Promise<unknown> = Promise.resolve();
  #admin: AdminServer | null = null;
  #draining = false;
  #closed: Promise<void> | null = null;
  /** Aborted by a `close(0)` after a close: the drain, begun or not, ends at once. */
  readonly #cut = new AbortController();

  private constructor(options: RuntimeOptions) {
    this.#options = options;
    this.#logger = options.logger;
    this.#tree = { config: { pools: [], verbose: false }, pools: [], backends: new Map() };
  }

  /** Validates `config`, builds its route tree, binds its listeners and starts serving. */
  static start(config: ProxyConfig, options: RuntimeOptions): ProxyRuntime {
    validateConfig(config);
    if (options.io === "epoll" && !epollAvailable()) throw new ConfigError(EPOLL_UNAVAILABLE);
    const runtime = new ProxyRuntime(options);
    runtime.#tree = buildRouteTree(
      config,
      runtime.stats,
      new Map(),
      runtime.#createBackend,
      runtime.#logger,
    );
    const bound = new Map<string, StreamListener>();
    let settings: Map<string, SessionSettings>;
    try {
      settings = runtime.#sessionSettings(config);
      for (const pool of config.pools) {
        for (const listen of pool.listen) {
          bound.set(
            listenKey(listen, pool.name),
            bindListener(listen, pool, runtime.#logger, options.io),
          );
        }
      }
      if (options.admin !== null) runtime.#startAdmin(options.admin);
    } catch (error) {
      for (const listener of bound.values()) listener.close();
      for (const entry of runtime.#tree.backends.values()) entry.backend.close();
      throw error;
    }
    runtime.#applyListeners(bound, settings);
    runtime.#preconnect(runtime.#tree);
    return runtime;
  }

  /** Every address listened on, in configuration order. */
  get addrs(): Deno.Addr[] {
    const addrs: Deno.Addr[] = [];
    for (const pool of this.#tree.config.pools) {
      for (const listen of pool.listen) {
        const record = this.#listeners.get(listenKey(listen, pool.name));
        if (record !== undefined) addrs.push(record.listener.addr);
      }
    }
    return addrs;
  }

  /** Where the admin endpoint listens, or null. */
  get adminAddr(): Deno.NetAddr | null {
    return this.#admin?.addr ?? null;
  }

  /** The configuration in use. */
  get config(): ProxyConfig {
    return this.#tree.config;
  }

  /** Everything `stats`, `stats servers` and `/metrics` show, as it is now. */
  snapshot(): ProxySnapshot {
    const servers = [];
    let down = 0;
    let timeouts = this.#retiredTimeouts;
    for (const backend of this.#retiring.keys()) timeouts += backend.stats.timeouts;
    for (const entry of this.#tree.backends.values()) {
      const b = entry.backend;
      if (!b.up) down++;
      timeouts += b.stats.timeouts;
      servers.push({
        pool: entry.pool,
        address: b.address,
        role: entry.role,
        up: b.up,
        failures: b.failures,
        inFlight: b.inFlight,
        timeouts: b.stats.timeouts,
        markedDown: b.stats.markedDown,
        bytesIn: b.stats.bytesIn,
        bytesOut: b.stats.bytesOut,
        latency: b.stats.latency,
      });
    }
    const taken = new Set(Object.keys(this.stats).map(snakeCase));
    const extra: ExtraFigure[] = [
      { name: "servers", value: servers.length, kind: "gauge", help: "Backends in use." },
      { name: "servers_down", value: down, kind: "gauge", help: "Backends marked down now." },
      {
        name: "timeouts",
        value: timeouts,
        kind: "counter",
        help: "Connects and replies that timed out, over every backend.",
      },
      {
        name: "replays_pending",
        value: this.#tree.pools.reduce(
          (n, p) => n + (p.pool.replication?.pendingReplays() ?? 0),
          0,
        ),
        kind: "gauge",
        help: "Keys servers missed writes of, waiting to be replayed on them.",
      },
      {
        name: "config_reloads",
        value: this.#reloads,
        kind: "counter",
        help: "Configurations reloaded and applied.",
      },
      {
        name: "config_reloads_rejected",
        value: this.#reloadsRejected,
        kind: "counter",
        help: "Reloads rejected; the configuration in use stayed.",
      },
      {
        name: "draining",
        value: this.#draining ? 1 : 0,
        kind: "gauge",
        help: "1 while the proxy shuts down, answering what its clients sent.",
      },
    ].filter((figure) => !taken.has(figure.name)) as ExtraFigure[];
    return {
      stats: this.stats,
      version: VERSION_REPLY,
      extra,
      servers,
      pools: this.#tree.pools.map((p) => ({
        name: p.config.name,
        primaries: p.primaries.length,
        primariesUp: p.primaries.filter((b) => b.up).length,
      })),
    };
  }

  /** Prometheus text of {@linkcode snapshot}. */
  metrics(): string {
    return prometheusText(this.snapshot());
  }

  /** Ready when listening, not draining, and every pool has a primary up. */
  readiness(): { ready: boolean; reason: string } {
    if (this.#draining) return { ready: false, reason: "shutting down" };
    if (this.#listeners.size === 0) return { ready: false, reason: "not listening" };
    const dead = this.#tree.pools.filter((p) => !p.primaries.some((b) => b.up));
    if (dead.length > 0) {
      const names = dead.map((p) => `"${p.config.name}"`).join(", ");
      return { ready: false, reason: `no primary up in pool ${names}` };
    }
    return { ready: true, reason: "" };
  }

  /**
   * Applies a new configuration: `config`, or the one `loadConfig` reads again. Reloads run one
   * at a time.
   *
   * @throws {ConfigError} when the configuration is invalid or cannot be applied (an address that
   *   cannot be bound); the configuration in use stays, untouched.
   * @throws {Deno.errors.NotSupported} without `config` when there is nothing to read it from.
   */
  reload(config?: ProxyConfig): Promise<ReloadSummary> {
    const run = this.#reloadChain.then(() => this.#reload(config));
    this.#reloadChain = run.catch(() => {});
    return run;
  }

  async #reload(given: ProxyConfig | undefined): Promise<ReloadSummary> {
    if (this.#draining) throw new Deno.errors.Interrupted("the proxy is shutting down");
    let config = given;
    if (config === undefined) {
      if (this.#options.loadConfig === null) {
        const reason = "nothing to reload: memrelay was started from flags, not a file (-c)";
        this.#logger.log("warn", "reload skipped", { reason });
        throw new Deno.errors.NotSupported(reason);
      }
      try {
        config = await this.#options.loadConfig();
      } catch (error) {
        throw this.#rejected(error);
      }
      // A shutdown may have begun while the file was read.
      if (this.#draining) throw new Deno.errors.Interrupted("the proxy is shutting down");
    }
    let tree: RouteTree;
    let settings: Map<string, SessionSettings>;
    const created: Backend[] = [];
    try {
      validateConfig(config);
      settings = this.#sessionSettings(config);
      tree = buildRouteTree(config, this.stats, this.#tree.backends, (pool, server) => {
        const backend = this.#createBackend(pool, server);
        created.push(backend);
        return backend;
      }, this.#logger);
    } catch (error) {
      for (const b of created) b.close();
      throw this.#rejected(error);
    }
    const bound = new Map<string, StreamListener>();
    for (const pool of config.pools) {
      for (const listen of pool.listen) {
        const key = listenKey(listen, pool.name);
        if (this.#listeners.has(key)) continue;
        try {
          bound.set(key, bindListener(listen, pool, this.#logger, this.#options.io));
        } catch (error) {
          for (const l of bound.values()) l.close();
          for (const b of created) b.close();
          throw this.#rejected(
            new ConfigError(`cannot listen on ${key}: ${(error as Error).message}`),
          );
        }
      }
    }
    // Nothing can fail from here on: swap the tree in.
    const old = this.#tree;
    this.#tree = tree;
    // The old tree's replays and refills stop; a server that was behind is flushed and refilled
    // in the new tree, so that it serves nothing it missed.
    for (const routes of old.pools) {
      const behind = routes.pool.replication?.behind() ?? [];
      routes.pool.replication?.close();
      for (const b of behind) this.#poolOf(b)?.replication?.missedFlush(b);
    }
    const listenersRemoved = this.#applyListeners(bound, settings);
    const serversRemoved: string[] = [];
    for (const [key, entry] of old.backends) {
      if (tree.backends.has(key)) continue;
      serversRemoved.push(`${entry.pool}/${entry.backend.address}`);
      this.#retire(entry);
    }
    const kept = new Set(old.backends.keys());
    const serversAdded = [...tree.backends]
      .filter(([key]) => !kept.has(key))
      .map(([, entry]) => `${entry.pool}/${entry.backend.address}`);
    this.#preconnect(tree);
    this.#reloads++;
    const summary: ReloadSummary = {
      serversAdded,
      serversRemoved,
      serversKept: tree.backends.size - serversAdded.length,
      listenersAdded: [...bound.keys()],
      listenersRemoved,
    };
    this.#logger.log("info", "config reloaded", {
      pools: config.pools.map((p) => p.name),
      servers_added: summary.serversAdded,
      servers_removed: summary.serversRemoved,
      servers_kept: summary.serversKept,
      listeners_added: summary.listenersAdded,
      listeners_removed: summary.listenersRemoved,
    });
    return summary;
  }

  /** Counts and logs a rejected reload; returns the error to throw, as a `ConfigError`. */
  #rejected(error: unknown): Error {
    if (!(error instanceof Error)) error = new Error(String(error));
    const wrapped = error instanceof ConfigError
      ? error
      : new ConfigError((error as Error).message);
    this.#reloadsRejected++;
    this.#logger.log("error", "config rejected, keeping the one in use", {
      reason: wrapped.message,
    });
    return wrapped;
  }

  /**
   * What each pool's clients are held to, by pool name: limits, buffer bound, idle timeout, and
   * the credentials read now from its auth file.
   *
   * @throws {Error} when an auth file cannot be read or is malformed.
   */
  #sessionSettings(config: ProxyConfig): Map<string, SessionSettings> {
    return new Map(config.pools.map((pool) => [pool.name, sessionSettings(pool, this.#logger)]));
  }

  /**
   * Points every listener of the current tree at its pool's router and session `settings`,
   * starts the newly `bound` ones, and lets go of listeners the tree no longer has. Returns
   * their addresses. A listener's idle timeout is the one it started with.
   */
  #applyListeners(
    bound: Map<string, StreamListener>,
    settings: Map<string, SessionSettings>,
  ): string[] {
    const wanted = new Set<string>();
    for (const pool of this.#tree.pools) {
      const poolSettings = settings.get(pool.config.name)!;
      for (const listen of pool.config.listen) {
        const key = listenKey(listen, pool.config.name);
        wanted.add(key);
        const record = this.#listeners.get(key);
        if (record !== undefined) {
          // Sessions read the context on every request: the next one takes the new route.
          record.context.router = pool.router;
          Object.assign(record.context, poolSettings);
          record.listener.maxConnections = pool.config.maxClientConnections;
          continue;
        }
        const context: SessionContext = {
          router: pool.router,
          stats: this.stats,
          version: VERSION_REPLY,
          ...poolSettings,
          statsReply: (args) => encoder.encode(statsReply(this.snapshot(), args)),
        };
        const listener = new Listener(bound.get(key)!, context, pool.config.maxClientConnections);
        this.#listeners.set(key, { listener, context, serving: listener.serve() });
        this.#logger.log("info", "listening", {
          pool: pool.config.name,
          address: formatAddr(listener.addr),
          io: bound.get(key) instanceof EpollListener ? "epoll" : "deno",
        });
      }
    }
    const removed: string[] = [];
    for (const [key, record] of this.#listeners) {
      if (wanted.has(key)) continue;
      removed.push(key);
      this.#listeners.delete(key);
      const listener = record.listener;
      listener.close();
      this.#leaving.add(listener);
      listener.drainSessions().finally(() => this.#leaving.delete(listener));
      this.#logger.log("info", "stopped listening", { address: key });
    }
    return removed;
  }

  #createBackend = (pool: PoolConfig, server: ServerConfig): Backend => {
    return new Backend({
      hostname: server.host,
      port: server.port,
      timeoutMs: pool.timeoutMs,
      transport: this.#options.io,
      connections: pool.serverConnections,
      failureLimit: pool.serverFailureLimit,
      retryTimeoutMs: pool.serverRetryTimeoutMs,
      onStateChange: (b, up, reason) => {
        this.stats.backendStateChanges++;
        if (!up) b.stats.markedDown++;
        this.#logger.log(up ? "info" : "warn", up ? "server up" : "server down", {
          server: b.address,
          pool: pool.name,
          reason,
        });
        const owner = this.#poolOf(b);
        if (owner === null) return;
        for (let r = 0; r < owner.replicas; r++) {
          if (!owner.group(r).reconsider()) continue;
          if (!up) this.stats.ejections++;
          this.#logger.log("warn", up ? "server restored to the distribution" : "server ejected", {
            server: b.address,
            pool: pool.name,
          });
        }
        if (up) owner.replication?.serverUp(b);
      },
      onRestart: (b) => this.#poolOf(b)?.replication?.serverRestarted(b),
    });
  };

  /** The pool of the tree in use that `backend` serves; backends are per pool. */
  #poolOf(backend: Backend): Pool | null {
    for (const routes of this.#tree.pools) {
      if (routes.pool.allBackends().includes(backend)) return routes.pool;
    }
    return null;
  }

  #preconnect(tree: RouteTree): void {
    for (const pool of tree.pools) {
      if (!pool.config.preconnect) continue;
      for (const entry of tree.backends.values()) {
        if (entry.pool === pool.config.name) entry.backend.connect();
      }
    }
  }

  /**
   * Closes a backend a reload removed, once nothing can still use it: operations started on the
   * old tree send to backups only as primaries answer, which is within one timeout; then its
   * requests in flight get up to two more timeouts to finish.
   */
  #retire(entry: BackendEntry): void {
    const backend = entry.backend;
    const deadline = Date.now() + 3 * entry.timeoutMs;
    const check = () => {
      if (backend.inFlight > 0 && Date.now() < deadline) {
        this.#retiring.set(backend, setTimeout(check, 20));
        return;
      }
      this.#retiring.delete(backend);
      this.#retiredTimeouts += backend.stats.timeouts;
      backend.close();
    };
    this.#retiring.set(backend, setTimeout(check, entry.timeoutMs));
  }

  #startAdmin(address: { hostname: string; port: number }): void {
    this.#admin = serveAdmin(address, {
      metrics: () => this.metrics(),
      readiness: () => this.readiness(),
      reload: async () => {
        const s = await this.reload();
        const changed = s.serversAdded.length + s.serversRemoved.length +
          s.listenersAdded.length + s.listenersRemoved.length;
        return changed === 0 ? "no changes" : JSON.stringify(s);
      },
    }, this.#logger);
    this.#logger.log("info", "admin endpoint listening", {
      address: formatAddr(this.#admin.addr),
    });
  }

  /**
   * Stops accepting clients, lets each answer the requests it has read (its replicated writes
   * included) for up to `drainTimeoutMs`, then closes every connection. Resolves when all is
   * closed; a second call gets the same promise, and with `drainTimeoutMs` 0 cuts the drain
   * short.
   */
  close(drainTimeoutMs: number = this.#options.drainTimeoutMs): Promise<void> {
    if (this.#closed !== null && drainTimeoutMs === 0) this.#cut.abort();
    return this.#closed ??= this.#close(drainTimeoutMs);
  }

  async #close(drainTimeoutMs: number): Promise<void> {
    this.#draining = true;
    const deadline = Date.now() + drainTimeoutMs;
    const listeners = [...this.#listeners.values()];
    for (const { listener } of listeners) listener.close();
    await Promise.all(listeners.map((r) => r.serving));
    const all = [...listeners.map((r) => r.listener), ...this.#leaving];
    const open = () => all.reduce((n, l) => n + l.sessions, 0);
    const cut = this.#cut.signal;
    if (open() > 0 && drainTimeoutMs > 0) {
      const drained = cut.aborted ? false : await drainWithin(all, drainTimeoutMs, cut);
      if (!drained) {
        const what = cut.aborted ? "drain cut short" : "drain timed out";
        this.#logger.log("warn", `${what}, closing client connections`, {
          connections: open(),
          drain_timeout_ms: drainTimeoutMs,
        });
      }
    }
    await Promise.all(all.map((l) => l.closeSessions()));
    // Writes copied to backups after their primaries answered may still be on their way.
    const backends = [...this.#tree.backends.values()].map((e) => e.backend);
    backends.push(...this.#retiring.keys());
    while (
      Date.now() < deadline && !cut.aborted && backends.some((b) => b.inFlight > 0)
    ) {
      await sleep(5);
    }
    for (const [backend, timer] of this.#retiring) {
      clearTimeout(timer);
      backend.close();
    }
    this.#retiring.clear();
    for (const routes of this.#tree.pools) routes.pool.replication?.close();
    for (const b of backends) b.close();
    this.#listeners.clear();
    await this.#admin?.close();
  }
}

/**
 * Lets the listeners' sessions drain: true once all have ended, false when `timeoutMs` passes or
 * `cut` aborts first.
 */
async function drainWithin(
  listeners: Listener[],
  timeoutMs: number,
  cut: AbortSignal,
): Promise<boolean> {
  const { promise: stopped, resolve: stop } = Promise.withResolvers<boolean>();
  const timer = setTimeout(() => stop(false), timeoutMs);
  const onCut = () => stop(false);
  cut.addEventListener("abort", onCut, { once: true });
  try {
    return await Promise.race([
      Promise.all(listeners.map((l) => l.drainSessions())).then(() => true),
      stopped,
    ]);
  } finally {
    clearTimeout(timer);
    cut.removeEventListener("abort", onCut);
  }
}
