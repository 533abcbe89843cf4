import assert from "node:assert/strict";
import { Credentials } from "../../lib/server/credentials.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

Deno.test("an auth file's users are checked by name and whole password, as memcached's -Y file", () => {
  const credentials = Credentials.parse("alice:s3cret\r\nbob:pa:ss\n\n", "auth");
  assert.equal(credentials.check(bytes("alice"), bytes("s3cret")), true);
  assert.equal(credentials.check(bytes("bob"), bytes("pa:ss")), true);
  assert.equal(credentials.check(bytes("alice"), bytes("pa:ss")), false);
  assert.equal(credentials.check(bytes("alice"), bytes("s3cre")), false);
  assert.equal(credentials.check(bytes("alice"), bytes("s3cret ")), false);
  assert.equal(credentials.check(bytes("alic"), bytes("s3cret")), false);
  assert.equal(credentials.check(bytes(""), bytes("")), false);
});

Deno.test("a malformed auth file is refused with its name and line, never its contents", () => {
  const refuse = (text: string, message: string) =>
    assert.throws(() => Credentials.parse(text, "/etc/auth"), { message });
  refuse(
    "alice:ok\nnocolon-secret\n",
    "/etc/auth, line 2: expected user:password, with neither part empty",
  );
  refuse(":secret\n", "/etc/auth, line 1: expected user:password, with neither part empty");
  refuse("alice:\n", "/etc/auth, line 1: expected user:password, with neither part empty");
  refuse(
    "alice:two words\n",
    '/etc/auth, line 1: a space can never match: clients send "user password" split at spaces',
  );
  refuse("\n", "/etc/auth: no users: add a line user:password");
  assert.throws(
    () => Credentials.load("/nonexistent/memrelay-auth"),
    { message: "cannot read the auth file /nonexistent/memrelay-auth: no such file" },
  );
});
