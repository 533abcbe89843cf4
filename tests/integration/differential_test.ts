import assert from "node:assert/strict";
import { withCluster } from "../helpers/cluster.ts";
import { startMemcached } from "../helpers/memcached.ts";
import { SeededRandom } from "../helpers/random.ts";
import { randomTextCommands } from "../helpers/random_text_commands.ts";
import { exchange } from "../helpers/exchange.ts";

/**
 * Makes two servers' replies comparable. It replaces cas uniques, since each server numbers its
 * own. It also drops the spaces memcached pads a decremented number with: memcached pads when it
 * rewrites the item in place, and writes a fresh unpadded item when a pipelined reply still
 * holds the old one, so the padding depends on timing.
 */
function normalized(replies: string): string {
  let out = "";
  let pos = 0;
  while (pos < replies.length) {
    const lf = replies.indexOf("\n", pos);
    const text = replies.slice(pos, lf + 1);
    const value = text.match(/^VALUE (\S+) (\d+) (\d+)( \d+)?\r\n$/);
    if (value === null) {
      out += text;
      pos = lf + 1;
      continue;
    }
    const [, key, flags, bytes, cas] = value;
    let data = replies.slice(lf + 1, lf + 1 + Number(bytes));
    if (/^\d+ +$/.test(data)) data = data.trimEnd();
    out += `VALUE ${key} ${flags} ${data.length}${cas ? " <cas>" : ""}\r\n${data}\r\n`;
    pos = lf + 1 + Number(bytes) + 2;
  }
  return out;
}

Deno.test("a random pipelined stream gets the same replies from memcached and through the proxy", async () => {
  const reference = await startMemcached();
  try {
    await withCluster({ primaries: 2, backups: 1 }, async ({ proxy }) => {
      for (let round = 0; round < 4; round++) {
        const seed = (Number(Deno.env.get("MEMRELAY_DIFF_SEED") ?? Date.now()) + round * 7919) >>>
          0;
        const chunks = randomTextCommands(new SeededRandom(seed), 1500).flat();
        const marker = `end-${seed}-${round}`;
        const [direct, proxied] = await Promise.all([
          exchange(reference.port, chunks, marker),
          exchange(proxy.port, chunks, marker),
        ]).catch((error) => {
          throw new Error(`seed ${seed}, round ${round}: ${error.message}`);
        });
        const expected = normalized(direct);
        const actual = normalized(proxied);
        if (actual !== expected) {
          let at = 0;
          while (at < expected.length && expected[at] === actual[at]) at++;
          assert.fail(
            `seed ${seed}, round ${round}: replies differ at byte ${at}:\n` +
              `memcached: ${JSON.stringify(expected.slice(Math.max(0, at - 200), at + 200))}\n` +
              `memrelay:  ${JSON.stringify(actual.slice(Math.max(0, at - 200), at + 200))}`,
          );
        }
      }
    });
  } finally {
    await reference.stop();
  }
});
