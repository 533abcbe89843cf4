import assert from "node:assert/strict";
import { parseCommandLine } from "../../lib/config/magent_flags.ts";
import type { PoolConfig, ProxyConfig } from "../../lib/config/proxy_config.ts";
import { ConfigError } from "../../lib/config/server_address.ts";
import { validateConfig } from "../../lib/config/validate.ts";

function flagsConfig(): ProxyConfig {
  const parsed = parseCommandLine([
    "-p",
    "11000",
    "-s",
    "127.0.0.1:11211",
    "-b",
    "127.0.0.1:11212",
  ]);
  if (parsed.action !== "run") throw new Error("expected a config");
  return parsed.config;
}

function withPool(change: Partial<PoolConfig>): ProxyConfig {
  const config = flagsConfig();
  return { ...config, pools: [{ ...config.pools[0], ...change }] };
}

Deno.test("a configuration from flags passes validation", () => {
  validateConfig(flagsConfig());
});

Deno.test("validation refuses what would break the proxy, naming the pool and the setting", () => {
  const config = flagsConfig();
  const cases: Array<[ProxyConfig, RegExp]> = [
    [{ ...config, pools: [] }, /no pools/],
    [withPool({ servers: [] }), /pool "default": no servers/],
    [withPool({ listen: [] }), /pool "default": no listen address/],
    [withPool({ hash: "fnv9" as PoolConfig["hash"] }), /unknown hash "fnv9"/],
    [withPool({ timeoutMs: 0 }), /timeoutMs 0 is not a whole number of at least 1/],
    [withPool({ backups: [[]] }), /an empty backup pool/],
    [withPool({ hashTag: "{" }), /hash tag "\{" is not two characters/],
    [
      withPool({ servers: [{ host: "127.0.0.1", port: 70000, weight: 1 }] }),
      /server 127\.0\.0\.1:70000: bad port/,
    ],
    [
      { ...config, pools: [config.pools[0], { ...config.pools[0], name: "other" }] },
      /pools "default" and "other" both listen on 127\.0\.0\.1:11000/,
    ],
    [{ ...config, pools: [config.pools[0], config.pools[0]] }, /two pools have this name/],
  ];
  for (const [bad, message] of cases) {
    assert.throws(() => validateConfig(bad), (error: Error) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, message);
      return true;
    });
  }
});

Deno.test("two pools may both listen on port 0, any free port", () => {
  const config = flagsConfig();
  const any = [{ transport: "tcp" as const, hostname: "127.0.0.1", port: 0 }];
  validateConfig({
    ...config,
    pools: [{ ...config.pools[0], listen: any }, { ...config.pools[0], name: "b", listen: any }],
  });
});
