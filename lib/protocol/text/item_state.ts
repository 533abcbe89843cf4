/**
 * The meta-protocol requests and replies the proxy itself sends to servers, to copy one key from
 * a replica to another: `mg <key> v f t` and its `VA` reply. A key that cannot go on a command
 * line as it is (a binary-protocol key may hold spaces) goes in base64, with meta commands.
 *
 * @module
 */

import { encodeBase64Key, isPlainKey, metaKeyWords } from "../meta/meta_key.ts";
import { buildLine } from "./request_lines.ts";

const encoder = new TextEncoder();
const MG = encoder.encode("mg");
const VFT = [encoder.encode("v"), encoder.encode("f"), encoder.encode("t")];
const ADD = encoder.encode("add");
const TOUCH = encoder.encode("touch");
const SET = encoder.encode("set");
const MS = encoder.encode("ms");
const BASE64 = encoder.encode("b");
const MODE_ADD = encoder.encode("ME");
const SPACE = 0x20;
const LF = 0x0a;

/** memcached reads an exptime above 30 days as a Unix time. */
const MAX_RELATIVE_EXPTIME = 60 * 60 * 24 * 30;

/** A key's value, flags and remaining life, as `mg <key> v f t` returns them. */
export interface ItemState {
  /** The client flags. */
  flags: number;
  /** Seconds left to live; -1 when the item never expires. */
  ttl: number;
  /** The value followed by `\r\n`, a view into the reply. */
  data: Uint8Array;
}

/** `mg <key> v f t`: the value, flags and remaining TTL of `key`. */
export function itemStateRequest(key: Uint8Array): Uint8Array {
  return buildLine([MG, ...metaKeyWords(key), ...VFT]);
}

/**
 * The item in a reply to {@linkcode itemStateRequest}, or null for a miss (`EN`) or anything
 * else.
 *
 * @example
 * ```ts
 * import { parseItemState } from "./item_state.ts";
 * const reply = new TextEncoder().encode("VA 2 f5 t-1\r\nhi\r\n");
 * console.log(parseItemState(reply)?.flags); // 5
 * ```
 */
export function parseItemState(reply: Uint8Array): ItemState | null {
  if (reply[0] !== 0x56 || reply[1] !== 0x41 || reply[2] !== SPACE) return null; // "VA "
  let lf = 3;
  while (lf < reply.length && reply[lf] !== LF) lf++;
  let flags = 0;
  let ttl = -1;
  let i = 3;
  while (i < lf && reply[i] !== SPACE) i++; // the size
  while (i < lf) {
    while (i < lf && reply[i] === SPACE) i++;
    const flag = reply[i++];
    let negative = false;
    if (reply[i] === 0x2d) {
      negative = true;
      i++;
    }
    let n = 0;
    for (; i < lf && reply[i] >= 0x30 && reply[i] <= 0x39; i++) n = n * 10 + reply[i] - 0x30;
    while (i < lf && reply[i] !== SPACE) i++;
    if (flag === 0x66) flags = n; // f
    else if (flag === 0x74) ttl = negative ? -1 : n; // t
  }
  return { flags, ttl, data: reply.subarray(lf + 1) };
}

/** The exptime that gives an item `ttl` seconds more to live, as text commands take it. */
export function exptimeFor(ttl: number, nowSeconds = Math.floor(Date.now() / 1000)): number {
  if (ttl < 0) return 0;
  if (ttl === 0) return 1;
  return ttl > MAX_RELATIVE_EXPTIME ? nowSeconds + ttl : ttl;
}

function stateLine(command: Uint8Array, key: Uint8Array, item: ItemState): Uint8Array {
  if (!isPlainKey(key)) {
    const words = [
      MS,
      encodeBase64Key(key),
      encoder.encode(String(item.data.length - 2)),
      BASE64,
      encoder.encode(`F${item.flags}`),
      encoder.encode(`T${exptimeFor(item.ttl)}`),
    ];
    if (command === ADD) words.push(MODE_ADD);
    return buildLine(words, item.data);
  }
  const words = [
    command,
    key,
    encoder.encode(String(item.flags)),
    encoder.encode(String(exptimeFor(item.ttl))),
    encoder.encode(String(item.data.length - 2)),
  ];
  return buildLine(words, item.data);
}

/**
 * `add` of `item` under `key`: stores it only where the key is absent, so never over newer. For
 * a key that is not plain, `ms <base64> <size> b F T ME`, which answers `HD` or `NS`.
 */
export function addItemRequest(key: Uint8Array, item: ItemState): Uint8Array {
  return stateLine(ADD, key, item);
}

/** `set` of `item` under `key` (an `ms` for a key that is not plain): makes a replica hold what another holds. */
export function setItemRequest(key: Uint8Array, item: ItemState): Uint8Array {
  return stateLine(SET, key, item);
}

/** `touch <key> <exptime>`, with the exptime as the client gave it. */
export function touchRequest(key: Uint8Array, exptime: Uint8Array): Uint8Array {
  return buildLine([TOUCH, key, exptime]);
}
