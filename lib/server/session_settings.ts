import type { PoolConfig } from "../config/proxy_config.ts";
import type { Logger } from "../observability/log.ts";
import { ReplySizeEstimate } from "./reply_size_estimate.ts";
import type { SessionContext } from "./client_session.ts";

/** The parts of a {@linkcode SessionContext} a pool's configuration decides. */
export type SessionSettings = Pick<
  SessionContext,
  "limits" | "maxClientBuffer" | "logger" | "replySizes"
>;

/**
 * What each client of `pool` is held to: its input limits and its buffer bound, with the pool's
 * estimate of reply sizes.
 */
export function sessionSettings(pool: PoolConfig, logger: Logger): SessionSettings {
  return {
    limits: { maxItemSize: pool.maxItemSize, maxKeys: pool.maxKeys },
    maxClientBuffer: pool.maxClientBuffer,
    logger,
    replySizes: new ReplySizeEstimate(pool.maxItemSize),
  };
}
