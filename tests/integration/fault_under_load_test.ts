/**
 * Faults under load: writers keep writing and reading while servers die, hang and come back
 * empty, one fault at a time. Every reply is checked against what the writer knows it stored.
 */
import assert from "node:assert/strict";
import { eventually } from "../helpers/eventually.ts";
import { type MemcachedServer, startMemcacheds } from "../helpers/memcached.ts";
import { startCliProxy } from "../helpers/proxy.ts";
import { SeededRandom } from "../helpers/random.ts";
import { TextClient } from "../helpers/text_client.ts";

const WRITERS = 4;
const HOT_KEYS_PER_WRITER = 300;
const COLD_KEYS = 3000;

/** What one run saw. */
interface Tally {
  requests: number;
  answered: number;
  reads: number;
  lost: number;
  stale: number;
  problems: string[];
  /** Each kind of SERVER_ERROR seen, with how often. */
  errors: Map<string, number>;
}

function count(tally: Tally, reply: string): void {
  tally.requests++;
  if (!reply.startsWith("SERVER_ERROR")) {
    tally.answered++;
    return;
  }
  const kind = reply.replace(/127\.0\.0\.1:\d+/g, "server").replace(/\d+ ms/, "N ms").trim();
  tally.errors.set(kind, (tally.errors.get(kind) ?? 0) + 1);
}

/**
 * What a key may hold, as its only writer knows it: the last acknowledged value (null: deleted
 * or never written), and values of later writes that failed and so may or may not have landed.
 */
interface KeyState {
  allowed: Set<string | null>;
}

function valueOf(reply: string): string | null {
  const match = reply.match(/^VALUE \S+ \d+ \d+\r\n(.*)\r\nEND\r\n$/s);
  return match ? match[1] : null;
}

function check(tally: Tally, key: string, reply: string, state: KeyState): void {
  tally.reads++;
  if (reply.startsWith("SERVER_ERROR")) return; // unanswered, counted by the caller
  const got = valueOf(reply);
  if (state.allowed.has(got)) return;
  if (got === null) tally.lost++;
  else tally.stale++;
  if (tally.problems.length < 10) {
    tally.problems.push(`${key}: read ${got}, expected one of ${[...state.allowed].join("|")}`);
  }
}

async function writer(
  id: number,
  port: number,
  stop: { now: boolean },
  tally: Tally,
): Promise<Map<string, KeyState>> {
  const random = new SeededRandom(1000 + id);
  const client = await TextClient.connect(port);
  const states = new Map<string, KeyState>();
  let version = 0;
  try {
    while (!stop.now) {
      const key = `hot:${id}:${random.int(HOT_KEYS_PER_WRITER)}`;
      const state = states.get(key) ?? { allowed: new Set([null]) };
      states.set(key, state);
      const roll = random.next();
      let reply: string;
      if (roll < 0.5) {
        const value = `${key}:${++version}`;
        reply = await client.set(key, value);
        if (reply === "STORED\r\n") state.allowed = new Set([value]);
        else state.allowed.add(value);
      } else if (roll < 0.6) {
        reply = await client.call(`delete ${key}`);
        if (reply === "DELETED\r\n" || reply === "NOT_FOUND\r\n") state.allowed = new Set([null]);
        else state.allowed.add(null);
      } else {
        reply = await client.get(`get ${key}`);
        check(tally, key, reply, state);
      }
      count(tally, reply);
    }
  } finally {
    client.close();
  }
  return states;
}

async function coldReader(port: number, stop: { now: boolean }, tally: Tally): Promise<void> {
  const random = new SeededRandom(7);
  const client = await TextClient.connect(port);
  try {
    while (!stop.now) {
      const keys = Array.from({ length: 10 }, () => random.int(COLD_KEYS));
      const reply = await client.get(`get ${keys.map((k) => `cold:${k}`).join(" ")}`);
      count(tally, reply);
      if (reply.startsWith("SERVER_ERROR")) continue;
      for (const k of keys) {
        tally.reads++;
        if (!reply.includes(`VALUE cold:${k} 0 `)) {
          tally.lost++;
          if (tally.problems.length < 10) tally.problems.push(`cold:${k} missing`);
        }
      }
    }
  } finally {
    client.close();
  }
}

