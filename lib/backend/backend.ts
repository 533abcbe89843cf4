import type { ReplyKindCode } from "../protocol/text/response_parser.ts";
import { ReplyKind } from "../protocol/text/response_parser.ts";
import { BackendStats } from "./backend_stats.ts";
import type { TransportChoice } from "../net/tcp.ts";
import { BackendConnection } from "./connection.ts";
import { BackendError, type ReplyHandler } from "./reply_handler.ts";

/** How one memcached server is reached and judged. */
export interface BackendOptions {
  /** Host name or address. */
  hostname: string;
  /** TCP port. */
  port: number;
  /** Connect and reply timeout, in milliseconds. */
  timeoutMs: number;
  /** The TCP transport (`lib/net/tcp.ts`); default `auto`. */
  transport?: TransportChoice;
  /** Pipelined connections kept to the server; each client always uses the same one. */
  connections: number;
  /** Consecutive failures after which the server is marked down. */
  failureLimit: number;
  /** First wait before a down server is probed; doubled after each failed probe, up to 30 s. */
  retryTimeoutMs: number;
  /** Told when the server goes down or comes back up. */
  onStateChange?(backend: Backend, up: boolean, reason: string): void;
  /**
   * Told when the server turns out to be a new process since the proxy last saw it: it
   * restarted, and holds no data from before.
   */
  onRestart?(backend: Backend): void;
}

const MAX_RETRY_MS = 30_000;
const PROBE = new TextEncoder().encode("version\r\n");
const STATS = new TextEncoder().encode("stats\r\n");
/** Tags of the backend's own requests. */
const PROBE_TAG = 0;
const IDENTITY_TAG = 1;
/** Wait before a failed connection of a server that is still up is opened again. */
const RECONNECT_DELAY_MS = 50;
/** Seconds two reports of a server's start time may differ by and still be the same process. */
const START_TIME_SLACK = 2;

/**
 * One memcached server: its pipelined connections and its health.
 *
 * After `failureLimit` consecutive failures the server is down: requests fail at once instead of
 * waiting for a timeout, and a `version` probe is sent after `retryTimeoutMs`, then after twice
 * that, and so on. A good probe brings it back up.
 *
 * Each time a connection opens, `stats` tells which process answers (its pid and start time).
 * A different process than before means the server restarted empty: `onRestart` is told. So
 * is a server first seen after it failed, since it may have lost what it was sent.
 */
export class Backend implements ReplyHandler {
  /** `host:port`, as used in logs, errors and stats. */
  readonly address: string;
  /** Bytes, timeouts and reply latencies, counted by the connections. */
  readonly stats: BackendStats = new BackendStats();
  readonly #options: BackendOptions;
  readonly #connections: BackendConnection[];
  #failures = 0;
  #down = false;
  #downReason = "";
  #retryMs: number;
  #probeTimer: ReturnType<typeof setTimeout> | undefined;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  /** The pid and start time (Unix seconds) of the process last seen, once known. */
  #pid = -1;
  #startTime = -1;
  /** Whether a request failed before the process was first seen: it may have restarted. */
  #failedUnseen = false;

