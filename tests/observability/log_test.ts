import assert from "node:assert/strict";
import { createLogger } from "../../lib/observability/log.ts";

Deno.test("a text log line is time, level, message, then key=value, quoting values with spaces", () => {
  const lines: string[] = [];
  const log = createLogger({ write: (line) => lines.push(line) });
  log.log("warn", "server down", {
    server: "127.0.0.1:11211",
    reason: "connect failed: Connection refused",
    added: ["a/1", "b/2"],
    empty: "",
    kept: 3,
  });
  assert.match(
    lines[0],
    /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z WARN server down server=127\.0\.0\.1:11211 reason="connect failed: Connection refused" added=a\/1,b\/2 empty="" kept=3$/,
  );
});

Deno.test("a JSON log line is one object with time, level, message and the fields", () => {
  const lines: string[] = [];
  const log = createLogger({ format: "json", write: (line) => lines.push(line) });
  log.log("error", "config rejected", { reason: 'bad "x"\nline' });
  const event = JSON.parse(lines[0]);
  assert.equal(event.level, "error");
  assert.equal(event.message, "config rejected");
  assert.equal(event.reason, 'bad "x"\nline');
  assert.ok(!Number.isNaN(Date.parse(event.time)));
  assert.equal(lines[0].includes("\n"), false);
});

Deno.test("events below the logger's level are dropped", () => {
  const lines: string[] = [];
  const log = createLogger({ level: "warn", write: (line) => lines.push(line) });
  log.log("debug", "d");
  log.log("info", "i");
  log.log("warn", "w");
  log.log("error", "e");
  assert.deepEqual(lines.map((l) => l.split(" ")[1]), ["WARN", "ERROR"]);
});
