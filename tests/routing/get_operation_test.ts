import assert from "node:assert/strict";
import type { ReplyHandler } from "../../lib/backend/reply_handler.ts";
import type { Backend } from "../../lib/backend/backend.ts";
import { buildDistribution } from "../../lib/distribution/build.ts";
import { hashFunction } from "../../lib/hash/hash_functions.ts";
import { silentLogger } from "../../lib/observability/log.ts";
import { ProxyStats } from "../../lib/observability/stats.ts";
import { TextRequestParser } from "../../lib/protocol/text/request_parser.ts";
import type { TextRequest } from "../../lib/protocol/text/text_request.ts";
import { GetOperation } from "../../lib/routing/get_operation.ts";
import { Pool } from "../../lib/routing/pool.ts";
import { ServerGroup } from "../../lib/routing/server_group.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** What one fake server was sent: the request's keys, and whom to answer. */
interface Sent {
  keys: string[];
  handler: ReplyHandler;
  tag: number;
}

/** A group of fake servers that record what they are sent. */
function fakeGroup(names: string[], sent: Sent[][]): ServerGroup {
  const backends = names.map((_, i) => {
    sent[i] = [];
    return {
      up: true,
      send(bytes: Uint8Array, _kind: number, handler: ReplyHandler, tag: number) {
        const keys = decoder.decode(bytes).trim().split(" ").slice(1);
        sent[i].push({ keys, handler, tag });
      },
    } as unknown as Backend;
  });
  const weighted = names.map((name) => ({ name, weight: 1 }));
  return new ServerGroup(
    backends,
    (live) => buildDistribution("ketama", live.map((i) => weighted[i])),
  );
}

/** A pool of two fake primaries and, if asked, one fake backup. */
function fakePool(withBackup: boolean) {
  const primarySent: Sent[][] = [];
  const backupSent: Sent[][] = [];
  const primaries = fakeGroup(["127.0.0.1:1", "127.0.0.1:2"], primarySent);
  const backups = withBackup ? [fakeGroup(["127.0.0.1:3"], backupSent)] : [];
  const replication = {
    options: { replayLimit: 100, refillRate: 100, settleMs: 0, timeoutMs: 1000 },
    logger: silentLogger,
  };
  const pool = new Pool(
    primaries,
    backups,
    hashFunction("fnv1a_64"),
    null,
    new ProxyStats(),
    replication,
  );
  return { pool, primarySent, backupSent };
}

/** A sink that keeps what it gets, copying only a transient reply, as the contract asks. */
function recordingSink() {
  const kept: Uint8Array[] = [];
  return {
    replies: () => kept.map((reply) => decoder.decode(reply)),
    sink: {
      affinity: 0,
      complete(_seq: number, reply: Uint8Array, transient = false) {
        kept.push(transient ? reply.slice() : reply);
      },
    },
  };
}

/**
 * Answers `sent` with a hit for each of its keys, as a connection would: a handler that takes
 * transient replies gets a view into a buffer that is scribbled over once `onReply` returns.
 * Returns whether it was handed over as transient.
 */
function answer(sent: Sent, hits: string[] = sent.keys): boolean {
  const text = hits.map(block).join("") + "END\r\n";
  const transient = sent.handler.takesTransientReplies === true;
  const buffer = new Uint8Array(text.length + 8);
  encoder.encodeInto(text, buffer.subarray(4));
  sent.handler.onReply(buffer.subarray(4, 4 + text.length), sent.tag, transient);
  if (transient) buffer.fill(0x3f);
  return transient;
}

function getRequest(keys: string[]): TextRequest {
  return new TextRequestParser().push(
    encoder.encode(`get ${keys.join(" ")}\r\n`),
  )[0] as TextRequest;
}

/** A key's block: its value is the key five times, so that 40 of them fill over 4 KiB. */
function block(key: string): string {
  return `VALUE ${key} 0 ${key.length * 5}\r\n${key.repeat(5)}\r\n`;
}

const KEYS = Array.from({ length: 40 }, (_, i) => `key:${(i * 2654435761) >>> 0}:${i}`);
const MERGED = KEYS.map(block).join("") + "END\r\n";

Deno.test("without backups only the last reply awaited is taken as a view, and the answer is whole though the view is reused", () => {
  const { pool, primarySent } = fakePool(false);
  const { sink, replies } = recordingSink();
  const reversed = KEYS.toReversed();
  new GetOperation(pool, getRequest(KEYS), sink, 0).start();
  assert.ok(primarySent[0].length === 1 && primarySent[1].length === 1, "both servers asked");
  assert.equal(answer(primarySent[1][0]), false);
  assert.equal(answer(primarySent[0][0]), true);
  // A second merge, of over 4 KiB too, reuses the buffer the first was put together in.
  new GetOperation(pool, getRequest(reversed), sink, 1).start();
  answer(primarySent[0][1]);
  answer(primarySent[1][1]);
  assert.deepEqual(replies(), [MERGED, reversed.map(block).join("") + "END\r\n"]);
});

Deno.test("with a backup pool no reply is taken as a view: the last primary's misses go on to the backup", () => {
  const { pool, primarySent, backupSent } = fakePool(true);
  const { sink, replies } = recordingSink();
  new GetOperation(pool, getRequest(KEYS), sink, 0).start();
  assert.equal(answer(primarySent[0][0]), false);
  const [first, ...rest] = primarySent[1][0].keys;
  assert.equal(answer(primarySent[1][0], rest), false);
  assert.deepEqual(backupSent[0].map((s) => s.keys), [[first]]);
  assert.equal(answer(backupSent[0][0]), false);
  assert.deepEqual(replies(), [MERGED]);
});

Deno.test("a get that one server answers whole is passed on as that server's reply, a view only while it is handled", () => {
  const { pool, primarySent } = fakePool(false);
  const { sink, replies } = recordingSink();
  new GetOperation(pool, getRequest([KEYS[0]]), sink, 0).start();
  const sent = primarySent.flat();
  assert.equal(sent.length, 1);
  assert.equal(answer(sent[0]), true);
  assert.deepEqual(replies(), [`${block(KEYS[0])}END\r\n`]);
});

Deno.test("a merged reply over 1 MiB is the operation's own; one over 4 KiB is a view into the reused buffer", () => {
  const { pool, primarySent } = fakePool(false);
  const transients: boolean[] = [];
  const sink = {
    affinity: 0,
    complete(_seq: number, _reply: Uint8Array, transient = false) {
      transients.push(transient);
    },
  };
  new GetOperation(pool, getRequest(KEYS), sink, 0).start();
  const value = "v".repeat(40_000);
  for (const sent of primarySent.flat()) {
    const text = sent.keys.map((k) => `VALUE ${k} 0 ${value.length}\r\n${value}\r\n`).join("");
    sent.handler.onReply(encoder.encode(text + "END\r\n"), sent.tag, false);
  }
  new GetOperation(pool, getRequest(KEYS), sink, 1).start();
  answer(primarySent[0][1]);
  answer(primarySent[1][1]);
  assert.deepEqual(transients, [false, true]);
});
