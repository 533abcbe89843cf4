import assert from "node:assert/strict";
import { parseCommandLine } from "../../lib/config/magent_flags.ts";
import type { PoolConfig } from "../../lib/config/proxy_config.ts";
import { ConfigError } from "../../lib/config/server_address.ts";

function poolOf(args: string[]): PoolConfig {
  const parsed = parseCommandLine(["-s", "127.0.0.1:11211", ...args]);
  assert.equal(parsed.action, "run");
  return parsed.action === "run" ? parsed.config.pools[0] : assert.fail();
}

function refuses(args: string[], message: string): void {
  assert.throws(() => parseCommandLine(["-s", "127.0.0.1:11211", ...args]), (error) => {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.message, message);
    return true;
  });
}

Deno.test("by default the proxy listens on loopback only, with memcached's limits and no auth or TLS", () => {
  const pool = poolOf([]);
  assert.deepEqual(pool.listen, [{ transport: "tcp", hostname: "127.0.0.1", port: 11211 }]);
  assert.equal(pool.maxKeys, 10_000);
  assert.equal(pool.maxClientBuffer, 16 * 1024 * 1024);
  assert.equal(pool.idleTimeout, 0);
  assert.equal(pool.authFile, null);
  assert.equal(pool.tls, null);
});

Deno.test("the hardening flags set the client limits, auth, TLS and the unix socket's mode", () => {
  const pool = poolOf([
    "--max-keys",
    "500",
    "--max-client-buffer",
    "1048576",
    "--idle-timeout",
    "30",
    "--auth-file",
    "/etc/memrelay/auth",
    "--tls-cert",
    "cert.pem",
    "--tls-key",
    "key.pem",
    "-f",
    "/run/memrelay.sock",
    "--unix-mode",
    "0660",
  ]);
  assert.equal(pool.maxKeys, 500);
  assert.equal(pool.maxClientBuffer, 1048576);
  assert.equal(pool.idleTimeout, 30);
  assert.equal(pool.authFile, "/etc/memrelay/auth");
  assert.deepEqual(pool.tls, { certFile: "cert.pem", keyFile: "key.pem" });
  assert.deepEqual(pool.listen[1], { transport: "unix", path: "/run/memrelay.sock", mode: 0o660 });
});

Deno.test("bad hardening flags are refused with what to give instead", () => {
  refuses(["--tls-cert", "cert.pem"], "TLS needs both --tls-cert FILE and --tls-key FILE");
  refuses(["--unix-mode", "0700"], "--unix-mode sets the mode of the -f socket: give -f PATH too");
  refuses(
    ["-f", "/tmp/s", "--unix-mode", "rwx"],
    '--unix-mode takes an octal mode such as 0700 or 0660, not "rwx"',
  );
  refuses(
    ["--max-client-buffer", "1000"],
    "--max-client-buffer must be at least 65536 bytes, not 1000",
  );
  refuses(["--idle-timeout", "1.5"], '--idle-timeout takes whole seconds (0 for never), not "1.5"');
  refuses(["--max-keys", "0"], '--max-keys takes a whole number of at least 1, not "0"');
});
