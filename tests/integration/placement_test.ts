import assert from "node:assert/strict";
import { buildDistribution } from "../../lib/distribution/build.ts";
import { hashFunction } from "../../lib/hash/hash_functions.ts";
import { magent } from "../../lib/hash/magent.ts";
import { withCluster } from "../helpers/cluster.ts";

const encoder = new TextEncoder();

Deno.test("by default each key lands on the server ketama over fnv1a_64 picks, as twemproxy's", async () => {
  await withCluster({ primaries: 3 }, async ({ client, direct, primaries }) => {
    const ketama = buildDistribution(
      "ketama",
      primaries.map((s) => ({ name: s.address, weight: 1 })),
    );
    const fnv = hashFunction("fnv1a_64");
    const c = await client();
    const servers = await Promise.all(primaries.map(direct));
    for (let i = 0; i < 100; i++) {
      const key = `placed:${i}`;
      await c.set(key, "v");
      const owner = ketama.pick(fnv(encoder.encode(key)));
      for (let s = 0; s < servers.length; s++) {
        const held = (await servers[s].get(`get ${key}`)) !== "END\r\n";
        assert.equal(held, s === owner, `${key} on server ${s}`);
      }
    }
  });
});

Deno.test("--distribution magent places keys as magent does: its hash modulo the server count", async () => {
  await withCluster({ primaries: 3, flags: ["--distribution", "magent"] }, async (cluster) => {
    const c = await cluster.client();
    const servers = await Promise.all(cluster.primaries.map(cluster.direct));
    for (let i = 0; i < 60; i++) {
      const key = `magent:${i}`;
      await c.set(key, "v");
      const owner = magent(encoder.encode(key)) % servers.length;
      for (let s = 0; s < servers.length; s++) {
        const held = (await servers[s].get(`get ${key}`)) !== "END\r\n";
        assert.equal(held, s === owner, `${key} on server ${s}`);
      }
    }
  });
});
