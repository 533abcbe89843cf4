import type { DistributionName } from "../distribution/build.ts";
import type { HashName } from "../hash/hash_functions.ts";

/** A memcached server as configured. */
export interface ServerConfig {
  /** Host name or address. */
  host: string;
  /** TCP port. */
  port: number;
  /** Relative weight for the distribution; 1 unless configured. */
  weight: number;
  /** twemproxy's optional server name: when set, ketama hashes it instead of `host:port`. */
  name?: string;
}

/** Where a pool listens. */
export type ListenConfig =
  | { transport: "tcp"; hostname: string; port: number }
  | {
    transport: "unix";
    path: string;
    /** The socket file's permission bits, such as `0o700` (memcached's `-a` default). */
    mode?: number;
  };

/** The certificate and key files a pool's TCP listeners serve TLS with. */
export interface TlsFiles {
  /** PEM certificate chain. */
  certFile: string;
  /** PEM private key. */
  keyFile: string;
}

/** One pool: a listener, its servers, and how keys are placed and replicated over them. */
export interface PoolConfig {
  /** The pool's name, used in logs and stats. */
  name: string;
  /** Addresses the pool accepts clients on. */
  listen: ListenConfig[];
  /** The primaries. */
  servers: ServerConfig[];
  /** Backup pools: each holds one more replica of every key. */
  backups: ServerConfig[][];
  /** The hash function keys are placed by. */
  hash: HashName;
  /** Two characters, such as `{}`: only the part of a key between them is hashed. */
  hashTag: string | null;
  /** How hashes map to servers. */
  distribution: DistributionName;
  /** Connect and reply timeout, in milliseconds. */
  timeoutMs: number;
  /** Pipelined connections kept to each server. */
  serverConnections: number;
  /** Consecutive failures after which a server is marked down. */
  serverFailureLimit: number;
  /** First wait, in milliseconds, before a down server is probed. */
  serverRetryTimeoutMs: number;
  /** Most client connections open at once; more are answered with an error and closed. */
  maxClientConnections: number;
  /** Largest value accepted, in bytes. */
  maxItemSize: number;
  /**
   * Bytes one client may hold in the proxy (replies it has not read, requests in flight) before
   * the proxy stops reading from it. Four times this closes the client with
   * `SERVER_ERROR out of memory`.
   */
  maxClientBuffer: number;
  /** Most keys one `get`, `gets`, `gat` or `gats` may name. */
  maxKeys: number;
  /** Seconds a client may send and receive nothing before it is closed; 0 for never. */
  idleTimeout: number;
  /** A file of `user:password` lines: clients must authenticate as memcached's `-Y` asks. */
  authFile: string | null;
  /** Serve TLS on the TCP listeners with these files; null for plain TCP. */
  tls: TlsFiles | null;
  /** Connect to every server at start rather than on first use (twemproxy's `preconnect`). */
  preconnect: boolean;
  /**
   * Take a down server out of the distribution (twemproxy's `auto_eject_hosts`), and put it back
   * when it answers again. Off by default: remapping its keys causes misses and stale reads.
   */
  autoEjectHosts: boolean;
  /**
   * Keys remembered per server as missed writes, to replay when it answers again; past this the
   * server is flushed and refilled instead.
   */
  replayLimit: number;
  /** Keys a second a refill copies to a server that came back empty. */
  refillRate: number;
}

/** Everything a running proxy is built from. Immutable once built. */
export interface ProxyConfig {
  /** The pools, each with its own listeners. */
  pools: PoolConfig[];
  /** Log every connection and server state change. */
  verbose: boolean;
}

/** The smallest `maxClientBuffer`: one read's worth, so a request always fits. */
export const MIN_CLIENT_BUFFER = 64 * 1024;

/** The mode a unix socket gets unless told otherwise: owner only, as memcached's `-a 700`. */
export const DEFAULT_UNIX_MODE = 0o700;

/** Defaults for the settings a pool need not state. */
export const POOL_DEFAULTS: Readonly<Omit<PoolConfig, "name" | "listen" | "servers" | "backups">> =
  {
    hash: "fnv1a_64",
    hashTag: null,
    distribution: "ketama",
    timeoutMs: 1000,
    serverConnections: 1,
    serverFailureLimit: 2,
    serverRetryTimeoutMs: 1000,
    maxClientConnections: 4096,
    maxItemSize: 1024 * 1024,
    maxClientBuffer: 16 * 1024 * 1024,
    maxKeys: 10_000,
    idleTimeout: 0,
    authFile: null,
    tls: null,
    preconnect: false,
    autoEjectHosts: false,
    replayLimit: 100_000,
    refillRate: 20_000,
  };
