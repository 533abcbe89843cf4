import assert from "node:assert/strict";
import { parseConfigText } from "../../lib/config/yaml_config.ts";
import { silentLogger } from "../../lib/observability/log.ts";
import { startProxy } from "../../lib/server/proxy.ts";
import { freePort } from "../helpers/free_port.ts";
import { startMemcached } from "../helpers/memcached.ts";
import { TextClient } from "../helpers/text_client.ts";

Deno.test("two pools over one server each keep their own connections and timeout", async () => {
  const server = await startMemcached();
  const [fast, slow] = [freePort(), freePort()];
  const yaml =
    `fast:\n  listen: 127.0.0.1:${fast}\n  timeout: 100\n  servers:\n   - ${server.address}:1\n` +
    `slow:\n  listen: 127.0.0.1:${slow}\n  timeout: 5000\n  servers:\n   - ${server.address}:1\n`;
  const proxy = await startProxy(parseConfigText(yaml, "pools.yml").config, {
    logger: silentLogger,
  });
  const clients = await Promise.all([TextClient.connect(fast), TextClient.connect(slow)]);
  try {
    assert.equal(await clients[0].set("k", "v"), "STORED\r\n");
    assert.equal(await clients[1].get("get k"), "VALUE k 0 1\r\nv\r\nEND\r\n");
    await server.pause();
    const slowReply = clients[1].get("get k");
    const started = performance.now();
    assert.match(
      await clients[0].get("get k"),
      /^SERVER_ERROR backend \S+ timed out after \d+ ms\r\n$/,
    );
    assert.ok(performance.now() - started < 1000, "the fast pool gave up after its own timeout");
    server.resume();
    assert.equal(await slowReply, "VALUE k 0 1\r\nv\r\nEND\r\n", "the slow pool waited and got it");
  } finally {
    server.resume();
    for (const c of clients) c.close();
    await proxy.close();
    await server.stop();
  }
});
