/**
 * memrelay as a library: start a memcached proxy inside a Deno program, or use its protocol
 * parsers and key placement on their own.
 *
 * memrelay runs three ways, all from the same code:
 * - a binary: `deno task compile`, then `./memrelay -c memrelay.yml`;
 * - the CLI from a URL: `deno run -A <url>/main.ts -c memrelay.yml`;
 * - this module: `import { startProxy } from "<url>/mod.ts"`.
 *
 * {@linkcode startProxy} returns a {@linkcode ProxyHandle}: its address, its counters
 * (`stats()`, `servers()`, `metrics()`), `reload(config)` to apply a new configuration without
 * dropping clients, and `close()` to drain and stop.
 *
 * @example
 * ```ts ignore
 * import { parseCommandLine, startProxy } from "./mod.ts";
 * const parsed = parseCommandLine(["-p", "11000", "-s", "127.0.0.1:11211"]);
 * if (parsed.action === "run") {
 *   const proxy = await startProxy(parsed.config, {
 *     admin: { hostname: "127.0.0.1", port: 9100 }, // /metrics, /healthz, /readyz
 *   });
 *   console.log(proxy.stats().curr_connections, proxy.servers()[0].up);
 *   const next = parseCommandLine(["-p", "11000", "-s", "127.0.0.1:11211", "-s", "127.0.0.1:11212"]);
 *   if (next.action === "run") console.log(await proxy.reload(next.config)); // serversAdded: […]
 *   await proxy.close(); // answers what clients sent (up to 5 s), then closes
 * }
 * ```
 *
 * @module
 */

export {
  type CloseOptions,
  DEFAULT_DRAIN_TIMEOUT_MS,
  type ProxyHandle,
  type ReloadSummary,
  type ServerStatus,
  type StartOptions,
  startProxy,
} from "./lib/server/proxy.ts";
export {
  type ListenConfig,
  POOL_DEFAULTS,
  type PoolConfig,
  type ProxyConfig,
  type ServerConfig,
  type TlsFiles,
} from "./lib/config/proxy_config.ts";
export { type CommandLine, parseCommandLine, USAGE } from "./lib/config/magent_flags.ts";
export { type OpsOptions, parseAdminAddress } from "./lib/config/ops_flags.ts";
export { type TransportChoice, TRANSPORTS } from "./lib/net/tcp.ts";
export { validateConfig } from "./lib/config/validate.ts";
export { ConfigError, parseServer } from "./lib/config/server_address.ts";
export {
  loadConfigFile,
  type LoadedConfig,
  parseConfigText,
  UNLIMITED_CLIENT_CONNECTIONS,
} from "./lib/config/yaml_config.ts";
export {
  createLogger,
  type Logger,
  type LoggerOptions,
  type LogLevel,
} from "./lib/observability/log.ts";
export { Command, type CommandCode } from "./lib/protocol/text/command.ts";
export { TextRequest } from "./lib/protocol/text/text_request.ts";
export {
  DEFAULT_TEXT_LIMITS,
  type ParsedItem,
  ProtocolClose,
  type TextParserLimits,
  TextRequestParser,
} from "./lib/protocol/text/request_parser.ts";
export { TextRequestStream } from "./lib/protocol/text/request_stream.ts";
export {
  ReplyKind,
  type ReplyKindCode,
  TextResponseFramer,
  type ValueBlock,
  valueBlocks,
} from "./lib/protocol/text/response_parser.ts";
export { HASH_NAMES, hashFunction, type HashName } from "./lib/hash/hash_functions.ts";
export type { HashFunction } from "./lib/hash/hash_function.ts";
export {
  buildDistribution,
  DISTRIBUTION_NAMES,
  type DistributionName,
} from "./lib/distribution/build.ts";
export type { Distribution, WeightedServer } from "./lib/distribution/distribution.ts";
export { Ketama } from "./lib/distribution/ketama.ts";
export { VERSION } from "./lib/version.ts";
