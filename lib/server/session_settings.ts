import type { PoolConfig } from "../config/proxy_config.ts";
import type { Logger } from "../observability/log.ts";
import { Credentials } from "./credentials.ts";
import { ReplySizeEstimate } from "./reply_size_estimate.ts";
import type { SessionContext } from "./client_session.ts";

/** The parts of a {@linkcode SessionContext} a pool's configuration decides. */
export type SessionSettings = Pick<
  SessionContext,
  "limits" | "maxClientBuffer" | "authenticate" | "idleTimeoutMs" | "logger" | "replySizes"
>;

/**
 * What each client of `pool` is held to: its input limits, its buffer bound (with the pool's
 * estimate of reply sizes), its idle timeout, and the credentials it must give first, read now
 * from the pool's auth file. Warns when that file can be read by other users.
 *
 * @throws {Error} when the auth file cannot be read or is malformed, saying which and why.
 */
export function sessionSettings(pool: PoolConfig, logger: Logger): SessionSettings {
  let authenticate = null;
  if (pool.authFile !== null) {
    authenticate = Credentials.load(pool.authFile).check;
    const mode = Deno.statSync(pool.authFile).mode;
    if (mode !== null && (mode & 0o077) !== 0) {
      logger.log(
        "warn",
        `auth file ${pool.authFile} can be read by other users (mode ${
          (mode & 0o777).toString(8)
        }): chmod 600 it`,
        { pool: pool.name },
      );
    }
  }
  return {
    limits: { maxItemSize: pool.maxItemSize, maxKeys: pool.maxKeys },
    maxClientBuffer: pool.maxClientBuffer,
    authenticate,
    idleTimeoutMs: pool.idleTimeout * 1000,
    logger,
    replySizes: new ReplySizeEstimate(pool.maxItemSize),
  };
}
