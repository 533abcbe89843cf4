import { waitForPort } from "./free_port.ts";

/** A server process a test started and owns. */
export interface ServerProcess {
  /** The process. */
  readonly child: Deno.ChildProcess;
  /** True once the process has exited. */
  exited(): boolean;
  /** Sends `signal` (SIGKILL by default) unless it has exited, and waits for the exit. */
  stop(signal?: Deno.Signal): Promise<void>;
}

/**
 * Starts `command` and waits until something accepts connections on every port in `ports`.
 * Rejects, with the process killed, when it exits first or is gone `settleMs` later: a server
 * whose port another test took exits, and the port answers for someone else.
 */
export async function spawnServer(
  command: string,
  args: string[],
  ports: number[],
  settleMs = 30,
): Promise<ServerProcess> {
  const child = new Deno.Command(command, { args, stdout: "null", stderr: "null" }).spawn();
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const stop = async (signal: Deno.Signal = "SIGKILL") => {
    if (!exited) child.kill(signal);
    await status;
  };
  try {
    await Promise.race([
      Promise.all(ports.map((port) => waitForPort(port))),
      status.then(({ code }) => {
        throw new Error(`${command} exited with code ${code} before it listened`);
      }),
    ]);
    await new Promise((resolve) => setTimeout(resolve, settleMs));
    if (exited) throw new Error(`${command} exited on port ${ports.join(",")}: the port was taken`);
  } catch (error) {
    await stop();
    throw error;
  }
  return { child, exited: () => exited, stop };
}
