import { exptimeFor } from "../protocol/text/item_state.ts";
import { Command } from "../protocol/text/command.ts";
import { firstFlag, hasBase64Key, metaFlag } from "../protocol/meta/meta_request.ts";
import { isServerError } from "../protocol/text/replies.ts";
import { buildLine } from "../protocol/text/request_lines.ts";
import { ReplyKind } from "../protocol/text/response_parser.ts";
import type { TextRequest } from "../protocol/text/text_request.ts";
import { AWAIT_STATE, type WriteRule } from "./write_rule.ts";

const encoder = new TextEncoder();
const MS = encoder.encode("ms");
const MD = encoder.encode("md");
const MG = encoder.encode("mg");
const BASE64 = encoder.encode("b");
const VFT = [encoder.encode("v"), encoder.encode("f"), encoder.encode("t")];
const H = 0x48;
const D = 0x44;
const V = 0x56;
const A = 0x41;
const S = 0x53;
const M = 0x4d;
const C = 0x43;
const F = 0x46;
const T = 0x54;
const N = 0x4e;
const I = 0x49;
const X = 0x78;

const isHd = (reply: Uint8Array) => reply[0] === H && reply[1] === D;

/**
 * The replication of a meta write (`ms`, `md`, `ma`). Backups get plain commands that only set
 * what the primary made, never the client's compare or output flags (`C`, `E`, `I`, `O`, `k`,
 * `c`, `q`…), since cas values differ from server to server:
 * - `ms` that stored (`HD`): `ms <key> <size> F T` of the same value; in append or prepend mode
 *   the same append or prepend (with its `N`); `ms` that failed with `SERVER_ERROR` (memcached
 *   then drops the old value): `md <key>`;
 * - `md`: `md <key>` with its `I`, `T`, `x`, whatever the primary answered, since a backup may
 *   hold a key its primary lost; with a compare (`C`), only when the primary deleted;
 * - `ma` that changed the value (`HD` or `VA`): an `ms` of the primary's result with its flags
 *   and TTL, read with `mg <key> v f t` right after, so a delta is never applied twice; without
 *   that state, `md <key>`.
 *
 * A base64 key (`b`) stays in base64, with its `b`, in everything the backups get.
 */
export function metaWriteRule(request: TextRequest): WriteRule {
  const command = request.command;
  const keyToken = request.tokens[1];
  const keyWords = hasBase64Key(request) ? [keyToken, BASE64] : [keyToken];
  const deleteLine = () => buildLine([MD, ...keyWords, ...kept(request, [I, T, X])]);
  return {
    request,
    key: request.keys[0],
    bytes: request.raw,
    replyKind: ReplyKind.Meta,
    noreply: request.noreply,
    stateRequest: command === Command.MetaArithmetic ? buildLine([MG, ...keyWords, ...VFT]) : null,
    afterPrimary(reply) {
      if (command === Command.MetaSet) {
        if (isHd(reply)) return backupSet(request, keyWords);
        return isServerError(reply) ? buildLine([MD, ...keyWords]) : null;
      }
      if (command === Command.MetaDelete) {
        return metaFlag(request, C) === null || isHd(reply) ? deleteLine() : null;
      }
      return isHd(reply) || (reply[0] === V && reply[1] === A) ? AWAIT_STATE : null;
    },
    fromState(item) {
      if (item === null) return buildLine([MD, ...keyWords]);
      const size = encoder.encode(String(item.data.length - 2));
      const flags = encoder.encode(`F${item.flags}`);
      const ttl = encoder.encode(`T${exptimeFor(item.ttl)}`);
      return buildLine([MS, keyWords[0], size, ...keyWords.slice(1), flags, ttl], item.data);
    },
  };
}

/** The flag tokens of `request` whose letter is one of `letters`, in order. */
function kept(request: TextRequest, letters: number[]): Uint8Array[] {
  const tokens = request.tokens;
  const out: Uint8Array[] = [];
  for (let t = firstFlag(request.command); t < tokens.length; t++) {
    if (letters.includes(tokens[t][0])) out.push(tokens[t]);
  }
  return out;
}

/** What a backup gets for an `ms` its primary stored. */
function backupSet(request: TextRequest, keyWords: Uint8Array[]): Uint8Array {
  const mode = metaFlag(request, M);
  const letter = mode === null ? S : mode[1] & ~0x20; // upper case
  const appends = letter === A || letter === 0x50; // A, P
  const words = [MS, keyWords[0], request.tokens[2], ...keyWords.slice(1)];
  words.push(...kept(request, appends ? [F, T, M, N] : [F, T]));
  return buildLine(words, request.data);
}
