import assert from "node:assert/strict";
import { POOL_DEFAULTS, type PoolConfig } from "../../lib/config/proxy_config.ts";
import { ConfigError } from "../../lib/config/server_address.ts";
import {
  loadConfigFile,
  parseConfigText,
  UNLIMITED_CLIENT_CONNECTIONS,
} from "../../lib/config/yaml_config.ts";
import {
  BETA_AS_MEMCACHED,
  NUTCRACKER_LEAF_YML,
  NUTCRACKER_ROOT_YML,
  NUTCRACKER_YML,
  NUTCRACKER_YML_MEMCACHED,
  OMEGA_README_YML,
} from "./twemproxy_confs.ts";

const FILE = "memrelay.yml";
const LISTEN = "  listen: 127.0.0.1:22121\n";
const SERVERS = "  servers:\n   - 127.0.0.1:11212:1\n";

/** A one-pool file named alpha: `lines` (each indented already) plus listen and servers. */
function alpha(lines = ""): string {
  return `alpha:\n${LISTEN}${lines}${SERVERS}`;
}

function pool(text: string, fileName = FILE): PoolConfig {
  const { config } = parseConfigText(text, fileName);
  assert.equal(config.pools.length, 1);
  return config.pools[0];
}

function warningsOf(text: string, fileName = FILE): string[] {
  return parseConfigText(text, fileName).warnings;
}

function rejects(text: string, message: string, fileName = FILE): void {
  assert.throws(() => parseConfigText(text, fileName), (error) => {
    assert.ok(error instanceof ConfigError, `not a ConfigError: ${error}`);
    assert.equal(error.message, message);
    return true;
  });
}

const ALL_HASHES = "one_at_a_time, md5, crc16, crc32, crc32a, fnv1_64, fnv1a_64, fnv1_32, " +
  "fnv1a_32, hsieh, murmur, jenkins";
const ALL_KEYS = "listen, hash, hash_tag, distribution, timeout, backlog, client_connections, " +
  "redis, redis_auth, redis_db, tcpkeepalive, preconnect, auto_eject_hosts, server_connections, " +
  "server_retry_timeout, server_failure_limit, servers, backups, max_item_size, replay_limit, " +
  "refill_rate, max_keys, max_client_buffer, idle_timeout, auth_file, tls_cert, tls_key";

// ---- twemproxy's own files ----

Deno.test("the memcached pools of twemproxy's conf/nutcracker.yml read as twemproxy reads them", () => {
  const { config, warnings } = parseConfigText(NUTCRACKER_YML_MEMCACHED, "nutcracker.yml");
  assert.equal(config.verbose, false);
  assert.deepEqual(config.pools.map((p) => p.name), ["gamma", "delta", "omega"]);
  const [gamma, delta, omega] = config.pools;
  assert.deepEqual(gamma, {
    ...POOL_DEFAULTS,
    name: "gamma",
    listen: [{ transport: "tcp", hostname: "127.0.0.1", port: 22123 }],
    servers: [
      { host: "127.0.0.1", port: 11212, weight: 1 },
      { host: "127.0.0.1", port: 11213, weight: 1 },
    ],
    backups: [],
    hash: "fnv1a_64",
    hashTag: null,
    distribution: "ketama",
    timeoutMs: 400,
    preconnect: true,
    autoEjectHosts: true,
    serverRetryTimeoutMs: 2000,
    serverFailureLimit: 3,
  });
  assert.equal(delta.timeoutMs, 100);
  assert.equal(delta.serverFailureLimit, 1);
  assert.equal(delta.serverRetryTimeoutMs, 2000);
  assert.equal(delta.autoEjectHosts, true);
  assert.deepEqual(
    delta.servers.map((s) => `${s.host}:${s.port}:${s.weight}`),
    Array.from({ length: 10 }, (_, i) => `127.0.0.1:${11214 + i}:1`),
  );
  assert.deepEqual(omega.listen, [{ transport: "unix", path: "/tmp/gamma" }]);
  assert.equal(omega.hash, "hsieh");
  assert.equal(omega.timeoutMs, POOL_DEFAULTS.timeoutMs);
  assert.deepEqual(omega.servers, [
    { host: "127.0.0.1", port: 11214, weight: 100000 },
    { host: "127.0.0.1", port: 11215, weight: 1 },
  ]);
  assert.deepEqual(warnings, [
    `nutcracker.yml: pool "gamma": key "backlog": ignored: Deno cannot set a listener's ` +
    `backlog, so the system's default applies`,
  ]);
});

