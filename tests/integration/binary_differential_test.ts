import assert from "node:assert/strict";
import { BinaryClient, binaryPacket } from "../helpers/binary_client.ts";
import { withCluster } from "../helpers/cluster.ts";
import { startMemcached } from "../helpers/memcached.ts";
import { SeededRandom } from "../helpers/random.ts";
import { randomBinaryCommands } from "../helpers/random_binary_commands.ts";

const END = 0xfffffff0;

/**
 * Sends `packets` and a noop with a marker opaque; returns every response before the noop's,
 * one line each, cas uniques reduced to whether there is one (each server numbers its own), and
 * a counter's trailing spaces dropped: when an incr or decr shortens a number, memcached pads it
 * with spaces in place only if no other request holds the item at that moment (a reply not yet
 * written does), so the padding depends on how the requests were batched, not on the proxy.
 */
async function exchange(port: number, packets: Uint8Array[]): Promise<string[]> {
  const client = await BinaryClient.connect(port);
  try {
    const writing = client.write(...packets, binaryPacket(0x0a, { opaque: END }));
    const out: string[] = [];
    while (true) {
      const r = await client.read();
      if (r === null) throw new Error(`closed after ${out.length} responses`);
      if (r.opaque === END) break;
      const cas = r.cas > 0n ? "cas" : "0";
      out.push(
        `${r.opaque} op${r.opcode} s${r.status} ${cas} x${r.extras} k${JSON.stringify(r.key)} ` +
          JSON.stringify(r.value.replace(/^(\d+) +$/, "$1")),
      );
    }
    await writing;
    return out;
  } finally {
    client.close();
  }
}

Deno.test("random binary request streams get the same responses from memcached and through the proxy", async () => {
  for (let round = 0; round < 3; round++) {
    const reference = await startMemcached();
    try {
      await withCluster({ primaries: 1 }, async ({ proxy }) => {
        const seed = (Number(Deno.env.get("MEMRELAY_DIFF_SEED") ?? Date.now()) + round * 7919) >>>
          0;
        const packets = randomBinaryCommands(new SeededRandom(seed), 1500);
        const [direct, proxied] = await Promise.all([
          exchange(reference.port, packets),
          exchange(proxy.port, packets),
        ]);
        for (let i = 0; i < Math.max(direct.length, proxied.length); i++) {
          assert.equal(proxied[i], direct[i], `seed ${seed}, round ${round}, response ${i}`);
        }
      });
    } finally {
      await reference.stop();
    }
  }
});
