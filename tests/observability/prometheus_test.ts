import assert from "node:assert/strict";
import { LatencyHistogram } from "../../lib/observability/latency_histogram.ts";
import { counterName, prometheusText } from "../../lib/observability/prometheus.ts";
import type { ProxySnapshot } from "../../lib/observability/snapshot.ts";
import { ProxyStats } from "../../lib/observability/stats.ts";
import { parsePrometheusText, sampleValue } from "../helpers/prometheus_text.ts";

function snapshot(): ProxySnapshot {
  const stats = new ProxyStats();
  stats.cmdGet = 7;
  stats.currConnections = 2;
  const latency = new LatencyHistogram();
  for (const ms of [0.05, 0.2, 3, 40]) latency.record(ms, 0);
  return {
    stats,
    version: "1.6.0-memrelay-test",
    extra: [{ name: "servers_down", value: 1, kind: "gauge", help: "Down now." }],
    servers: [{
      pool: 'we"ird\\pool\n',
      address: "[::1]:11211",
      role: "primary",
      up: false,
      failures: 3,
      inFlight: 0,
      timeouts: 1,
      markedDown: 1,
      bytesIn: 10,
      bytesOut: 20,
      latency,
    }],
    pools: [{ name: 'we"ird\\pool\n', primaries: 1, primariesUp: 0 }],
  };
}

Deno.test("the metrics text parses strictly, labels escaped, every ProxyStats field a family", () => {
  const families = parsePrometheusText(prometheusText(snapshot()));
  const labels = { server: "[::1]:11211", pool: 'we"ird\\pool\n' };
  assert.equal(sampleValue(families, "memrelay_backend_up", labels), 0);
  assert.equal(sampleValue(families, "memrelay_backend_consecutive_failures", labels), 3);
  assert.equal(sampleValue(families, "memrelay_cmd_get_total"), 7);
  assert.equal(families.get("memrelay_cmd_get_total")!.type, "counter");
  assert.equal(sampleValue(families, "memrelay_curr_connections"), 2);
  assert.equal(families.get("memrelay_curr_connections")!.type, "gauge");
  assert.equal(sampleValue(families, "memrelay_servers_down"), 1);
  assert.ok(families.has("memrelay_connections_total"), "total_connections, named as a counter");
  const latency = families.get("memrelay_backend_latency_seconds")!;
  assert.equal(latency.type, "histogram");
  assert.equal(sampleValue(families, "memrelay_backend_latency_seconds_count", labels), 4);
  // 50 µs, 200 µs, 3 ms and 40 ms, counted at power-of-two bounds.
  const bounds: Array<[string, number]> = [["0.000064", 1], ["0.000256", 2], ["0.004096", 3], [
    "0.065536",
    4,
  ]];
  for (const [le, count] of bounds) {
    assert.equal(
      sampleValue(families, "memrelay_backend_latency_seconds_bucket", { ...labels, le }),
      count,
      `le ${le}`,
    );
  }
  for (const name of Object.keys(new ProxyStats())) {
    if (name === "startedAt") continue;
    const snake = name.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase());
    assert.ok(
      families.has(counterName(snake)) || families.has(`memrelay_${snake}`),
      `a family for ${name}`,
    );
  }
});

Deno.test("the strict parser refuses what a scraper could misread", () => {
  const bad: Array<[string, RegExp]> = [
    ["# TYPE x counter\nx 1", /no newline/],
    ["x 1\n", /no TYPE/],
    ["# TYPE x counter\nx -1\n", /counter below 0/],
    ['# TYPE x gauge\nx{a="1} 2\n', /unterminated|expected/],
    ['# TYPE x gauge\nx{a="\\q"} 2\n', /bad escape/],
    ["# TYPE x gauge\nx 1\nx 2\n", /same series twice/],
    ['# TYPE x gauge\n# TYPE y gauge\nx 1\ny 1\nx{a="b"} 1\n', /not together/],
    ["# TYPE x gauge\nx 1\n# HELP x late\n", /after the family's samples/],
    ["# TYPE x gauge\nx one\n", /not a value/],
    ["# TYPE x gauge\n\nx 1\n", /blank line/],
    [
      '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
      /bucket count falls/,
    ],
    [
      '# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n',
      /\+Inf bucket is not _count/,
    ],
  ];
  for (const [text, message] of bad) {
    assert.throws(() => parsePrometheusText(text), message, JSON.stringify(text));
  }
});
