const MAIN = new URL("../../main.ts", import.meta.url).pathname;
/** The permissions `deno task start` gives the CLI. */
const PERMISSIONS = ["--allow-net", "--allow-read", "--allow-write", "--allow-env", "--allow-ffi"];

/** `main.ts` running as its own process, its stderr followed line by line. */
export interface CliProcess {
  /** The child process. */
  readonly child: Deno.ChildProcess;
  /** Every stderr line so far. */
  readonly lines: string[];
  /** Resolves with the first stderr line from index `from` on that matches, or rejects. */
  waitForLine(pattern: RegExp, options?: { from?: number; timeoutMs?: number }): Promise<string>;
  /** Sends a signal, unless it has exited. */
  signal(signal: Deno.Signal): void;
  /** Resolves with the exit code once it exits (SIGKILL after `timeoutMs`). */
  exit(timeoutMs?: number): Promise<number>;
}

/**
 * Starts `deno run main.ts <args>` and waits until it logs that it listens on `port`.
 *
 * @example
 * ```ts ignore
 * const cli = await spawnCli(["-c", file], port);
 * cli.signal("SIGHUP");
 * await cli.waitForLine(/config reloaded/);
 * ```
 */
export async function spawnCli(args: string[], port: number): Promise<CliProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...PERMISSIONS, MAIN, ...args],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  let notify = () => {};
  let ended = false;
  const reading = (async () => {
    let partial = "";
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      partial += chunk;
      const parts = partial.split("\n");
      partial = parts.pop()!;
      lines.push(...parts);
      notify();
    }
    if (partial !== "") lines.push(partial);
    ended = true;
    notify();
  })();
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const cli: CliProcess = {
    child,
    lines,
    async waitForLine(pattern, { from = 0, timeoutMs = 10_000 } = {}) {
      const deadline = Date.now() + timeoutMs;
      while (true) {
        const line = lines.slice(from).find((l) => pattern.test(l));
        if (line !== undefined) return line;
        if (ended) throw new Error(`stderr ended without ${pattern}:\n${lines.join("\n")}`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no line ${pattern} in time:\n${lines.join("\n")}`);
        let timer: ReturnType<typeof setTimeout> | undefined;
        await new Promise<void>((resolve) => {
          notify = resolve;
          timer = setTimeout(resolve, left);
        });
        clearTimeout(timer);
      }
    },
    signal(signal) {
      if (!exited) child.kill(signal);
    },
    async exit(timeoutMs = 15_000) {
      const timer = setTimeout(() => cli.signal("SIGKILL"), timeoutMs);
      try {
        const { code } = await status;
        await reading;
        return code;
      } finally {
        clearTimeout(timer);
      }
    },
  };
  try {
    // Its own log line, not a connection: another test's listener may have taken the port.
    await Promise.race([
      cli.waitForLine(new RegExp(`listening.*:${port}\\b`), { timeoutMs: 15_000 }),
      status.then(({ code }) => {
        throw new Error(`memrelay exited with code ${code}`);
      }),
    ]);
  } catch (error) {
    cli.signal("SIGKILL");
    await cli.exit();
    throw new Error(`memrelay did not start:\n${lines.join("\n")}`, { cause: error });
  }
  return cli;
}
