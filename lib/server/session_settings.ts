import type { PoolConfig } from "../config/proxy_config.ts";
import type { Logger } from "../observability/log.ts";
import { ReplySizeEstimate } from "./reply_size_estimate.ts";
import type { SessionContext } from "./client_session.ts";

/** The parts of a {@linkcode SessionContext} a pool's configuration decides. */
export type SessionSettings = Pick<
  SessionContext,
  "limits" | "maxClientBuffer" | "idleTimeoutMs" | "logger" | "replySizes"
>;

/**
 * What each client of `pool` is held to: its input limits, its buffer bound (with the pool's
 * estimate of reply sizes) and its idle timeout.
 */
export function sessionSettings(pool: PoolConfig, logger: Logger): SessionSettings {
  return {
    limits: { maxItemSize: pool.maxItemSize, maxKeys: pool.maxKeys },
    maxClientBuffer: pool.maxClientBuffer,
    idleTimeoutMs: pool.idleTimeout * 1000,
    logger,
    replySizes: new ReplySizeEstimate(pool.maxItemSize),
  };
}