Deno.test("the whole conf/nutcracker.yml is refused at its first redis pool", () => {
  rejects(
    NUTCRACKER_YML,
    `nutcracker.yml: pool "alpha": key "redis": true is not supported: memrelay speaks the ` +
      `memcached protocol only; remove this pool or set redis: false`,
    "nutcracker.yml",
  );
});

Deno.test("pool beta of conf/nutcracker.yml, as memcached: named servers and a hash tag", () => {
  const beta = pool(BETA_AS_MEMCACHED);
  assert.equal(beta.hashTag, "{}");
  assert.equal(beta.timeoutMs, 400);
  assert.equal(beta.autoEjectHosts, false);
  assert.deepEqual(
    beta.servers,
    [1, 2, 3, 4].map((i) => ({ host: "127.0.0.1", port: 6379 + i, weight: 1, name: `server${i}` })),
  );
});

Deno.test("conf/nutcracker.root.yml and conf/nutcracker.leaf.yml read", () => {
  const root = pool(NUTCRACKER_ROOT_YML);
  assert.equal(root.name, "root");
  assert.equal(root.preconnect, true);
  assert.deepEqual(root.servers, [{ host: "127.0.0.1", port: 22121, weight: 1 }]);
  const leaf = pool(NUTCRACKER_LEAF_YML);
  assert.deepEqual(leaf.listen, [{ transport: "tcp", hostname: "127.0.0.1", port: 22121 }]);
  assert.equal(leaf.serverFailureLimit, 1);
});

// ---- defaults and values ----

Deno.test("a pool with only listen and servers takes memrelay's defaults", () => {
  const { config, warnings } = parseConfigText(alpha(), FILE);
  assert.deepEqual(config, {
    verbose: false,
    pools: [{
      ...POOL_DEFAULTS,
      name: "alpha",
      listen: [{ transport: "tcp", hostname: "127.0.0.1", port: 22121 }],
      servers: [{ host: "127.0.0.1", port: 11212, weight: 1 }],
      backups: [],
    }],
  });
  assert.deepEqual(warnings, []);
  // Where twemproxy's defaults differ, on purpose:
  assert.equal(config.pools[0].timeoutMs, 1000); // twemproxy: wait forever
  assert.equal(config.pools[0].serverRetryTimeoutMs, 1000); // twemproxy: 30000
  assert.equal(config.pools[0].maxClientConnections, 4096); // twemproxy: no limit
  // Where they agree:
  assert.equal(config.pools[0].hash, "fnv1a_64");
  assert.equal(config.pools[0].distribution, "ketama");
  assert.equal(config.pools[0].serverConnections, 1);
  assert.equal(config.pools[0].serverFailureLimit, 2);
  assert.equal(config.pools[0].preconnect, false);
  assert.equal(config.pools[0].autoEjectHosts, false);
});

Deno.test("every setting a pool can state lands in its field", () => {
  const p = pool(alpha(
    `  hash: murmur
  hash_tag: "$$"
  distribution: modula
  timeout: 250
  client_connections: 100
  redis: false
  preconnect: true
  auto_eject_hosts: true
  server_connections: 4
  server_retry_timeout: 500
  server_failure_limit: 5
  max_item_size: 2097152
  backups:
   - 127.0.0.1:12000:1
`,
  ));
  assert.deepEqual(p, {
    ...POOL_DEFAULTS,
    name: "alpha",
    listen: [{ transport: "tcp", hostname: "127.0.0.1", port: 22121 }],
    servers: [{ host: "127.0.0.1", port: 11212, weight: 1 }],
    backups: [[{ host: "127.0.0.1", port: 12000, weight: 1 }]],
    hash: "murmur",
    hashTag: "$$",
    distribution: "modula",
    timeoutMs: 250,
    maxClientConnections: 100,
    preconnect: true,
    autoEjectHosts: true,
    serverConnections: 4,
    serverRetryTimeoutMs: 500,
    serverFailureLimit: 5,
    maxItemSize: 2097152,
  });
});

