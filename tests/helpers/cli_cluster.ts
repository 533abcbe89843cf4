import { type MemcachedServer, startMemcacheds } from "./memcached.ts";
import { type CliProxy, startCliProxy } from "./proxy.ts";
import { TextClient } from "./text_client.ts";

/** Memory of a process, in MiB, from `/proc/<pid>/status`. */
export interface Memory {
  /** Resident set size now (`VmRSS`). */
  rss: number;
  /** The highest resident set size since start or the last {@linkcode resetPeak} (`VmHWM`). */
  peak: number;
}

/** Reads the memory of process `pid`. */
export async function memoryOf(pid: number): Promise<Memory> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const kib = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)![1]);
  return { rss: kib("VmRSS") / 1024, peak: kib("VmHWM") / 1024 };
}

/** Resets the peak (`VmHWM`) of process `pid` to its RSS now, where Linux allows it. */
export async function resetPeak(pid: number): Promise<void> {
  try {
    await Deno.writeTextFile(`/proc/${pid}/clear_refs`, "5");
  } catch {
    // Not allowed here: the peak then counts from the process's start.
  }
}

/** The proxy's CLI in its own process, memcached behind it, for a test that measures memory. */
export interface CliCluster {
  /** The primaries, in `-s` order. */
  primaries: MemcachedServer[];
  /** The proxy process. */
  proxy: CliProxy;
  /** A new client of the proxy; closed when the test ends. */
  client(): Promise<TextClient>;
  /** The proxy's memory now. */
  memory(): Promise<Memory>;
}

/**
 * Runs `test` against a proxy started as `deno run main.ts` over `primaries` fresh memcached
 * servers, and tears everything down after, pass or fail. Returns what the proxy logged.
 */
export async function withCliCluster(
  options: { primaries?: number; flags?: string[] },
  test: (cluster: CliCluster) => Promise<void>,
): Promise<string> {
  const primaries = await startMemcacheds(options.primaries ?? 1);
  const clients: TextClient[] = [];
  let proxy: CliProxy | undefined;
  let stderr = "";
  try {
    proxy = await startCliProxy([
      ...primaries.flatMap((s) => ["-s", s.address]),
      ...(options.flags ?? []),
    ]);
    const { port, child } = proxy;
    await test({
      primaries,
      proxy,
      async client() {
        const c = await TextClient.connect(port);
        clients.push(c);
        return c;
      },
      memory: () => memoryOf(child.pid),
    });
  } finally {
    for (const c of clients) c.close();
    if (proxy !== undefined) stderr = (await proxy.stop()).stderr;
    await Promise.all(primaries.map((s) => s.stop()));
  }
  return stderr;
}
