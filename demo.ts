/**
 * `deno task demo`: a first look at memrelay. Starts two memcached primaries and one backup on
 * free loopback ports, the proxy in front of them, writes a few keys, shows where each landed,
 * and explains how to kill a server and watch the values survive. Ctrl-C stops it all.
 *
 * @module
 */

import { parseCommandLine } from "./lib/config/magent_flags.ts";
import { createLogger } from "./lib/observability/log.ts";
import { startProxy } from "./lib/server/proxy.ts";
import { freePort } from "./tests/helpers/free_port.ts";
import {
  memcachedInstalled,
  type MemcachedServer,
  startMemcacheds,
} from "./tests/helpers/memcached.ts";
import { TextClient } from "./tests/helpers/text_client.ts";

if (!(await memcachedInstalled())) {
  console.error(
    "memcached is not installed. Install it, then run `deno task demo` again:\n" +
      "  Debian/Ubuntu: sudo apt-get install -y memcached\n" +
      "  macOS:         brew install memcached",
  );
  Deno.exit(1);
}

const [primaryA, primaryB, backup] = await startMemcacheds(3);
const servers: MemcachedServer[] = [primaryA, primaryB, backup];
const port = freePort();
const flags = ["-p", String(port), "-s", primaryA.address, "-s", primaryB.address];
const parsed = parseCommandLine([...flags, "-b", backup.address]);
if (parsed.action !== "run") throw new Error("the demo's flags did not ask for a proxy");
const proxy = await startProxy(parsed.config, { logger: createLogger({ level: "warn" }) });

const client = await TextClient.connect(port);
const keys = ["user:1", "user:2", "cart:7", "session:42"];
for (const key of keys) await client.set(key, `hello from ${key}`);
client.close();

const names = new Map([[primaryA, "primary A"], [primaryB, "primary B"], [backup, "backup"]]);
const placement: string[] = [];
for (const key of keys) {
  const holders: string[] = [];
  for (const server of servers) {
    const direct = await TextClient.connect(server.port);
    if ((await direct.get(`get ${key}`)) !== "END\r\n") holders.push(names.get(server)!);
    direct.close();
  }
  placement.push(`  ${key.padEnd(11)} on ${holders.join(" and ")}`);
}

console.log(`memrelay is running on 127.0.0.1:${port}, in front of:
  primary A  ${primaryA.address}  (pid ${primaryA.pid})
  primary B  ${primaryB.address}  (pid ${primaryB.pid})
  backup     ${backup.address}  (pid ${backup.pid})

The same command line, outside the demo:
  deno task start ${flags.join(" ")} -b ${backup.address}

Keys written through the proxy, and where they landed:
${placement.join("\n")}

Talk to it:
  telnet 127.0.0.1 ${port}        (then type: get user:1)
  printf 'get user:1 user:2 cart:7 session:42\\r\\n' | nc -q1 127.0.0.1 ${port}

Kill a primary and watch the values survive on the backup:
  kill ${primaryA.pid}
  printf 'get user:1 user:2 cart:7 session:42\\r\\n' | nc -q1 127.0.0.1 ${port}

Press Ctrl-C to stop the proxy and the three memcached servers.`);

const { promise: stopped, resolve: stop } = Promise.withResolvers<void>();
Deno.addSignalListener("SIGINT", () => stop());
Deno.addSignalListener("SIGTERM", () => stop());
await stopped;
await proxy.close();
await Promise.all(servers.map((s) => s.stop()));
console.log("\nStopped the proxy and the memcached servers.");
