/**
 * The V8 flags memrelay runs with: `deno task start`, the binary `deno task compile` builds, and
 * `deno task bench` all pass them, and the README's `deno run` lines name them.
 *
 * `--max-semi-space-size=4` caps each half of V8's young generation at 4 MiB (the default lets
 * it grow to 16). Under 1000 busy connections the proxy's peak RSS falls from about 185 to about
 * 142 MiB, with no change measured in throughput or CPU per request (docs/BENCHMARKS.md).
 *
 * `--no-maglev` leaves out V8's middle compiler tier, so hot functions go from the baseline
 * compiler straight to TurboFan. In alternating runs (10 pairs of 3 s) single gets rose 4.8% and
 * 10-key multi-gets 10%, with 0.5 and 2.8 µs less proxy CPU per request.
 *
 * @module
 */

/** `--v8-flags=…` as `deno run` and `deno compile` take it. */
export const V8_FLAGS = "--v8-flags=--max-semi-space-size=4,--no-maglev";
