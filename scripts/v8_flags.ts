/**
 * The V8 flags memrelay runs with: `deno task start`, the binary `deno task compile` builds, and
 * `deno task bench` all pass them, and the README's `deno run` lines name them.
 *
 * `--max-semi-space-size=4` caps each half of V8's young generation at 4 MiB (the default lets
 * it grow to 16). Under 1000 busy connections the proxy's peak RSS falls from about 185 to about
 * 142 MiB, with no change measured in throughput or CPU per request (docs/BENCHMARKS.md).
 *
 * @module
 */

/** `--v8-flags=…` as `deno run` and `deno compile` take it. */
export const V8_FLAGS = "--v8-flags=--max-semi-space-size=4";
