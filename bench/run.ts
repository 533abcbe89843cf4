/**
 * `deno task bench`: memrelay against memcached direct and twemproxy, on this machine.
 *
 * It starts three memcached servers, twemproxy (nutcracker) over the first two, memrelay over the
 * same two, and memrelay with the third as a backup pool; preloads the keys; warms memrelay up;
 * then drives every workload at every target in interleaved rounds, the target order rotated each
 * round. The backup pool's cost comes from memrelay with and without it run back to back within
 * each round. Load comes from `bench/loadgen.c`, compiled here with `cc -O2`, and for one cross-check
 * row from Debian's `memcaslap`. It prints a table of medians over rounds with each figure's
 * ratio to memcached direct and to twemproxy, and stops every process it started, by pid, at the
 * end, on an error, on Ctrl-C, and when its time limit is up.
 *
 * ```sh
 * deno task bench            # full: 5 rounds of 3 s per workload and target, about 8 minutes
 * deno task bench --quick    # 2 rounds of 0.8 s, about a minute
 * deno task bench --only get,mget10 --rounds 3 --seconds 5 --markdown /tmp/table.md
 * ```
 *
 * @module
 */

import {
  clockTicksPerSecond,
  commandExists,
  cpuSeconds,
  delay,
  freePort,
  machineCpu,
  type Managed,
  peakRssKb,
  ProcessGroup,
  resetPeakRss,
  waitForService,
} from "./processes.ts";
import { compileLoadgen, type LoadSpec, preload, runLoad } from "./loadgen.ts";
import { acceptsMemcaslapKeys, memcaslapConfig, runMemcaslap } from "./memcaslap.ts";
import {
  backupCosts,
  formatBackupCosts,
  formatTable,
  key,
  type Measurement,
  median,
  progressLine,
  summarize,
  type Summary,
} from "./report.ts";
import { checkTargets, formatTargetChecks } from "./targets.ts";
import { V8_FLAGS } from "../scripts/v8_flags.ts";
import {
  type KeySet,
  TARGET_NAMES,
  type TargetId,
  warmUpPlan,
  type Workload,
  WORKLOADS,
} from "./workloads.ts";

const USAGE = `usage: deno task bench [--quick] [--rounds N] [--seconds S] [--only ID,ID...]
                       [--markdown FILE] [--json FILE] [--max-noise CORES]

  --quick          2 rounds of 0.8 s per workload and target (about a minute)
  --rounds N       rounds (full: 5)
  --seconds S      measured seconds per run (full: 3)
  --only IDS       workloads to run: ${WORKLOADS.map((w) => w.id).join(", ")}
  --markdown FILE  also write the machine, the command and the table to FILE
  --json FILE      also write every run's figures to FILE
  --max-noise C    run again a run during which other processes and the hypervisor (steal)
                   took more than C cores (default 0.15; at most twice per run, and 20% more
                   runs in all, 10% in --quick)`;

interface Options {
  quick: boolean;
  rounds: number;
  seconds: number;
  only: string[] | null;
  markdown: string | null;
  json: string | null;
  maxNoise: number;
  /** True when --rounds, --seconds or --only changed the mode's plan. */
  custom: boolean;
}

function parseOptions(args: string[]): Options {
  const opts: Options = {
    quick: false,
    rounds: 0,
    seconds: 0,
    only: null,
    markdown: null,
    json: null,
    maxNoise: 0.15,
    custom: false,
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = () => {
      const v = args[++i];
      if (v === undefined) usage(`${a} needs a value`);
      return v;
    };
    if (a === "--quick") opts.quick = true;
    else if (a === "--rounds") opts.rounds = positive(a, value());
    else if (a === "--seconds") opts.seconds = positive(a, value());
    else if (a === "--only") opts.only = value().split(",").filter(Boolean);
    else if (a === "--markdown") opts.markdown = value();
    else if (a === "--json") opts.json = value();
    else if (a === "--max-noise") opts.maxNoise = positive(a, value());
    else if (a === "-h" || a === "--help") {
      console.log(USAGE);
      Deno.exit(0);
    } else usage(`unknown argument ${a}`);
  }
  opts.custom = Boolean(opts.rounds || opts.seconds || opts.only);
  if (!opts.rounds) opts.rounds = opts.quick ? 2 : 5;
  if (!opts.seconds) opts.seconds = opts.quick ? 0.8 : 3;
  for (const id of opts.only ?? []) {
    if (!WORKLOADS.some((w) => w.id === id)) usage(`unknown workload ${id}`);
  }
  return opts;
}

