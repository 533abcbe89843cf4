/**
 * The acceptance test of reading twemproxy's YAML: the same file, given to twemproxy
 * (`nutcracker`) and to memrelay, puts every key on the same memcached server.
 *
 * One YAML text holds one pool per target (hash, distribution, weights, hash tag, server names).
 * nutcracker runs on it; memrelay runs in this process on the same text with only the `listen`
 * lines changed. Each target's keys are written through nutcracker, then through memrelay with
 * another value, and each memcached is asked which keys it holds with which value.
 */

import assert from "node:assert/strict";
import { parseConfigText } from "../../lib/config/yaml_config.ts";
import type { DistributionName } from "../../lib/distribution/build.ts";
import { HASH_NAMES, type HashName } from "../../lib/hash/hash_functions.ts";
import { silentLogger } from "../../lib/observability/log.ts";
import { ReplyKind } from "../../lib/protocol/text/response_parser.ts";
import { type ProxyHandle, startProxy } from "../../lib/server/proxy.ts";
import { freePort } from "../helpers/free_port.ts";
import { type ServerProcess, spawnServer } from "../helpers/server_process.ts";
import { type MemcachedServer, startMemcacheds } from "../helpers/memcached.ts";
import { SeededRandom } from "../helpers/random.ts";
import { TextClient } from "../helpers/text_client.ts";

const encoder = new TextEncoder();
const KEYS_PER_TARGET = 600;

interface Target {
  pool: string;
  hash: HashName;
  distribution: DistributionName;
  weights: number[];
  hashTag?: string;
  names?: string[];
  /**
   * The keys are expected on one server, or two. twemproxy's `crc32` is libmemcached's 15-bit
   * `(crc >> 16) & 0x7fff`, so every key hashes below 32768: ketama puts them all on the server
   * of the first point of the continuum, unless a point falls below 32768 too (rarely), which
   * splits them. memrelay must do the same.
   */
  oneServer?: boolean;
}

const TARGETS: Target[] = [
  ...HASH_NAMES.map((hash): Target => ({
    pool: `ketama_${hash}`,
    hash,
    distribution: "ketama",
    weights: [1, 2, 3],
    oneServer: hash === "crc32",
  })),
  ...(["one_at_a_time", "md5", "crc32a", "fnv1_64", "hsieh", "murmur"] as const).map(
    (hash): Target => ({
      pool: `modula_${hash}`,
      hash,
      distribution: "modula",
      weights: [1, 2, 3],
    }),
  ),
  {
    pool: "ketama_tag",
    hash: "fnv1a_64",
    distribution: "ketama",
    weights: [3, 1, 2],
    hashTag: "{}",
  },
  { pool: "modula_tag", hash: "crc32a", distribution: "modula", weights: [1, 2, 3], hashTag: "$$" },
  { pool: "ketama_equal", hash: "murmur", distribution: "ketama", weights: [1, 1, 1] },
  {
    pool: "ketama_named",
    hash: "md5",
    distribution: "ketama",
    weights: [2, 1, 3],
    names: ["cache-c", "cache-a", "cache-b"],
  },
  {
    pool: "modula_named",
    hash: "fnv1a_32",
    distribution: "modula",
    weights: [1, 2, 3],
    names: ["b", "cache-1", "a"],
  },
];

/**
 * The YAML of every target's pool, listening on `ports[i]`. `servers` are listed in the reverse
 * of twemproxy's order (by name, shorter first), so that memrelay must reorder them as twemproxy
 * does for modula to agree.
 */
