import assert from "node:assert/strict";
import { parseConfigText } from "../../lib/config/yaml_config.ts";
import { silentLogger } from "../../lib/observability/log.ts";
import { startProxy } from "../../lib/server/proxy.ts";
import { eventually } from "../helpers/eventually.ts";
import { freePort } from "../helpers/free_port.ts";
import { startMemcached } from "../helpers/memcached.ts";
import { TextClient } from "../helpers/text_client.ts";

/** The `curr_connections` a memcached server reports, not counting the asking connection. */
async function connectionsOf(port: number): Promise<number> {
  const c = await TextClient.connect(port);
  try {
    const stats = await c.stats();
    return Number(stats.match(/STAT curr_connections (\d+)/)![1]) - 1;
  } finally {
    c.close();
  }
}

Deno.test("with preconnect, the proxy connects to its servers before any client asks", async () => {
  const server = await startMemcached();
  const before = await connectionsOf(server.port);
  const yaml = (preconnect: boolean) =>
    `pool:\n  listen: 127.0.0.1:${freePort()}\n  preconnect: ${preconnect}\n` +
    `  servers:\n   - ${server.address}:1\n`;
  const lazy = await startProxy(parseConfigText(yaml(false), "lazy.yml").config, {
    logger: silentLogger,
  });
  const eager = await startProxy(parseConfigText(yaml(true), "eager.yml").config, {
    logger: silentLogger,
  });
  try {
    await eventually(async () => assert.equal(await connectionsOf(server.port), before + 1));
  } finally {
    await lazy.close();
    await eager.close();
    await server.stop();
  }
});
