import assert from "node:assert/strict";
import { withCluster } from "../helpers/cluster.ts";
import { exchange } from "../helpers/exchange.ts";
import { startMemcached } from "../helpers/memcached.ts";
import { SeededRandom } from "../helpers/random.ts";
import { randomMetaCommands } from "../helpers/random_meta_commands.ts";

/** A key `me` shows in base64 (it does for an item a `b` request made), decoded. */
function decodedKey(key: string): string {
  if (!/^[A-Za-z0-9+/]+=*$/.test(key) || key.length % 4 !== 0) return key;
  const decoded = atob(key);
  return /^m[kc]:\d+$/.test(decoded) ? decoded : key;
}

/**
 * Makes two servers' meta replies comparable: a TTL left (`t`) and `me`'s times may differ by
 * a second, whether an item was fetched (`me`'s `fetch`) depends on memcached's timing, and
 * memcached pads a decremented number with spaces depending on timing too. Whether
 * `k` and `me` return a key in base64 depends on the request that allocated the item, which for a
 * number depends on timing too (memcached changes it in place or makes a new item), so keys
 * are compared decoded.
 */
function normalized(replies: string): string {
  let out = "";
  let pos = 0;
  while (pos < replies.length) {
    const lf = replies.indexOf("\n", pos);
    let text = replies.slice(pos, lf + 1)
      .replace(/ t(\d+)/g, " t<ttl>")
      .replace(/ exp=(-?\d+) la=\d+ (cas=\d+) fetch=\w+/, " exp=<exp> la=<la> $2 fetch=<fetched>")
      .replace(/ k(\S+) b(?=[ \r])/, (_, key) => ` k${atob(key)}`)
      .replace(/^ME (\S+)/, (_, key) => `ME ${decodedKey(key)}`);
    pos = lf + 1;
    const value = text.match(/^VA (\d+)(.*)\r\n$/);
    if (value !== null) {
      let data = replies.slice(pos, pos + Number(value[1]));
      pos += Number(value[1]) + 2;
      let flags = value[2];
      if (/^\d+ *$/.test(data)) {
        data = data.trimEnd();
        flags = flags.replace(/ s\d+/, " s<size>");
      }
      text = `VA ${data.length}${flags}\r\n${data}\r\n`;
    }
    out += text;
  }
  return out;
}

Deno.test("random meta command streams get the same replies from memcached and through the proxy", async () => {
  for (let round = 0; round < 3; round++) {
    const reference = await startMemcached();
    try {
      await withCluster({ primaries: 1 }, async ({ proxy }) => {
        const seed = (Number(Deno.env.get("MEMRELAY_DIFF_SEED") ?? Date.now()) + round * 7919) >>>
          0;
        const chunks = randomMetaCommands(new SeededRandom(seed), 1500).flat();
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
              `memcached: ${JSON.stringify(expected.slice(Math.max(0, at - 300), at + 200))}\n` +
              `memrelay:  ${JSON.stringify(actual.slice(Math.max(0, at - 300), at + 200))}`,
          );
        }
      });
    } finally {
      await reference.stop();
    }
  }
});
