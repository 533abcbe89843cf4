/**
 * memrelay's command line: magent's flags (or `-c FILE`) in, a running proxy out.
 *
 * Signals: SIGHUP re-reads `-c FILE` and applies it without dropping clients (with flags only, it
 * logs that there is nothing to reload). SIGTERM or SIGINT stops accepting, lets the requests in
 * flight finish (up to `--drain-timeout`), and exits; a second one closes at once.
 *
 * Exit codes: 0 after a clean shutdown or `--help`/`--version`; 2 for a bad command line or
 * configuration; 1 when the proxy cannot start (an address in use, say).
 *
 * @module
 */

import { ConfigError } from "./lib/config/server_address.ts";
import { parseCommandLine, USAGE } from "./lib/config/magent_flags.ts";
import type { ProxyConfig } from "./lib/config/proxy_config.ts";
import { loadConfigFile } from "./lib/config/yaml_config.ts";
import { createLogger, type Logger } from "./lib/observability/log.ts";
import { readTlsFiles } from "./lib/server/bind.ts";
import { formatAddr, type ProxyHandle, startProxy } from "./lib/server/proxy.ts";
import { sessionSettings } from "./lib/server/session_settings.ts";
import { VERSION } from "./lib/version.ts";

async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseCommandLine(args);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`memrelay: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (parsed.action === "help") {
    console.log(USAGE);
    return 0;
  }
  if (parsed.action === "version") {
    console.log(`memrelay ${VERSION}`);
    return 0;
  }
  let config: ProxyConfig;
  let warnings: string[];
  if (parsed.action === "load") {
    let loaded;
    try {
      loaded = await loadConfigFile(parsed.path);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      console.error(`memrelay: ${error.message}`);
      return 2;
    }
    config = { ...loaded.config, verbose: parsed.verbose };
    warnings = loaded.warnings;
  } else {
    ({ config, warnings } = parsed);
  }
  if (parsed.testOnly) {
    for (const warning of warnings) console.error(`memrelay: warning: ${warning}`);
    try {
      checkFiles(config);
    } catch (error) {
      console.error(`memrelay: ${(error as Error).message}`);
      return 2;
    }
    const source = parsed.action === "load" ? `file ${parsed.path}` : "from the flags";
    const pools = config.pools.map((p) => p.name).join(", ");
    console.log(`memrelay: configuration ${source} is ok: pools ${pools}`);
    return 0;
  }
  const { ops } = parsed;
  const logger = createLogger({
    level: ops.logLevel ?? (config.verbose ? "debug" : "info"),
    format: ops.logFormat,
  });
  for (const warning of warnings) logger.log("warn", warning);
  const path = parsed.action === "load" ? parsed.path : null;
  const loadConfig = path === null ? undefined : async () => {
    const loaded = await loadConfigFile(path);
    for (const warning of loaded.warnings) logger.log("warn", warning);
    return { ...loaded.config, verbose: config.verbose };
  };
  // Signals are handled from before the first listener is bound: a SIGTERM that comes while the
  // proxy starts stops it gracefully once started, rather than killing the process.
  let proxy: ProxyHandle | null = null;
  const { promise: stopped, resolve: stop } = Promise.withResolvers<string>();
  let stopping = false;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => {
      if (!stopping) {
        stopping = true;
        stop(signal);
      } else if (proxy !== null) {
        logger.log("warn", "second signal: closing every connection now", { signal });
        proxy.close({ drainTimeoutMs: 0 });
      }
    });
  }
  Deno.addSignalListener("SIGHUP", () => {
    logger.log("info", "reload requested", { signal: "SIGHUP", file: path ?? "(none)" });
    // The proxy logs what the reload changed, or why it was rejected or skipped.
    proxy?.reload().catch(() => {});
  });
  try {
    proxy = await startProxy(config, {
      logger,
      admin: ops.admin ?? undefined,
      drainTimeoutMs: ops.drainTimeoutMs,
      loadConfig,
      io: ops.io,
    });
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`memrelay: ${error.message}`);
      return 2;
    }
    console.error(`memrelay: cannot start: ${(error as Error).message}`);
    return 1;
  }
  const signal = await stopped;
  logger.log("info", "shutting down", {
    signal,
    address: formatAddr(proxy.addr),
    drain_timeout_ms: ops.drainTimeoutMs,
  });
  const started = performance.now();
  await proxy.close();
  logger.log("info", "stopped", { drained_in_ms: Math.round(performance.now() - started) });
  return 0;
}

/** Reads every pool's auth file and TLS files, as the start would: throws on the first bad one. */
function checkFiles(config: ProxyConfig): void {
  const logger: Logger = {
    log: (level, message) =>
      console.error(`memrelay: ${level === "warn" ? "warning" : level}: ${message}`),
  };
  for (const pool of config.pools) {
    sessionSettings(pool, logger);
    if (pool.tls !== null) readTlsFiles(pool.tls);
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