Deno.test("every hash name and distribution name is accepted, magent included", () => {
  for (
    const hash of ALL_HASHES.split(", ")
  ) assert.equal(pool(alpha(`  hash: ${hash}\n`)).hash, hash);
  for (const distribution of ["ketama", "modula", "random", "magent"]) {
    assert.equal(pool(alpha(`  distribution: ${distribution}\n`)).distribution, distribution);
  }
});

Deno.test("numbers may be written as strings of digits, as twemproxy reads every value as text", () => {
  assert.equal(pool(alpha(`  timeout: "300"\n`)).timeoutMs, 300);
});

Deno.test("timeout 0, twemproxy's wait forever, gives memrelay's default and a warning", () => {
  const text = alpha("  timeout: 0\n");
  assert.equal(pool(text).timeoutMs, 1000);
  assert.deepEqual(warningsOf(text), [
    `memrelay.yml: pool "alpha": key "timeout": 0 (twemproxy's "wait forever") is not ` +
    `supported: using 1000 ms`,
  ]);
});

Deno.test("client_connections 0, twemproxy's no limit, is no limit", () => {
  assert.equal(
    pool(alpha("  client_connections: 0\n")).maxClientConnections,
    UNLIMITED_CLIENT_CONNECTIONS,
  );
});

Deno.test("keys twemproxy has but memrelay cannot apply are accepted with a warning each", () => {
  assert.deepEqual(
    warningsOf(alpha("  backlog: 1024\n  redis_db: 0\n  tcpkeepalive: true\n")),
    [
      `memrelay.yml: pool "alpha": key "backlog": ignored: Deno cannot set a listener's backlog, ` +
      `so the system's default applies`,
      `memrelay.yml: pool "alpha": key "redis_db": ignored: memcached has no numbered databases`,
      `memrelay.yml: pool "alpha": key "tcpkeepalive": ignored: memrelay does not set TCP ` +
      `keepalive yet`,
    ],
  );
  assert.deepEqual(warningsOf(alpha("  tcpkeepalive: false\n")), []);
});

Deno.test("hash and hash_tag with distribution magent are ignored with a warning", () => {
  assert.deepEqual(warningsOf(alpha(`  distribution: magent\n  hash: md5\n  hash_tag: "{}"\n`)), [
    `memrelay.yml: pool "alpha": key "hash": ignored: distribution magent hashes whole keys ` +
    `with magent's own hash`,
    `memrelay.yml: pool "alpha": key "hash_tag": ignored: distribution magent hashes whole keys ` +
    `with magent's own hash`,
  ]);
});

Deno.test("several pools keep file order, each with its own settings", () => {
  const { config } = parseConfigText(
    `b:\n  listen: 127.0.0.1:1\n  hash: md5\n${SERVERS}a:\n  listen: 127.0.0.1:2\n${SERVERS}`,
    FILE,
  );
  assert.deepEqual(config.pools.map((p) => [p.name, p.hash]), [["b", "md5"], ["a", "fnv1a_64"]]);
});

Deno.test("servers come in twemproxy's order: by ketama name, shorter first, then bytewise", () => {
  // twemproxy sorts a pool's servers by name when it checks them for duplicates, and modula
  // numbers its slots in that order.
  const p = pool(
    `alpha:\n${LISTEN}  backups:\n   - 127.0.0.1:9:1\n   - 127.0.0.1:10:1\n  servers:\n` +
      [
        "127.0.0.1:11300:1",
        "127.0.0.1:11211:1",
        "10.0.0.1:11300:1",
        "127.0.0.1:20:1 zz",
        "127.0.0.1:21:1 ab",
        "127.0.0.1:22:1 b",
        "127.0.0.1:23:1 é",
        "127.0.0.1:24:1 z",
      ].map((s) => `   - ${s}\n`).join(""),
  );
  assert.deepEqual(
    p.servers.map((s) => `${s.host}:${s.port}`),
    [
      "127.0.0.1:22", // b
      "127.0.0.1:24", // z
      "127.0.0.1:21", // ab
      "127.0.0.1:20", // zz
      "127.0.0.1:23", // é: two bytes, after z
      "127.0.0.1:11211", // 127.0.0.1: port 11211 is left out of the name
      "10.0.0.1:11300",
      "127.0.0.1:11300",
    ],
  );
  assert.deepEqual(p.backups[0].map((s) => s.port), [9, 10]);
});