function positive(flag: string, v: string): number {
  const n = Number(v);
  if (!(n > 0)) usage(`${flag} needs a positive number`);
  return n;
}

function usage(message: string): never {
  console.error(`bench: ${message}\n\n${USAGE}`);
  Deno.exit(2);
}

// A run during which other processes and the hypervisor took more than --max-noise cores is run
// again, at most MAX_RETRIES times, and in all at most RETRY_BUDGET (QUICK_RETRY_BUDGET) times
// the number of runs.
const MAX_RETRIES = 2;
const RETRY_BUDGET = 0.2;
const QUICK_RETRY_BUDGET = 0.1;

// Seconds of overhead per run beyond the measured interval: start, connect, prime, close.
const RUN_OVERHEAD_S = 0.03;
// Seconds to start the servers and proxies, preload the keys and restart the proxies.
const SETUP_S = 5;

const started = performance.now();
function stamp(): string {
  return `[${((performance.now() - started) / 1000).toFixed(1).padStart(6)}s]`;
}
function log(message: string): void {
  console.log(`${stamp()} ${message}`);
}

/** A running target: where to send load, and which pids to watch. */
interface Target {
  id: TargetId;
  /** `host:port` of what the generator connects to. */
  servers: string[];
  /** The proxy process; null for memcached direct. */
  proxy: Managed | null;
  /** The memcached servers behind it. */
  memcached: Managed[];
}

async function startMemcached(group: ProcessGroup, name: string): Promise<[Managed, number]> {
  for (let attempt = 1;; attempt++) {
    const port = freePort();
    const args = ["-l", "127.0.0.1", "-p", String(port), "-U", "0", "-t", "1", "-m", "256"];
    if (Deno.uid() === 0) args.push("-u", "root");
    const proc = group.spawn(name, "memcached", { args });
    try {
      await waitForService(proc, port, "version\r\n", "VERSION ");
      return [proc, port];
    } catch (error) {
      await proc.stop();
      if (attempt === 5) throw error;
    }
  }
}

async function startNutcracker(
  group: ProcessGroup,
  dir: string,
  backends: number[],
): Promise<[Managed, number]> {
  for (let attempt = 1;; attempt++) {
    const port = freePort();
    const statsPort = freePort();
    const conf = `${dir}/nutcracker.yml`;
    Deno.writeTextFileSync(
      conf,
      [
        "memrelay_bench:",
        `  listen: 127.0.0.1:${port}`,
        "  hash: fnv1a_64",
        "  distribution: ketama",
        "  servers:",
        ...backends.map((p) => `    - 127.0.0.1:${p}:1`),
        "",
      ].join("\n"),
    );
    const args = [
      "-c",
      conf,
      "-s",
      String(statsPort),
      "-a",
      "127.0.0.1",
      "-o",
      `${dir}/nutcracker.log`,
    ];
    const proc = group.spawn("nutcracker", "nutcracker", { args });
    try {
      await waitForService(proc, port, "get mrbench:probe\r\n", "END\r\n");
      return [proc, port];
    } catch (error) {
      await proc.stop();
      if (attempt === 5) throw error;
    }
  }
}

