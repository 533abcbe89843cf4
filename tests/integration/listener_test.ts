import assert from "node:assert/strict";
import { withCluster } from "../helpers/cluster.ts";
import { eventually } from "../helpers/eventually.ts";
import { freePort, waitForPort } from "../helpers/free_port.ts";
import { startMemcached } from "../helpers/memcached.ts";
import { TextClient } from "../helpers/text_client.ts";

Deno.test("with --idle-timeout, a client that sends nothing is closed, and a busy one is not", async () => {
  await withCluster({ primaries: 1, flags: ["--idle-timeout", "1"] }, async ({ client }) => {
    const idle = await client();
    const busy = await client();
    const started = performance.now();
    const closed = idle.readUntilClosed(4000);
    for (let i = 0; i < 8; i++) {
      assert.equal(await busy.set(`k${i}`, "v"), "STORED\r\n");
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    assert.equal(await closed, "", "closed without a word, as memcached does");
    const after = performance.now() - started;
    assert.ok(after >= 1000, `closed after ${after.toFixed(0)} ms`);
    assert.equal(await busy.get("get k0"), "VALUE k0 0 1\r\nv\r\nEND\r\n");
  });
});

Deno.test("the unix socket is made 0700 unless --unix-mode says otherwise", async () => {
  const dir = await Deno.makeTempDir({ prefix: "memrelay-unix-" });
  try {
    for (const [flags, mode] of [[[], 0o700], [["--unix-mode", "0660"], 0o660]] as const) {
      const path = `${dir}/memrelay-${mode.toString(8)}.sock`;
      await withCluster({ primaries: 1, flags: ["-f", path, ...flags] }, async () => {
        assert.equal((await Deno.stat(path)).mode! & 0o777, mode);
        const c = await TextClient.connect(path);
        assert.equal(await c.set("k", "v"), "STORED\r\n");
        c.close();
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("out of file descriptors, failed accepts are logged and new clients are served once some are free", async () => {
  const server = await startMemcached();
  const port = freePort();
  const main = new URL("../../main.ts", import.meta.url).pathname;
  const child = new Deno.Command("sh", {
    args: [
      "-c",
      `ulimit -n 128 && exec "$0" run -A "$1" -p "$2" -s "$3"`,
      Deno.execPath(),
      main,
      String(port),
      server.address,
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const clients: Deno.Conn[] = [];
  try {
    await waitForPort(port, 15_000);
    // More connections than descriptors: the kernel queues them, and the proxy's accepts fail.
    for (let i = 0; i < 200; i++) clients.push(await Deno.connect({ hostname: "127.0.0.1", port }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const c of clients.splice(0)) c.close();
    await eventually(async () => {
      const c = await TextClient.connect(port);
      try {
        assert.equal(await c.set("k", "v"), "STORED\r\n");
      } finally {
        c.close();
      }
    }, 5000);
  } finally {
    for (const c of clients) c.close();
    child.kill("SIGKILL");
    await child.status;
    await server.stop();
  }
  assert.match(
    await stderr,
    / WARN accept failed; trying again error="Too many open files \(os error 24\)"/,
  );
});
