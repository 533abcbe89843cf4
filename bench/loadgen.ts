/**
 * Builds and drives `bench/loadgen.c`, the C load generator.
 *
 * @module
 */

import { delay, lines, type Managed, type ProcessGroup } from "./processes.ts";

/** What one load run asks of the generator. */
export interface LoadSpec {
  /** `host:port` of each server it talks to; several for memcached direct. */
  servers: string[];
  /** Client connections. */
  conns: number;
  /** Requests in flight per connection. */
  depth: number;
  /** Seconds of measured load. */
  seconds: number;
  /** Share of requests that are gets (the rest are sets), 0..1. */
  getRatio: number;
  /** Keys per get (1 for single gets). */
  keysPerGet: number;
  /** Value size in bytes, for sets and the preloaded keys. */
  valueSize: number;
  /** Number of keys in the key set. */
  keyCount: number;
  /** Key prefix of the key set. */
  keyPrefix: string;
}

/** One load run's result, as the generator reports it. */
export interface LoadResult {
  requests: number;
  gets: number;
  sets: number;
  keys: number;
  hits: number;
  errors: number;
  closed: number;
  elapsed: number;
  p50_us: number;
  p90_us: number;
  p99_us: number;
  p999_us: number;
  max_us: number;
  gen_cpu_s: number;
}

/** Compiles loadgen.c with `cc -O2` into `dir`, and returns the binary's path. */
export async function compileLoadgen(dir: string): Promise<string> {
  const source = new URL("./loadgen.c", import.meta.url).pathname;
  const binary = `${dir}/loadgen`;
  const out = await new Deno.Command("cc", {
    args: ["-O2", "-Wall", "-o", binary, source],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`cc failed on ${source}:\n${new TextDecoder().decode(out.stderr)}`);
  }
  return binary;
}

function specArgs(spec: LoadSpec): string[] {
  return [
    ...spec.servers.flatMap((s) => ["-s", s]),
    ...["-c", String(spec.conns), "-d", String(spec.depth), "-t", String(spec.seconds)],
    ...["-g", String(spec.getRatio), "-k", String(spec.keysPerGet)],
    ...["-v", String(spec.valueSize), "-n", String(spec.keyCount), "-p", spec.keyPrefix],
  ];
}

/** Sets every key of the spec's key set once through `servers`, pipelined. */
export async function preload(
  group: ProcessGroup,
  binary: string,
  spec: LoadSpec,
): Promise<{ preloaded: number; elapsed: number }> {
  const conns = 4 * spec.servers.length;
  const args = [...specArgs({ ...spec, conns, depth: 16 }), "--preload"];
  const proc = group.spawn("loadgen --preload", binary, { args, pipeOutput: true });
  const [out, err] = await Promise.all([
    collect(proc.child.stdout),
    collect(proc.child.stderr),
    withTimeout(proc, 120_000),
  ]);
  const status = await proc.status;
  if (!status.success) {
    throw new Error(`preload through ${spec.servers.join(",")} failed: ${out} ${err}`);
  }
  return JSON.parse(out.trim());
}

/** Callbacks around the measured interval of a load run. */
export interface RunHooks {
  /** Called once every connection is up and primed, just before the clock starts. */
  beforeLoad(): void;
  /** Called as soon as the measured interval ends, before the connections close. */
  afterLoad(): void;
}

/**
 * Runs one measured load: starts the generator, waits until it has connected and primed every
 * connection, calls `hooks.beforeLoad`, lets it run, calls `hooks.afterLoad` when it reports,
 * then lets it close its connections and exit.
 */
export async function runLoad(
  group: ProcessGroup,
  binary: string,
  spec: LoadSpec,
  hooks: RunHooks,
): Promise<LoadResult> {
  const proc = group.spawn("loadgen", binary, {
    args: [...specArgs(spec), "--handshake"],
    pipeStdin: true,
    pipeOutput: true,
  });
  const stderr = collect(proc.child.stderr);
  const stdin = proc.child.stdin.getWriter();
  const timeout = withTimeout(proc, (spec.seconds + 60) * 1000);
  let result: LoadResult | undefined;
  try {
    for await (const line of lines(proc.child.stdout)) {
      if (line === "ready") {
        hooks.beforeLoad();
        await stdin.write(new TextEncoder().encode("go\n"));
      } else if (line.startsWith("{")) {
        hooks.afterLoad();
        result = JSON.parse(line);
        await stdin.close();
      }
    }
  } finally {
    await stdin.close().catch(() => {});
    await Promise.race([proc.status, delay(5000)]);
    await proc.stop();
    await timeout;
  }
  const status = await proc.status;
  if (!result) {
    throw new Error(
      `loadgen gave no result (exit ${status.code}${status.signal ? " " + status.signal : ""}): ` +
        (await stderr).trim(),
    );
  }
  const warnings = (await stderr).trim();
  if (warnings && result.errors + result.closed > 0) {
    console.log(`    loadgen: ${warnings.split("\n").slice(0, 3).join(" | ")}`);
  }
  return result;
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<string> {
  let text = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) text += chunk;
  return text;
}

/** Stops `proc` if it is still running after `ms`; resolves when it has exited either way. */
async function withTimeout(proc: Managed, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), ms);
  });
  const outcome = await Promise.race([proc.status, expired]);
  clearTimeout(timer);
  if (outcome === "timeout") {
    console.log(`    ${proc.name} (pid ${proc.pid}) ran past ${ms} ms: stopping it`);
    await proc.stop(500);
  }
}
