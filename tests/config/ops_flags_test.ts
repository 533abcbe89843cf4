import assert from "node:assert/strict";
import { opsOptions } from "../../lib/config/ops_flags.ts";
import { ConfigError } from "../../lib/config/server_address.ts";

Deno.test("--io defaults to auto, takes epoll or deno, and refuses anything else", () => {
  assert.equal(opsOptions({}).io, "auto");
  assert.equal(opsOptions({ io: "epoll" }).io, "epoll");
  assert.equal(opsOptions({ io: "deno" }).io, "deno");
  assert.throws(() => opsOptions({ io: "uring" }), ConfigError);
});
