import assert from "node:assert/strict";
import { ReplyKind } from "../../lib/protocol/text/response_parser.ts";
import { withCluster } from "../helpers/cluster.ts";
import { startMemcached } from "../helpers/memcached.ts";
import { startCliProxy } from "../helpers/proxy.ts";
import { TextClient } from "../helpers/text_client.ts";
import { BinaryClient, setExtras } from "../helpers/binary_client.ts";
import { Opcode, Status } from "../../lib/protocol/binary/opcodes.ts";

/** Writes an auth file of `alice:s3cret`, mode 600, in a new temporary directory. */
async function authFile(): Promise<{ path: string; remove(): Promise<void> }> {
  const dir = await Deno.makeTempDir({ prefix: "memrelay-auth-" });
  const path = `${dir}/auth`;
  await Deno.writeTextFile(path, "alice:s3cret\nbob:hunter2\n", { mode: 0o600 });
  return { path, remove: () => Deno.remove(dir, { recursive: true }) };
}

/** Each step written alone and its reply read: memcached 1.6 drops replies of pipelined ones. */
const STEPS: Array<[string, string]> = [
  ["get k\r\n", "line"],
  ["version\r\n", "line"],
  ["set k 0 0 1\r\nv\r\n", "line"],
  ["set k 0 0 12\r\nalice wrong!\r\n", "line"],
  ["set k 0 0 5\r\nalicexx", "line"],
  ["\r\n", "line"],
  ["flush_all\r\n", "line"],
  ["set auth 0 0 12 noreply\r\nalice s3cret\r\n", "line"],
  ["set k 0 0 2\r\nhi\r\n", "line"],
  ["get k\r\n", "retrieval"],
];

async function transcript(client: TextClient): Promise<string[]> {
  const replies: string[] = [];
  for (const [step, kind] of STEPS) {
    await client.write(step);
    replies.push(
      kind === "line" ? await client.readLine() : await client.readReply(ReplyKind.Retrieval),
    );
  }
  return replies;
}

Deno.test("with --auth-file, a client must authenticate as with memcached -Y, and answers match memcached's", async () => {
  const file = await authFile();
  const memcached = await startMemcached(["-Y", file.path]);
  try {
    const reference = await TextClient.connect(memcached.port);
    const expected = await transcript(reference);
    reference.close();
    assert.deepEqual(expected.slice(0, 4), [
      "CLIENT_ERROR unauthenticated\r\n",
      "CLIENT_ERROR unauthenticated\r\n",
      "CLIENT_ERROR bad authentication token format\r\n",
      "CLIENT_ERROR authentication failure\r\n",
    ]);
    await withCluster({ primaries: 1, flags: ["--auth-file", file.path] }, async (cluster) => {
      assert.deepEqual(await transcript(await cluster.client()), expected);
    });
  } finally {
    await memcached.stop();
    await file.remove();
  }
});

Deno.test("before authentication nothing reaches a server", async () => {
  const file = await authFile();
  try {
    await withCluster(
      { primaries: 1, flags: ["--auth-file", file.path] },
      async ({ client, direct, primaries }) => {
        const c = await client();
        await c.write(
          "set k 0 0 1 noreply\r\nv\r\nget k\r\ndelete k\r\nflush_all\r\nincr n 1\r\nstats\r\n",
        );
        for (let i = 0; i < 6; i++) {
          assert.match(await c.readLine(), /^CLIENT_ERROR (unauthenticated|bad authentication)/);
        }
        const stats = await (await direct(primaries[0])).stats();
        for (const counter of ["cmd_get", "cmd_set", "cmd_flush", "delete_misses", "incr_misses"]) {
          assert.match(stats, new RegExp(`STAT ${counter} 0\r\n`), counter);
        }
        await c.write("set x 0 0 11\r\nbob hunter2\r\nget k\r\n");
        assert.equal(await c.readLine(), "STORED\r\n");
        assert.equal(await c.readReply(ReplyKind.Retrieval), "END\r\n");
      },
    );
  } finally {
    await file.remove();
  }
});

Deno.test("a failed authentication is logged once per connection, never with the password", async () => {
  const file = await authFile();
  const server = await startMemcached();
  const proxy = await startCliProxy(["-s", server.address, "--auth-file", file.path]);
  try {
    const c = await TextClient.connect(proxy.port);
    await c.write("set x 0 0 12\r\nalice wrong!\r\nset x 0 0 12\r\nalice wrong?\r\n");
    assert.equal(await c.readLine(), "CLIENT_ERROR authentication failure\r\n");
    assert.equal(await c.readLine(), "CLIENT_ERROR authentication failure\r\n");
    await c.write("set x 0 0 12\r\nalice s3cret\r\n");
    assert.equal(await c.readLine(), "STORED\r\n");
    c.close();
  } finally {
    const { stderr } = await proxy.stop();
    await server.stop();
    await file.remove();
    assert.equal(stderr.match(/INFO authentication failed client=127\.0\.0\.1:\d+/g)?.length, 1);
    assert.ok(!/wrong|s3cret|hunter2/.test(stderr), "no password in the log");
  }
});

Deno.test("with --auth-file, a binary client authenticates with SASL PLAIN, and is closed if it does not", async () => {
  const file = await authFile();
  try {
    await withCluster({ primaries: 1, flags: ["--auth-file", file.path] }, async ({ proxy }) => {
      const refused = await BinaryClient.connect(proxy.port);
      assert.equal((await refused.call(Opcode.Get, { key: "k" })).status, Status.AuthError);
      assert.equal(await refused.read(), null, "closed after the error");
      refused.close();

      const c = await BinaryClient.connect(proxy.port);
      try {
        assert.equal((await c.call(Opcode.SaslListMechs)).value, "PLAIN");
        const wrong = await c.call(Opcode.SaslAuth, { key: "PLAIN", value: "\0alice\0nope" });
        assert.equal(wrong.status, Status.AuthError);
        const right = await c.call(Opcode.SaslAuth, { key: "PLAIN", value: "\0bob\0hunter2" });
        assert.equal(right.status, Status.Success);
        const set = await c.call(Opcode.Set, { key: "k", value: "v", extras: setExtras(0, 0) });
        assert.equal(set.status, Status.Success);
        assert.equal((await c.call(Opcode.Get, { key: "k" })).value, "v");
      } finally {
        c.close();
      }
    });
  } finally {
    await file.remove();
  }
});
