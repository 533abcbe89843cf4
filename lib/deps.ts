/**
 * Every import from outside this repository, named with its full specifier so that
 * `deno run <url>/main.ts` works without an import map.
 *
 * @module
 */

export { createHash, timingSafeEqual } from "node:crypto";
export { isIP } from "node:net";
export { parseArgs } from "node:util";
export { parse as parseYaml } from "npm:yaml@^2";
