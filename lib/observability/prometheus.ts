/**
 * The proxy's figures in Prometheus' text exposition format (version 0.0.4), as `/metrics`
 * serves them: the same figures as `stats` and `stats servers`, with labels.
 *
 * @module
 */

import type { MetricKind, ProxySnapshot, ServerSnapshot } from "./snapshot.ts";
import { statsFields } from "./stats_report.ts";

/** The `Content-Type` of {@linkcode prometheusText}. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/**
 * {@linkcode ProxyStats} fields that go up and down. Every other field is a counter: a new
 * counter needs no change here, a new gauge is named here.
 */
const GAUGE_FIELDS: ReadonlySet<string> = new Set([
  "curr_connections",
  "refills_running",
  "last_refill_ms",
]);

type Labels = Record<string, string>;

/** Escapes a label value: backslash, double quote and newline. */
function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** Escapes a HELP text: backslash and newline. */
function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function formatLabels(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

/** Writes metric families: each one's HELP and TYPE once, then its samples. */
class Exposition {
  #text = "";

  family(
    name: string,
    kind: MetricKind | "histogram",
    help: string,
    samples: Array<[Labels, number]>,
  ): void {
    this.#text += `# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${kind}\n`;
    for (const [labels, value] of samples) {
      this.#text += `${name}${formatLabels(labels)} ${formatValue(value)}\n`;
    }
  }

  latency(name: string, help: string, servers: ServerSnapshot[]): void {
    this.#text += `# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} histogram\n`;
    for (const s of servers) {
      const labels = { server: s.address, pool: s.pool };
      for (const [le, count] of s.latency.cumulativeBuckets()) {
        this.#text += `${name}_bucket${formatLabels({ ...labels, le: String(le) })} ${count}\n`;
      }
      const count = s.latency.count;
      this.#text += `${name}_bucket${formatLabels({ ...labels, le: "+Inf" })} ${count}\n`;
      this.#text += `${name}_sum${formatLabels(labels)} ${formatValue(s.latency.sumMs / 1000)}\n`;
      this.#text += `${name}_count${formatLabels(labels)} ${count}\n`;
    }
  }

  toString(): string {
    return this.#text;
  }
}

/**
 * A counter's metric name: `memrelay_<name>_total`, a leading `total_` moved to the end
 * (`total_connections` → `memrelay_connections_total`).
 */
export function counterName(name: string): string {
  const base = name.startsWith("total_") ? name.slice("total_".length) : name;
  return `memrelay_${base}${base.endsWith("_total") ? "" : "_total"}`;
}

/**
 * Renders `snapshot` as Prometheus text.
 *
 * - Every {@linkcode ProxyStats} number field, as `memrelay_<stats name>_total` (a counter; see
 *   {@linkcode counterName}), or `memrelay_<stats name>` for the gauges (`curr_connections`).
 * - The server layer's figures, the same way.
 * - Per backend, labelled `server` and `pool`: `memrelay_backend_up`,
 *   `memrelay_backend_consecutive_failures`, `memrelay_backend_in_flight_requests`,
 *   `memrelay_backend_timeouts_total`, `memrelay_backend_marked_down_total`,
 *   `memrelay_backend_received_bytes_total`, `memrelay_backend_sent_bytes_total`, and the
 *   histogram `memrelay_backend_latency_seconds`; `memrelay_backend_info` adds its `role`.
 * - Per pool: `memrelay_pool_primaries` and `memrelay_pool_primaries_up`.
 */
export function prometheusText(snapshot: ProxySnapshot): string {
  const out = new Exposition();
  const servers = snapshot.servers;
  out.family("memrelay_build_info", "gauge", "memrelay's version, as a label; always 1.", [
    [{ version: snapshot.version }, 1],
  ]);
  out.family(
    "memrelay_start_time_seconds",
    "gauge",
    "When the proxy started, in seconds since the epoch.",
    [[{}, snapshot.stats.startedAt / 1000]],
  );
  out.family("memrelay_uptime_seconds", "gauge", "Seconds since the proxy started.", [
    [{}, Math.floor((Date.now() - snapshot.stats.startedAt) / 1000)],
  ]);
  for (const [name, value] of statsFields(snapshot.stats)) {
    const gauge = GAUGE_FIELDS.has(name);
    out.family(
      gauge ? `memrelay_${name}` : counterName(name),
      gauge ? "gauge" : "counter",
      `The proxy's ${name}, as \`stats\` reports it.`,
      [[{}, value]],
    );
  }
  for (const figure of snapshot.extra) {
    out.family(
      figure.kind === "gauge" ? `memrelay_${figure.name}` : counterName(figure.name),
      figure.kind,
      figure.help,
      [[{}, figure.value]],
    );
  }
  out.family(
    "memrelay_pool_primaries",
    "gauge",
    "Primary servers of each pool.",
    snapshot.pools.map((p) => [{ pool: p.name }, p.primaries]),
  );
  out.family(
    "memrelay_pool_primaries_up",
    "gauge",
    "Primary servers of each pool that are not marked down.",
    snapshot.pools.map((p) => [{ pool: p.name }, p.primariesUp]),
  );
  const each = (pick: (s: ServerSnapshot) => number): Array<[Labels, number]> =>
    servers.map((s) => [{ server: s.address, pool: s.pool }, pick(s)]);
  out.family(
    "memrelay_backend_info",
    "gauge",
    "Each backend's role in its pool (primary, backup, primary+backup); always 1.",
    servers.map((s) => [{ server: s.address, pool: s.pool, role: s.role }, 1]),
  );
  out.family("memrelay_backend_up", "gauge", "1 while the server is not marked down.", [
    ...each((s) => s.up ? 1 : 0),
  ]);
  out.family(
    "memrelay_backend_consecutive_failures",
    "gauge",
    "Failures since the server's last success.",
    each((s) => s.failures),
  );
  out.family(
    "memrelay_backend_in_flight_requests",
    "gauge",
    "Requests sent to the server and not yet answered.",
    each((s) => s.inFlight),
  );
  out.family(
    "memrelay_backend_timeouts_total",
    "counter",
    "Connects and replies that timed out.",
    each((s) => s.timeouts),
  );
  out.family(
    "memrelay_backend_marked_down_total",
    "counter",
    "Times the server was marked down.",
    each((s) => s.markedDown),
  );
  out.family(
    "memrelay_backend_received_bytes_total",
    "counter",
    "Bytes read from the server.",
    each((s) => s.bytesIn),
  );
  out.family(
    "memrelay_backend_sent_bytes_total",
    "counter",
    "Bytes written to the server.",
    each((s) => s.bytesOut),
  );
  out.latency(
    "memrelay_backend_latency_seconds",
    "Time from writing a request to the server to reading its reply.",
    servers,
  );
  return out.toString();
}