async function stat(client: TextClient, name: string): Promise<number> {
  return Number((await client.stats()).match(new RegExp(`STAT ${name} (\\d+)\\r\\n`))![1]);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("under load, a primary's death and empty restart, a 2 s hang, and the backup's death and empty restart lose nothing and serve nothing stale", async () => {
  const servers = await startMemcacheds(3);
  const [primaryA, primaryB, backup] = servers;
  const proxy = await startCliProxy([
    ...["-s", primaryA.address, "-s", primaryB.address, "-b", backup.address],
    ...["-t", "300", "--server-retry-timeout", "100"],
  ]);
  const admin = await TextClient.connect(proxy.port);
  const tally: Tally = {
    requests: 0,
    answered: 0,
    reads: 0,
    lost: 0,
    stale: 0,
    problems: [],
    errors: new Map(),
  };
  const stop = { now: false };
  const refillTimes: number[] = [];

  /** Waits until no refill runs and no replay waits; returns how long that took. */
  const settled = async (since: number) => {
    await eventually(async () => {
      assert.equal(await stat(admin, "refills_running"), 0);
      assert.equal(await stat(admin, "replays_pending"), 0);
    }, 20_000);
    return Date.now() - since;
  };
  const restartEmpty = async (server: MemcachedServer, downMs: number) => {
    await server.kill();
    await sleep(downMs);
    const refills = await stat(admin, "refills");
    const restarted = Date.now();
    await server.restart();
    await eventually(async () => assert.ok(await stat(admin, "refills") > refills), 10_000);
    refillTimes.push(await settled(restarted));
  };

  try {
    let batch = "";
    for (let i = 0; i < COLD_KEYS; i++) batch += `set cold:${i} 0 0 6\r\nfrozen\r\n`;
    await admin.write(batch);
    for (let i = 0; i < COLD_KEYS; i++) assert.equal(await admin.readReply(), "STORED\r\n");

    const writers = Array.from({ length: WRITERS }, (_, id) => writer(id, proxy.port, stop, tally));
    const reader = coldReader(proxy.port, stop, tally);
    await sleep(500);
    await restartEmpty(primaryA, 1000);
    await sleep(500);
    await primaryB.pause();
    await sleep(2000);
    primaryB.resume();
    await settled(Date.now());
    await sleep(500);
    await restartEmpty(backup, 1000);
    await sleep(500);
    stop.now = true;
    const states = await Promise.all(writers);
    await reader;

    // At the end, every key reads as its writer last stored it, and every cold key is there.
    const final = await TextClient.connect(proxy.port);
    let checked = 0;
    for (const writerStates of states) {
      for (const [key, state] of writerStates) {
        check(tally, key, await final.get(`get ${key}`), state);
        checked++;
      }
    }
    for (let i = 0; i < COLD_KEYS; i += 100) {
      const keys = Array.from({ length: 100 }, (_, j) => `cold:${i + j}`);
      const reply = await final.get(`get ${keys.join(" ")}`);
      checked += 100;
      const found = reply.split("VALUE").length - 1;
      tally.lost += 100 - found;
    }
    final.close();

    const share = tally.answered / tally.requests;
    console.log(
      `keys checked at the end ${checked}; reads checked ${tally.reads}; lost ${tally.lost}; ` +
        `stale ${tally.stale}; requests ${tally.requests}, answered ${
          (share * 100).toFixed(3)
        }%; ` +
        `refill + replay time after each empty restart ${refillTimes.join(", ")} ms; ` +
        `errors ${JSON.stringify([...tally.errors])}`,
    );
    assert.deepEqual(tally.problems, []);
    assert.equal(tally.lost, 0);
    assert.equal(tally.stale, 0);
    assert.ok(share >= 0.999, `answered ${share}`);
  } finally {
    stop.now = true;
    admin.close();
    await proxy.stop();
    await Promise.all(servers.map((s) => s.stop()));
  }
});