function yamlFor(servers: MemcachedServer[], ports: number[]): string {
  return TARGETS.map((t, i) =>
    [
      `${t.pool}:`,
      `  listen: 127.0.0.1:${ports[i]}`,
      `  hash: ${t.hash}`,
      `  distribution: ${t.distribution}`,
      ...(t.hashTag === undefined ? [] : [`  hash_tag: "${t.hashTag}"`]),
      `  timeout: 2000`,
      `  auto_eject_hosts: false`,
      `  server_retry_timeout: 2000`,
      `  server_failure_limit: 2`,
      `  servers:`,
      ...unsorted(servers).map((s, j) =>
        `   - ${s.address}:${t.weights[j]}${t.names === undefined ? "" : " " + t.names[j]}`
      ),
      "",
    ].join("\n")
  ).join("\n");
}

/** `servers` by their addresses' length, then bytes, reversed: never in twemproxy's order. */
function unsorted(servers: MemcachedServer[]): MemcachedServer[] {
  return [...servers].sort((a, b) =>
    b.address.length - a.address.length || (a.address < b.address ? 1 : -1)
  );
}

/** Varied keys, all starting with `prefix`: short, long, printable, UTF-8, and hash-tagged. */
function keysFor(prefix: string, hashTag: string | undefined, random: SeededRandom): string[] {
  const [open, close] = hashTag ?? "{}";
  const keys = new Set<string>();
  const fixed = [
    "a",
    "user:{42}:x",
    "{}",
    "x{y",
    "a{}{b}",
    `pre${open}tag${close}post${open}other${close}`,
    `${open}${open}a${close}${close}`,
    `${close}${open}a${close}`,
    `a${open}bc`,
  ];
  for (const key of fixed) keys.add(prefix + key);
  while (keys.size < KEYS_PER_TARGET) {
    const i = keys.size;
    const roll = random.int(5);
    let key: string;
    if (roll === 0) {
      key = `k${i}`;
    } else if (roll === 1) {
      const length = 1 + random.int(random.next() < 0.2 ? 240 : 30);
      key = Array.from({ length }, () => String.fromCharCode(0x21 + random.int(94))).join("");
    } else if (roll === 2) {
      key = `ключ:${i}:${random.pick(["é", "ß", "日本", "🙂"])}`;
    } else {
      // Tagged: a few groups, so that many keys share a tag.
      key = `user:${i}:${open}grp${random.int(7)}${close}:${random.int(1000)}`;
    }
    if (encoder.encode(prefix + key).length <= 250) keys.add(prefix + key);
  }
  return [...keys];
}

/** Stores every key with `value` through `port`, pipelined, and checks every reply. */
async function setAll(port: number, keys: string[], value: string): Promise<void> {
  const client = await TextClient.connect(port);
  try {
    await client.write(keys.map((k) => `set ${k} 0 0 ${value.length}\r\n${value}\r\n`).join(""));
    for (const key of keys) {
      const reply = await client.readReply(ReplyKind.Line);
      assert.equal(reply, "STORED\r\n", `set ${key} through port ${port}`);
    }
  } finally {
    client.close();
  }
}

/** Which server holds each key with `value`, asked of each memcached directly. */
async function placements(
  servers: MemcachedServer[],
  keys: string[],
  value: string,
): Promise<Map<string, number[]>> {
  const held = new Map<string, number[]>(keys.map((k) => [k, []]));
  await Promise.all(servers.map(async (server, s) => {
    const client = await TextClient.connect(server.port);
    try {
      for (let from = 0; from < keys.length; from += 100) {
        const reply = await client.get(`get ${keys.slice(from, from + 100).join(" ")}`);
        const lines = reply.split("\r\n");
        for (let i = 0; lines[i] !== "END"; i += 2) {
          const [, key] = lines[i].split(" ");
          if (lines[i + 1] === value) held.get(key)!.push(s);
        }
      }
    } finally {
      client.close();
    }
  }));
  return held;
}

/** nutcracker running on a YAML file, owned by this test. */
interface Nutcracker {
  stop(): Promise<void>;
  log(): Promise<string>;
}

