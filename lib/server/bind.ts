import {
  DEFAULT_UNIX_MODE,
  type ListenConfig,
  type PoolConfig,
  type TlsFiles,
} from "../config/proxy_config.ts";
import type { Logger } from "../observability/log.ts";
import { listenTcp, type StreamListener, type TransportChoice } from "../net/tcp.ts";

/** True for an address only this machine can reach: 127.0.0.0/8, `::1`, or `localhost`. */
export function isLoopback(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, "").replace(/^::ffff:/, "");
  return host === "localhost" || host === "::1" || host === "0:0:0:0:0:0:0:1" ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * What to warn about a TCP listener on `hostname:port`: other machines can reach it and it has
 * no authentication, or it has authentication without TLS; null when it is loopback or has both.
 */
export function exposureWarning(hostname: string, port: number, pool: PoolConfig): string | null {
  if (isLoopback(hostname)) return null;
  const address = hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
  if (pool.authFile === null) {
    return `listening on ${address} without authentication: anyone who can reach it can read, ` +
      "change and flush every key; give an auth file (--auth-file) or listen on 127.0.0.1";
  }
  if (pool.tls === null) {
    return `listening on ${address} without TLS: passwords cross the network in clear text; ` +
      "give --tls-cert and --tls-key";
  }
  return null;
}

/**
 * Binds one of a pool's listen addresses: TCP, TLS over TCP when the pool has `tls`, or a unix
 * socket given the pool's mode (0700 unless set). Logs a warning when a TCP address other
 * machines can reach has no authentication, or sends passwords in clear text.
 *
 * @throws {Error} saying which file or address failed and why.
 */
export function bindListener(
  listen: ListenConfig,
  pool: PoolConfig,
  logger: Logger,
  io: TransportChoice = "auto",
): StreamListener {
  if (listen.transport === "unix") {
    const listener = Deno.listen({ transport: "unix", path: listen.path });
    const mode = listen.mode ?? DEFAULT_UNIX_MODE;
    try {
      Deno.chmodSync(listen.path, mode);
    } catch (error) {
      listener.close();
      throw new Error(
        `cannot set mode ${mode.toString(8)} on unix socket ${listen.path}: ${error}`,
      );
    }
    return listener;
  }
  const { hostname, port } = listen;
  const warning = exposureWarning(hostname, port, pool);
  if (warning !== null) logger.log("warn", warning, { pool: pool.name });
  if (pool.tls === null) return listenTcp(hostname, port, io);
  const { cert, key } = readTlsFiles(pool.tls);
  try {
    return Deno.listenTls({ hostname, port, cert, key });
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) throw error;
    throw new Error(
      `cannot serve TLS with certificate ${pool.tls.certFile} and key ${pool.tls.keyFile}: ` +
        `${(error as Error).message}; give a PEM certificate chain and its PEM private key`,
    );
  }
}

/**
 * Reads a pool's TLS certificate chain and key.
 *
 * @throws {Error} naming the file that cannot be read, and why.
 */
export function readTlsFiles(tls: TlsFiles): { cert: string; key: string } {
  return { cert: readPem(tls.certFile, "certificate"), key: readPem(tls.keyFile, "private key") };
}

function readPem(path: string, what: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound ? "no such file" : String(error);
    throw new Error(`cannot read the TLS ${what} ${path}: ${reason}`);
  }
}
