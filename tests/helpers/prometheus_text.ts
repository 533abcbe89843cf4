/**
 * A small, strict parser of Prometheus' text exposition format (0.0.4), for tests: it throws,
 * naming the line, on anything a scraper could read differently than meant.
 *
 * Checked: the line grammar (names, labels and their escapes, values, timestamps); one HELP and
 * one TYPE per family, TYPE before its samples, and every family typed; a family's samples all
 * together; no series twice; counters not negative; each histogram series with ascending `le`
 * buckets whose counts never fall, a `+Inf` bucket equal to `_count`, and a `_sum`; a final
 * newline, no carriage returns, no blank lines.
 *
 * @module
 */

/** One sample line. */
export interface Sample {
  /** The sample's own name, such as `x_bucket`. */
  name: string;
  /** Its labels. */
  labels: Record<string, string>;
  /** Its value. */
  value: number;
}

/** One metric family. */
export interface Family {
  /** `counter`, `gauge`, `histogram`, `summary` or `untyped`. */
  type: string;
  /** The HELP text, unescaped. */
  help: string;
  /** Its samples, in order. */
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

function parseValue(text: string, where: string): number {
  if (text === "+Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (text === "NaN") return NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) {
    throw new Error(`${where}: "${text}" is not a value`);
  }
  return Number(text);
}

/** Reads `{a="x",b="y"}` from `line` at `i`; returns the labels and where they end. */
function parseLabels(line: string, i: number, where: string): [Record<string, string>, number] {
  const labels: Record<string, string> = {};
  i++; // "{"
  while (true) {
    if (line[i] === "}") return [labels, i + 1];
    const eq = line.indexOf("=", i);
    if (eq < 0) throw new Error(`${where}: a label without "="`);
    const name = line.slice(i, eq);
    if (!LABEL.test(name) || name.startsWith("__")) {
      throw new Error(`${where}: bad label name "${name}"`);
    }
    if (name in labels) throw new Error(`${where}: label "${name}" twice`);
    if (line[eq + 1] !== '"') throw new Error(`${where}: label "${name}" value is not quoted`);
    let value = "";
    let j = eq + 2;
    for (;; j++) {
      const c = line[j];
      if (c === undefined) throw new Error(`${where}: unterminated label value`);
      if (c === '"') break;
      if (c === "\\") {
        const next = line[++j];
        if (next === "\\") value += "\\";
        else if (next === '"') value += '"';
        else if (next === "n") value += "\n";
        else throw new Error(`${where}: bad escape "\\${next}" in a label value`);
      } else {
        value += c;
      }
    }
    labels[name] = value;
    i = j + 1;
    if (line[i] === ",") i++;
    else if (line[i] !== "}") throw new Error(`${where}: expected "," or "}" after a label`);
  }
}

/** The family a sample name belongs to, given the families typed so far. */
function familyOf(name: string, families: Map<string, Family>): string {
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (!name.endsWith(suffix)) continue;
    const base = name.slice(0, -suffix.length);
    const type = families.get(base)?.type;
    if (type === "histogram" || (type === "summary" && suffix !== "_bucket")) return base;
  }
  return name;
}

