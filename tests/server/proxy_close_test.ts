import assert from "node:assert/strict";
import { eventually } from "../helpers/eventually.ts";
import { startMemcached } from "../helpers/memcached.ts";
import { startTestProxy } from "../helpers/proxy.ts";
import { TextClient } from "../helpers/text_client.ts";

Deno.test("a close(0) that comes while a drain is starting ends it at once", async () => {
  const server = await startMemcached();
  const proxy = await startTestProxy(["-t", "10000", "-s", server.address]);
  const client = await TextClient.connect(proxy.port);
  try {
    await server.pause();
    await client.write("get stuck\r\n");
    await eventually(async () => assert.match(await proxyStats(proxy.port), /STAT cmd_get 1\r\n/));
    const started = performance.now();
    // The second call comes before the first has closed its listeners: the drain has not begun.
    const closed = proxy.handle.close({ drainTimeoutMs: 10_000 });
    await proxy.handle.close({ drainTimeoutMs: 0 });
    await closed;
    const took = performance.now() - started;
    assert.ok(took < 2000, `closed ${took.toFixed(0)} ms after close(0)`);
  } finally {
    server.resume();
    client.close();
    await proxy.close();
    await server.stop();
  }
});

/** The proxy's `stats`, read over a connection of their own. */
async function proxyStats(port: number): Promise<string> {
  const watcher = await TextClient.connect(port);
  try {
    return await watcher.stats();
  } finally {
    watcher.close();
  }
}
