/**
 * The processes a benchmark run starts, and what /proc says about them.
 *
 * Every process goes into one {@linkcode ProcessGroup}, which stops each by its pid (SIGTERM,
 * then SIGKILL) when the run ends, fails or is interrupted.
 *
 * @module
 */

/** A process started by the benchmark. */
export interface Managed {
  /** A short name for progress lines and errors, such as `memcached A`. */
  readonly name: string;
  /** The process id. */
  readonly pid: number;
  /** The child handle. */
  readonly child: Deno.ChildProcess;
  /** True once the process has exited. */
  readonly exited: boolean;
  /** Resolves when the process has exited. */
  readonly status: Promise<Deno.CommandStatus>;
  /** Stops it by pid: SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** Options for {@linkcode ProcessGroup.spawn}. */
export interface SpawnOptions {
  /** Arguments. */
  args: string[];
  /** Working directory; the current one by default. */
  cwd?: string;
  /** Where its stdout and stderr go: a file path, or "null" (the default). */
  logFile?: string;
  /** Whether stdin is piped (for the load generator's handshake). Default false. */
  pipeStdin?: boolean;
  /** Whether stdout and stderr are piped to the caller instead of a file. Default false. */
  pipeOutput?: boolean;
}

/** Starts processes and stops every one of them, by pid, on {@linkcode ProcessGroup.stopAll}. */
export class ProcessGroup {
  #running = new Set<Managed>();

  /** Starts `command` and registers it. */
  spawn(name: string, command: string, options: SpawnOptions): Managed {
    const piped = options.pipeOutput === true;
    const child = new Deno.Command(command, {
      args: options.args,
      cwd: options.cwd,
      stdin: options.pipeStdin ? "piped" : "null",
      stdout: piped || options.logFile ? "piped" : "null",
      stderr: piped || options.logFile ? "piped" : "null",
    }).spawn();
    let exited = false;
    const status = child.status.then((s) => {
      exited = true;
      this.#running.delete(managed);
      return s;
    });
    if (options.logFile && !piped) {
      const file = Deno.openSync(options.logFile, { create: true, append: true, write: true });
      const writer = file.writable.getWriter();
      const copy = async (stream: ReadableStream<Uint8Array>) => {
        for await (const chunk of stream) await writer.write(chunk);
      };
      Promise.all([copy(child.stdout), copy(child.stderr)])
        .catch(() => {})
        .finally(() => writer.close().catch(() => {}));
    }
    const managed: Managed = {
      name,
      pid: child.pid,
      child,
      get exited() {
        return exited;
      },
      status,
      async stop(graceMs = 2000) {
        if (exited) return;
        try {
          Deno.kill(child.pid, "SIGTERM");
        } catch {
          // Already gone.
        }
        const timer = delay(graceMs).then(() => "timeout" as const);
        if ((await Promise.race([status, timer])) === "timeout" && !exited) {
          try {
            Deno.kill(child.pid, "SIGKILL");
          } catch {
            // Already gone.
          }
          await status;
        }
      },
    };
    this.#running.add(managed);
    return managed;
  }

  /** Stops every process still running, newest first. */
  async stopAll(): Promise<void> {
    const all = [...this.#running].reverse();
    await Promise.all(all.map((p) => p.stop()));
  }

  /** How many registered processes are still running. */
  get size(): number {
    return this.#running.size;
  }
}

/** Resolves after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * Waits until `proc` accepts connections on `port`, sends `probe` and checks that the reply
 * starts with `expect`. Rejects when the process exits first (its port was taken, say), so that
 * the benchmark never talks to someone else's server.
 */
export async function waitForService(
  proc: Managed,
  port: number,
  probe: string,
  expect: string,
  timeoutMs = 15000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    if (proc.exited) throw new Error(`${proc.name} exited before it served port ${port}`);
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      try {
        await conn.write(new TextEncoder().encode(probe));
        const buf = new Uint8Array(256);
        let text = "";
        const until = Date.now() + 2000;
        while (text.length < expect.length && Date.now() < until) {
          const n = await Promise.race([conn.read(buf), delay(2000).then(() => null)]);
          if (n === null) break;
          text += new TextDecoder().decode(buf.subarray(0, n));
        }
        if (!text.startsWith(expect)) {
          throw new Error(`${proc.name} on port ${port} answered ${JSON.stringify(text)}`);
        }
      } finally {
        conn.close();
      }
      // A process whose bind failed may still be on its way out: give it a moment.
      await delay(50);
      if (proc.exited) throw new Error(`${proc.name} exited: port ${port} was taken`);
      return;
    } catch (error) {
      if (error instanceof Error && error.message.startsWith(proc.name)) throw error;
      if (Date.now() > deadline) {
        throw new Error(`${proc.name} did not serve port ${port} within ${timeoutMs} ms`, {
          cause: error,
        });
      }
      await delay(30);
    }
  }
}

let clockTicks = 0;

/** The kernel's clock ticks per second (`getconf CLK_TCK`), 100 when unknown. */
export async function clockTicksPerSecond(): Promise<number> {
  if (clockTicks) return clockTicks;
  try {
    const out = await new Deno.Command("getconf", { args: ["CLK_TCK"], stderr: "null" }).output();
    clockTicks = Number(new TextDecoder().decode(out.stdout).trim()) || 100;
  } catch {
    clockTicks = 100;
  }
  return clockTicks;
}

/** CPU seconds (utime + stime, all threads) that process `pid` has used, from /proc/PID/stat. */
export function cpuSeconds(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  // Fields after the parenthesised command name start at field 3 (state).
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / (clockTicks || 100);
}

/** Machine-wide CPU time from /proc/stat, in seconds summed over all cores. */
export interface MachineCpu {
  /** user + nice + system + irq + softirq. */
  busy: number;
  /** Time the hypervisor gave to someone else while this machine wanted to run. */
  steal: number;
}

/** Reads the machine-wide CPU counters from the first line of /proc/stat. */
export function machineCpu(): MachineCpu {
  const line = Deno.readTextFileSync("/proc/stat").split("\n", 1)[0];
  const [user, nice, system, _idle, _iowait, irq, softirq, steal] = line.trim().split(/\s+/)
    .slice(1).map(Number);
  const hz = clockTicks || 100;
  return { busy: (user + nice + system + irq + softirq) / hz, steal: (steal || 0) / hz };
}

/** Peak resident set size (VmHWM) of process `pid`, in KiB. */
export function peakRssKb(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const match = status.match(/^VmHWM:\s+(\d+) kB/m);
  return match ? Number(match[1]) : 0;
}

/**
 * Resets the peak RSS (VmHWM) of process `pid` to its current RSS, by writing 5 to
 * /proc/PID/clear_refs (Linux 4.0 and later). Returns false when that is not allowed.
 */
export function resetPeakRss(pid: number): boolean {
  try {
    Deno.writeTextFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

/** Whether `command` can be run (it is on the PATH or a path that exists). */
export async function commandExists(command: string, args = ["-h"]): Promise<boolean> {
  try {
    await new Deno.Command(command, { args, stdout: "null", stderr: "null" }).output();
    return true;
  } catch {
    return false;
  }
}

/** Reads a stream as lines (without the newline). */
export async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let rest = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    rest += text;
    let nl;
    while ((nl = rest.indexOf("\n")) >= 0) {
      yield rest.slice(0, nl);
      rest = rest.slice(nl + 1);
    }
  }
  if (rest) yield rest;
}
