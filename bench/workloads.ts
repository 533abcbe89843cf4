/**
 * The targets and workloads of `deno task bench`.
 *
 * @module
 */

/** What the load is sent to. */
export type TargetId = "direct" | "twemproxy" | "memrelay" | "memrelay-b";

/** Display names of the targets. */
export const TARGET_NAMES: Record<TargetId, string> = {
  direct: "memcached direct",
  twemproxy: "twemproxy",
  memrelay: "memrelay",
  "memrelay-b": "memrelay -b",
};

/** A key set: keys `<prefix>:<8 digits>`, preloaded so that gets hit. */
export interface KeySet {
  prefix: string;
  count: number;
  valueSize: number;
}

/** The key sets: 100 000 keys of 100 bytes, 5 000 of 10 KiB. */
export const KEY_SETS = {
  small: { prefix: "mrbench:v100", count: 100_000, valueSize: 100 },
  large: { prefix: "mrbench:v10k", count: 5_000, valueSize: 10_240 },
} satisfies Record<string, KeySet>;

/** One workload: the same load, driven at each of its targets in turn. */
export interface Workload {
  /** Short id, for `--only`. */
  id: string;
  /** Row label in the table. */
  label: string;
  /** Which generator drives it. */
  generator: "loadgen" | "memcaslap";
  conns: number;
  /** Requests in flight per connection. */
  depth: number;
  /** Share of requests that are gets; the rest are sets. */
  getRatio: number;
  keysPerGet: number;
  keySet: KeySet;
  /** The targets it runs on. */
  targets: TargetId[];
  /**
   * The workload whose memcached-direct and twemproxy figures are the baselines for the ratios;
   * itself when absent. The backup-pool loads run memrelay with and without a backup pool, back
   * to back in each round, and compare to direct and twemproxy on the same load.
   */
  baseline?: string;
}

const ALL: TargetId[] = ["direct", "twemproxy", "memrelay"];

/** Every workload, in the order they run within a round. */
export const WORKLOADS: Workload[] = [
  {
    id: "get",
    label: "get 9:1, 100 B, 32 conns",
    generator: "loadgen",
    conns: 32,
    depth: 1,
    getRatio: 0.9,
    keysPerGet: 1,
    keySet: KEY_SETS.small,
    targets: ALL,
  },
  {
    id: "get-memcaslap",
    label: "get 9:1, 100 B, 32 conns (memcaslap)",
    generator: "memcaslap",
    conns: 32,
    depth: 1,
    getRatio: 0.9,
    keysPerGet: 1,
    keySet: KEY_SETS.small,
    targets: ALL,
  },
  {
    id: "mget10",
    label: "10-key multi-get, 100 B, 32 conns",
    generator: "loadgen",
    conns: 32,
    depth: 1,
    getRatio: 1,
    keysPerGet: 10,
    keySet: KEY_SETS.small,
    targets: ALL,
  },
  {
    id: "mget100",
    label: "100-key multi-get, 100 B, 32 conns",
    generator: "loadgen",
    conns: 32,
    depth: 1,
    getRatio: 1,
    keysPerGet: 100,
    keySet: KEY_SETS.small,
    targets: ALL,
  },
  {
    id: "set",
    label: "set 1:1, 100 B, 32 conns",
    generator: "loadgen",
    conns: 32,
    depth: 1,
    getRatio: 0.5,
    keysPerGet: 1,
    keySet: KEY_SETS.small,
    targets: ALL,
  },
  {
    id: "v10k",
    label: "get 9:1, 10 KiB, 32 conns",
    generator: "loadgen",
    conns: 32,
    depth: 1,
    getRatio: 0.9,
    keysPerGet: 1,
    keySet: KEY_SETS.large,
    targets: ALL,
  },
  {
    id: "get-backup",
    label: "get 9:1, 100 B, 32 conns, backup pool",
    generator: "loadgen",
    conns: 32,
    depth: 1,
    getRatio: 0.9,
    keysPerGet: 1,
    keySet: KEY_SETS.small,
    targets: ["memrelay", "memrelay-b"],
    baseline: "get",
  },
  {
    id: "set-backup",
    label: "set 1:1, 100 B, 32 conns, backup pool",
    generator: "loadgen",
    conns: 32,
    depth: 1,
    getRatio: 0.5,
    keysPerGet: 1,
    keySet: KEY_SETS.small,
    targets: ["memrelay", "memrelay-b"],
    baseline: "set",
  },
  {
    id: "c1000",
    label: "get 9:1, 100 B, 1000 conns",
    generator: "loadgen",
    conns: 1000,
    depth: 1,
    getRatio: 0.9,
    keysPerGet: 1,
    keySet: KEY_SETS.small,
    targets: ALL,
  },
  {
    id: "pipe16",
    label: "get 9:1, 100 B, 4 conns x 16 deep",
    generator: "loadgen",
    conns: 4,
    depth: 16,
    getRatio: 0.9,
    keysPerGet: 1,
    keySet: KEY_SETS.small,
    targets: ALL,
  },
];

/**
 * The warm-up runs before the measured rounds, in order: workload, target, seconds. A Deno process
 * runs about 20% slower until its JIT has seen the hot paths, so memrelay (with and without a
 * backup pool) gets `long` seconds of single gets and `short` of every other load it runs;
 * memcached and twemproxy get 0.3 s of single gets. memrelay skips a load whose baseline is in the
 * run, as that is the same load. `available` says whether a workload runs on a target.
 *
 * @example
 * ```ts
 * import { warmUpPlan, WORKLOADS } from "./workloads.ts";
 * const only = WORKLOADS.filter((w) => w.id === "get-backup");
 * const plan = warmUpPlan(only, (w, t) => w.targets.includes(t), 5, 1);
 * console.log(plan.map(([w, t, s]) => `${w.id} ${t} ${s}`)); // ["get-backup memrelay 5", "get-backup memrelay-b 5"]
 * ```
 */
export function warmUpPlan(
  workloads: Workload[],
  available: (w: Workload, t: TargetId) => boolean,
  long: number,
  short: number,
): [Workload, TargetId, number][] {
  const plan: [Workload, TargetId, number][] = [];
  for (const t of ["direct", "twemproxy", "memrelay", "memrelay-b"] as TargetId[]) {
    for (const w of workloads) {
      if (w.generator !== "loadgen" || !available(w, t)) continue;
      if (t === "memrelay" && workloads.some((x) => x.id === w.baseline)) continue;
      if (t === "memrelay" || t === "memrelay-b") {
        plan.push([w, t, w.id === "get" || w.id === "get-backup" ? long : short]);
      } else if (w.id === "get") {
        plan.push([w, t, 0.3]);
      }
    }
  }
  return plan;
}