/** Parses and checks `text`; throws naming the first line that breaks a rule. */
export function parsePrometheusText(text: string): Map<string, Family> {
  if (text.includes("\r")) throw new Error("a carriage return");
  if (text !== "" && !text.endsWith("\n")) throw new Error("no newline after the last line");
  const families = new Map<string, Family>();
  const finished = new Set<string>();
  const series = new Set<string>();
  let current: string | null = null;
  const lines = text.split("\n").slice(0, -1);
  lines.forEach((line, index) => {
    const where = `line ${index + 1} (${JSON.stringify(line)})`;
    if (line === "") throw new Error(`${where}: a blank line`);
    const family = (name: string): Family => {
      let f = families.get(name);
      if (f === undefined) {
        f = { type: "", help: "", samples: [] };
        families.set(name, f);
      }
      return f;
    };
    if (line.startsWith("#")) {
      const match = line.match(/^# (HELP|TYPE) (\S+) ?(.*)$/);
      if (match === null) return; // a comment
      const [, keyword, name, rest] = match;
      if (!NAME.test(name)) throw new Error(`${where}: bad metric name "${name}"`);
      const f = family(name);
      if (f.samples.length > 0 || finished.has(name)) {
        throw new Error(`${where}: ${keyword} after the family's samples`);
      }
      if (keyword === "TYPE") {
        if (f.type !== "") throw new Error(`${where}: a second TYPE`);
        if (!TYPES.has(rest)) throw new Error(`${where}: unknown type "${rest}"`);
        f.type = rest;
      } else {
        if (f.help !== "") throw new Error(`${where}: a second HELP`);
        if (/\\[^\\n]/.test(rest.replace(/\\\\/g, ""))) {
          throw new Error(`${where}: bad escape in HELP`);
        }
        f.help = rest.replace(/\\(\\|n)/g, (_, c) => c === "n" ? "\n" : "\\");
      }
      return;
    }
    const nameEnd = line.search(/[{ ]/);
    if (nameEnd <= 0) throw new Error(`${where}: no value`);
    const name = line.slice(0, nameEnd);
    if (!NAME.test(name)) throw new Error(`${where}: bad metric name "${name}"`);
    let labels: Record<string, string> = {};
    let i = nameEnd;
    if (line[i] === "{") [labels, i] = parseLabels(line, i, where);
    if (line[i] !== " ") throw new Error(`${where}: expected a space before the value`);
    const parts = line.slice(i + 1).split(" ");
    if (parts.length > 2 || parts[0] === "") {
      throw new Error(`${where}: expected value [timestamp]`);
    }
    const value = parseValue(parts[0], where);
    if (parts.length === 2 && !/^-?\d+$/.test(parts[1])) {
      throw new Error(`${where}: bad timestamp "${parts[1]}"`);
    }
    const base = familyOf(name, families);
    const f = families.get(base);
    if (f === undefined || f.type === "") throw new Error(`${where}: no TYPE for "${base}"`);
    if (current !== base) {
      if (finished.has(base)) throw new Error(`${where}: "${base}" samples are not together`);
      if (current !== null) finished.add(current);
      current = base;
    }
    const key = name + JSON.stringify(Object.entries(labels).sort());
    if (series.has(key)) throw new Error(`${where}: the same series twice`);
    series.add(key);
    if (f.type === "counter" && !(value >= 0)) throw new Error(`${where}: a counter below 0`);
    if (f.type === "histogram") {
      if (name === `${base}_bucket` && !("le" in labels)) throw new Error(`${where}: no le`);
      if (name === base) throw new Error(`${where}: a histogram sample without a suffix`);
    }
    f.samples.push({ name, labels, value });
  });
  for (const [name, f] of families) {
    if (f.type === "histogram") checkHistogram(name, f);
  }
  return families;
}

function checkHistogram(name: string, f: Family): void {
  const bySeries = new Map<
    string,
    { buckets: Array<[number, number]>; count?: number; sum?: number }
  >();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const entry = bySeries.get(key) ?? { buckets: [] };
    bySeries.set(key, entry);
    if (s.name.endsWith("_bucket")) entry.buckets.push([parseValue(le, `${name} le`), s.value]);
    else if (s.name.endsWith("_count")) entry.count = s.value;
    else entry.sum = s.value;
  }
  for (const [key, { buckets, count, sum }] of bySeries) {
    const where = `histogram ${name} ${key}`;
    for (let i = 1; i < buckets.length; i++) {
      if (!(buckets[i][0] > buckets[i - 1][0])) throw new Error(`${where}: le not ascending`);
      if (buckets[i][1] < buckets[i - 1][1]) throw new Error(`${where}: a bucket count falls`);
    }
    if (buckets.at(-1)?.[0] !== Infinity) throw new Error(`${where}: no +Inf bucket`);
    if (count === undefined || sum === undefined) throw new Error(`${where}: no _count or _sum`);
    if (buckets.at(-1)![1] !== count) throw new Error(`${where}: +Inf bucket is not _count`);
  }
}

/** The value of the one sample of `name` whose labels include `labels`; throws if not one. */
export function sampleValue(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string> = {},
): number {
  const matches = [...families.values()].flatMap((f) => f.samples).filter((s) =>
    s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)
  );
  if (matches.length !== 1) {
    throw new Error(`${matches.length} samples ${name}${JSON.stringify(labels)}`);
  }
  return matches[0].value;
}
