import { isIP } from "../deps.ts";
import { type TransportChoice, TRANSPORTS } from "../net/tcp.ts";
import { LOG_LEVELS, type LogLevel } from "../observability/log.ts";
import { ConfigError, parsePort } from "./server_address.ts";

/** How the process is run, whatever the configuration: logs, admin endpoint, shutdown. */
export interface OpsOptions {
  /** Where to serve the admin HTTP endpoint; null: nowhere (the default). */
  admin: { hostname: string; port: number } | null;
  /** `text` (the default) or `json` lines. */
  logFormat: "text" | "json";
  /** The lowest level logged; null: `info`, or `debug` with `-v`. */
  logLevel: LogLevel | null;
  /** How long a shutdown lets requests in flight finish, in milliseconds. */
  drainTimeoutMs: number;
  /** The TCP transport: `auto` (the default), `epoll` or `deno`. */
  io: TransportChoice;
}

/** The default of `--drain-timeout`, in milliseconds. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 5000;

/** These flags, as `parseArgs` takes them. They may go with `-c` as well as with the others. */
export const OPS_FLAG_OPTIONS = {
  admin: { type: "string" },
  "log-format": { type: "string" },
  "log-level": { type: "string" },
  "drain-timeout": { type: "string" },
  io: { type: "string" },
} as const;

/** The part of the usage text about these flags. */
export const OPS_USAGE = `Running it:
      --admin [HOST:]PORT          serve /metrics, /healthz, /readyz and POST /reload over HTTP
                                   (HOST defaults to 127.0.0.1; off unless given)
      --log-format text|json       log lines for people (default) or one JSON object per line
      --log-level LEVEL            debug, info (default; debug with -v), warn or error
      --drain-timeout MS           on SIGTERM/SIGINT, how long requests in flight may take to
                                   finish before connections are closed (default 5000)
      --io auto|epoll|deno         TCP sockets: epoll through FFI (Linux x86-64, --allow-ffi;
                                   fastest), Deno's own, or auto (default: epoll where it can)
  SIGHUP re-reads the -c file and applies it without dropping clients.`;

/**
 * Parses `--admin`'s value: `PORT`, `:PORT`, `HOST:PORT` or `[IPv6]:PORT`; the host defaults to
 * loopback, as the endpoint has no authentication.
 */
export function parseAdminAddress(text: string): { hostname: string; port: number } {
  let hostname = "127.0.0.1";
  let portText = text;
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close < 0 || text[close + 1] !== ":") {
      throw new ConfigError(`bad --admin "${text}": expected [IPv6]:PORT`);
    }
    hostname = text.slice(1, close);
    portText = text.slice(close + 2);
  } else if (text.includes(":")) {
    const colon = text.lastIndexOf(":");
    hostname = text.slice(0, colon) || hostname;
    portText = text.slice(colon + 1);
  }
  const literal = /^[\d.]+$/.test(hostname) || hostname.includes(":");
  if ((literal && isIP(hostname) === 0) || !/^[\w.:-]+$/.test(hostname)) {
    throw new ConfigError(`bad --admin "${text}": "${hostname}" is not an address or host name`);
  }
  return { hostname, port: parsePort(portText, "--admin", true) };
}

/**
 * Reads these flags from `parseArgs`' values.
 *
 * @example
 * ```ts
 * import { opsOptions } from "./ops_flags.ts";
 * console.log(opsOptions({ admin: "9100", "log-format": "json" }));
 * // { admin: { hostname: "127.0.0.1", port: 9100 }, logFormat: "json", logLevel: null,
 * //   drainTimeoutMs: 5000, io: "auto" }
 * ```
 */
export function opsOptions(values: Record<string, unknown>): OpsOptions {
  const format = values["log-format"] as string | undefined;
  if (format !== undefined && format !== "text" && format !== "json") {
    throw new ConfigError(`bad --log-format "${format}": use text or json`);
  }
  const level = values["log-level"] as string | undefined;
  if (level !== undefined && !(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new ConfigError(`bad --log-level "${level}": use one of ${LOG_LEVELS.join(", ")}`);
  }
  const drain = values["drain-timeout"] as string | undefined;
  if (drain !== undefined && !/^\d+$/.test(drain)) {
    throw new ConfigError(`bad --drain-timeout "${drain}": expected milliseconds, such as 5000`);
  }
  const io = values.io as string | undefined;
  if (io !== undefined && !(TRANSPORTS as readonly string[]).includes(io)) {
    throw new ConfigError(`bad --io "${io}": use ${TRANSPORTS.join(", ")}`);
  }
  const admin = values.admin as string | undefined;
  return {
    admin: admin === undefined ? null : parseAdminAddress(admin),
    logFormat: format ?? "text",
    logLevel: (level as LogLevel | undefined) ?? null,
    drainTimeoutMs: drain === undefined ? DEFAULT_DRAIN_TIMEOUT_MS : Number(drain),
    io: (io as TransportChoice | undefined) ?? "auto",
  };
}