// ---- listen ----

Deno.test("listen on a unix socket: a path, with twemproxy's octal mode applied", () => {
  const omega = pool(OMEGA_README_YML);
  assert.deepEqual(omega.listen, [{ transport: "unix", path: "/tmp/gamma", mode: 0o666 }]);
  assert.deepEqual(warningsOf(OMEGA_README_YML), []);
  assert.deepEqual(pool(`a:\n  listen: /run/memrelay.sock\n${SERVERS}`).listen, [
    { transport: "unix", path: "/run/memrelay.sock" },
  ]);
});

Deno.test("listen on IPv6, with or without brackets, and on a host name", () => {
  for (const listen of ["'[::1]:22121'", "::1:22121"]) {
    assert.deepEqual(pool(`a:\n  listen: ${listen}\n${SERVERS}`).listen, [
      { transport: "tcp", hostname: "::1", port: 22121 },
    ]);
  }
  assert.deepEqual(pool(`a:\n  listen: localhost:22121\n${SERVERS}`).listen, [
    { transport: "tcp", hostname: "localhost", port: 22121 },
  ]);
});

// ---- JSON ----

Deno.test("a .json file is read as JSON", () => {
  const json = JSON.stringify({
    gamma: {
      listen: "127.0.0.1:22123",
      hash: "md5",
      timeout: 400,
      preconnect: true,
      servers: ["127.0.0.1:11212:1", "127.0.0.1:11213:2 b"],
      backups: [["127.0.0.1:12000:1"], ["127.0.0.1:12001:1"]],
    },
  });
  const p = pool(json, "memrelay.json");
  assert.equal(p.name, "gamma");
  assert.equal(p.hash, "md5");
  assert.equal(p.timeoutMs, 400);
  assert.equal(p.preconnect, true);
  assert.deepEqual(p.servers, [
    { host: "127.0.0.1", port: 11213, weight: 2, name: "b" },
    { host: "127.0.0.1", port: 11212, weight: 1 },
  ]);
  assert.equal(p.backups.length, 2);
  // YAML takes JSON too, whatever the file is called.
  assert.deepEqual(pool(json, "memrelay.yml"), p);
});

Deno.test("a .json file must be JSON, without duplicate keys", () => {
  assert.throws(
    () => parseConfigText(NUTCRACKER_ROOT_YML, "memrelay.json"),
    (error) =>
      error instanceof ConfigError && error.message.startsWith("memrelay.json: not valid JSON: "),
  );
  rejects(
    `{"a": {"listen": "127.0.0.1:1", "servers": ["127.0.0.1:2:1"]},\n` +
      ` "a": {"listen": "127.0.0.1:3", "servers": ["127.0.0.1:4:1"]}}`,
    `memrelay.json: not valid JSON for memrelay: key "a" appears twice in one object`,
    "memrelay.json",
  );
  rejects(
    `{"a": {"listen": "127.0.0.1:1", "servers": ["x\\"y", "{\\"listen\\":1}"], "listen": "z"}}`,
    `memrelay.json: not valid JSON for memrelay: key "listen" appears twice in one object`,
    "memrelay.json",
  );
  // The same key in two different objects is fine.
  assert.equal(
    parseConfigText(
      `{"a": {"listen": "127.0.0.1:1", "servers": ["127.0.0.1:2:1"]},` +
        ` "b": {"listen": "127.0.0.1:3", "servers": ["127.0.0.1:4:1"]}}`,
      "memrelay.json",
    ).config.pools.length,
    2,
  );
});

// ---- backups ----

Deno.test("backups: a list of servers is one backup pool", () => {
  assert.deepEqual(
    pool(alpha("  backups:\n   - 127.0.0.1:12000:1\n   - 127.0.0.1:12001:2 b2\n")).backups,
    [[
      { host: "127.0.0.1", port: 12001, weight: 2, name: "b2" },
      { host: "127.0.0.1", port: 12000, weight: 1 },
    ]],
  );
});