async function startMemrelay(
  group: ProcessGroup,
  name: string,
  dir: string,
  servers: number[],
  backups: number[],
): Promise<[Managed, number]> {
  const main = new URL("../main.ts", import.meta.url);
  const root = new URL("..", import.meta.url).pathname;
  for (let attempt = 1;; attempt++) {
    const port = freePort();
    const args = [
      "run",
      "--allow-net",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-ffi",
      V8_FLAGS,
      main.pathname,
      ...["-l", "127.0.0.1", "-p", String(port)],
      ...servers.flatMap((p) => ["-s", `127.0.0.1:${p}`]),
      ...backups.flatMap((p) => ["-b", `127.0.0.1:${p}`]),
    ];
    const logFile = `${dir}/${name.replace(/\W+/g, "_")}.log`;
    const proc = group.spawn(name, Deno.execPath(), { args, cwd: root, logFile });
    try {
      await waitForService(proc, port, "version\r\n", "VERSION ", 30000);
      return [proc, port];
    } catch (error) {
      await proc.stop();
      const tail = (() => {
        try {
          return Deno.readTextFileSync(logFile).split("\n").slice(-5).join("\n");
        } catch {
          return "";
        }
      })();
      if (attempt === 5) throw new Error(`${(error as Error).message}\n${tail}`);
    }
  }
}

async function ask(port: number, request: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode(request));
    const buf = new Uint8Array(1024);
    const n = await Promise.race([conn.read(buf), delay(2000).then(() => null)]);
    return n ? new TextDecoder().decode(buf.subarray(0, n)).trim() : "";
  } finally {
    conn.close();
  }
}

async function commandOutput(cmd: string, args: string[]): Promise<string> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
    const dec = new TextDecoder();
    return (dec.decode(out.stdout) + dec.decode(out.stderr)).trim();
  } catch {
    return "";
  }
}

async function machine(): Promise<string[]> {
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  const model = cpuinfo.match(/^model name\s*:\s*(.+)$/m)?.[1] ?? "unknown";
  const meminfo = await Deno.readTextFile("/proc/meminfo").catch(() => "");
  const memKb = Number(meminfo.match(/^MemTotal:\s+(\d+)/m)?.[1] ?? 0);
  const load = (await Deno.readTextFile("/proc/loadavg").catch(() => "")).split(" ").slice(0, 3);
  const nproc = await commandOutput("nproc", []);
  // Which memrelay was measured: the commit, and whether its code had uncommitted changes.
  const root = new URL("..", import.meta.url).pathname;
  const commit = await commandOutput("git", ["-C", root, "log", "-1", "--format=%h %cI"]);
  const dirty = await commandOutput("git", [
    "-C",
    root,
    "status",
    "--porcelain",
    "--",
    "main.ts",
    "mod.ts",
    "lib",
  ]);
  const changed = dirty ? dirty.split("\n").length : 0;
  return [
    `cpus: ${nproc} x ${model}; memory: ${(memKb / 1048576).toFixed(1)} GiB; ` +
    `load average before the run: ${load.join(" ")}`,
    `deno ${Deno.version.deno}; ${await commandOutput("memcached", ["-V"])}; ` +
    `${(await commandOutput("nutcracker", ["-V"])).split("\n")[0] || "nutcracker missing"}`,
    `memrelay at commit ${commit || "unknown"}` +
    (changed ? ` with uncommitted changes in ${changed} files of main.ts, mod.ts, lib/` : ""),
  ];
}

function formatDuration(seconds: number): string {
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  return m ? `${m} min ${s} s` : `${s} s`;
}

