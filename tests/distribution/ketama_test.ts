import assert from "node:assert/strict";
import { Ketama } from "../../lib/distribution/ketama.ts";
import { fnv1a_64 } from "../../lib/hash/fnv.ts";
import { md5, md5Words } from "../../lib/hash/md5.ts";
import { LIBMEMCACHED_KETAMA_CASES, LIBMEMCACHED_POOL } from "./libmemcached_ketama_vectors.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

/** How many continuum points each server owns. */
function pointsPerServer(ketama: Ketama, serverCount: number): number[] {
  const counts = new Array<number>(serverCount).fill(0);
  for (const owner of ketama.owners) counts[owner]++;
  return counts;
}

/** Unnamed servers `10.0.0.<i>:11212` with the given weights. */
const pool = (...weights: number[]) =>
  weights.map((weight, i) => ({ name: `10.0.0.${i + 1}:11212`, weight }));

Deno.test("ketama places libmemcached's 99 compatibility keys on libmemcached's servers", () => {
  const ketama = new Ketama(LIBMEMCACHED_POOL);
  for (const { key, hash, point, server } of LIBMEMCACHED_KETAMA_CASES) {
    assert.equal(md5(bytes(key)), hash, key);
    const owner = ketama.pick(hash);
    assert.equal(LIBMEMCACHED_POOL[owner].name, server, key);
    const first = ketama.values.findIndex((value) => value >= hash);
    assert.equal(ketama.values[first], point, key);
  }
});

Deno.test("ketama wraps a hash above the last point to the first point", () => {
  const ketama = new Ketama(LIBMEMCACHED_POOL);
  const hash = md5(bytes("VDEAAAAA"));
  assert.equal(hash, 0xfffcd1b5);
  assert.ok(hash > ketama.values[ketama.values.length - 1]);
  assert.equal(ketama.pick(hash), ketama.owners[0]);
  assert.equal(ketama.pick(0xffffffff), ketama.owners[0]);
  assert.equal(ketama.pick(0), ketama.owners[0]);
});

Deno.test("ketama gives each server of libmemcached's pool its weighted share of points", () => {
  const ketama = new Ketama(LIBMEMCACHED_POOL);
  assert.deepEqual(pointsPerServer(ketama, 8), [176, 88, 56, 104, 296, 236, 280, 28]);
});

Deno.test("ketama gives 160 points per server of equal weight", () => {
  for (const count of [1, 2, 3, 7, 10]) {
    const ketama = new Ketama(pool(...new Array<number>(count).fill(1)));
    assert.deepEqual(pointsPerServer(ketama, count), new Array<number>(count).fill(160));
  }
});

Deno.test("ketama counts points in C float, giving 25 equal servers 156 points each", () => {
  const ketama = new Ketama(pool(...new Array<number>(25).fill(1)));
  assert.deepEqual(pointsPerServer(ketama, 25), new Array<number>(25).fill(156));
});

Deno.test("ketama builds a server's points from the MD5 words of <name>-<index>", () => {
  const ketama = new Ketama([{ name: "server1", weight: 1 }]);
  const expected: number[] = [];
  const words = new Uint32Array(4);
  for (let index = 0; index < 40; index++) {
    md5Words(bytes(`server1-${index}`), words);
    expected.push(...words);
  }
  assert.deepEqual(Array.from(ketama.values), expected.sort((a, b) => a - b));
  assert.ok(ketama.values.includes(3853726576) && ketama.values.includes(2667054752));
});

Deno.test("ketama picks the owner of the first point at or after the hash", () => {
  const ketama = new Ketama(pool(1, 1, 1));
  for (let j = 1; j < ketama.values.length; j += 37) {
    const value = ketama.values[j];
    if (value === ketama.values[j - 1]) continue;
    assert.equal(ketama.pick(value), ketama.owners[j]);
    assert.equal(ketama.pick(value - 1), ketama.owners[j]);
    assert.equal(ketama.pick(ketama.values[j - 1] + 1), ketama.owners[j]);
  }
});

Deno.test("ketama shifts key shares roughly in proportion to weight", () => {
  const ketama = new Ketama(pool(1, 2, 3, 4));
  const counts = [0, 0, 0, 0];
  const keys = 40_000;
  for (let i = 0; i < keys; i++) counts[ketama.pick(fnv1a_64(bytes(`key:${i}`)))]++;
  counts.forEach((count, server) => {
    const expected = (keys * (server + 1)) / 10;
    assert.ok(Math.abs(count - expected) < expected * 0.25, `server ${server}: ${count}`);
  });
});

Deno.test("ketama moves only the removed server's keys when a server is removed", () => {
  const before = pool(1, 1, 1, 1, 1);
  const removed = 2;
  const after = before.filter((_, i) => i !== removed);
  const full = new Ketama(before);
  const reduced = new Ketama(after);
  let moved = 0;
  for (let i = 0; i < 20_000; i++) {
    const hash = fnv1a_64(bytes(`key:${i}`));
    const owner = before[full.pick(hash)];
    const newOwner = after[reduced.pick(hash)];
    if (owner.name !== newOwner.name) {
      assert.equal(full.pick(hash), removed, `key:${i} moved off a surviving server`);
      moved++;
    }
  }
  assert.ok(moved > 0);
});

Deno.test("ketama puts equal point values of different servers in server order", () => {
  const ketama = new Ketama([{ name: "twin", weight: 1 }, { name: "twin", weight: 1 }]);
  for (let j = 0; j < ketama.values.length; j += 2) {
    assert.equal(ketama.values[j], ketama.values[j + 1]);
    assert.deepEqual([ketama.owners[j], ketama.owners[j + 1]], [0, 1]);
  }
  assert.equal(ketama.pick(12345), 0);
});

Deno.test("ketama gives no points to a server too light for one digest, and floors the others", () => {
  const ketama = new Ketama(pool(1, 1000));
  assert.deepEqual(pointsPerServer(ketama, 2), [0, 316]);
  assert.equal(ketama.pick(0), 1);
});

Deno.test("ketama rejects an empty pool and non-positive or fractional weights", () => {
  assert.throws(() => new Ketama([]), RangeError);
  assert.throws(() => new Ketama(pool(0)), RangeError);
  assert.throws(() => new Ketama(pool(1.5)), RangeError);
});

Deno.test("ketama's bucketed pick matches a search of the whole continuum", () => {
  /** The owner of the first point at or after `hash`, found by walking every point. */
  const walk = (ketama: Ketama, hash: number) => {
    const j = ketama.values.findIndex((value) => value >= hash);
    return ketama.owners[j < 0 ? 0 : j];
  };
  let seed = 12345;
  const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
  for (const count of [1, 2, 3, 7, 40]) {
    const servers = Array.from({ length: count }, (_, i) => ({
      name: `10.0.0.${i}:11211`,
      weight: 1 + (i % 3),
    }));
    const ketama = new Ketama(servers);
    const hashes = [
      0,
      1,
      0xffffffff,
      ...Array.from(ketama.values),
      ...ketama.values.map((v) => v + 1),
    ];
    for (let i = 0; i < 2000; i++) hashes.push(random());
    for (const hash of hashes) {
      const h = hash >>> 0;
      assert.equal(ketama.pick(h), walk(ketama, h), `hash ${h} over ${count} servers`);
    }
  }
});