Deno.test("backups: a list of lists is several backup pools", () => {
  assert.deepEqual(
    pool(alpha(
      "  backups:\n   - - 127.0.0.1:12000:1\n     - 127.0.0.1:12001:1\n   - - 127.0.0.1:13000:1\n",
    )).backups,
    [
      [{ host: "127.0.0.1", port: 12000, weight: 1 }, {
        host: "127.0.0.1",
        port: 12001,
        weight: 1,
      }],
      [{ host: "127.0.0.1", port: 13000, weight: 1 }],
    ],
  );
  assert.deepEqual(pool(alpha("  backups: []\n")).backups, []);
});

Deno.test("backups: wrong shapes and bad servers are refused", () => {
  rejects(
    alpha("  backups:\n   - 127.0.0.1:12000:1\n   - - 127.0.0.1:13000:1\n"),
    `memrelay.yml: pool "alpha": key "backups": mixes servers and lists: give a list of servers ` +
      `(one backup pool) or a list of lists (several backup pools)`,
  );
  rejects(
    alpha("  backups: 127.0.0.1:12000:1\n"),
    `memrelay.yml: pool "alpha": key "backups": "127.0.0.1:12000:1" is not a list of servers ` +
      `(one backup pool) or a list of such lists (several backup pools)`,
  );
  rejects(
    alpha("  backups:\n   - - 127.0.0.1:12000:1\n   - - 127.0.0.1\n"),
    `memrelay.yml: pool "alpha": key "backups": backup pool 2: bad server "127.0.0.1": ` +
      `expected host:port`,
  );
  rejects(
    alpha("  backups:\n   - []\n"),
    `memrelay.yml: pool "alpha": key "backups": backup pool 1: a list is not a list of servers, ` +
      `each "host:port:weight [name]"`,
  );
});

// ---- errors ----

Deno.test("an unknown key is refused, with the keys a pool may have", () => {
  rejects(
    alpha("  hashh: md5\n"),
    `memrelay.yml: pool "alpha": key "hashh": unknown; a pool's keys are ${ALL_KEYS}`,
  );
});

Deno.test("redis: true and redis_auth are refused; redis: false is fine", () => {
  rejects(
    alpha("  redis: true\n"),
    `memrelay.yml: pool "alpha": key "redis": true is not supported: memrelay speaks the ` +
      `memcached protocol only; remove this pool or set redis: false`,
  );
  rejects(
    alpha("  redis_auth: secret\n"),
    `memrelay.yml: pool "alpha": key "redis_auth": is only valid for a redis pool, and memrelay ` +
      `speaks memcached only`,
  );
  assert.equal(pool(alpha("  redis: false\n")).name, "alpha");
});

Deno.test("a bad hash or distribution is refused with the names allowed", () => {
  rejects(
    alpha("  hash: fnv2\n"),
    `memrelay.yml: pool "alpha": key "hash": "fnv2" is not one of ${ALL_HASHES}`,
  );
  rejects(
    alpha("  hash: FNV1A_64\n"),
    `memrelay.yml: pool "alpha": key "hash": "FNV1A_64" is not one of ${ALL_HASHES}`,
  );
  rejects(
    alpha("  distribution: consistent\n"),
    `memrelay.yml: pool "alpha": key "distribution": "consistent" is not one of ketama, modula, ` +
      `random, magent`,
  );
});

Deno.test("a bad server is refused with what was wrong", () => {
  const bad = (server: string, reason: string) =>
    rejects(
      `alpha:\n${LISTEN}  servers:\n   - ${server}\n`,
      `memrelay.yml: pool "alpha": key "servers": ${reason}`,
    );
  bad("127.0.0.1", `bad server "127.0.0.1": expected host:port`);
  bad(
    "127.0.0.1:99999:1",
    `bad port "99999" in server "127.0.0.1:99999:1": expected a number ` +
      `from 1 to 65535`,
  );
  bad(
    "127.0.0.1:11212:0",
    `bad server "127.0.0.1:11212:0": weight must be a whole number of ` +
      `at least 1`,
  );
  bad(
    "127.0.0.1:11212:1 a b",
    `bad server "127.0.0.1:11212:1 a b": expected host:port[:weight] ` +
      `[name]`,
  );
  bad(
    "/tmp/memcached.sock:1",
    `"/tmp/memcached.sock:1": servers on unix sockets are not supported; give host:port:weight`,
  );
  bad("11212", `11212 is not a server: expected "host:port:weight [name]"`);
});

