import type { ServerConfig } from "./proxy_config.ts";

/** A configuration value that is wrong; the message says what and how to fix it. */
export class ConfigError extends Error {
  /**
   * Makes the error.
   *
   * @param message What was wrong, and what is allowed.
   */
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/**
 * Parses `host:port`, `host:port:weight` or `[v6addr]:port[:weight]`, optionally followed by a
 * space and a server name, as twemproxy writes servers.
 *
 * @example
 * ```ts
 * import { parseServer } from "./server_address.ts";
 * console.log(parseServer("127.0.0.1:11211:2 cache-a"));
 * // { host: "127.0.0.1", port: 11211, weight: 2, name: "cache-a" }
 * ```
 */
export function parseServer(text: string): ServerConfig {
  const [address, name, ...rest] = text.trim().split(/\s+/);
  if (rest.length > 0 || address === "") {
    throw new ConfigError(`bad server "${text}": expected host:port[:weight] [name]`);
  }
  let host: string;
  let tail: string;
  if (address.startsWith("[")) {
    const close = address.indexOf("]");
    if (close < 0) throw new ConfigError(`bad server "${text}": unclosed "[" in IPv6 address`);
    host = address.slice(1, close);
    tail = address.slice(close + 1);
    if (!tail.startsWith(":")) throw new ConfigError(`bad server "${text}": missing :port`);
    tail = tail.slice(1);
  } else {
    const colon = address.indexOf(":");
    if (colon <= 0) throw new ConfigError(`bad server "${text}": expected host:port`);
    host = address.slice(0, colon);
    tail = address.slice(colon + 1);
  }
  const [portText, weightText, ...extra] = tail.split(":");
  if (extra.length > 0) throw new ConfigError(`bad server "${text}": expected host:port[:weight]`);
  const port = parsePort(portText, `server "${text}"`);
  let weight = 1;
  if (weightText !== undefined) {
    weight = Number(weightText);
    if (!/^\d+$/.test(weightText) || weight < 1) {
      throw new ConfigError(`bad server "${text}": weight must be a whole number of at least 1`);
    }
  }
  return name === undefined ? { host, port, weight } : { host, port, weight, name };
}

/** A TCP port from 1 to 65535 (0 only when `allowZero`), or a ConfigError naming `what`. */
export function parsePort(text: string, what: string, allowZero = false): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535 || (port === 0 && !allowZero)) {
    throw new ConfigError(
      `bad port "${text}" in ${what}: expected a number from ${allowZero ? 0 : 1} to 65535`,
    );
  }
  return port;
}
