import { parseCommandLine } from "../../lib/config/magent_flags.ts";
import { silentLogger } from "../../lib/observability/log.ts";
import { type ProxyHandle, startProxy } from "../../lib/server/proxy.ts";
import { freePort } from "./free_port.ts";

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

/**
 * Starts `deno run main.ts` with `-p <free port>` and `flags`, and waits until it logs that it
 * listens on that port: a connection alone could reach another test's proxy that took the same
 * free port. A port taken in between is given up for another, as in {@linkcode startTestProxy}.
 */
export async function startCliProxy(flags: string[]): Promise<CliProxy> {
  for (let attempt = 0;; attempt++) {
    const port = freePort();
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", ...PERMISSIONS, MAIN, "-p", String(port), ...flags],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const output = followText(child.stderr);
    const listening = new RegExp(` INFO listening .*address=127\\.0\\.0\\.1:${port}\\b`);
    const started = await Promise.race([
      output.until(listening, 15_000).then(() => true),
      child.status.then(() => false),
    ]).catch(() => false);
    if (!started) {
      child.kill("SIGKILL");
      await child.status;
      const text = await output.all;
      if (/in use/i.test(text) && attempt < 4) continue;
      throw new Error(`memrelay did not start: ${text}`);
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
        return { code, stderr: await output.all };
      },
    };
  }
}

/** A text stream read as it comes: wait for a line that matches, or for all of it. */
function followText(stream: ReadableStream<Uint8Array>): {
  until(pattern: RegExp, timeoutMs: number): Promise<void>;
  readonly all: Promise<string>;
} {
  let text = "";
  let changed = () => {};
  const all = (async () => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      changed();
    }
    changed();
    return text;
  })();
  return {
    all,
    async until(pattern, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(text)) {
        if (Date.now() > deadline) throw new Error(`no ${pattern} in ${timeoutMs} ms`);
        let timer: ReturnType<typeof setTimeout> | undefined;
        await new Promise<void>((resolve) => {
          changed = resolve;
          timer = setTimeout(resolve, 100);
        });
        clearTimeout(timer);
      }
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
