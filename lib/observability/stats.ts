/**
 * The proxy's own counters, named as memcached names its own where the meaning is the same.
 * Plain number fields: incrementing one is the cheapest thing the hot path can do.
 */
export class ProxyStats {
  /** When the proxy started, in milliseconds since the epoch. */
  readonly startedAt: number = Date.now();
  /** Client connections open now. */
  currConnections = 0;
  /** Client connections accepted since start. */
  totalConnections = 0;
  /** Clients turned away because `-n` was reached. */
  rejectedConnections = 0;
  /** Keys asked for by get, gets, gat and gats. */
  cmdGet = 0;
  /** Storage commands (set, add, replace, append, prepend, cas). */
  cmdSet = 0;
  /** `touch` and `gat`/`gats` commands. */
  cmdTouch = 0;
  /** `flush_all` commands. */
  cmdFlush = 0;
  /** Keys found. */
  getHits = 0;
  /** Keys not found on any replica. */
  getMisses = 0;
  /** Keys served by a backup after the primary missed or failed. */
  backupHits = 0;
  /** Requests that a primary failed and a backup was asked instead. */
  failovers = 0;
  /** Requests that failed on a server (down, timeout, I/O error). */
  backendErrors = 0;
  /** Times a server was marked down or came back up. */
  backendStateChanges = 0;
  /** Requests a server failed by taking too long to connect or answer (then failed over). */
  requestTimeouts = 0;
  /** Keys a backup served after the primary missed, copied back to the primary. */
  readRepairs = 0;
  /** Keys a replica missed a write of while failing, replayed on it once it answered again. */
  replayedKeys = 0;
  /** Refills started: a server came back empty, or had missed too much to replay. */
  refills = 0;
  /** Refills running now. */
  refillsRunning = 0;
  /** Keys found on a replica that belong to a server being refilled. */
  refillKeysScanned = 0;
  /** Of those, keys stored on the refilled server. */
  refillKeysCopied = 0;
  /** How long the last finished refill took, in milliseconds. */
  lastRefillMs = 0;
  /** Times a down server was taken out of its distribution (`auto_eject_hosts`). */
  ejections = 0;
  /** Bytes read from clients. */
  bytesRead = 0;
  /** Bytes written to clients. */
  bytesWritten = 0;
}
