import assert from "node:assert/strict";
import { withCluster } from "../helpers/cluster.ts";

Deno.test("libmemcached's memccapable passes all 27 ASCII tests through the proxy", async () => {
  await withCluster({ primaries: 2, backups: 1 }, async ({ proxy }) => {
    const { code, stdout, stderr } = await new Deno.Command("memccapable", {
      args: ["-a", "-h", "127.0.0.1", "-p", String(proxy.port)],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const output = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
    assert.equal(output.match(/\[pass\]/g)?.length, 27, output);
    assert.match(output, /All tests passed/);
    assert.equal(code, 0);
  });
});

Deno.test("libmemcached's memccapable passes all its binary tests through the proxy", async () => {
  await withCluster({ primaries: 2, backups: 1 }, async ({ proxy }) => {
    const { code, stdout, stderr } = await new Deno.Command("memccapable", {
      args: ["-b", "-h", "127.0.0.1", "-p", String(proxy.port)],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const output = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
    // libmemcached-tools 1.1.4 has 27 binary tests; memcached 1.6.18 itself passes the same 27.
    assert.equal(output.match(/\[pass\]/g)?.length, 27, output);
    assert.doesNotMatch(output, /\[fail\]/);
    assert.match(output, /All tests passed/);
    assert.equal(code, 0);
  });
});
