/**
 * The proxy's event log: one line per event (a server down or up, a listener bound, a reload, a
 * rejected configuration, a shutdown), to stderr. Requests are never logged.
 *
 * Text lines read `<ISO time> <LEVEL> <message> key=value …`, a value in double quotes (JSON
 * escapes) when it holds a space, `=` or `"`. JSON lines are one object each, with `time`,
 * `level`, `message` and the fields.
 *
 * @module
 */

/** Severity of a log event. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** Every level, least severe first. */
export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Writes events at or above a level. */
export interface Logger {
  /** Logs `message` with `fields` at `level`, if the level passes. */
  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void;
}

/** Options of {@linkcode createLogger}. */
export interface LoggerOptions {
  /** The lowest level written. Default `info`. */
  level?: LogLevel;
  /** `text` (default) for people, `json` for one JSON object per line. */
  format?: "text" | "json";
  /** Where lines go; default stderr. */
  write?: (line: string) => void;
}

/**
 * A logger that writes human-readable lines, or JSON lines.
 *
 * @example
 * ```ts
 * import { createLogger } from "./log.ts";
 * const log = createLogger({ level: "info", write: (line) => console.log(line) });
 * log.log("warn", "server down", { server: "127.0.0.1:11211" });
 * ```
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const min = RANK[options.level ?? "info"];
  const json = options.format === "json";
  const write = options.write ?? ((line: string) => console.error(line));
  return {
    log(level, message, fields = {}) {
      if (RANK[level] < min) return;
      const time = new Date().toISOString();
      if (json) {
        write(JSON.stringify({ time, level, message, ...fields }));
        return;
      }
      const details = Object.entries(fields).map(([k, v]) => `${k}=${textValue(v)}`).join(" ");
      write(`${time} ${level.toUpperCase()} ${message}${details ? " " + details : ""}`);
    },
  };
}

/** A field's value in a text line: as it is, or JSON-quoted when it would not read as one word. */
function textValue(value: unknown): string {
  const text = typeof value === "string"
    ? value
    : Array.isArray(value)
    ? value.join(",")
    : typeof value === "object" && value !== null
    ? JSON.stringify(value)
    : String(value);
  return text === "" || /[\s="]/.test(text) ? JSON.stringify(text) : text;
}

/** A logger that drops everything. */
export const silentLogger: Logger = { log() {} };
