import assert from "node:assert/strict";
import { spawnCli } from "../helpers/cli_process.ts";
import { freePort } from "../helpers/free_port.ts";
import { startMemcacheds } from "../helpers/memcached.ts";
import { TextClient } from "../helpers/text_client.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

for (const io of ["epoll", "deno"]) {
  Deno.test(`with --io ${io}, the CLI says so and serves sets, gets and a backup read`, async () => {
    const [a, b, backup] = await startMemcacheds(3);
    const port = freePort();
    const cli = await spawnCli(
      ["-p", String(port), "--io", io, "-s", a.address, "-s", b.address, "-b", backup.address],
      port,
    );
    const c = await TextClient.connect(port);
    try {
      await cli.waitForLine(new RegExp(` INFO listening .* io=${io}`));
      const keys = Array.from({ length: 20 }, (_, i) => `k${i}`);
      for (const key of keys) assert.equal(await c.set(key, key.toUpperCase()), "STORED\r\n");
      const all = keys.map((k) => `VALUE ${k} 0 ${k.length}\r\n${k.toUpperCase()}\r\n`).join("");
      assert.equal(await c.get(`get ${keys.join(" ")}`), `${all}END\r\n`);
      await a.stop();
      await b.stop();
      assert.equal(await c.get("get k1"), "VALUE k1 0 2\r\nK1\r\nEND\r\n", "from the backup");
    } finally {
      c.close();
      cli.signal("SIGKILL");
      await cli.exit();
      await Promise.all([a, b, backup].map((m) => m.stop()));
    }
  });
}

Deno.test("--io epoll without --allow-ffi exits 2 and says what to do; a bad --io exits 2", async () => {
  for (
    const [flags, reason] of [
      [["--io", "epoll"], /--io epoll needs Linux on x86-64 and --allow-ffi: run with --allow-ffi/],
      [["--io", "uring"], /bad --io "uring": use auto, epoll, deno/],
    ] as const
  ) {
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-net",
        "--allow-read",
        "--allow-env",
        MAIN,
        ...flags,
        "-s",
        "127.0.0.1:1",
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.equal(code, 2, flags.join(" "));
    assert.match(new TextDecoder().decode(stderr), reason);
  }
});

Deno.test("without --allow-ffi, --io auto falls back to Deno's sockets", async () => {
  const [server] = await startMemcacheds(1);
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-env", MAIN, "-p", String(port), "-s", server.address],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  try {
    let text = "";
    while (!/ INFO listening /.test(text)) text += (await stderr.read()).value ?? "";
    assert.match(text, / INFO listening .* io=deno/);
    const c = await TextClient.connect(port);
    assert.equal(await c.set("k", "v"), "STORED\r\n");
    c.close();
  } finally {
    child.kill("SIGKILL");
    await child.status;
    await stderr.cancel();
    await server.stop();
  }
});
