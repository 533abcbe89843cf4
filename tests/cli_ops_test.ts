import assert from "node:assert/strict";
import { ReplyKind } from "../lib/protocol/text/response_parser.ts";
import { spawnCli } from "./helpers/cli_process.ts";
import { eventually } from "./helpers/eventually.ts";
import { freePort } from "./helpers/free_port.ts";
import { type MemcachedServer, startMemcacheds } from "./helpers/memcached.ts";
import { runCli } from "./helpers/proxy.ts";
import { TextClient } from "./helpers/text_client.ts";

/** A test key; varied, so that fnv1a_64 spreads the keys over the servers. */
function key(i: number): string {
  return `user:${(i * 7919) % 10007}:profile`;
}

/** A one-pool twemproxy YAML file listening on `port`. */
function yaml(port: number, servers: MemcachedServer[], extra = ""): string {
  return `alpha:\n  listen: 127.0.0.1:${port}\n${extra}  servers:\n` +
    servers.map((s) => `   - ${s.address}:1\n`).join("");
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

/** A value of `stats`, through the proxy. */
async function stat(c: TextClient, name: string): Promise<string | undefined> {
  return (await c.stats()).match(new RegExp(`STAT ${name} (\\S+)`))?.[1];
}

/** One memcached server, the CLI over it (`-p`, `flags`, `-s`), and a client of the CLI. */
interface DrainSetup {
  a: MemcachedServer;
  port: number;
  cli: Awaited<ReturnType<typeof spawnCli>>;
  c: TextClient;
}

/** Runs `test` against a fresh {@linkcode DrainSetup}, then stops everything, pass or fail. */
async function withDrainSetup(
  flags: string[],
  test: (setup: DrainSetup) => Promise<void>,
): Promise<void> {
  const [a] = await startMemcacheds(1);
  const port = freePort();
  const cli = await spawnCli(["-p", String(port), ...flags, "-s", a.address], port);
  const c = await TextClient.connect(port);
  try {
    await test({ a, port, cli, c });
  } finally {
    a.resume();
    c.close();
    cli.signal("SIGKILL");
    await cli.exit();
    await a.stop();
  }
}

/** Waits until the proxy's `stats` show `name` at `value`: the proxy has read that far. */
async function untilStat(port: number, name: string, value: string): Promise<void> {
  const watcher = await TextClient.connect(port);
  try {
    await eventually(async () => assert.equal(await stat(watcher, name), value));
  } finally {
    watcher.close();
  }
}

/** Sends SIGTERM and waits until the CLI logs that it is shutting down. */
async function sigterm(cli: DrainSetup["cli"]): Promise<void> {
  const mark = cli.lines.length;
  cli.signal("SIGTERM");
  await cli.waitForLine(/ INFO shutting down signal=SIGTERM/, { from: mark });
}

Deno.test("SIGHUP with a server added to the file keeps a client connected, and the new server gets keys", async () => {
  const [a, b] = await startMemcacheds(2);
  const dir = await Deno.makeTempDir();
  const port = freePort();
  const file = `${dir}/memrelay.yml`;
  await Deno.writeTextFile(file, yaml(port, [a]));
  const cli = await spawnCli(["-c", file], port);
  const c = await TextClient.connect(port);
  try {
    for (let i = 0; i < 100; i++) assert.equal(await c.set(key(i), "1"), "STORED\r\n");
    assert.equal(await keysOn(a, 100), 100);
    const connections = await stat(c, "total_connections");
    await Deno.writeTextFile(file, yaml(port, [a, b]));
    const mark = cli.lines.length;
    cli.signal("SIGHUP");
    const reloaded = await cli.waitForLine(/ INFO config reloaded /, { from: mark });
    assert.match(reloaded, new RegExp(`servers_added=alpha/${b.address.replace(/\./g, "\\.")} `));
    assert.match(reloaded, / servers_kept=1 /);
    for (let i = 0; i < 100; i++) assert.equal(await c.set(key(i), "2"), "STORED\r\n");
    const onB = await keysOn(b, 100);
    assert.ok(onB >= 10 && onB <= 90, `${onB} of 100 keys on the new server`);
    for (let i = 0; i < 100; i++) {
      assert.equal(await c.get(`get ${key(i)}`), `VALUE ${key(i)} 0 1\r\n2\r\nEND\r\n`);
    }
    assert.equal(await stat(c, "config_reloads"), "1");
    assert.equal(await stat(c, "total_connections"), connections, "no client reconnected");
    assert.equal(await stat(c, "curr_connections"), "1");
  } finally {
    c.close();
    cli.signal("SIGTERM");
    assert.equal(await cli.exit(), 0, cli.lines.join("\n"));
    await Promise.all([a.stop(), b.stop()]);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SIGHUP with an invalid file logs why, and the proxy keeps its configuration", async () => {
  const [a, b] = await startMemcacheds(2);
  const dir = await Deno.makeTempDir();
  const port = freePort();
  const file = `${dir}/memrelay.yml`;
  await Deno.writeTextFile(file, yaml(port, [a]));
  const cli = await spawnCli(["-c", file], port);
  const c = await TextClient.connect(port);
  try {
    await Deno.writeTextFile(file, yaml(port, [a, b], "  hash: fnv2\n"));
    let mark = cli.lines.length;
    cli.signal("SIGHUP");
    const rejected = await cli.waitForLine(/ ERROR config rejected/, { from: mark });
    assert.match(
      rejected,
      /memrelay\.yml: pool \\"alpha\\": key \\"hash\\": \\"fnv2\\" is not one/,
    );
    await Deno.writeTextFile(file, "alpha: [unclosed\n");
    mark = cli.lines.length;
    cli.signal("SIGHUP");
    await cli.waitForLine(/ ERROR config rejected/, { from: mark });
    for (let i = 0; i < 50; i++) assert.equal(await c.set(key(i), "v"), "STORED\r\n");
    assert.equal(await keysOn(a, 50), 50);
    assert.equal(await keysOn(b, 50), 0);
    assert.equal(await stat(c, "config_reloads_rejected"), "2");
    assert.equal(await stat(c, "config_reloads"), "0");
  } finally {
    c.close();
    cli.signal("SIGTERM");
    assert.equal(await cli.exit(), 0, cli.lines.join("\n"));
    await Promise.all([a.stop(), b.stop()]);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SIGHUP with magent flags only logs that there is nothing to reload", async () => {
  const [a] = await startMemcacheds(1);
  const port = freePort();
  const cli = await spawnCli(["-p", String(port), "-s", a.address], port);
  const c = await TextClient.connect(port);
  try {
    cli.signal("SIGHUP");
    await cli.waitForLine(/ WARN reload skipped reason="nothing to reload: .*-c/);
    assert.equal(await c.set("k", "v"), "STORED\r\n");
  } finally {
    c.close();
    cli.signal("SIGTERM");
    assert.equal(await cli.exit(), 0, cli.lines.join("\n"));
    await a.stop();
  }
});

Deno.test("SIGTERM during a pipelined batch answers every request in it, then exits 0", async () => {
  await withDrainSetup(["-t", "5000"], async ({ a, port, cli, c }) => {
    for (let i = 0; i < 50; i++) await c.set(key(i), `value-${i}`);
    const allKeys = `get ${Array.from({ length: 50 }, (_, i) => key(i)).join(" ")}`;
    // Until a retrieval comes back, the proxy counts each key in flight as a whole item's
    // worth against the client's buffer bound, and would read the batch a bit at a time.
    assert.equal((await c.get(allKeys)).match(/^VALUE /gm)!.length, 50);
    await a.pause();
    let batch = "";
    for (let i = 0; i < 50; i++) batch += `get ${key(i)}\r\n`;
    for (let i = 0; i < 50; i++) batch += `set fresh${i} 0 0 1\r\n${i % 10}\r\n`;
    batch += `${allKeys}\r\n`;
    await c.write(batch);
    // The proxy has read the whole batch once its counters show it; the server holds it.
    await untilStat(port, "cmd_set", "100");
    await sigterm(cli);
    // A pending accept holds the socket open a moment after the listener is closed.
    await eventually(async () => {
      await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port }), "no new clients");
    });
    a.resume();
    for (let i = 0; i < 50; i++) {
      const value = `value-${i}`;
      assert.equal(
        await c.readReply(ReplyKind.Retrieval),
        `VALUE ${key(i)} 0 ${value.length}\r\n${value}\r\nEND\r\n`,
      );
    }
    for (let i = 0; i < 50; i++) assert.equal(await c.readReply(ReplyKind.Line), "STORED\r\n");
    const all = await c.readReply(ReplyKind.Retrieval);
    assert.equal(all.match(/^VALUE /gm)!.length, 50);
    assert.equal(await c.readUntilClosed(), "", "then the connection closes");
    assert.equal(await cli.exit(), 0, cli.lines.join("\n"));
    assert.match(cli.lines.at(-1)!, / INFO stopped drained_in_ms=\d+/);
    const direct = await TextClient.connect(a.port);
    assert.equal(await direct.get("get fresh7"), "VALUE fresh7 0 1\r\n7\r\nEND\r\n");
    direct.close();
  });
});

Deno.test("SIGTERM while a client's requests wait for room in its buffer bound answers them all", async () => {
  await withDrainSetup(["-t", "5000"], async ({ a, port, cli, c }) => {
    for (let i = 0; i < 20; i++) await c.set(key(i), `value-${i}`);
    await a.pause();
    // Before any retrieval has come back, each key in flight counts as a whole item (1 MiB)
    // against the 16 MiB bound: most of these gets wait in the proxy, read but not sent.
    let batch = "";
    for (let i = 0; i < 20; i++) batch += `get ${key(i)}\r\n`;
    await c.write(batch);
    await untilStat(port, "cmd_get", "16");
    await sigterm(cli);
    a.resume();
    for (let i = 0; i < 20; i++) {
      const value = `value-${i}`;
      assert.equal(
        await c.readReply(ReplyKind.Retrieval),
        `VALUE ${key(i)} 0 ${value.length}\r\n${value}\r\nEND\r\n`,
      );
    }
    assert.equal(await c.readUntilClosed(), "", "then the connection closes");
    assert.equal(await cli.exit(), 0, cli.lines.join("\n"));
  });
});

Deno.test("a drain is bounded by --drain-timeout: a request that never ends does not hold the exit", async () => {
  await withDrainSetup(["-t", "10000", "--drain-timeout", "300"], async ({ a, port, cli, c }) => {
    await a.pause();
    await c.write("get stuck\r\n");
    await untilStat(port, "cmd_get", "1");
    const started = performance.now();
    cli.signal("SIGTERM");
    assert.equal(await cli.exit(), 0, cli.lines.join("\n"));
    const took = performance.now() - started;
    assert.ok(took < 3000, `exited ${took} ms after SIGTERM`);
    assert.ok(
      cli.lines.some((l) =>
        / WARN drain timed out, closing client connections connections=1/.test(l)
      ),
    );
  });
});

Deno.test("--log-format json writes one JSON object per line", async () => {
  const [a] = await startMemcacheds(1);
  const port = freePort();
  const cli = await spawnCli(["-p", String(port), "--log-format", "json", "-s", a.address], port);
  await cli.waitForLine(/"message":"listening"/);
  cli.signal("SIGTERM");
  assert.equal(await cli.exit(), 0, cli.lines.join("\n"));
  await a.stop();
  const events = cli.lines.filter((l) => l !== "").map((l) => JSON.parse(l));
  assert.deepEqual(events.map((e) => e.message), ["listening", "shutting down", "stopped"]);
  assert.equal(events[0].level, "info");
  assert.equal(events[0].address, `127.0.0.1:${port}`);
  assert.equal(events[1].signal, "SIGTERM");
});

Deno.test("bad --admin, --log-format, --log-level or --drain-timeout exit 2 with the reason", async () => {
  for (
    const [flags, reason] of [
      [["--admin", "nope:x"], /bad port "x" in --admin/],
      [["--admin", "999.0.0.1:9100"], /bad --admin "999\.0\.0\.1:9100"/],
      [["--log-format", "xml"], /bad --log-format "xml": use text or json/],
      [["--log-level", "loud"], /bad --log-level "loud": use one of debug, info, warn, error/],
      [["--drain-timeout", "5s"], /bad --drain-timeout "5s"/],
    ] as const
  ) {
    const { code, stderr } = await runCli(["-s", "127.0.0.1:11211", ...flags]);
    assert.equal(code, 2, flags.join(" "));
    assert.match(stderr.split("\n")[0], reason);
  }
});
