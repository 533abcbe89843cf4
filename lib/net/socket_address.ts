/**
 * `struct sockaddr_in` and `sockaddr_in6` to and from Deno's address objects, for the epoll
 * transport. Only numeric addresses: a name is left to Deno's own sockets.
 *
 * @module
 */

import { isIP } from "../deps.ts";
import { AF_INET, AF_INET6 } from "./libc.ts";

/** Room for either kind of address. */
export const SOCKADDR_SIZE = 28;

/**
 * The `sockaddr` for a numeric IPv4 or IPv6 address, or null for a name.
 *
 * @example
 * ```ts
 * import { encodeSockaddr } from "./socket_address.ts";
 * encodeSockaddr("127.0.0.1", 11211)!.length; // 16
 * ```
 */
export function encodeSockaddr(hostname: string, port: number): Uint8Array | null {
  const version = isIP(hostname);
  if (version === 4) {
    const out = new Uint8Array(16);
    const view = new DataView(out.buffer);
    view.setUint16(0, AF_INET, true);
    view.setUint16(2, port, false);
    out.set(hostname.split(".").map(Number), 4);
    return out;
  }
  if (version === 6 && !hostname.includes("%") && !hostname.includes(".")) {
    const out = new Uint8Array(SOCKADDR_SIZE);
    const view = new DataView(out.buffer);
    view.setUint16(0, AF_INET6, true);
    view.setUint16(2, port, false);
    const [head, tail] = hostname.split("::");
    const left = head === "" ? [] : head.split(":");
    const right = tail === undefined || tail === "" ? [] : tail.split(":");
    const groups = tail === undefined
      ? left
      : [...left, ...new Array(8 - left.length - right.length).fill("0"), ...right];
    groups.forEach((group, i) => view.setUint16(8 + 2 * i, parseInt(group, 16), false));
    return out;
  }
  return null;
}

/** The address in a `sockaddr` that the kernel filled. */
export function decodeSockaddr(bytes: Uint8Array): Deno.NetAddr {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const port = view.getUint16(2, false);
  if (view.getUint16(0, true) === AF_INET) {
    return { transport: "tcp", hostname: bytes.subarray(4, 8).join("."), port };
  }
  const groups: string[] = [];
  for (let i = 0; i < 8; i++) groups.push(view.getUint16(8 + 2 * i, false).toString(16));
  return { transport: "tcp", hostname: compressIpv6(groups), port };
}

/** The groups of an IPv6 address with its longest run of zero groups written `::`. */
function compressIpv6(groups: string[]): string {
  let bestAt = -1, bestLength = 1;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === "0") j++;
    if (j - i > bestLength) [bestAt, bestLength] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  if (bestAt < 0) return groups.join(":");
  return `${groups.slice(0, bestAt).join(":")}::${groups.slice(bestAt + bestLength).join(":")}`;
}