Deno.test("two servers with the same ketama name are refused, as twemproxy refuses them", () => {
  rejects(
    `alpha:\n${LISTEN}  servers:\n   - 127.0.0.1:11212:1\n   - 127.0.0.1:11212:2\n`,
    `memrelay.yml: pool "alpha": key "servers": "127.0.0.1:11212:1" and "127.0.0.1:11212:2" ` +
      `have the same name "127.0.0.1:11212": ketama needs unique names; add a name after the ` +
      `address, such as "127.0.0.1:11212:2 cache-2"`,
  );
  rejects(
    `alpha:\n${LISTEN}  servers:\n   - 127.0.0.1:11212:1 a\n   - 127.0.0.1:11213:1 a\n`,
    `memrelay.yml: pool "alpha": key "servers": "127.0.0.1:11212:1 a" and "127.0.0.1:11213:1 a" ` +
      `have the same name "a": ketama needs unique names; add a name after the address, such ` +
      `as "127.0.0.1:11213:1 a cache-2"`,
  );
  // The same address under two names is allowed, as in twemproxy.
  assert.equal(
    pool(`alpha:\n${LISTEN}  servers:\n   - 127.0.0.1:11212:1 a\n   - 127.0.0.1:11212:1 b\n`)
      .servers.length,
    2,
  );
});

Deno.test("a bad hash_tag is refused: it must be two characters", () => {
  const reason = (shown: string) =>
    `memrelay.yml: pool "alpha": key "hash_tag": ${shown} is not two characters, such as "{}" ` +
    `(quote it in YAML)`;
  rejects(alpha(`  hash_tag: "{"\n`), reason(`"{"`));
  rejects(alpha(`  hash_tag: "{}}"\n`), reason(`"{}}"`));
  rejects(alpha(`  hash_tag: ""\n`), reason(`""`));
  rejects(alpha(`  hash_tag: {}\n`), reason("a map"));
});

Deno.test("missing or empty servers are refused", () => {
  rejects(
    `alpha:\n${LISTEN}`,
    `memrelay.yml: pool "alpha": key "servers": missing; give a list of servers, each ` +
      `"host:port:weight [name]"`,
  );
  rejects(
    `alpha:\n${LISTEN}  servers: []\n`,
    `memrelay.yml: pool "alpha": key "servers": a list is not a list of servers, each ` +
      `"host:port:weight [name]"`,
  );
  rejects(
    `alpha:\n${LISTEN}  servers:\n`,
    `memrelay.yml: pool "alpha": key "servers": an empty value is not a list of servers, each ` +
      `"host:port:weight [name]"`,
  );
});

Deno.test("a missing or bad listen is refused", () => {
  rejects(
    `alpha:\n${SERVERS}`,
    `memrelay.yml: pool "alpha": key "listen": missing; give host:port, or the absolute path of ` +
      `a unix socket`,
  );
  const bad = (listen: string, reason: string) =>
    rejects(
      `alpha:\n  listen: ${listen}\n${SERVERS}`,
      `memrelay.yml: pool "alpha": key "listen": ${reason}`,
    );
  bad("127.0.0.1", `"127.0.0.1" is not host:port or the absolute path of a unix socket`);
  bad("127.0.0.1:0", `bad port "0" in "127.0.0.1:0": expected a number from 1 to 65535`);
  bad("127.0.0.1:x", `bad port "x" in "127.0.0.1:x": expected a number from 1 to 65535`);
  bad("22121", `22121 is not host:port or the absolute path of a unix socket`);
  bad(
    "/tmp/x.sock 0999",
    `bad mode "0999" for unix socket "/tmp/x.sock": expected octal from 0 to 0777`,
  );
  bad(
    "/tmp/x.sock 0666 x",
    `bad unix socket "/tmp/x.sock 0666 x": expected /path [mode], such as ` +
      `0666`,
  );
});

