import assert from "node:assert/strict";
import { parseCommandLine } from "../../lib/config/magent_flags.ts";
import type { ProxyConfig } from "../../lib/config/proxy_config.ts";
import { ConfigError } from "../../lib/config/server_address.ts";
import { createLogger } from "../../lib/observability/log.ts";
import { ReplyKind } from "../../lib/protocol/text/response_parser.ts";
import { startProxy } from "../../lib/server/proxy.ts";
import { eventually } from "../helpers/eventually.ts";
import { freePort } from "../helpers/free_port.ts";
import { type MemcachedServer, startMemcacheds } from "../helpers/memcached.ts";
import { startTestProxy } from "../helpers/proxy.ts";
import { TextClient } from "../helpers/text_client.ts";

function configFrom(flags: string[]): ProxyConfig {
  const parsed = parseCommandLine(flags);
  if (parsed.action !== "run") throw new Error("flags did not ask for a proxy");
  return parsed.config;
}

/** One memcached stat, read straight from the server. */
async function memcachedStat(server: MemcachedServer, name: string): Promise<number> {
  const c = await TextClient.connect(server.port);
  try {
    const value = (await c.stats()).match(new RegExp(`STAT ${name} (\\d+)`))![1];
    return Number(value);
  } finally {
    c.close();
  }
}

/**
 * The i-th test key. Varied, because fnv1a_64 (twemproxy's, truncated to 32 bits) places keys
 * that differ only in their last byte, such as k1 … k99, mostly on one server.
 */
function key(i: number): string {
  return `user:${(i * 7919) % 10007}:profile`;
}

/** How many of the first `n` test keys `server` holds. */
async function keysOn(server: MemcachedServer, n: number): Promise<number> {
  const c = await TextClient.connect(server.port);
  try {
    const keys = Array.from({ length: n }, (_, i) => key(i)).join(" ");
    return ((await c.get(`get ${keys}`)).match(/^VALUE /gm) ?? []).length;
  } finally {
    c.close();
  }
}

Deno.test("a reload that adds a server keeps clients connected and sends the new server its keys", async () => {
  const [a, b] = await startMemcacheds(2);
  const proxy = await startTestProxy(["-s", a.address]);
  const c = await TextClient.connect(proxy.port);
  try {
    assert.equal(await c.set("before", "1"), "STORED\r\n");
    const connectionsToA = await memcachedStat(a, "total_connections");
    const summary = await proxy.handle.reload(
      configFrom(["-p", String(proxy.port), "-s", a.address, "-s", b.address]),
    );
    assert.deepEqual(summary.serversAdded, [`default/${b.address}`]);
    assert.deepEqual(summary.serversRemoved, []);
    assert.equal(summary.serversKept, 1);
    assert.deepEqual(summary.listenersAdded, []);
    for (let i = 0; i < 100; i++) assert.equal(await c.set(key(i), "v"), "STORED\r\n");
    const onB = await keysOn(b, 100);
    assert.ok(onB >= 10 && onB <= 90, `${onB} of 100 keys on the new server`);
    assert.equal(await keysOn(a, 100), 100 - onB);
    // The kept server kept its connection: since the first stat, only keysOn and the second
    // stat connected to it.
    assert.equal(await memcachedStat(a, "total_connections"), connectionsToA + 2);
    assert.equal(proxy.handle.stats().config_reloads, 1);
    assert.equal(proxy.handle.stats().curr_connections, 1);
  } finally {
    c.close();
    await proxy.close();
    await Promise.all([a.stop(), b.stop()]);
  }
});

Deno.test("a removed server answers its requests in flight, then its connection closes", async () => {
  const [a, b] = await startMemcacheds(2);
  const proxy = await startTestProxy(["-t", "300", "-s", a.address, "-s", b.address]);
  const c = await TextClient.connect(proxy.port);
  try {
    for (let i = 0; i < 40; i++) await c.set(key(i), "v");
    const direct = await TextClient.connect(b.port);
    const keyOnB = (await direct.get(`get ${
      Array.from({ length: 40 }, (_, i) => key(i)).join(" ")
    }`))
      .match(/^VALUE (\S+)/)![1];
    direct.close();
    assert.equal(await memcachedStat(b, "curr_connections"), 2, "the proxy's and this one");
    await b.pause();
    await c.write(`get ${keyOnB}\r\n`);
    await new Promise((resolve) => setTimeout(resolve, 30));
    const summary = await proxy.handle.reload(
      configFrom(["-t", "300", "-p", String(proxy.port), "-s", a.address]),
    );
    assert.deepEqual(summary.serversRemoved, [`default/${b.address}`]);
    b.resume();
    assert.equal(await c.readReply(ReplyKind.Retrieval), `VALUE ${keyOnB} 0 1\r\nv\r\nEND\r\n`);
    await eventually(async () => {
      assert.equal(await memcachedStat(b, "curr_connections"), 1, "only this one is left");
    }, 3000);
    assert.deepEqual(proxy.handle.servers().map((s) => s.address), [a.address]);
  } finally {
    b.resume();
    c.close();
    await proxy.close();
    await Promise.all([a.stop(), b.stop()]);
  }
});

