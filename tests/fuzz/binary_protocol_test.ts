import assert from "node:assert/strict";
import { binaryResponse } from "../../lib/protocol/binary/binary_responses.ts";
import { SeededRandom } from "../helpers/random.ts";
import { binaryProtocol, checkBinaryResponses } from "./binary_protocol.ts";
import { metaProtocol } from "./meta_protocol.ts";

const opaque = new Uint8Array(4);

Deno.test("the binary fuzzer's checker takes whole responses with known statuses only", () => {
  const ok = binaryResponse(0x00, opaque, { extras: new Uint8Array(4), value: new Uint8Array(3) });
  assert.equal(checkBinaryResponses(Uint8Array.from([...ok, ...ok])), null);
  assert.equal(checkBinaryResponses(ok.subarray(0, 30)), "a response body cut short at byte 0");
  assert.equal(checkBinaryResponses(ok.subarray(0, 10)), "a response header cut short at byte 0");
  assert.equal(
    checkBinaryResponses(binaryResponse(0x00, opaque, { status: 0x99 })),
    "an unknown status 0x99 at 0",
  );
});

Deno.test("the binary and meta fuzzers' cases are the same for the same seed", () => {
  for (const protocol of [binaryProtocol, metaProtocol]) {
    for (let seed = 0; seed < 30; seed++) {
      assert.deepEqual(
        protocol.generate(new SeededRandom(seed)),
        protocol.generate(new SeededRandom(seed)),
      );
    }
  }
});
