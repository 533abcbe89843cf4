/**
 * memrelay's command line: magent's flags in, a running proxy out.
 *
 * Exit codes: 0 after a clean shutdown (SIGINT, SIGTERM) or `--help`/`--version`; 2 for a bad
 * command line; 1 when the proxy cannot start (an address in use, say).
 *
 * @module
 */

import { ConfigError } from "./lib/config/server_address.ts";
import { parseCommandLine, USAGE } from "./lib/config/magent_flags.ts";
import type { ProxyConfig } from "./lib/config/proxy_config.ts";
import { loadConfigFile } from "./lib/config/yaml_config.ts";
import { createLogger, type Logger } from "./lib/observability/log.ts";
import { readTlsFiles } from "./lib/server/bind.ts";
import { formatAddr, startProxy } from "./lib/server/proxy.ts";
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
  const logger = createLogger({ level: config.verbose ? "debug" : "info" });
  for (const warning of warnings) logger.log("warn", warning);
  let proxy;
  try {
    proxy = await startProxy(config, { logger });
  } catch (error) {
    console.error(`memrelay: cannot start: ${(error as Error).message}`);
    return 1;
  }
  const { promise: stopped, resolve: stop } = Promise.withResolvers<string>();
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => stop(signal));
  }
  const signal = await stopped;
  logger.log("info", "shutting down", { signal, address: formatAddr(proxy.addr) });
  await proxy.close();
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