Deno.test("an invalid reload is rejected with its reason, logged, and changes nothing", async () => {
  const [a, b] = await startMemcacheds(2);
  const port = freePort();
  const lines: string[] = [];
  const proxy = await startProxy(configFrom(["-p", String(port), "-s", a.address]), {
    logger: createLogger({ write: (line) => lines.push(line) }),
  });
  const c = await TextClient.connect(port);
  try {
    const connectionsToB = await memcachedStat(b, "total_connections");
    const before = proxy.config;
    const bad = configFrom(["-p", String(port), "-s", a.address, "-s", b.address]);
    bad.pools[0].timeoutMs = 0;
    await assert.rejects(proxy.reload(bad), ConfigError);
    const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const taken = (busy.addr as Deno.NetAddr).port;
    try {
      const unbindable = configFrom(["-p", String(port), "-s", a.address, "-s", b.address]);
      unbindable.pools[0].listen.push({ transport: "tcp", hostname: "127.0.0.1", port: taken });
      await assert.rejects(proxy.reload(unbindable), /cannot listen on 127\.0\.0\.1:\d+/);
    } finally {
      busy.close();
    }
    assert.equal(proxy.config, before);
    for (let i = 0; i < 30; i++) assert.equal(await c.set(key(i), "v"), "STORED\r\n");
    assert.equal(await keysOn(a, 30), 30);
    assert.equal(await keysOn(b, 30), 0);
    assert.equal(
      await memcachedStat(b, "total_connections"),
      connectionsToB + 2,
      "only keysOn and this stat connected: the proxy never did",
    );
    const stats = proxy.stats();
    assert.equal(stats.config_reloads, 0);
    assert.equal(stats.config_reloads_rejected, 2);
    const rejected = lines.filter((l) => / ERROR config rejected/.test(l));
    assert.equal(rejected.length, 2);
    assert.match(rejected[0], /reason="pool \\"default\\": timeoutMs 0 is not/);
  } finally {
    c.close();
    await proxy.close();
    await Promise.all([a.stop(), b.stop()]);
  }
});

Deno.test("a reload can add a listen address, and one that removes an address lets its clients finish", async () => {
  const [a] = await startMemcacheds(1);
  const first = freePort();
  const second = freePort();
  const proxy = await startProxy(configFrom(["-p", String(first), "-s", a.address]), {
    logger: createLogger({ level: "error" }),
  });
  const old = await TextClient.connect(first);
  try {
    assert.equal(await old.set("k", "v"), "STORED\r\n");
    const summary = await proxy.reload(configFrom(["-p", String(second), "-s", a.address]));
    assert.deepEqual(summary.listenersAdded, [`127.0.0.1:${second}`]);
    assert.deepEqual(summary.listenersRemoved, [`127.0.0.1:${first}`]);
    assert.equal((proxy.addr as Deno.NetAddr).port, second);
    const fresh = await TextClient.connect(second);
    assert.equal(await fresh.get("get k"), "VALUE k 0 1\r\nv\r\nEND\r\n");
    fresh.close();
    assert.equal(await old.readUntilClosed(2000), "", "the idle client on the removed address");
    await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port: first }));
  } finally {
    old.close();
    await proxy.close();
    await a.stop();
  }
});

Deno.test("a reload without a configuration needs a source to read it from", async () => {
  const [a] = await startMemcacheds(1);
  const proxy = await startTestProxy(["-s", a.address]);
  try {
    await assert.rejects(proxy.handle.reload(), Deno.errors.NotSupported);
    assert.equal(proxy.handle.stats().config_reloads_rejected, 0);
  } finally {
    await proxy.close();
    await a.stop();
  }
});

Deno.test("pools on port 0 keep their own listeners across a reload", async () => {
  const [a, b] = await startMemcacheds(2);
  const any = [{ transport: "tcp" as const, hostname: "127.0.0.1", port: 0 }];
  const config = (servers: MemcachedServer[]): ProxyConfig => {
    const base = configFrom(["-s", a.address]).pools[0];
    return {
      verbose: false,
      pools: servers.map((s, i) => ({
        ...base,
        name: `p${i}`,
        listen: any,
        servers: [{ host: "127.0.0.1", port: s.port, weight: 1 }],
      })),
    };
  };
  const proxy = await startProxy(config([a, b]), { logger: createLogger({ level: "error" }) });
  try {
    const ports = proxy.addrs.map((addr) => (addr as Deno.NetAddr).port);
    assert.equal(new Set(ports).size, 2);
    const summary = await proxy.reload(config([a, b]));
    assert.deepEqual([summary.listenersAdded, summary.listenersRemoved], [[], []]);
    assert.deepEqual(proxy.addrs.map((addr) => (addr as Deno.NetAddr).port), ports);
    for (const [i, server] of [a, b].entries()) {
      const c = await TextClient.connect(ports[i]);
      assert.equal(await c.set(`pool${i}`, "v"), "STORED\r\n");
      c.close();
      const direct = await TextClient.connect(server.port);
      assert.equal(await direct.get(`get pool${i}`), `VALUE pool${i} 0 1\r\nv\r\nEND\r\n`);
      direct.close();
    }
  } finally {
    await proxy.close();
    await Promise.all([a.stop(), b.stop()]);
  }
});