async function main(opts: Options, group: ProcessGroup, dir: string): Promise<void> {
  const workloads = WORKLOADS.filter((w) => !opts.only || opts.only.includes(w.id));
  const notApplicable = new Map<string, string>();
  const hasNutcracker = await commandExists("nutcracker", ["-V"]);
  const hasMemcaslap = await commandExists("memcaslap", ["-V"]);
  if (!(await commandExists("memcached", ["-V"]))) {
    throw new Error("memcached is not installed (Debian: apt-get install memcached)");
  }
  if (!(await commandExists("cc", ["--version"]))) {
    throw new Error("no C compiler `cc` for bench/loadgen.c (Debian: apt-get install gcc)");
  }
  for (const w of workloads) {
    if (!hasNutcracker && w.targets.includes("twemproxy")) {
      notApplicable.set(key(w.id, "twemproxy"), "nutcracker (twemproxy) is not installed.");
    }
    if (!hasMemcaslap && w.generator === "memcaslap") {
      for (const t of w.targets) {
        notApplicable.set(key(w.id, t), "memcaslap (libmemcached-tools) is not installed.");
      }
    }
  }
  const needBackup = workloads.some((w) => w.targets.includes("memrelay-b"));

  // The plan and its expected duration.
  const runsPerRound = workloads.reduce(
    (n, w) => n + w.targets.filter((t) => !notApplicable.has(key(w.id, t))).length,
    0,
  );
  const warmS = opts.quick ? 1.5 : 5;
  const warmShortS = opts.quick ? 0.3 : 1;
  const available = (w: Workload, t: TargetId) =>
    w.targets.includes(t) && !notApplicable.has(key(w.id, t));
  const warmPlan = warmUpPlan(workloads, available, warmS, warmShortS);
  const runCost = (w: Workload, secs: number) =>
    (w.generator === "memcaslap" ? Math.max(1, Math.round(secs)) + 1.1 : secs) +
    RUN_OVERHEAD_S + (w.conns >= 500 ? 0.15 : 0);
  const roundS = workloads.reduce(
    (s, w) => s + w.targets.filter((t) => available(w, t)).length * runCost(w, opts.seconds),
    0,
  );
  const warmTotal = warmPlan.reduce((s, [w, , secs]) => s + runCost(w, secs), 0);
  const expected = SETUP_S + warmTotal + opts.rounds * roundS;
  const budget = opts.quick ? QUICK_RETRY_BUDGET : RETRY_BUDGET;
  const expectedWithReruns = expected + opts.rounds * roundS * budget +
    Math.ceil(runsPerRound * opts.rounds * budget) * 0.5;
  const hardLimitS = Math.max(180, expected * 2 + 60);
  log(
    `memrelay bench, ${opts.custom ? "custom" : opts.quick ? "quick" : "full"} mode: ` +
      `${workloads.length} workloads, ` +
      `${runsPerRound} runs per round, ${opts.rounds} rounds of ${opts.seconds} s each; ` +
      `expected duration about ${formatDuration(expected)}, up to ${
        formatDuration(expectedWithReruns)
      } when disturbed runs are run again (hard limit ${formatDuration(hardLimitS)})`,
  );
  const machineLines = await machine();
  for (const line of machineLines) log(line);
  const hardLimit = setTimeout(() => {
    console.error(`${stamp()} bench: time limit of ${formatDuration(hardLimitS)} reached`);
    shutdown(1);
  }, hardLimitS * 1000);
  Deno.unrefTimer(hardLimit);

  await clockTicksPerSecond();
  const loadgen = await compileLoadgen(dir);
  log(`compiled bench/loadgen.c -> ${loadgen}`);

  // Servers and proxies.
  const [mcA, portA] = await startMemcached(group, "memcached A");
  const [mcB, portB] = await startMemcached(group, "memcached B");
  const [mcC, portC] = needBackup ? await startMemcached(group, "memcached C") : [null, 0];
  log(
    `memcached A 127.0.0.1:${portA} (pid ${mcA.pid}), B 127.0.0.1:${portB} (pid ${mcB.pid})` +
      (mcC ? `, C 127.0.0.1:${portC} (pid ${mcC.pid})` : ""),
  );
  const direct: Target = {
    id: "direct",
    servers: [`127.0.0.1:${portA}`, `127.0.0.1:${portB}`],
    proxy: null,
    memcached: [mcA, mcB],
  };
  const startProxies = async (quiet: boolean): Promise<Map<TargetId, Target>> => {
    const say = (message: string) => quiet || log(message);
    const targets = new Map<TargetId, Target>([["direct", direct]]);
    if (hasNutcracker) {
      const [nut, port] = await startNutcracker(group, dir, [portA, portB]);
      say(`twemproxy 127.0.0.1:${port} (pid ${nut.pid}), ketama over fnv1a_64`);
      targets.set("twemproxy", {
        id: "twemproxy",
        servers: [`127.0.0.1:${port}`],
        proxy: nut,
        memcached: [mcA, mcB],
      });
    }
    const [mr, mrPort] = await startMemrelay(group, "memrelay", dir, [portA, portB], []);
    say(`memrelay 127.0.0.1:${mrPort} (pid ${mr.pid}): ${await ask(mrPort, "version\r\n")}`);
    targets.set("memrelay", {
      id: "memrelay",
      servers: [`127.0.0.1:${mrPort}`],
      proxy: mr,
      memcached: [mcA, mcB],
    });
    if (needBackup && mcC) {
      const [mrb, port] = await startMemrelay(group, "memrelay -b", dir, [portA, portB], [portC]);
      say(`memrelay -b 127.0.0.1:${port} (pid ${mrb.pid}), backup pool memcached C`);
      targets.set("memrelay-b", {
        id: "memrelay-b",
        servers: [`127.0.0.1:${port}`],
        proxy: mrb,
        memcached: [mcA, mcB, mcC],
      });
    }
    return targets;
  };

  // Preload every key set through every target that reads it: direct places keys by index
  // modulo the server count, the proxies by ketama. The proxies used for it are then replaced
  // by fresh ones, so that their peak RSS is the workloads' and not the preload's.
  let targets = await startProxies(true);
  const keySetsOf = (t: TargetId) =>
    new Set(
      workloads.filter((w) => w.generator === "loadgen" && w.targets.includes(t)).map((w) =>
        w.keySet
      ),
    );
  for (const t of targets.values()) {
    for (const ks of keySetsOf(t.id)) {
      const spec = specFor(t, ks, { conns: 1, depth: 1, getRatio: 0, keysPerGet: 1 }, 1);
      const r = await preload(group, loadgen, spec);
      log(
        `preloaded ${r.preloaded} keys of ${ks.valueSize} B through ${TARGET_NAMES[t.id]} in ` +
          `${r.elapsed.toFixed(2)} s`,
      );
    }
  }
  for (const t of targets.values()) await t.proxy?.stop();
  targets = await startProxies(false);

  // memcaslap's keys begin with control bytes; a target that refuses them cannot run its rows.
  if (workloads.some((w) => w.generator === "memcaslap") && hasMemcaslap) {
    for (const t of targets.values()) {
      const port = Number(t.servers[0].split(":")[1]);
      const ok = await acceptsMemcaslapKeys(port);
      if (ok !== true) {
        for (const w of workloads.filter((w) => w.generator === "memcaslap")) {
          notApplicable.set(
            key(w.id, t.id),
            `${TARGET_NAMES[t.id]} refuses memcaslap's keys, which begin with 8 control bytes ` +
              `such as 0x10 (memcached and twemproxy store them): it answered "${ok}".`,
          );
        }
        log(`${TARGET_NAMES[t.id]} refuses memcaslap's keys ("${ok}"): memcaslap rows are n/a`);
      }
    }
  }
  const memcaslapCfg = `${dir}/memcaslap.cfg`;

  const measurements: Measurement[] = [];
  let peakIsCumulative = false;
  const runOne = async (
    w: Workload,
    t: Target,
    seconds: number,
    round: number,
  ): Promise<Measurement> => {
    const mcPids = t.memcached.map((m) => m.pid);
    const mcCpu = () => mcPids.reduce((s, pid) => s + cpuSeconds(pid), 0);
    let proxyCpu0 = 0, proxyCpu1 = 0, mc0 = 0, mc1 = 0;
    let machine0 = machineCpu(), machine1 = machine0, t0 = 0, t1 = 0;
    if (t.proxy && !resetPeakRss(t.proxy.pid)) peakIsCumulative = true;
    const before = () => {
      if (t.proxy) proxyCpu0 = cpuSeconds(t.proxy.pid);
      mc0 = mcCpu();
      machine0 = machineCpu();
      t0 = performance.now();
    };
    const after = () => {
      t1 = performance.now();
      machine1 = machineCpu();
      if (t.proxy) proxyCpu1 = cpuSeconds(t.proxy.pid);
      mc1 = mcCpu();
    };
    const wall = () => Math.max((t1 - t0) / 1000, 1e-3);
    const steal = () => (machine1.steal - machine0.steal) / wall();
    const other = (generatorCpu: number) =>
      (machine1.busy - machine0.busy - (proxyCpu1 - proxyCpu0) - (mc1 - mc0) - generatorCpu) /
      wall();
    if (t.proxy?.exited) throw new Error(`${t.proxy.name} has exited`);
    if (w.generator === "memcaslap") {
      Deno.writeTextFileSync(memcaslapCfg, memcaslapConfig(w.getRatio, w.keySet.valueSize));
      before();
      const r = await runMemcaslap(
        group,
        t.servers,
        w.conns,
        seconds,
        memcaslapCfg,
        w.keySet.valueSize,
      );
      after();
      // memcaslap's own set-up (its key window) is inside the CPU interval, not in `ops`.
      return {
        workload: w.id,
        target: t.id,
        round,
        keysPerSec: r.ops / r.elapsed,
        reqPerSec: r.ops / r.elapsed,
        p50: r.p50 ? r.p50[1] : null,
        p99: r.p99 ? r.p99[1] : null,
        coarseLatency: true,
        proxyCpuUs: t.proxy ? ((proxyCpu1 - proxyCpu0) * 1e6) / r.ops : null,
        memcachedCpuUs: ((mc1 - mc0) * 1e6) / r.ops,
        generatorCpuUs: null,
        proxyPeakRssKb: t.proxy ? peakRssKb(t.proxy.pid) : null,
        hitRatio: r.gets ? 1 - r.getMisses / r.gets : null,
        errors: r.gets + r.sets === 0 ? 1 : 0,
        otherCores: null,
        stealCores: steal(),
      };
    }
    const spec = specFor(t, w.keySet, w, seconds);
    const r = await runLoad(group, loadgen, spec, { beforeLoad: before, afterLoad: after });
    const getKeys = r.keys - r.sets;
    return {
      workload: w.id,
      target: t.id,
      round,
      keysPerSec: r.keys / r.elapsed,
      reqPerSec: r.requests / r.elapsed,
      p50: r.requests ? r.p50_us : null,
      p99: r.requests ? r.p99_us : null,
      coarseLatency: false,
      proxyCpuUs: t.proxy && r.requests ? ((proxyCpu1 - proxyCpu0) * 1e6) / r.requests : null,
      memcachedCpuUs: r.requests ? ((mc1 - mc0) * 1e6) / r.requests : 0,
      generatorCpuUs: r.requests ? (r.gen_cpu_s * 1e6) / r.requests : null,
      proxyPeakRssKb: t.proxy ? peakRssKb(t.proxy.pid) : null,
      hitRatio: getKeys > 0 ? r.hits / getKeys : null,
      errors: r.errors + r.closed,
      otherCores: other(r.gen_cpu_s),
      stealCores: steal(),
    };
  };

  const runnable = (w: Workload) =>
    w.targets.filter((t) => targets.has(t) && !notApplicable.has(key(w.id, t)));

  log(`warm-up: ${warmS} s of single gets, then ${warmShortS} s of each other workload`);
  for (const [w, id, secs] of warmPlan) {
    const t = targets.get(id);
    if (!t) continue;
    const m = await runOne(w, t, secs, 0);
    log(`  warm-up ${w.label} · ${TARGET_NAMES[id]}: ${progressLine(m)}`);
  }

  // The measured rounds.
  let retryBudget = Math.ceil(runsPerRound * opts.rounds * budget);
  let retries = 0;
  let noisyKept = 0;
  const noise = (m: Measurement) => Math.max(m.otherCores ?? 0, 0) + m.stealCores;
  const isNoisy = (m: Measurement) => noise(m) > opts.maxNoise;
  for (let round = 1; round <= opts.rounds; round++) {
    for (const w of workloads) {
      const order = runnable(w);
      const shift = (round - 1) % Math.max(order.length, 1);
      const rotated = [...order.slice(shift), ...order.slice(0, shift)];
      for (const id of rotated) {
        let m = await runOne(w, targets.get(id)!, opts.seconds, round);
        log(`round ${round}/${opts.rounds} ${w.label} · ${TARGET_NAMES[id]}: ${progressLine(m)}`);
        // Another process took CPU from the run (this machine may be shared): run it again.
        for (let retry = 1; retry <= MAX_RETRIES && isNoisy(m) && retryBudget > 0; retry++) {
          retryBudget--;
          retries++;
          log(
            `  other processes and the hypervisor took ${noise(m).toFixed(2)} cores: ` +
              "running it again",
          );
          await delay(500);
          m = await runOne(w, targets.get(id)!, opts.seconds, round);
          log(`  again: ${progressLine(m)}`);
        }
        if (isNoisy(m)) noisyKept++;
        measurements.push(m);
        if (m.hitRatio !== null && m.hitRatio < 0.999) {
          log(`  warning: only ${(m.hitRatio * 100).toFixed(2)}% of gets hit`);
        }
      }
    }
  }

  // Medians and the table.
  const summaries = new Map<string, Summary>();
  for (const w of workloads) {
    for (const t of w.targets) {
      const runs = measurements.filter((m) => m.workload === w.id && m.target === t);
      if (runs.length) summaries.set(key(w.id, t), summarize(runs));
    }
  }
  const table = formatTable({ workloads, summaries, notApplicable });
  const genCpu = median(measurements.map((m) => m.generatorCpuUs));
  const elapsed = (performance.now() - started) / 1000;
  const legend = [
    `Medians over ${opts.rounds} rounds of ${opts.seconds} s per workload and target.`,
    "Each cell: value (ratio to memcached direct / ratio to twemproxy); for the backup-pool",
    "loads the ratios are to memcached direct and twemproxy on the same load without a backup",
    "pool. What the backup costs is below the table, from runs paired within each round.",
    "keys/s counts each key of a get and each set; ± is half the range of keys/s over rounds,",
    "relative to the median. Latency is per request, from the generator's write to the end of",
    "the reply. CPU µs/req is utime+stime from /proc/PID/stat over the measured interval,",
    "divided by the requests completed in it. Peak RSS is VmHWM",
    peakIsCumulative
      ? "after the run: /proc/PID/clear_refs could not reset it, so it is the peak so far."
      : "during the run (reset through /proc/PID/clear_refs before it), the largest over rounds.",
    "memcaslap rows show its log2 latency bucket; its memcached-direct row is one server, as",
    "memcaslap -T 1 sends all its load to the first server it is given.",
    "The load generator itself used a median of " +
    `${genCpu?.toFixed(1) ?? "?"} µs of CPU per request.`,
    "Runs during which other processes and the hypervisor (steal) took more than " +
    `${opts.maxNoise} cores were run again: ${retries} reruns; ${noisyKept} of ` +
    `${measurements.length} runs kept above that. Median steal during the runs: ` +
    `${median(measurements.map((m) => m.stealCores))?.toFixed(2)} cores.`,
  ].join("\n");
  const costs = backupCosts(workloads, measurements);
  const costText = costs.length === 0 ? "" : [
    "What the backup pool costs, from memrelay with and without one run back to back in each",
    "round (keys/s with it ÷ keys/s without it; target: at least 0.85):",
    "",
    formatBackupCosts(costs),
  ].join("\n");
  const checks = checkTargets(summaries, measurements, costs);
  const targetText = [
    "Issue 7's targets in this run, each judged by the median of memrelay's ratios to twemproxy",
    "taken round by round (the two run back to back in each round), as the backup pool's cost",
    "is; the ratio of the medians in the table above is beside it:",
    "",
    formatTargetChecks(checks),
  ].join("\n");
  console.log(
    `\n${table}\n\n${legend}\n${costText ? `\n${costText}\n` : ""}\n${targetText}\n`,
  );
  for (const t of targets.values()) {
    if (t.proxy) {
      log(
        `${TARGET_NAMES[t.id]}: VmHWM ${(peakRssKb(t.proxy.pid) / 1024).toFixed(1)} MiB at the end`,
      );
    }
  }
  log(`done in ${formatDuration(elapsed)}`);

  if (opts.markdown) {
    const m = machineLines;
    const text = [
      `Run: \`deno task bench${Deno.args.length ? " " + Deno.args.join(" ") : ""}\`, ` +
      `${new Date().toISOString()}, ${formatDuration(elapsed)}.`,
      "",
      ...m.map((l) => `- ${l}`),
      "",
      table,
      "",
      legend,
      "",
      ...(costText ? [costText, ""] : []),
      targetText,
      "",
    ].join("\n");
    await Deno.writeTextFile(opts.markdown, text);
    log(`wrote ${opts.markdown}`);
  }
  if (opts.json) {
    await Deno.writeTextFile(
      opts.json,
      JSON.stringify({ opts, measurements, backupCosts: costs, targets: checks }, null, 1),
    );
    log(`wrote ${opts.json}`);
  }
}

