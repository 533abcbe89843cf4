import { freePort } from "./free_port.ts";
import { type ServerProcess, spawnServer } from "./server_process.ts";

/** A real memcached process started for a test. */
export interface MemcachedServer {
  /** Its TCP port on 127.0.0.1. */
  readonly port: number;
  /** `127.0.0.1:port`, as proxy flags take it. */
  readonly address: string;
  /** Its process id. */
  readonly pid: number;
  /**
   * Kills it with SIGKILL and waits for it to exit. Its port stays taken, by a listener that
   * closes every connection at once, so that no other test's server can appear there.
   */
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
  let child: ServerProcess | null = null;
  // Another test may take the free port before memcached binds it; then try another.
  for (let attempt = 0; child === null; attempt++) {
    port = freePort();
    args = ["-l", "127.0.0.1", "-p", String(port), "-U", "0", "-t", "1", ...extraArgs];
    if (Deno.uid() === 0) args.push("-u", "root");
    try {
      child = await spawnServer("memcached", args, [port]);
    } catch (error) {
      if (attempt === 4) throw error;
    }
  }
  let stopped = false;
  let running: ServerProcess = child;
  let holder: PortHolder | null = null;
  const server: MemcachedServer = {
    port,
    address: `127.0.0.1:${port}`,
    get pid() {
      return running.child.pid;
    },
    async kill() {
      await running.stop();
      holder ??= holdPort(port);
    },
    async pause() {
      running.child.kill("SIGSTOP");
      const stat = `/proc/${running.child.pid}/stat`;
      // The state is the field after the parenthesised command name; "T" is stopped.
      while (!/\) T /.test(await Deno.readTextFile(stat))) {
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    },
    resume() {
      running.child.kill("SIGCONT");
    },
    async restart() {
      await server.kill();
      await holder?.close();
      holder = null;
      running = await spawnServer("memcached", args, [port]);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await running.stop();
      await holder?.close();
    },
  };
  return server;
}

/** Starts `count` memcached servers. */
export function startMemcacheds(count: number): Promise<MemcachedServer[]> {
  return Promise.all(Array.from({ length: count }, () => startMemcached()));
}

/** A port kept taken by a listener that accepts connections and closes them at once. */
interface PortHolder {
  close(): Promise<void>;
}

function holdPort(port: number): PortHolder {
  const listener = Deno.listen({ hostname: "127.0.0.1", port });
  const accepting = (async () => {
    try {
      for await (const conn of listener) conn.close();
    } catch {
      // The listener was closed.
    }
  })();
  return {
    async close() {
      listener.close();
      await accepting;
    },
  };
}