  /** @param options Where the server is, and how to judge it. */
  constructor(options: BackendOptions) {
    this.#options = options;
    this.address = `${options.hostname}:${options.port}`;
    this.#retryMs = options.retryTimeoutMs;
    const onHealth = (ok: boolean, error?: BackendError) =>
      ok ? this.#succeeded() : this.#failed(error!);
    const onConnect = (connection: BackendConnection) =>
      connection.send(STATS, ReplyKind.Stats, this, IDENTITY_TAG);
    this.#connections = Array.from(
      { length: Math.max(1, options.connections) },
      () => new BackendConnection({ ...options, onHealth, onConnect, stats: this.stats }),
    );
  }

  /** The server's host. */
  get hostname(): string {
    return this.#options.hostname;
  }

  /** The server's port. */
  get port(): number {
    return this.#options.port;
  }

  /** False while the server is marked down. */
  get up(): boolean {
    return !this.#down;
  }

  /** Failures since the last success. */
  get failures(): number {
    return this.#failures;
  }

  /** Requests sent on any connection and not yet answered. */
  get inFlight(): number {
    let n = 0;
    for (const c of this.#connections) n += c.inFlight;
    return n;
  }

  /**
   * Sends one request. `affinity` picks the connection: requests with the same affinity (one
   * client's) share a connection, so the server sees them in the order the client sent them. A
   * `deferred` request (a write's copy for a backup, which no client waits for) may wait a
   * moment to share a write with others (`BackendConnection.send`), behind which any request
   * that is not deferred is written. Only over a server's one connection, though: over several,
   * a copy waiting on one could be overtaken by a later copy of the same key, or by a read, on
   * another, so there every request goes out at once.
   */
  send(
    bytes: Uint8Array,
    kind: ReplyKindCode,
    handler: ReplyHandler,
    tag: number,
    affinity: number,
    deferred = false,
  ): void {
    if (this.#down) {
      handler.onFailure(
        new BackendError(this.address, `server is down (${this.#downReason})`),
        tag,
      );
      return;
    }
    const connections = this.#connections;
    if (connections.length === 1) {
      connections[0].send(bytes, kind, handler, tag, deferred);
    } else {
      connections[affinity % connections.length].send(bytes, kind, handler, tag);
    }
  }

  /** Opens every connection now rather than on first use. */
  connect(): void {
    for (const c of this.#connections) c.connect();
  }

  /** Stops probing and closes every connection. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#probeTimer);
    clearTimeout(this.#reconnectTimer);
    for (const c of this.#connections) c.close();
  }

  #succeeded(): void {
    this.#failures = 0;
  }

  #failed(error: BackendError): void {
    this.#failures++;
    if (this.#pid < 0) this.#failedUnseen = true;
    if (!this.#down && this.#failures >= this.#options.failureLimit) {
      this.#down = true;
      this.#downReason = error.message;
      this.#retryMs = this.#options.retryTimeoutMs;
      this.#options.onStateChange?.(this, false, error.message);
      this.#scheduleProbe();
    } else if (!this.#down && this.#reconnectTimer === undefined && !this.#closed) {
      // Reconnect without waiting for a request, so that a server that restarted empty is
      // found out, and refilled, even when nothing is sent to it for a while.
      this.#reconnectTimer = setTimeout(() => {
        this.#reconnectTimer = undefined;
        if (!this.#down && !this.#closed) this.connect();
      }, RECONNECT_DELAY_MS);
    }
  }

  #scheduleProbe(): void {
    if (this.#closed) return;
    this.#probeTimer = setTimeout(() => {
      this.#connections[0].send(PROBE, ReplyKind.Line, this, PROBE_TAG);
    }, this.#retryMs);
  }

  /** The reply to a probe (the server answers again) or to `stats` (which process answers). */
  onReply(reply: Uint8Array, tag: number): void {
    if (tag === IDENTITY_TAG) {
      this.#identify(new TextDecoder().decode(reply));
      return;
    }
    if (!this.#down) return;
    this.#down = false;
    this.#failures = 0;
    this.#options.onStateChange?.(this, true, "probe answered");
  }

  /** A probe failed: wait twice as long before the next. A failed `stats` is retried on reconnect. */
  onFailure(error: BackendError, tag: number): void {
    if (tag === IDENTITY_TAG) return;
    this.#downReason = error.message;
    this.#retryMs = Math.min(this.#retryMs * 2, MAX_RETRY_MS);
    this.#scheduleProbe();
  }

  /** Compares the process in a `stats` reply with the one seen before. */
  #identify(stats: string): void {
    const stat = (name: string) =>
      Number(stats.match(new RegExp(`^STAT ${name} (\\d+)`, "m"))?.[1]);
    const pid = stat("pid");
    const startTime = stat("time") - stat("uptime");
    if (!Number.isFinite(pid) || !Number.isFinite(startTime)) return;
    // A server that failed before it was ever seen may have lost what it was sent: it counts
    // as restarted, and a refill (which never overwrites) costs only time.
    const restarted = this.#pid < 0
      ? this.#failedUnseen
      : pid !== this.#pid || Math.abs(startTime - this.#startTime) > START_TIME_SLACK;
    this.#pid = pid;
    this.#startTime = startTime;
    if (restarted) this.#options.onRestart?.(this);
  }
}
