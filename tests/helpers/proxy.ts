import { parseCommandLine } from "../../lib/config/magent_flags.ts";
import { silentLogger } from "../../lib/observability/log.ts";
import { type ProxyHandle, startProxy } from "../../lib/server/proxy.ts";
import { freePort, waitForPort } from "./free_port.ts";

/** A proxy started in this process from magent-style flags. */
export interface TestProxy {
  /** The port it listens on. */
  readonly port: number;
  /** The running proxy. */
  readonly handle: ProxyHandle;
  /** Closes it. */
  close(): Promise<void>;
}

/**
 * Starts a proxy in this process, on a free port, with the given flags (`-p` is added).
 *
 * @example
 * ```ts ignore
 * const proxy = await startTestProxy(["-s", primary.address, "-b", backup.address]);
 * ```
 */
export async function startTestProxy(flags: string[]): Promise<TestProxy> {
  for (let attempt = 0;; attempt++) {
    const port = freePort();
    const parsed = parseCommandLine(["-p", String(port), ...flags]);
    if (parsed.action !== "run") throw new Error("flags did not ask for a proxy to run");
    try {
      const handle = await startProxy(parsed.config, { logger: silentLogger });
      return { port, handle, close: () => handle.close() };
    } catch (error) {
      // Another test took the free port first: try another.
      if (!(error instanceof Deno.errors.AddrInUse) || attempt === 4) throw error;
    }
  }
}

/** The proxy's CLI, `main.ts`, running as its own process. */
export interface CliProxy {
  /** The port it listens on. */
  readonly port: number;
  /** The child process. */
  readonly child: Deno.ChildProcess;
  /** Sends SIGTERM and waits; returns the exit code and what it wrote to stderr. */
  stop(): Promise<{ code: number; stderr: string }>;
}

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
/** The permissions `deno task start` gives the CLI. */
const PERMISSIONS = ["--allow-net", "--allow-read", "--allow-write", "--allow-env", "--allow-ffi"];

/** Starts `deno run main.ts` with `-p <free port>` and `flags`, and waits until it listens. */
export async function startCliProxy(flags: string[]): Promise<CliProxy> {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...PERMISSIONS, MAIN, "-p", String(port), ...flags],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  try {
    await Promise.race([
      waitForPort(port, 15_000),
      child.status.then(({ code }) => {
        throw new Error(`memrelay exited with code ${code}`);
      }),
    ]);
  } catch (error) {
    child.kill("SIGKILL");
    await child.status;
    throw new Error(`memrelay did not start: ${await stderr}`, { cause: error });
  }
  return {
    port,
    child,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch {
        // Already exited: the status below says how.
      }
      const { code } = await child.status;
      return { code, stderr: await stderr };
    },
  };
}

/** Runs the CLI to completion with `args`; returns its exit code and output. */
export async function runCli(
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...PERMISSIONS, MAIN, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}
