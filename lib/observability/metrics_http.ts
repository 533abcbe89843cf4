/**
 * The admin HTTP endpoint (`--admin host:port`): metrics, health, readiness and reload, for
 * Prometheus, load balancers, orchestrators and operators. Off unless asked for; it should
 * listen on loopback or an internal network, as it takes no credentials.
 *
 * | request         | answer                                                                 |
 * | --------------- | ---------------------------------------------------------------------- |
 * | `GET /metrics`  | Prometheus text (0.0.4)                                                |
 * | `GET /healthz`  | `200 ok`: the process is alive and serving HTTP                        |
 * | `GET /readyz`   | `200 ready`, or `503` and why not: draining, or a pool with no primary |
 * | `POST /reload`  | `200` and what changed; `400` and why for a rejected configuration;    |
 * |                 | `409` when there is no file to reload from; `503` while shutting down  |
 *
 * Other paths get `404`; other methods on these paths `405` with an `Allow` header.
 *
 * @module
 */

import { ConfigError } from "../config/server_address.ts";
import type { Logger } from "./log.ts";
import { PROMETHEUS_CONTENT_TYPE } from "./prometheus.ts";

/** What the admin endpoint asks of the proxy. */
export interface AdminSource {
  /** The figures in Prometheus text. */
  metrics(): string;
  /** Whether the proxy should get traffic, and why not. */
  readiness(): { ready: boolean; reason: string };
  /**
   * Re-reads the configuration and applies it; resolves to a one-line summary. Rejects with a
   * `ConfigError` for a configuration that was rejected, with `Deno.errors.NotSupported` when
   * there is nothing to reload from.
   */
  reload(): Promise<string>;
}

/** A running admin endpoint. */
export interface AdminServer {
  /** Where it listens. */
  readonly addr: Deno.NetAddr;
  /** Stops it, letting requests in progress finish. */
  close(): Promise<void>;
}

const TEXT = "text/plain; charset=utf-8";

function text(status: number, body: string, headers: Record<string, string> = {}): Response {
  return new Response(body.endsWith("\n") ? body : body + "\n", {
    status,
    headers: { "content-type": TEXT, ...headers },
  });
}

/**
 * Serves the admin endpoint on `hostname:port` (port 0 picks a free one).
 *
 * @throws when the address cannot be bound, as `Deno.serve` does.
 *
 * @example
 * ```ts
 * import { serveAdmin } from "./metrics_http.ts";
 * import { silentLogger } from "./log.ts";
 * const admin = serveAdmin({ hostname: "127.0.0.1", port: 0 }, {
 *   metrics: () => "# TYPE up gauge\nup 1\n",
 *   readiness: () => ({ ready: true, reason: "" }),
 *   reload: () => Promise.resolve("no changes"),
 * }, silentLogger);
 * const response = await fetch(`http://127.0.0.1:${admin.addr.port}/healthz`);
 * console.log(response.status, await response.text()); // 200 "ok\n"
 * await admin.close();
 * ```
 */
export function serveAdmin(
  address: { hostname: string; port: number },
  source: AdminSource,
  logger: Logger,
): AdminServer {
  const handler = async (request: Request): Promise<Response> => {
    const path = new URL(request.url).pathname;
    const method = request.method;
    const allow = (methods: string) =>
      methods.split(", ").includes(method)
        ? null
        : text(405, `${method} is not allowed on ${path}: use ${methods}`, { allow: methods });
    switch (path) {
      case "/metrics":
        return allow("GET, HEAD") ??
          new Response(method === "HEAD" ? null : source.metrics(), {
            headers: { "content-type": PROMETHEUS_CONTENT_TYPE },
          });
      case "/healthz":
        return allow("GET, HEAD") ?? text(200, "ok");
      case "/readyz": {
        const refused = allow("GET, HEAD");
        if (refused !== null) return refused;
        const { ready, reason } = source.readiness();
        return ready ? text(200, "ready") : text(503, `not ready: ${reason}`);
      }
      case "/reload": {
        const refused = allow("POST");
        if (refused !== null) return refused;
        try {
          return text(200, `reloaded: ${await source.reload()}`);
        } catch (error) {
          if (error instanceof ConfigError) return text(400, `rejected: ${error.message}`);
          if (error instanceof Deno.errors.NotSupported) return text(409, error.message);
          if (error instanceof Deno.errors.Interrupted) return text(503, error.message);
          logger.log("error", "reload failed", { reason: (error as Error).message });
          return text(500, `reload failed: ${(error as Error).message}`);
        }
      }
      default:
        return text(404, `no such path: ${path}; try /metrics, /healthz, /readyz, POST /reload`);
    }
  };
  const server = Deno.serve({
    hostname: address.hostname,
    port: address.port,
    onListen() {},
    onError(error) {
      logger.log("error", "admin request failed", { reason: (error as Error).message });
      return text(500, "internal error");
    },
  }, handler);
  return {
    addr: server.addr,
    async close() {
      await server.shutdown();
    },
  };
}
