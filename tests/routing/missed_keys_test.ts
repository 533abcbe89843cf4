import assert from "node:assert/strict";
import { MissedKeys } from "../../lib/routing/missed_keys.ts";
import { WriteTracker } from "../../lib/routing/write_tracker.ts";
import { decodeKey } from "../../lib/backend/key_dump.ts";

const key = (s: string) => new TextEncoder().encode(s);

Deno.test("a missed key is suspect until replayed, unless it was missed again since", () => {
  const missed = new MissedKeys(10);
  missed.add(key("a"), 1);
  const [entry] = missed.oldest(1);
  missed.add(key("a"), 1); // missed again while the replay ran
  missed.replayed(entry);
  assert.ok(missed.suspects(key("a")));
  missed.replayed(missed.oldest(1)[0]);
  assert.ok(!missed.suspects(key("a")));
  assert.equal(missed.size, 0);
});

Deno.test("past its limit the set forgets its keys and distrusts everything until cleared", () => {
  const missed = new MissedKeys(2);
  for (const k of ["a", "b", "c"]) missed.add(key(k), 0);
  assert.ok(missed.overflowed);
  assert.equal(missed.size, 0);
  assert.ok(missed.suspects(key("anything")));
  missed.clear();
  assert.ok(!missed.suspects(key("anything")));
});

Deno.test("keys are told apart by every byte", () => {
  const missed = new MissedKeys(10);
  missed.add(new Uint8Array([0xc3, 0xa9]), 0);
  assert.ok(missed.suspects(new Uint8Array([0xc3, 0xa9])));
  assert.ok(!missed.suspects(new Uint8Array([0xe9])));
});

Deno.test("a key is looked up where it lies in a request, by its bounds", () => {
  const missed = new MissedKeys(10);
  missed.add(key("b"), 0);
  const line = key("get a b ab\r\n");
  assert.ok(!missed.suspects(line, 4, 5));
  assert.ok(missed.suspects(line, 6, 7));
  assert.ok(!missed.suspects(line, 8, 10));
});

Deno.test("a copy is held back by a write in flight, or begun after the copy started", () => {
  const tracker = new WriteTracker();
  const before = tracker.now();
  tracker.begin(5);
  assert.ok(!tracker.quietSince(5, tracker.now()), "in flight");
  tracker.end(5);
  assert.ok(!tracker.quietSince(5, before), "begun after");
  assert.ok(tracker.quietSince(5, tracker.now()));
  assert.ok(tracker.quietSince(6, before), "another slot");
});

Deno.test("metadump's URI-encoded keys decode to their bytes", () => {
  assert.deepEqual(decodeKey("a%25b"), key("a%b"));
  assert.deepEqual(decodeKey("k%C3%A9"), new Uint8Array([0x6b, 0xc3, 0xa9]));
});
