import assert from "node:assert/strict";
import { withCliCluster } from "../helpers/cli_cluster.ts";
import { SeededRandom } from "../helpers/random.ts";
import { ReplyKind } from "../../lib/protocol/text/response_parser.ts";

const KEYS = 200;
const value = (i: number) => `value-${i}-${"v".repeat(i % 23)}`;

/** The reply memcached gives a get of `keys`, where keys `j:0`…`j:199` hold their values. */
function expectedReply(keys: string[]): string {
  let reply = "";
  for (const key of keys) {
    const i = Number(key.slice(2));
    if (i < KEYS) reply += `VALUE ${key} 0 ${value(i).length}\r\n${value(i)}\r\n`;
  }
  return reply + "END\r\n";
}

Deno.test("gets from many clients at once, joined into one line per server, each answer only their own keys", async () => {
  await withCliCluster({ primaries: 2 }, async ({ client }) => {
    const loader = await client();
    for (let i = 0; i < KEYS; i++) assert.equal(await loader.set(`j:${i}`, value(i)), "STORED\r\n");
    const clients = await Promise.all(Array.from({ length: 16 }, () => client()));
    await Promise.all(clients.map(async (c, n) => {
      const random = new SeededRandom(n + 1);
      for (let batch = 0; batch < 40; batch++) {
        // Keys 200 and up are misses; repeats are allowed.
        const gets = Array.from(
          { length: 8 },
          () => Array.from({ length: 1 + random.int(12) }, () => `j:${random.int(KEYS + 40)}`),
        );
        await c.write(gets.map((keys) => `get ${keys.join(" ")}\r\n`).join(""));
        for (const keys of gets) {
          assert.equal(await c.readReply(ReplyKind.Retrieval), expectedReply(keys));
        }
      }
    }));
  });
});
