import assert from "node:assert/strict";
import { parseCommandLine } from "../../lib/config/magent_flags.ts";
import { silentLogger } from "../../lib/observability/log.ts";
import { ReplyKind } from "../../lib/protocol/text/response_parser.ts";
import { counterName } from "../../lib/observability/prometheus.ts";
import { ProxyStats } from "../../lib/observability/stats.ts";
import { statsFields } from "../../lib/observability/stats_report.ts";
import { startProxy } from "../../lib/server/proxy.ts";
import { spawnCli } from "../helpers/cli_process.ts";
import { eventually } from "../helpers/eventually.ts";
import { freePort } from "../helpers/free_port.ts";
import { type MemcachedServer, startMemcacheds } from "../helpers/memcached.ts";
import { parsePrometheusText, sampleValue } from "../helpers/prometheus_text.ts";
import { TextClient } from "../helpers/text_client.ts";

/** GETs (or sends `method` to) the admin endpoint; the body is read, so nothing leaks. */
async function request(
  port: number,
  path: string,
  method = "GET",
): Promise<{ status: number; body: string; headers: Headers }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { method });
  return { status: response.status, body: await response.text(), headers: response.headers };
}

function yaml(port: number, servers: MemcachedServer[]): string {
  return `alpha:\n  listen: 127.0.0.1:${port}\n  server_failure_limit: 1\n` +
    `  server_retry_timeout: 60000\n  servers:\n` +
    servers.map((s) => `   - ${s.address}:1\n`).join("");
}

