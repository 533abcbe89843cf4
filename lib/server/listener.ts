import { writeAll } from "../protocol/bytes.ts";
import { TOO_MANY_CONNECTIONS } from "../protocol/text/replies.ts";
import { ClientSession, type SessionContext } from "./client_session.ts";

/** Accepts clients on one address and gives each a {@linkcode ClientSession}. */
export class Listener {
  readonly #listener: Deno.Listener;
  readonly #context: SessionContext;
  #maxConnections: number;
  readonly #sessions = new Map<ClientSession, Promise<void>>();
  #open = 0;

  /**
   * @param listener A bound listener, TCP or unix.
   * @param context What the sessions share.
   * @param maxConnections Clients served at once; more are answered with
   *   `SERVER_ERROR too many connections` and closed.
   */
  constructor(listener: Deno.Listener, context: SessionContext, maxConnections: number) {
    this.#listener = listener;
    this.#context = context;
    this.#maxConnections = maxConnections;
  }

  /** The address clients connect to. */
  get addr(): Deno.Addr {
    return this.#listener.addr;
  }

  /** Clients served at once; a change applies to the next client that connects. */
  get maxConnections(): number {
    return this.#maxConnections;
  }

  set maxConnections(value: number) {
    this.#maxConnections = value;
  }

  /** Client sessions open now. */
  get sessions(): number {
    return this.#sessions.size;
  }

  /** Accepts until the listener is closed. */
  async serve(): Promise<void> {
    try {
      for await (const conn of this.#listener) this.#accept(conn);
    } catch (error) {
      if (!(error instanceof Deno.errors.BadResource)) throw error;
    }
  }

  /** Stops accepting. Sessions already open go on. */
  close(): void {
    try {
      this.#listener.close();
    } catch {
      // Already closed.
    }
  }

  /**
   * Lets every open session answer the requests it has read, then close; resolves once all have
   * ended. Call {@linkcode close} first, or new clients keep coming.
   */
  async drainSessions(): Promise<void> {
    for (const session of this.#sessions.keys()) session.drain();
    await Promise.all(this.#sessions.values());
  }

  /** Closes every open session and waits for them to end. */
  async closeSessions(): Promise<void> {
    for (const session of this.#sessions.keys()) session.close();
    await Promise.all(this.#sessions.values());
  }

  #accept(conn: Deno.Conn): void {
    const stats = this.#context.stats;
    if (this.#open >= this.#maxConnections) {
      stats.rejectedConnections++;
      writeAll(conn, TOO_MANY_CONNECTIONS).catch(() => {}).finally(() => {
        try {
          conn.close();
        } catch {
          // The client left first.
        }
      });
      return;
    }
    if (conn.remoteAddr.transport === "tcp") (conn as Deno.TcpConn).setNoDelay(true);
    this.#open++;
    stats.currConnections++;
    stats.totalConnections++;
    const session = new ClientSession(conn, this.#context);
    this.#sessions.set(
      session,
      session.serve().finally(() => {
        this.#open--;
        stats.currConnections--;
        this.#sessions.delete(session);
      }),
    );
  }
}
