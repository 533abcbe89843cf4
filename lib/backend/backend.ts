import type { ReplyKindCode } from "../protocol/text/response_parser.ts";
import { ReplyKind } from "../protocol/text/response_parser.ts";
import { BackendStats } from "./backend_stats.ts";
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
  /** Pipelined connections kept to the server; each client always uses the same one. */
  connections: number;
  /** Consecutive failures after which the server is marked down. */
  failureLimit: number;
  /** First wait before a down server is probed; doubled after each failed probe, up to 30 s. */
  retryTimeoutMs: number;
  /** Told when the server goes down or comes back up. */
  onStateChange?(backend: Backend, up: boolean, reason: string): void;
}

const MAX_RETRY_MS = 30_000;
const PROBE = new TextEncoder().encode("version\r\n");

/**
 * One memcached server: its pipelined connections and its health.
 *
 * After `failureLimit` consecutive failures the server is down: requests fail at once instead of
 * waiting for a timeout, and a `version` probe is sent after `retryTimeoutMs`, then after twice
 * that, and so on. A good probe brings it back up.
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
  #closed = false;

  /** @param options Where the server is, and how to judge it. */
  constructor(options: BackendOptions) {
    this.#options = options;
    this.address = `${options.hostname}:${options.port}`;
    this.#retryMs = options.retryTimeoutMs;
    const onHealth = (ok: boolean, error?: BackendError) =>
      ok ? this.#succeeded() : this.#failed(error!);
    this.#connections = Array.from(
      { length: Math.max(1, options.connections) },
      () => new BackendConnection({ ...options, onHealth, stats: this.stats }),
    );
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
   * client's) share a connection, so the server sees them in the order the client sent them.
   */
  send(
    bytes: Uint8Array,
    kind: ReplyKindCode,
    handler: ReplyHandler,
    tag: number,
    affinity: number,
  ): void {
    if (this.#down) {
      handler.onFailure(
        new BackendError(this.address, `server is down (${this.#downReason})`),
        tag,
      );
      return;
    }
    const connections = this.#connections;
    connections[connections.length === 1 ? 0 : affinity % connections.length].send(
      bytes,
      kind,
      handler,
      tag,
    );
  }

  /** Opens every connection now rather than on first use. */
  connect(): void {
    for (const c of this.#connections) c.connect();
  }

  /** Stops probing and closes every connection. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#probeTimer);
    for (const c of this.#connections) c.close();
  }

  #succeeded(): void {
    this.#failures = 0;
  }

  #failed(error: BackendError): void {
    this.#failures++;
    if (!this.#down && this.#failures >= this.#options.failureLimit) {
      this.#down = true;
      this.#downReason = error.message;
      this.#retryMs = this.#options.retryTimeoutMs;
      this.#options.onStateChange?.(this, false, error.message);
      this.#scheduleProbe();
    }
  }

  #scheduleProbe(): void {
    if (this.#closed) return;
    this.#probeTimer = setTimeout(() => {
      this.#connections[0].send(PROBE, ReplyKind.Line, this, 0);
    }, this.#retryMs);
  }

  /** The probe's reply: the server answers again. */
  onReply(): void {
    if (!this.#down) return;
    this.#down = false;
    this.#failures = 0;
    this.#options.onStateChange?.(this, true, "probe answered");
  }

  /** The probe failed: wait twice as long before the next. */
  onFailure(error: BackendError): void {
    this.#downReason = error.message;
    this.#retryMs = Math.min(this.#retryMs * 2, MAX_RETRY_MS);
    this.#scheduleProbe();
  }
}
