/**
 * What the proxy looks like at one moment, as `stats`, `stats servers` and `/metrics` render it.
 * The server layer fills it; the renderers in this directory only read it.
 *
 * @module
 */

import type { LatencyHistogram } from "./latency_histogram.ts";
import type { ProxyStats } from "./stats.ts";

/** Whether a figure only grows (a counter) or goes up and down (a gauge). */
export type MetricKind = "counter" | "gauge";

/** A proxy-wide figure that is not a {@linkcode ProxyStats} field. */
export interface ExtraFigure {
  /** Its `stats` name, snake_case. */
  name: string;
  /** Its value now. */
  value: number;
  /** Counter or gauge. */
  kind: MetricKind;
  /** One line saying what it counts. */
  help: string;
}

/** One backend: a memcached server as one pool uses it. */
export interface ServerSnapshot {
  /** The pool it belongs to. */
  pool: string;
  /** `host:port`. */
  address: string;
  /** `primary`, `backup`, or `primary+backup` when it is both in its pool. */
  role: string;
  /** False while it is marked down. */
  up: boolean;
  /** Failures since its last success. */
  failures: number;
  /** Requests sent to it and not yet answered. */
  inFlight: number;
  /** Connects and replies that timed out. */
  timeouts: number;
  /** Times it was marked down. */
  markedDown: number;
  /** Bytes read from it. */
  bytesIn: number;
  /** Bytes written to it. */
  bytesOut: number;
  /** Its reply latencies. */
  latency: LatencyHistogram;
}

/** One pool's health, as `/readyz` judges it. */
export interface PoolSnapshot {
  /** The pool's name. */
  name: string;
  /** How many primaries it has. */
  primaries: number;
  /** How many of them are up. */
  primariesUp: number;
}

/** The whole proxy at one moment. */
export interface ProxySnapshot {
  /** The counters operations update. */
  stats: ProxyStats;
  /** The version `version` and `stats` report. */
  version: string;
  /** Proxy-wide figures the server layer adds: servers, servers down, reloads, … */
  extra: ExtraFigure[];
  /** Every backend, pool by pool, primaries first. */
  servers: ServerSnapshot[];
  /** Every pool. */
  pools: PoolSnapshot[];
}
