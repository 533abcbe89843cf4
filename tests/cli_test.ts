import assert from "node:assert/strict";
import { startMemcached } from "./helpers/memcached.ts";
import { runCli, startCliProxy } from "./helpers/proxy.ts";
import { TextClient } from "./helpers/text_client.ts";

Deno.test("a bad flag exits with code 2, a one-line reason and the usage", async () => {
  const { code, stderr } = await runCli(["--no-such-flag", "-s", "127.0.0.1:11211"]);
  assert.equal(code, 2);
  const [reason, blank, usage] = stderr.split("\n");
  assert.match(reason, /^memrelay: Unknown option '--no-such-flag'/);
  assert.equal(blank, "");
  assert.match(usage, /^Usage: memrelay/);
});

Deno.test("a bad server address or port exits with code 2 and says what is wrong", async () => {
  for (
    const [args, reason] of [
      [["-s", "nocolon"], /bad server "nocolon": expected host:port/],
      [["-s", "127.0.0.1:99999"], /bad port "99999"/],
      [["-s", "127.0.0.1:11211", "-p", "abc"], /bad port "abc" in -p/],
      [["-s", "127.0.0.1:11211", "-n", "0"], /-n\/--max-conns takes a whole number of at least 1/],
      [[], /no servers: give at least one primary with -s host:port/],
      [["-s", "127.0.0.1:11211", "-l", "999.1.1.1"], /bad -l address "999.1.1.1"/],
      [["-s", "127.0.0.1:11211", "-l", "::1::2"], /bad -l address "::1::2"/],
    ] as const
  ) {
    const { code, stderr } = await runCli([...args]);
    assert.equal(code, 2, `exit code for ${args.join(" ")}`);
    assert.match(stderr.split("\n")[0], reason);
  }
});

Deno.test("--help and --version print and exit 0", async () => {
  const help = await runCli(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /-s, --server host:port/);
  const version = await runCli(["-V"]);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^memrelay \d+\.\d+\.\d+\n$/);
});

Deno.test("an address already in use exits with code 1", async () => {
  const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (busy.addr as Deno.NetAddr).port;
    const { code, stderr } = await runCli(["-p", String(port), "-s", "127.0.0.1:11211"]);
    assert.equal(code, 1);
    assert.match(stderr, /memrelay: cannot start: .*[Aa]ddr/);
  } finally {
    busy.close();
  }
});

Deno.test("magent's -D, -k and -i are accepted, -u warns, and -f serves a unix socket", async () => {
  const server = await startMemcached();
  const socket = await Deno.makeTempFile({ suffix: ".sock" });
  await Deno.remove(socket);
  const proxy = await startCliProxy([
    "-D",
    "-k",
    "-i",
    "2",
    "-u",
    "nobody",
    "-f",
    socket,
    "-s",
    server.address,
  ]);
  try {
    const c = await TextClient.connect(socket);
    assert.equal(await c.set("via-socket", "yes"), "STORED\r\n");
    c.close();
    const tcp = await TextClient.connect(proxy.port);
    assert.equal(await tcp.get("get via-socket"), "VALUE via-socket 0 3\r\nyes\r\nEND\r\n");
    tcp.close();
  } finally {
    const { stderr } = await proxy.stop();
    await server.stop();
    await Deno.remove(socket).catch(() => {});
    assert.match(stderr, /WARN -u\/-g ignored: Deno cannot drop privileges/);
  }
});

Deno.test("--test-config reads the auth and TLS files, and says which one is wrong", async () => {
  const dir = await Deno.makeTempDir({ prefix: "memrelay-files-" });
  try {
    const auth = `${dir}/auth`;
    await Deno.writeTextFile(auth, "alice:s3cret\n", { mode: 0o644 });
    const flags = ["-s", "127.0.0.1:11211", "--auth-file", auth, "--test-config"];
    const loose = await runCli(flags);
    assert.equal(loose.code, 0);
    assert.match(loose.stderr, /^memrelay: warning: auth file .* can be read by other users/);
    const missing = await runCli([...flags, "--tls-cert", `${dir}/c.pem`, "--tls-key", auth]);
    assert.equal(missing.code, 2);
    assert.match(
      missing.stderr,
      /memrelay: cannot read the TLS certificate .*c\.pem: no such file/,
    );
    await Deno.writeTextFile(auth, "alice\n");
    const malformed = await runCli(flags);
    assert.equal(malformed.code, 2);
    assert.match(malformed.stderr, /auth, line 1: expected user:password/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
