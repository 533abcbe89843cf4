import assert from "node:assert/strict";
import { POOL_DEFAULTS, type PoolConfig } from "../../lib/config/proxy_config.ts";
import { exposureWarning, isLoopback } from "../../lib/server/bind.ts";

const pool: PoolConfig = { ...POOL_DEFAULTS, name: "p", listen: [], servers: [], backups: [] };

Deno.test("loopback addresses are told from those other machines can reach", () => {
  for (const host of ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "::ffff:127.0.0.1"]) {
    assert.equal(isLoopback(host), true, host);
  }
  for (const host of ["0.0.0.0", "::", "10.0.0.1", "192.168.1.5", "example.com", "128.0.0.1"]) {
    assert.equal(isLoopback(host), false, host);
  }
});

Deno.test("an address other machines can reach gets a warning without auth, and without TLS", () => {
  assert.equal(exposureWarning("127.0.0.1", 11211, pool), null);
  assert.equal(
    exposureWarning("0.0.0.0", 11211, pool),
    "listening on 0.0.0.0:11211 without authentication: anyone who can reach it can read, " +
      "change and flush every key; give an auth file (--auth-file) or listen on 127.0.0.1",
  );
  const withAuth = { ...pool, authFile: "/etc/memrelay/auth" };
  assert.equal(
    exposureWarning("::", 11211, withAuth),
    "listening on [::]:11211 without TLS: passwords cross the network in clear text; " +
      "give --tls-cert and --tls-key",
  );
  const withTls = { ...withAuth, tls: { certFile: "c.pem", keyFile: "k.pem" } };
  assert.equal(exposureWarning("10.0.0.1", 11211, withTls), null);
});
