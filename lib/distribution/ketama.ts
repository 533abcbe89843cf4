/**
 * twemproxy's `ketama` distribution: a continuum of MD5-derived points, weighted, searched for
 * the first point at or after the key's hash.
 *
 * @module
 */

import { md5Words } from "../hash/md5.ts";
import type { Distribution, WeightedServer } from "./distribution.ts";
import { checkServers } from "./servers.ts";

/** Points per server in an unweighted pool (twemproxy's `KETAMA_POINTS_PER_SERVER`). */
const POINTS_PER_SERVER = 160;
/** Points taken from one MD5 digest: its four little-endian words. */
const POINTS_PER_HASH = 4;
/**
 * The most bytes of a point string nutcracker 0.5.0 hashes: it prints the string into a 273-byte
 * buffer and, when the string is longer, logs an error and hashes the 272 bytes that fit.
 */
const MAX_POINT_BYTES = 272;

const ENCODER = new TextEncoder();

/**
 * How many continuum points twemproxy gives a server, in its single-precision arithmetic:
 * `floorf(weight / total * 160 / 4 * serverCount + 1e-10) * 4`, every intermediate rounded to a
 * C `float` except the addition, which is done in `double` and rounded back to `float`.
 */
function pointCount(weight: number, totalWeight: number, serverCount: number): number {
  const f = Math.fround;
  const share = f(weight / totalWeight);
  const scaled = f(f(f(share * POINTS_PER_SERVER) / POINTS_PER_HASH) * serverCount);
  return Math.floor(f(scaled + 0.0000000001)) * POINTS_PER_HASH;
}

/** The bytes nutcracker hashes for point string `text`: its UTF-8, cut to 272 bytes. */
function pointBytes(text: string): Uint8Array {
  const bytes = ENCODER.encode(text);
  return bytes.length > MAX_POINT_BYTES ? bytes.subarray(0, MAX_POINT_BYTES) : bytes;
}

/**
 * twemproxy's ketama continuum, bit-compatible with nutcracker 0.5.0's `ketama_update` and
 * `ketama_dispatch` (checked against the nutcracker 0.5.0 binary).
 *
 * Server `i` gets `floorf(weight / totalWeight * 160 / 4 * serverCount + 1e-10) * 4` points,
 * computed in C `float` as nutcracker does: 160 per server on average, in proportion to its
 * weight, a multiple of 4, possibly 0 for a tiny weight. Its points are the four little-endian
 * words of the MD5 digests of `"<name>-0"`, `"<name>-1"`, … (the UTF-8 bytes of each string, cut
 * to 272 bytes as nutcracker cuts them). `name` is the server's configured name or, without one,
 * `host:port`, and just `host` when the port is 11211 (twemproxy's libmemcached-compatible rule;
 * the caller builds it). The points are sorted by value; a key's owner is the first point whose
 * value is at least the key's hash, wrapping around to the first point.
 *
 * Equal point values from different servers (about one pair in 3,000 pools of ten servers): nutcracker
 * sorts with glibc's `qsort`, which in glibc 2.36 (Debian 12, where nutcracker 0.5.0 was
 * checked) is a stable merge sort, so among equal values the point added first (lower server
 * index) comes first and wins. This class sorts the same way.
 *
 * To follow twemproxy's `auto_eject_hosts`, build a new `Ketama` from the live servers only, in
 * configuration order, and map the picked index back to the full list.
 *
 * @example
 * ```ts
 * import { Ketama } from "./ketama.ts";
 * import { fnv1a_64 } from "../hash/fnv.ts";
 * const ketama = new Ketama([
 *   { name: "127.0.0.1:11212", weight: 1 },
 *   { name: "127.0.0.1:11213", weight: 1 },
 * ]);
 * const owner = ketama.pick(fnv1a_64(new TextEncoder().encode("user:42")));
 * console.log(owner === 0 || owner === 1); // true
 * ```
 */
export class Ketama implements Distribution {
  /** The continuum's point values, ascending (for inspection; do not modify). */
  readonly values: Uint32Array;
  /** `owners[j]` is the index of the server that owns point `values[j]`. */
  readonly owners: Uint32Array;
  /** How far a hash is shifted right to give its bucket. */
  readonly #shift: number;
  /** `#bucketStarts[b]` is the first point whose bucket is `b` or later. */
  readonly #bucketStarts: Uint32Array;

  /**
   * Builds the continuum of `servers`, in their order.
   *
   * @throws {RangeError} on an empty list or a weight that is not a positive integer
   */
  constructor(servers: readonly WeightedServer[]) {
    checkServers(servers);
    let totalWeight = 0;
    for (const server of servers) {
      totalWeight += server.weight;
    }
    const counts = servers.map((server) => pointCount(server.weight, totalWeight, servers.length));
    const total = counts.reduce((sum, count) => sum + count, 0);
    const rawValues = new Uint32Array(total);
    const rawOwners = new Uint32Array(total);
    const words = new Uint32Array(POINTS_PER_HASH);
    let next = 0;
    servers.forEach((server, index) => {
      for (let digest = 0; digest < counts[index] / POINTS_PER_HASH; digest++) {
        md5Words(pointBytes(`${server.name}-${digest}`), words);
        for (let word = 0; word < POINTS_PER_HASH; word++) {
          rawValues[next] = words[word];
          rawOwners[next] = index;
          next++;
        }
      }
    });
    const order = Array.from({ length: total }, (_, position) => position);
    order.sort((a, b) => rawValues[a] - rawValues[b] || a - b);
    this.values = new Uint32Array(total);
    this.owners = new Uint32Array(total);
    order.forEach((position, rank) => {
      this.values[rank] = rawValues[position];
      this.owners[rank] = rawOwners[position];
    });
    // About four buckets per point: a hash's bucket leaves zero or one point to search.
    let bits = 1;
    while (bits < 20 && 1 << bits < 4 * total) bits++;
    this.#shift = 32 - bits;
    this.#bucketStarts = new Uint32Array((1 << bits) + 1);
    let point = 0;
    for (let bucket = 0; bucket < 1 << bits; bucket++) {
      while (point < total && this.values[point] >>> this.#shift < bucket) point++;
      this.#bucketStarts[bucket] = point;
    }
    this.#bucketStarts[1 << bits] = total;
  }

  /** The index of the server owning the first point at or after `hash`, wrapping around. */
  pick(hash: number): number {
    const values = this.values;
    // The point sought lies from the first of the hash's bucket to the first of the next.
    const bucket = hash >>> this.#shift;
    let low = this.#bucketStarts[bucket];
    let high = this.#bucketStarts[bucket + 1];
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (values[middle] < hash) {
        low = middle + 1;
      } else {
        high = middle;
      }
    }
    return this.owners[low === values.length ? 0 : low];
  }
}