Deno.test("/metrics is strict Prometheus text with the stats figures, labelled by server and pool", async () => {
  const [a, b] = await startMemcacheds(2);
  const dir = await Deno.makeTempDir();
  const port = freePort();
  const admin = freePort();
  const file = `${dir}/memrelay.yml`;
  await Deno.writeTextFile(file, yaml(port, [a, b]));
  const cli = await spawnCli(["-c", file, "--admin", String(admin)], port);
  const c = await TextClient.connect(port);
  try {
    await cli.waitForLine(new RegExp(`admin endpoint listening address=127\\.0\\.0\\.1:${admin}`));
    for (let i = 0; i < 20; i++) await c.set(`user:${i * 7919}:x`, "v");
    for (let i = 0; i < 20; i++) await c.get(`get user:${i * 7919}:x`);
    const stats = await c.stats();
    const { status, body, headers } = await request(admin, "/metrics");
    assert.equal(status, 200);
    assert.equal(headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    const families = parsePrometheusText(body);
    for (const server of [a, b]) {
      const labels = { server: server.address, pool: "alpha" };
      assert.equal(sampleValue(families, "memrelay_backend_up", labels), 1);
      assert.equal(sampleValue(families, "memrelay_backend_in_flight_requests", labels), 0);
      assert.ok(sampleValue(families, "memrelay_backend_sent_bytes_total", labels) > 0);
      assert.ok(sampleValue(families, "memrelay_backend_latency_seconds_count", labels) > 0);
      assert.equal(
        sampleValue(families, "memrelay_backend_info", { ...labels, role: "primary" }),
        1,
      );
    }
    assert.match(body, /\nmemrelay_backend_up\{server="127\.0\.0\.1:\d+",pool="alpha"\} 1\n/);
    for (const name of ["cmd_get", "cmd_set", "get_hits", "total_connections"]) {
      const value = Number(stats.match(new RegExp(`STAT ${name} (\\d+)`))![1]);
      assert.equal(sampleValue(families, counterName(name)), value, name);
    }
    for (const [name] of statsFields(new ProxyStats())) {
      assert.ok(
        families.has(counterName(name)) || families.has(`memrelay_${name}`),
        `a metric for stats' ${name}`,
      );
    }
    assert.equal(sampleValue(families, "memrelay_curr_connections"), 1);
    assert.equal(sampleValue(families, "memrelay_pool_primaries_up", { pool: "alpha" }), 2);

    await b.kill();
    await eventually(async () => {
      // Traffic finds the dead server; a failure limit of 1 marks it down at once.
      for (let i = 0; i < 20; i++) await c.get(`get user:${i * 7919}:x`);
      const after = parsePrometheusText((await request(admin, "/metrics")).body);
      assert.equal(
        sampleValue(after, "memrelay_backend_up", { server: b.address, pool: "alpha" }),
        0,
      );
      assert.equal(sampleValue(after, "memrelay_servers_down"), 1);
      assert.equal(
        sampleValue(after, "memrelay_backend_marked_down_total", {
          server: b.address,
          pool: "alpha",
        }),
        1,
      );
      assert.equal(sampleValue(after, "memrelay_pool_primaries_up", { pool: "alpha" }), 1);
    });
  } finally {
    c.close();
    cli.signal("SIGTERM");
    assert.equal(await cli.exit(), 0, cli.lines.join("\n"));
    await Promise.all([a.stop(), b.stop()]);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("POST /reload applies the file, answers 400 for an invalid one, 409 without a file", async () => {
  const [a, b] = await startMemcacheds(2);
  const dir = await Deno.makeTempDir();
  const port = freePort();
  const admin = freePort();
  const file = `${dir}/memrelay.yml`;
  await Deno.writeTextFile(file, yaml(port, [a]));
  const cli = await spawnCli(["-c", file, "--admin", `127.0.0.1:${admin}`], port);
  const c = await TextClient.connect(port);
  try {
    await cli.waitForLine(/admin endpoint listening/);
    assert.deepEqual(await request(admin, "/reload", "POST").then((r) => [r.status, r.body]), [
      200,
      "reloaded: no changes\n",
    ]);
    await Deno.writeTextFile(file, yaml(port, [a, b]));
    const applied = await request(admin, "/reload", "POST");
    assert.equal(applied.status, 200);
    assert.deepEqual(JSON.parse(applied.body.replace(/^reloaded: /, "")).serversAdded, [
      `alpha/${b.address}`,
    ]);
    await Deno.writeTextFile(file, yaml(port, [a]).replace("servers:", "servers: oops"));
    const rejected = await request(admin, "/reload", "POST");
    assert.equal(rejected.status, 400);
    assert.match(rejected.body, /^rejected: .*memrelay\.yml/);
    assert.equal(await c.set("k", "v"), "STORED\r\n");
    const stats = await c.stats();
    assert.match(stats, /STAT servers 2\r\n/, "the rejected file removed nothing");
    assert.match(stats, /STAT config_reloads 2\r\n/);
    assert.match(stats, /STAT config_reloads_rejected 1\r\n/);
    await cli.waitForLine(/ ERROR config rejected, keeping the one in use reason=/);
  } finally {
    c.close();
    cli.signal("SIGTERM");
    assert.equal(await cli.exit(), 0, cli.lines.join("\n"));
    await Promise.all([a.stop(), b.stop()]);
    await Deno.remove(dir, { recursive: true });
  }

  const [m] = await startMemcacheds(1);
  const parsed = parseCommandLine(["-p", String(freePort()), "-s", m.address]);
  if (parsed.action !== "run") throw new Error("expected a config");
  const proxy = await startProxy(parsed.config, {
    logger: silentLogger,
    admin: { hostname: "127.0.0.1", port: 0 },
  });
  try {
    const { status, body } = await request(proxy.adminAddr!.port, "/reload", "POST");
    assert.equal(status, 409);
    assert.match(body, /nothing to reload: memrelay was started from flags/);
  } finally {
    await proxy.close();
    await m.stop();
  }
});

Deno.test("/healthz answers while alive; /readyz follows each pool's primaries and a shutdown", async () => {
  const [a] = await startMemcacheds(1);
  const port = freePort();
  const parsed = parseCommandLine([
    "-p",
    String(port),
    "-t",
    "3000",
    "--server-failure-limit",
    "1",
    "--server-retry-timeout",
    "60000",
    "-s",
    a.address,
  ]);
  if (parsed.action !== "run") throw new Error("expected a config");
  const proxy = await startProxy(parsed.config, {
    logger: silentLogger,
    admin: { hostname: "127.0.0.1", port: 0 },
  });
  const admin = proxy.adminAddr!.port;
  const c = await TextClient.connect(port);
  try {
    assert.deepEqual(await request(admin, "/healthz").then((r) => [r.status, r.body]), [
      200,
      "ok\n",
    ]);
    assert.deepEqual(await request(admin, "/readyz").then((r) => [r.status, r.body]), [
      200,
      "ready\n",
    ]);
    const notFound = await request(admin, "/nope");
    assert.equal(notFound.status, 404);
    const wrong = await request(admin, "/metrics", "POST");
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.get("allow"), "GET, HEAD");
    assert.equal((await request(admin, "/reload")).status, 405);

    await a.pause();
    await c.write("get slow\r\n");
    await eventually(() => {
      // The get, and perhaps the proxy's own `stats` sent when it connected.
      assert.ok(proxy.servers()[0].inFlight >= 1);
      return Promise.resolve();
    });
    const closing = proxy.close();
    const draining = await request(admin, "/readyz");
    assert.deepEqual([draining.status, draining.body], [503, "not ready: shutting down\n"]);
    assert.equal((await request(admin, "/healthz")).status, 200, "alive while draining");
    a.resume();
    assert.equal(await c.readReply(ReplyKind.Retrieval), "END\r\n");
    await closing;
    await assert.rejects(fetch(`http://127.0.0.1:${admin}/healthz`), "closed with the proxy");
  } finally {
    a.resume();
    c.close();
    await proxy.close();
    await a.stop();
  }
});

Deno.test("/readyz is 503 while a pool has no primary up", async () => {
  const [a] = await startMemcacheds(1);
  const port = freePort();
  const parsed = parseCommandLine([
    "-p",
    String(port),
    "--server-failure-limit",
    "1",
    "--server-retry-timeout",
    "60000",
    "-s",
    a.address,
  ]);
  if (parsed.action !== "run") throw new Error("expected a config");
  const proxy = await startProxy(parsed.config, {
    logger: silentLogger,
    admin: { hostname: "127.0.0.1", port: 0 },
  });
  const c = await TextClient.connect(port);
  try {
    await a.kill();
    assert.match(await c.get("get k"), /^SERVER_ERROR /);
    const { status, body } = await request(proxy.adminAddr!.port, "/readyz");
    assert.equal(status, 503);
    assert.equal(body, 'not ready: no primary up in pool "default"\n');
  } finally {
    c.close();
    await proxy.close();
    await a.stop();
  }
});
