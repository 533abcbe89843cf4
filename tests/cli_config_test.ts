import assert from "node:assert/strict";
import { freePort, waitForPort } from "./helpers/free_port.ts";
import { startMemcached } from "./helpers/memcached.ts";
import { runCli } from "./helpers/proxy.ts";
import { TextClient } from "./helpers/text_client.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

Deno.test("-c runs the pools of a twemproxy YAML file; --test-config only checks it", async () => {
  const memcached = await startMemcached();
  const dir = await Deno.makeTempDir();
  try {
    const port = freePort();
    const file = `${dir}/nutcracker.yml`;
    await Deno.writeTextFile(
      file,
      `gamma:\n  listen: 127.0.0.1:${port}\n  backlog: 1024\n  servers:\n   - ${memcached.address}:1\n`,
    );
    const checked = await runCli(["-c", file, "--test-config"]);
    assert.equal(checked.code, 0);
    assert.equal(checked.stdout, `memrelay: configuration file ${file} is ok: pools gamma\n`);
    assert.match(checked.stderr, /warning: .*pool "gamma": key "backlog": ignored/);

    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-net",
        "--allow-read",
        "--allow-write",
        "--allow-env",
        MAIN,
        "-c",
        file,
      ],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(child.stderr).text();
    try {
      await waitForPort(port, 15_000);
      const client = await TextClient.connect(port);
      assert.equal(await client.set("k", "v"), "STORED\r\n");
      client.close();
      const direct = await TextClient.connect(memcached.port);
      assert.equal(await direct.get("get k"), "VALUE k 0 1\r\nv\r\nEND\r\n");
      direct.close();
    } finally {
      child.kill("SIGTERM");
    }
    assert.equal((await child.status).code, 0);
    assert.match(await stderr, /WARN .*key "backlog"/);

    const bad = await runCli(["-c", `${dir}/absent.yml`]);
    assert.equal(bad.code, 2);
    assert.equal(
      bad.stderr,
      `memrelay: ${dir}/absent.yml: cannot read the configuration file: no such file\n`,
    );
    const mixed = await runCli(["-c", file, "-s", memcached.address]);
    assert.equal(mixed.code, 2);
    assert.match(
      mixed.stderr,
      /^memrelay: -c\/--config takes every setting from the file: drop --server/,
    );
  } finally {
    await memcached.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