async function startNutcracker(dir: string, yaml: string, ports: number[]): Promise<Nutcracker> {
  const conf = `${dir}/nutcracker.yml`;
  const logFile = `${dir}/nutcracker.log`;
  await Deno.writeTextFile(conf, yaml);
  const log = () => Deno.readTextFile(logFile).catch(() => "(no log)");
  let process: ServerProcess;
  try {
    process = await spawnServer(
      "nutcracker",
      ["-c", conf, "-s", String(freePort()), "-a", "127.0.0.1", "-o", logFile],
      ports,
      0,
    );
  } catch (error) {
    throw new Error(`nutcracker did not start: ${await log()}`, { cause: error });
  }
  return {
    stop: () => process.stop("SIGTERM"),
    log,
  };
}

/** `count` distinct ports that were free a moment ago. */
function freePorts(count: number, taken: Set<number>): number[] {
  const ports: number[] = [];
  while (ports.length < count) {
    const port = freePort();
    if (!taken.has(port)) {
      taken.add(port);
      ports.push(port);
    }
  }
  return ports;
}

Deno.test({
  name: "from the same YAML, memrelay places every key on the server twemproxy places it on",
  async fn(t) {
    const servers = await startMemcacheds(3);
    const dir = await Deno.makeTempDir();
    let nutcracker: Nutcracker | undefined;
    let proxy: ProxyHandle | undefined;
    try {
      const taken = new Set(servers.map((s) => s.port));
      let ncPorts: number[] = [];
      for (let attempt = 0; nutcracker === undefined; attempt++) {
        ncPorts = freePorts(TARGETS.length, taken);
        try {
          nutcracker = await startNutcracker(dir, yamlFor(servers, ncPorts), ncPorts);
        } catch (error) {
          // Another test may have taken a port first: try others.
          if (attempt === 2) throw error;
        }
      }
      let mrPorts: number[] = [];
      for (let attempt = 0; proxy === undefined; attempt++) {
        mrPorts = freePorts(TARGETS.length, taken);
        const { config, warnings } = parseConfigText(yamlFor(servers, mrPorts), "test.yml");
        assert.deepEqual(warnings, []);
        try {
          proxy = await startProxy(config, { logger: silentLogger });
        } catch (error) {
          if (!(error instanceof Deno.errors.AddrInUse) || attempt === 2) throw error;
        }
      }

      const random = new SeededRandom(20240611);
      for (const [i, target] of TARGETS.entries()) {
        await t.step(target.pool, async () => {
          const keys = keysFor(`${i}/`, target.hashTag, random);
          await setAll(ncPorts[i], keys, "n");
          const twemproxy = await placements(servers, keys, "n");
          await setAll(mrPorts[i], keys, "m");
          const memrelay = await placements(servers, keys, "m");

          const perServer = [0, 0, 0];
          const wrong: string[] = [];
          for (const key of keys) {
            const expected = twemproxy.get(key)!;
            const actual = memrelay.get(key)!;
            assert.equal(expected.length, 1, `twemproxy stored ${key} on ${expected.length}`);
            perServer[expected[0]]++;
            if (actual.length !== 1 || actual[0] !== expected[0]) {
              wrong.push(`${JSON.stringify(key)}: twemproxy ${expected[0]}, memrelay ${actual}`);
            }
          }
          assert.deepEqual(
            wrong.slice(0, 5),
            [],
            `${wrong.length} of ${keys.length} keys placed apart, such as:`,
          );
          // Every server got keys, so that agreeing means something.
          const used = perServer.filter((n) => n > 0).length;
          if (target.oneServer) assert.ok(used <= 2, `keys per server: ${perServer}`);
          else assert.equal(used, 3, `keys per server: ${perServer}`);
        });
      }
    } catch (error) {
      if (nutcracker !== undefined) console.error(await nutcracker.log());
      throw error;
    } finally {
      await proxy?.close();
      await nutcracker?.stop();
      await Promise.all(servers.map((s) => s.stop()));
      await Deno.remove(dir, { recursive: true });
    }
  },
});
