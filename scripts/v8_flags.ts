/**
 * The V8 flags memrelay runs with: `deno task start`, the binary `deno task compile` builds, and
 * `deno task bench` all pass them, and the README's `deno run` lines name them.
 *
 * `--min-semi-space-size=8,--max-semi-space-size=8` holds each half of V8's young generation at
 * 8 MiB. V8's default lets it grow to 16: under 1000 busy connections the proxy's peak RSS was
 * then about 185 MiB, and 142 with a cap of 4 MiB (session 6). At 4 MiB a scavenge came every 20–30
 * ms under single gets and held up every request in flight for its 0.2–0.4 ms; at 8, half as
 * often, and the single-get p99 fell 7% in alternating runs, for 2 MiB more peak RSS under 1000
 * connections (docs/BENCHMARKS.md, session 14).
 *
 * `--no-maglev` leaves out V8's middle compiler tier, so hot functions go from the baseline
 * compiler straight to TurboFan. In alternating runs (10 pairs of 3 s) single gets rose 4.8% and
 * 10-key multi-gets 10%, with 0.5 and 2.8 µs less proxy CPU per request.
 *
 * @module
 */

/** `--v8-flags=…` as `deno run` and `deno compile` take it. */
export const V8_FLAGS = "--v8-flags=--min-semi-space-size=8,--max-semi-space-size=8,--no-maglev";
