import assert from "node:assert/strict";
import { TextAuthParser } from "../../lib/protocol/text/auth_parser.ts";
import { type ParsedItem, ProtocolClose } from "../../lib/protocol/text/request_parser.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function parser(): TextAuthParser {
  return new TextAuthParser((user, password) =>
    decoder.decode(user) === "alice" && decoder.decode(password) === "s3cret"
  );
}

function describe(items: ParsedItem[]): string[] {
  return items.map((item) =>
    item instanceof ProtocolClose
      ? `close:${decoder.decode(item.reply!)}`
      : decoder.decode(item as Uint8Array)
  );
}

/** Feeds `input` in chunks of `chunkSize`; returns the replies and the rest. */
function run(input: string, chunkSize = input.length): { replies: string[]; rest: string } {
  const p = parser();
  const bytes = encoder.encode(input);
  const items: ParsedItem[] = [];
  for (let i = 0; i < bytes.length; i += chunkSize) {
    items.push(...p.push(bytes.subarray(i, i + chunkSize)));
  }
  return { replies: describe(items), rest: p.authenticated ? decoder.decode(p.rest()) : "" };
}

Deno.test("before authenticating every command is answered CLIENT_ERROR unauthenticated, as memcached -Y does", () => {
  assert.deepEqual(run("get a\r\nversion\r\nquit\r\n\r\nadd x 0 0 12\r\nset x 0 0\r\n").replies, [
    "CLIENT_ERROR unauthenticated\r\n",
    "CLIENT_ERROR unauthenticated\r\n",
    "CLIENT_ERROR unauthenticated\r\n",
    "CLIENT_ERROR unauthenticated\r\n",
    "CLIENT_ERROR unauthenticated\r\n",
    "CLIENT_ERROR unauthenticated\r\n",
  ]);
});

Deno.test("a set whose data is a matching user and password authenticates, whatever its key, flags and noreply", () => {
  for (
    const input of [
      "set x 0 0 12\r\nalice s3cret\r\nget a\r\n",
      "set anything y z 12 noreply\r\nalice s3cret\r\nget a\r\n",
      "set x 0 0 15\r\n  alice  s3cret\r\nget a\r\n",
      "set x 0 0 18\r\nalice s3cret extra\r\nget a\r\n",
      "get a\nset x 0 0 12\nalice s3cret\r\nget a\r\n",
    ]
  ) {
    for (const chunkSize of [input.length, 1]) {
      const { replies, rest } = run(input, chunkSize);
      assert.equal(replies.at(-1), "STORED\r\n", input);
      assert.equal(rest, "get a\r\n", input);
    }
  }
});

Deno.test("wrong credentials, a bad format or a bad terminator are answered as memcached answers them", () => {
  assert.deepEqual(run("set x 0 0 12\r\nalice wrong!\r\nget a\r\n").replies, [
    "CLIENT_ERROR authentication failure\r\n",
    "CLIENT_ERROR unauthenticated\r\n",
  ]);
  assert.deepEqual(run("set x 0 0 12\r\nALICE s3cret\r\n").replies, [
    "CLIENT_ERROR authentication failure\r\n",
  ]);
  assert.deepEqual(run("set x 0 0 5\r\nalice\r\n").replies, [
    "CLIENT_ERROR bad authentication token format\r\n",
  ]);
  assert.deepEqual(run("set x 0 0 12\r\nalice:s3cret\r\n").replies, [
    "CLIENT_ERROR bad authentication token format\r\n",
  ]);
  assert.deepEqual(run("set x 0 0 5\r\nalicexx\r\n").replies, [
    "CLIENT_ERROR bad command line termination\r\n",
    "CLIENT_ERROR unauthenticated\r\n",
  ]);
});

Deno.test("a line over 2048 bytes or a credentials block over 1 KiB closes the connection unread", () => {
  assert.deepEqual(run("x".repeat(2049)).replies, ["close:CLIENT_ERROR line too long\r\n"]);
  assert.deepEqual(run("set x 0 0 4294967295\r\n").replies, [
    "close:CLIENT_ERROR authentication token too long\r\n",
  ]);
});
