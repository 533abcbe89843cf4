import { freePort, waitForPort } from "./free_port.ts";

/** A real memcached process started for a test. */
export interface MemcachedServer {
  /** Its TCP port on 127.0.0.1. */
  readonly port: number;
  /** `127.0.0.1:port`, as proxy flags take it. */
  readonly address: string;
  /** Its process id. */
  readonly pid: number;
  /** Kills it with SIGKILL and waits for it to exit. */
  kill(): Promise<void>;
  /** Hangs it with SIGSTOP, and resolves once the kernel shows it stopped. */
  pause(): Promise<void>;
  /** Resumes it with SIGCONT. */
  resume(): void;
  /** Starts it again, empty, on the same port. */
  restart(): Promise<void>;
  /** Stops it for good. */
  stop(): Promise<void>;
}

/** True when a `memcached` binary is on the PATH. */
export async function memcachedInstalled(): Promise<boolean> {
  try {
    const { success } = await new Deno.Command("memcached", { args: ["-h"], stdout: "null" })
      .output();
    return success;
  } catch {
    return false;
  }
}

/**
 * Starts memcached on a free loopback port and waits until it accepts connections.
 *
 * @param extraArgs More memcached flags, such as `["-I", "2m"]`.
 */
export async function startMemcached(extraArgs: string[] = []): Promise<MemcachedServer> {
  let port = 0;
  let args: string[] = [];
  let child: Deno.ChildProcess | null = null;
  // Another test may take the free port before memcached binds it; then try another.
  for (let attempt = 0; child === null; attempt++) {
    port = freePort();
    args = ["-l", "127.0.0.1", "-p", String(port), "-U", "0", "-t", "1", ...extraArgs];
    if (Deno.uid() === 0) args.push("-u", "root");
    try {
      child = await spawn(args, port);
    } catch (error) {
      if (attempt === 4) throw error;
    }
  }
  let stopped = false;
  let running: Deno.ChildProcess = child;
  const server: MemcachedServer = {
    port,
    address: `127.0.0.1:${port}`,
    get pid() {
      return running.pid;
    },
    async kill() {
      try {
        running.kill("SIGKILL");
      } catch {
        // Already gone.
      }
      await running.status;
    },
    async pause() {
      running.kill("SIGSTOP");
      const stat = `/proc/${running.pid}/stat`;
      // The state is the field after the parenthesised command name; "T" is stopped.
      while (!/\) T /.test(await Deno.readTextFile(stat))) {
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    },
    resume() {
      running.kill("SIGCONT");
    },
    async restart() {
      await server.kill();
      running = await spawn(args, port);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.kill();
    },
  };
  return server;
}

/**
 * Starts memcached and waits until it accepts connections. Rejects when it exits instead, as it
 * does when its port was taken, so that the caller never talks to someone else's server.
 */
async function spawn(args: string[], port: number): Promise<Deno.ChildProcess> {
  const child = new Deno.Command("memcached", { args, stdout: "null", stderr: "null" }).spawn();
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  try {
    await Promise.race([
      waitForPort(port),
      status.then(({ code }) => {
        throw new Error(`memcached exited with code ${code} on port ${port}`);
      }),
    ]);
    await new Promise((resolve) => setTimeout(resolve, 30));
    if (exited) throw new Error(`memcached exited on port ${port}: the port was taken`);
  } catch (error) {
    if (!exited) child.kill("SIGKILL");
    await status;
    throw error;
  }
  return child;
}

/** Starts `count` memcached servers. */
export function startMemcacheds(count: number): Promise<MemcachedServer[]> {
  return Promise.all(Array.from({ length: count }, () => startMemcached()));
}