function specFor(
  t: Target,
  ks: KeySet,
  load: Pick<Workload, "conns" | "depth" | "getRatio" | "keysPerGet">,
  seconds: number,
): LoadSpec {
  return {
    servers: t.servers,
    conns: Math.max(load.conns, t.servers.length),
    depth: load.depth,
    seconds,
    getRatio: load.getRatio,
    keysPerGet: load.keysPerGet,
    valueSize: ks.valueSize,
    keyCount: ks.count,
    keyPrefix: ks.prefix,
  };
}

// Everything started is stopped by pid, whichever way the run ends.
const group = new ProcessGroup();
let dir = "";
let stopping: Promise<never> | null = null;
/** Stops everything, removes the temporary directory and exits; the first caller's code wins. */
function shutdown(code: number): Promise<never> {
  stopping ??= (async () => {
    await group.stopAll();
    if (dir) {
      try {
        Deno.removeSync(dir, { recursive: true });
      } catch {
        // Nothing to remove.
      }
    }
    Deno.exit(code);
  })();
  return stopping;
}

if (import.meta.main) {
  const opts = parseOptions(Deno.args);
  for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
    Deno.addSignalListener(signal, () => {
      if (!stopping) console.error(`\n${stamp()} bench: ${signal}: stopping everything it started`);
      shutdown(code);
    });
  }
  try {
    dir = Deno.makeTempDirSync({ prefix: "memrelay-bench-" });
    await main(opts, group, dir);
    await shutdown(0);
  } catch (error) {
    // After Ctrl-C the run fails as its processes go away: that is not news.
    if (!stopping) console.error(`${stamp()} bench: ${(error as Error).stack ?? error}`);
    await shutdown(1);
  }
}
