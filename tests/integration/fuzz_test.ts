import assert from "node:assert/strict";
import { resetPeak, withCliCluster } from "../helpers/cli_cluster.ts";
import { fuzz } from "../fuzz/runner.ts";
import { textProtocol } from "../fuzz/text_protocol.ts";
import { metaProtocol } from "../fuzz/meta_protocol.ts";
import { binaryProtocol } from "../fuzz/binary_protocol.ts";
import type { FuzzProtocol } from "../fuzz/protocol.ts";

const NAMES: Array<[FuzzProtocol, string]> = [
  [textProtocol, "random bytes and mutated text commands"],
  [metaProtocol, "mutated meta commands and meta word soups"],
  [binaryProtocol, "random and mutated binary packets"],
];

for (const [protocol, what] of NAMES) {
  Deno.test(`${what} get memcached's replies or a close, and never break the proxy`, async () => {
    const seed = Number(Deno.env.get("MEMRELAY_FUZZ_SEED") ?? 20261124);
    await withCliCluster({ primaries: 2 }, async ({ proxy, memory, client }) => {
      let exited = false;
      proxy.child.status.then(() => exited = true);
      await resetPeak(proxy.child.pid);
      const before = await memory();
      const report = await fuzz(protocol, {
        port: proxy.port,
        seed,
        durationMs: 3000,
        alive: () => !exited,
      });
      const after = await memory();
      console.log(
        `${protocol.name} fuzz seed ${seed}: ${report.cases} cases, ${
          (report.bytes / 1e6).toFixed(1)
        } MB in ` +
          `${(report.elapsedMs / 1000).toFixed(1)} s (${
            Math.round(report.cases / report.elapsedMs * 60_000)
          }/min); proxy RSS ${before.rss.toFixed(0)} MiB, peak ${after.peak.toFixed(0)} MiB`,
      );
      assert.deepEqual(report.failures, [], "replay a case with MEMRELAY_FUZZ_SEED=<seed>");
      assert.ok(report.cases >= 20, `only ${report.cases} cases ran`);
      // Every case's session has ended: only this one is open.
      const c = await client();
      assert.match(await c.stats(), /STAT curr_connections 1\r\n/);
    });
  });
}