Deno.test("two pools on one listen address are refused", () => {
  rejects(
    `a:\n${LISTEN}${SERVERS}b:\n${LISTEN}${SERVERS}`,
    `memrelay.yml: pools "a" and "b" both listen on "127.0.0.1:22121": give each pool its own ` +
      `listen address`,
  );
});

Deno.test("bad numbers and booleans are refused with the range allowed", () => {
  rejects(
    alpha("  server_connections: 0\n"),
    `memrelay.yml: pool "alpha": key "server_connections": 0 is not a whole number from 1 to ` +
      `2147483647`,
  );
  rejects(
    alpha("  timeout: abc\n"),
    `memrelay.yml: pool "alpha": key "timeout": "abc" is not a whole number of milliseconds ` +
      `from 0 to 2147483647`,
  );
  rejects(
    alpha("  server_retry_timeout: 0\n"),
    `memrelay.yml: pool "alpha": key "server_retry_timeout": 0 is not a whole number of ` +
      `milliseconds from 1 to 2147483647`,
  );
  rejects(
    alpha("  server_failure_limit: -1\n"),
    `memrelay.yml: pool "alpha": key "server_failure_limit": -1 is not a whole number from 1 to ` +
      `2147483647`,
  );
  rejects(
    alpha("  max_item_size: 1.5\n"),
    `memrelay.yml: pool "alpha": key "max_item_size": 1.5 is not a whole number of bytes from 1 ` +
      `to 2147483647`,
  );
  rejects(
    alpha("  client_connections: 3000000000\n"),
    `memrelay.yml: pool "alpha": key "client_connections": 3000000000 is not a whole number ` +
      `from 0 to 2147483647`,
  );
  rejects(
    alpha("  preconnect: yes\n"),
    `memrelay.yml: pool "alpha": key "preconnect": "yes" is not true or false`,
  );
  rejects(
    alpha("  auto_eject_hosts: 1\n"),
    `memrelay.yml: pool "alpha": key "auto_eject_hosts": 1 is not true or false`,
  );
});

Deno.test("a file that is not a map of pools is refused", () => {
  const noPools = (fileName: string) =>
    `${fileName}: no pools: expected a map of pool names to pool settings, such as "alpha:" ` +
    `followed by indented "listen:" and "servers:"`;
  rejects("", noPools(FILE));
  rejects("# nothing\n", noPools(FILE));
  rejects("- a\n- b\n", noPools(FILE));
  rejects("{}", noPools("memrelay.json"), "memrelay.json");
  rejects(
    "alpha: 127.0.0.1:22121\n",
    `memrelay.yml: pool "alpha": expected a map of settings such as "listen:" and "servers:", ` +
      `not "127.0.0.1:22121"`,
  );
  rejects(
    `"":\n${LISTEN}${SERVERS}`,
    `memrelay.yml: a pool has an empty name: give each pool a name`,
  );
});

Deno.test("bad YAML is refused with where it went wrong", () => {
  rejects(
    `alpha:\n${LISTEN}${SERVERS}alpha:\n${LISTEN}${SERVERS}`,
    `memrelay.yml: not valid YAML: Map keys must be unique at line 5, column 1`,
  );
  rejects(
    "alpha:\n  listen: [1, 2\n",
    `memrelay.yml: not valid YAML: Flow sequence in block collection must be sufficiently ` +
      `indented and end with a ] at line 3, column 1`,
  );
  rejects(
    `a:\n${LISTEN}${SERVERS}---\nb:\n${LISTEN}${SERVERS}`,
    `memrelay.yml: not valid YAML: Source contains multiple documents; please use ` +
      `YAML.parseAllDocuments() at line 5, column 1`,
  );
});

// ---- files ----

