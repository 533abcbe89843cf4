import type { ByteStream, StreamListener } from "../net/tcp.ts";
import { writeAll } from "../protocol/bytes.ts";
import { TOO_MANY_CONNECTIONS } from "../protocol/text/replies.ts";
import { ClientSession, type SessionContext } from "./client_session.ts";

/** The first pause after a failed accept, doubled after each failure in a row. */
const FIRST_ACCEPT_PAUSE_MS = 5;
/** The longest pause after a failed accept. */
const MAX_ACCEPT_PAUSE_MS = 1000;
/** How long a refused client has to take its error line before it is cut off. */
const REFUSAL_GRACE_MS = 1000;

/**
 * Accepts clients on one address and gives each a {@linkcode ClientSession}. With an idle
 * timeout in the context, it closes clients that have sent and taken nothing for that long.
 */
export class Listener {
  readonly #listener: StreamListener;
  readonly #context: SessionContext;
  #maxConnections: number;
  readonly #sessions = new Map<ClientSession, Promise<void>>();
  #open = 0;
  #idleTimer: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  /**
   * @param listener A bound listener, TCP or unix.
   * @param context What the sessions share.
   * @param maxConnections Clients served at once; more are answered with
   *   `SERVER_ERROR too many connections` and closed.
   */
  constructor(listener: StreamListener, context: SessionContext, maxConnections: number) {
    this.#listener = listener;
    this.#context = context;
    this.#maxConnections = maxConnections;
    const idleMs = context.idleTimeoutMs ?? 0;
    if (idleMs > 0) {
      this.#idleTimer = setInterval(() => this.#closeIdle(idleMs), Math.min(1000, idleMs / 2));
      Deno.unrefTimer(this.#idleTimer as unknown as number);
    }
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

  /**
   * Accepts until the listener is closed. A failed accept (out of file descriptors, say) is
   * logged and tried again after a pause that doubles up to a second, as Go's HTTP server does:
   * the clients already served go on, and new ones are taken once descriptors are free again.
   */
  async serve(): Promise<void> {
    let pauseMs = 0;
    while (true) {
      let conn: ByteStream;
      try {
        conn = await this.#listener.accept();
      } catch (error) {
        if (this.#closed || error instanceof Deno.errors.BadResource) return;
        pauseMs = Math.min(
          MAX_ACCEPT_PAUSE_MS,
          pauseMs === 0 ? FIRST_ACCEPT_PAUSE_MS : pauseMs * 2,
        );
        this.#context.logger?.log("warn", "accept failed; trying again", {
          error: (error as Error).message,
          retry_in_ms: pauseMs,
          clients: this.#open,
        });
        await new Promise((resolve) => setTimeout(resolve, pauseMs));
        continue;
      }
      pauseMs = 0;
      this.#accept(conn);
    }
  }

  /** Stops accepting. Sessions already open go on. */
  close(): void {
    this.#closed = true;
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
    clearInterval(this.#idleTimer);
    for (const session of this.#sessions.keys()) session.close();
    await Promise.all(this.#sessions.values());
  }

  #accept(conn: ByteStream): void {
    const stats = this.#context.stats;
    if (this.#open >= this.#maxConnections) {
      stats.rejectedConnections++;
      const close = () => {
        clearTimeout(timer);
        try {
          conn.close();
        } catch {
          // Closed already: the client left first, or the grace ran out.
        }
      };
      // A client that reads nothing (or never finishes a TLS handshake) is not waited for.
      const timer = setTimeout(close, REFUSAL_GRACE_MS);
      writeAll(conn, TOO_MANY_CONNECTIONS).catch(() => {}).finally(close);
      return;
    }
    if ("setNoDelay" in conn) (conn as Deno.TcpConn).setNoDelay(true);
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

  #closeIdle(timeoutMs: number): void {
    const now = Date.now();
    for (const session of this.#sessions.keys()) {
      if (session.idle(now, timeoutMs)) {
        this.#context.logger?.log("debug", "idle client closed", { after_ms: timeoutMs });
        session.close();
      }
    }
  }
}
