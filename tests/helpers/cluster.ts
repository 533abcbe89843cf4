import { type MemcachedServer, startMemcacheds } from "./memcached.ts";
import { startTestProxy, type TestProxy } from "./proxy.ts";
import { TextClient } from "./text_client.ts";

/** Real memcached primaries and backups with a proxy in front, for one test. */
export interface Cluster {
  /** The primaries, in `-s` order. */
  primaries: MemcachedServer[];
  /** The backup pool, in `-b` order. */
  backups: MemcachedServer[];
  /** The proxy over them. */
  proxy: TestProxy;
  /** A new client of the proxy; closed when the test ends. */
  client(): Promise<TextClient>;
  /** A new client straight to one memcached server; closed when the test ends. */
  direct(server: MemcachedServer): Promise<TextClient>;
}

/** How many servers of each kind, and more proxy flags. */
export interface ClusterOptions {
  /** Primaries to start. Default 2. */
  primaries?: number;
  /** Backups to start. Default 0. */
  backups?: number;
  /** Flags added after `-s` and `-b`. */
  flags?: string[];
}

/** Runs `test` against a fresh cluster, and tears everything down after, pass or fail. */
export async function withCluster(
  options: ClusterOptions,
  test: (cluster: Cluster) => Promise<void>,
): Promise<void> {
  const servers = await startMemcacheds((options.primaries ?? 2) + (options.backups ?? 0));
  const primaries = servers.slice(0, options.primaries ?? 2);
  const backups = servers.slice(primaries.length);
  const clients: TextClient[] = [];
  let proxy: TestProxy | undefined;
  try {
    proxy = await startTestProxy([
      ...primaries.flatMap((s) => ["-s", s.address]),
      ...backups.flatMap((s) => ["-b", s.address]),
      ...(options.flags ?? []),
    ]);
    const port = proxy.port;
    await test({
      primaries,
      backups,
      proxy,
      async client() {
        const c = await TextClient.connect(port);
        clients.push(c);
        return c;
      },
      async direct(server) {
        const c = await TextClient.connect(server.port);
        clients.push(c);
        return c;
      },
    });
  } finally {
    for (const c of clients) c.close();
    await proxy?.close();
    await Promise.all(servers.map((s) => s.stop()));
  }
}
