/**
 * MD5 (RFC 1321) over a byte array, without allocating per call: twemproxy's `md5` key hash and
 * the digests its ketama continuum is built from.
 *
 * @module
 */

/** RFC 1321's sine table T[1..64]. */
const T = new Int32Array([
  0xd76aa478,
  0xe8c7b756,
  0x242070db,
  0xc1bdceee,
  0xf57c0faf,
  0x4787c62a,
  0xa8304613,
  0xfd469501,
  0x698098d8,
  0x8b44f7af,
  0xffff5bb1,
  0x895cd7be,
  0x6b901122,
  0xfd987193,
  0xa679438e,
  0x49b40821,
  0xf61e2562,
  0xc040b340,
  0x265e5a51,
  0xe9b6c7aa,
  0xd62f105d,
  0x02441453,
  0xd8a1e681,
  0xe7d3fbc8,
  0x21e1cde6,
  0xc33707d6,
  0xf4d50d87,
  0x455a14ed,
  0xa9e3e905,
  0xfcefa3f8,
  0x676f02d9,
  0x8d2a4c8a,
  0xfffa3942,
  0x8771f681,
  0x6d9d6122,
  0xfde5380c,
  0xa4beea44,
  0x4bdecfa9,
  0xf6bb4b60,
  0xbebfbc70,
  0x289b7ec6,
  0xeaa127fa,
  0xd4ef3085,
  0x04881d05,
  0xd9d4d039,
  0xe6db99e5,
  0x1fa27cf8,
  0xc4ac5665,
  0xf4292244,
  0x432aff97,
  0xab9423a7,
  0xfc93a039,
  0x655b59c3,
  0x8f0ccc92,
  0xffeff47d,
  0x85845dd1,
  0x6fa87e4f,
  0xfe2ce6e0,
  0xa3014314,
  0x4e0811a1,
  0xf7537e82,
  0xbd3af235,
  0x2ad7d2bb,
  0xeb86d391,
]);

/** The rotation amounts of each round, four per round, used in turn. */
const S = new Int32Array([7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21]);

/** The 16 little-endian words of the block being compressed. */
const X = new Int32Array(16);

/** The chaining state A, B, C, D. */
const STATE = new Int32Array(4);

/** Runs the MD5 compression function on `X`, updating `STATE`. */
function compress(): void {
  let a = STATE[0];
  let b = STATE[1];
  let c = STATE[2];
  let d = STATE[3];
  for (let j = 0; j < 16; j++) {
    const t = (a + (d ^ (b & (c ^ d))) + T[j] + X[j]) | 0;
    const s = S[j & 3];
    a = d;
    d = c;
    c = b;
    b = (b + ((t << s) | (t >>> (32 - s)))) | 0;
  }
  for (let j = 16; j < 32; j++) {
    const t = (a + (c ^ (d & (b ^ c))) + T[j] + X[(5 * j + 1) & 15]) | 0;
    const s = S[4 + (j & 3)];
    a = d;
    d = c;
    c = b;
    b = (b + ((t << s) | (t >>> (32 - s)))) | 0;
  }
  for (let j = 32; j < 48; j++) {
    const t = (a + (b ^ c ^ d) + T[j] + X[(3 * j + 5) & 15]) | 0;
    const s = S[8 + (j & 3)];
    a = d;
    d = c;
    c = b;
    b = (b + ((t << s) | (t >>> (32 - s)))) | 0;
  }
  for (let j = 48; j < 64; j++) {
    const t = (a + (c ^ (b | ~d)) + T[j] + X[(7 * j) & 15]) | 0;
    const s = S[12 + (j & 3)];
    a = d;
    d = c;
    c = b;
    b = (b + ((t << s) | (t >>> (32 - s)))) | 0;
  }
  STATE[0] = (STATE[0] + a) | 0;
  STATE[1] = (STATE[1] + b) | 0;
  STATE[2] = (STATE[2] + c) | 0;
  STATE[3] = (STATE[3] + d) | 0;
}

/** Hashes `data` into `STATE`. */
function digest(data: Uint8Array): void {
  STATE[0] = 0x67452301;
  STATE[1] = 0xefcdab89;
  STATE[2] = 0x98badcfe;
  STATE[3] = 0x10325476;
  const length = data.length;
  let i = 0;
  for (const end = length & ~63; i < end; i += 64) {
    for (let w = 0; w < 16; w++) {
      const p = i + 4 * w;
      X[w] = data[p] | (data[p + 1] << 8) | (data[p + 2] << 16) | (data[p + 3] << 24);
    }
    compress();
  }
  X.fill(0);
  const rest = length - i;
  for (let r = 0; r < rest; r++) {
    X[r >> 2] |= data[i + r] << ((r & 3) << 3);
  }
  X[rest >> 2] |= 0x80 << ((rest & 3) << 3);
  if (rest >= 56) {
    compress();
    X.fill(0);
  }
  X[14] = length << 3;
  X[15] = Math.floor(length / 0x20000000);
  compress();
}

/**
 * Writes the MD5 digest of `data` into `out` as four little-endian 32-bit words: `out[k]` is
 * digest bytes `4k .. 4k+3` read little-endian, which is exactly twemproxy's
 * `ketama_hash(data, k)`.
 *
 * @example
 * ```ts
 * import { md5Words } from "./md5.ts";
 * const words = new Uint32Array(4);
 * md5Words(new TextEncoder().encode("server1-8"), words);
 * console.log(words[0], words[3]); // 3853726576 2667054752
 * ```
 */
export function md5Words(data: Uint8Array, out: Uint32Array): void {
  digest(data);
  out[0] = STATE[0];
  out[1] = STATE[1];
  out[2] = STATE[2];
  out[3] = STATE[3];
}

/**
 * twemproxy's `md5` key hash: the first four bytes of the key's MD5 digest, read little-endian.
 *
 * @example
 * ```ts
 * import { md5 } from "./md5.ts";
 * console.log(md5(new TextEncoder().encode("apple"))); // 3195025439
 * ```
 */
export function md5(key: Uint8Array, start = 0, end = key.length): number {
  digest(start === 0 && end === key.length ? key : key.subarray(start, end));
  return STATE[0] >>> 0;
}