Deno.test("loadConfigFile reads a file, and names a missing one", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/nutcracker.yml`;
    await Deno.writeTextFile(path, NUTCRACKER_YML_MEMCACHED);
    const { config, warnings } = await loadConfigFile(path);
    assert.equal(config.pools.length, 3);
    assert.ok(warnings[0].startsWith(`${path}: pool "gamma": key "backlog": `));
    await Deno.writeTextFile(
      `${dir}/c.json`,
      JSON.stringify({ j: { listen: "x:1", servers: [] } }),
    );
    await assert.rejects(loadConfigFile(`${dir}/c.json`), {
      name: "ConfigError",
      message: `${dir}/c.json: pool "j": key "servers": a list is not a list of servers, each ` +
        `"host:port:weight [name]"`,
    });
    await assert.rejects(loadConfigFile(`${dir}/absent.yml`), {
      name: "ConfigError",
      message: `${dir}/absent.yml: cannot read the configuration file: no such file`,
    });
    await assert.rejects(loadConfigFile(dir), {
      name: "ConfigError",
      message: `${dir}: cannot read the configuration file: it is a directory`,
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ---- against twemproxy itself ----

/** True when `nutcracker -t` accepts `text`. */
async function nutcrackerAccepts(dir: string, text: string): Promise<boolean> {
  const path = `${dir}/nutcracker.yml`;
  await Deno.writeTextFile(path, text);
  const { success } = await new Deno.Command("nutcracker", {
    args: ["-t", "-c", path],
    stdout: "null",
    stderr: "null",
  }).output();
  return success;
}

Deno.test({
  name: "nutcracker -t agrees: it accepts the files memrelay reads and refuses what both refuse",
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      for (
        const text of [
          NUTCRACKER_YML_MEMCACHED,
          BETA_AS_MEMCACHED,
          OMEGA_README_YML,
          NUTCRACKER_ROOT_YML,
          NUTCRACKER_LEAF_YML,
          alpha("  tcpkeepalive: true\n  redis_db: 0\n  client_connections: 0\n  timeout: 0\n"),
        ]
      ) {
        assert.ok(await nutcrackerAccepts(dir, text), text);
        parseConfigText(text, FILE);
      }
      for (
        const text of [
          alpha("  hashh: md5\n"),
          alpha("  hash: fnv2\n"),
          alpha("  distribution: consistent\n"),
          alpha(`  hash_tag: "{"\n`),
          alpha("  preconnect: yes\n"),
          alpha("  server_connections: 0\n"),
          alpha("  redis_auth: secret\n"),
          `alpha:\n${SERVERS}`,
          `alpha:\n${LISTEN}`,
          `alpha:\n  listen: 127.0.0.1\n${SERVERS}`,
          `alpha:\n${LISTEN}  servers:\n   - 127.0.0.1:11212:0\n`,
          `alpha:\n${LISTEN}  servers:\n   - 127.0.0.1:11212:1\n   - 127.0.0.1:11212:2\n`,
          `a:\n${LISTEN}${SERVERS}b:\n${LISTEN}${SERVERS}`,
          `a:\n${LISTEN}${SERVERS}a:\n${LISTEN}${SERVERS}`,
        ]
      ) {
        assert.equal(await nutcrackerAccepts(dir, text), false, text);
        assert.throws(() => parseConfigText(text, FILE), ConfigError, text);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("memrelay's hardening keys set the client limits, auth and TLS of a pool", () => {
  const p = pool(alpha(
    "  max_keys: 500\n  max_client_buffer: 1048576\n  idle_timeout: 30\n" +
      "  auth_file: /etc/memrelay/auth\n  tls_cert: /etc/memrelay/cert.pem\n" +
      "  tls_key: /etc/memrelay/key.pem\n",
  ));
  assert.equal(p.maxKeys, 500);
  assert.equal(p.maxClientBuffer, 1048576);
  assert.equal(p.idleTimeout, 30);
  assert.equal(p.authFile, "/etc/memrelay/auth");
  assert.deepEqual(p.tls, { certFile: "/etc/memrelay/cert.pem", keyFile: "/etc/memrelay/key.pem" });
  rejects(
    alpha("  tls_cert: /c.pem\n"),
    `memrelay.yml: pool "alpha": key "tls_key": TLS needs both tls_cert and tls_key`,
  );
  rejects(
    alpha("  max_client_buffer: 1000\n"),
    `memrelay.yml: pool "alpha": key "max_client_buffer": 1000 is not a whole number of bytes ` +
      `from 65536 to 2147483647`,
  );
});
