import ipaddr from 'ipaddr.js';

/**
 * Dotted-quad IPv4 to an unsigned 32-bit number without allocating, or -1.
 * Leading zeros are refused because some resolvers read them as octal.
 */
export function parseIPv4(s: string, start = 0, end = s.length): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits > 0 && octet === 0) return -1;
      octet = octet * 10 + (c - 48);
      if (octet > 255) return -1;
      digits++;
    } else if (c === 46) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else return -1;
  }
  if (digits === 0 || dots !== 3) return -1;
  return value * 256 + octet;
}

export function formatIPv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** Network mask of a prefix length as an unsigned 32-bit number. */
export function maskV4(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

/** IPv6 text (zone ids dropped) to 16 bytes, or undefined. IPv4-mapped addresses stay IPv6 here. */
export function parseIPv6(s: string): number[] | undefined {
  const pct = s.indexOf('%');
  const text = pct >= 0 ? s.slice(0, pct) : s;
  if (!ipaddr.IPv6.isValid(text)) return undefined;
  return ipaddr.IPv6.parse(text).toByteArray();
}

export function formatIPv6(bytes: readonly number[]): string {
  return ipaddr.fromByteArray([...bytes]).toString();
}

/** Copy of `bytes` with every bit after `len` cleared. */
export function maskBytes(bytes: readonly number[], len: number): number[] {
  const out = new Array<number>(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const bits = Math.max(0, Math.min(8, len - i * 8));
    out[i] = bits === 8 ? bytes[i]! : bits === 0 ? 0 : bytes[i]! & ((0xff << (8 - bits)) & 0xff);
  }
  return out;
}

export function bytesKey(bytes: readonly number[]): string {
  let s = '';
  for (const b of bytes) s += (b < 16 ? '0' : '') + b.toString(16);
  return s;
}

/** `::ffff:a.b.c.d` carries an IPv4 address; callers match it as IPv4. */
export function mappedV4(bytes: readonly number[]): number {
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return -1;
  if (bytes[10] !== 0xff || bytes[11] !== 0xff) return -1;
  return ((bytes[12]! << 24) | (bytes[13]! << 16) | (bytes[14]! << 8) | bytes[15]!) >>> 0;
}

const groups = new Int32Array(8);
/** Value of each ASCII hex digit, -1 for every other character. */
const HEX = new Int8Array(128).fill(-1);
for (let c = 0; c < 10; c++) HEX[48 + c] = c;
for (let c = 0; c < 6; c++) {
  HEX[97 + c] = 10 + c;
  HEX[65 + c] = 10 + c;
}

/**
 * IPv6 text (a zone id is dropped) into four big-endian 32-bit words of
 * `out`; false when it is not an address. Plain hex groups with or without
 * `::` are parsed here without allocating; anything else (dotted-quad
 * tails, over-long groups, invalid text) goes to `parseIPv6`, so both
 * always agree on what an address is.
 */
export function parseIPv6Words(s: string, out: Uint32Array): boolean {
  if (fastIPv6(s, out)) return true;
  const bytes = parseIPv6(s);
  if (!bytes) return false;
  for (let w = 0; w < 4; w++)
    out[w] =
      ((bytes[4 * w]! << 24) | (bytes[4 * w + 1]! << 16) | (bytes[4 * w + 2]! << 8) | bytes[4 * w + 3]!) >>>
      0;
  return true;
}

function fastIPv6(s: string, out: Uint32Array): boolean {
  let end = s.indexOf('%');
  if (end < 0) end = s.length;
  let i = 0;
  let n = 0;
  let gap = -1;
  if (end >= 2 && s.charCodeAt(0) === 58) {
    if (s.charCodeAt(1) !== 58) return false;
    gap = 0;
    i = 2;
  }
  while (i < end) {
    let v = 0;
    let d = 0;
    for (; i < end; i++) {
      const c = s.charCodeAt(i);
      const h = c < 128 ? HEX[c]! : -1;
      if (h < 0) break;
      if (++d > 4) return false;
      v = v * 16 + h;
    }
    if (d === 0 || n === 8) return false;
    groups[n++] = v;
    if (i === end) break;
    if (s.charCodeAt(i) !== 58) return false;
    i++;
    if (i < end && s.charCodeAt(i) === 58) {
      if (gap >= 0) return false;
      gap = n;
      i++;
    } else if (i === end) return false;
  }
  if (gap < 0 ? n !== 8 : n > 7) return false;
  if (gap >= 0) {
    const tail = n - gap;
    for (let k = 0; k < tail; k++) groups[7 - k] = groups[n - 1 - k]!;
    for (let k = gap; k < 8 - tail; k++) groups[k] = 0;
  }
  for (let w = 0; w < 4; w++) out[w] = ((groups[2 * w]! << 16) | groups[2 * w + 1]!) >>> 0;
  return true;
}

/** Words of `words` with every bit after `len` cleared, into `out` (may be the same array). */
export function maskWords(words: ArrayLike<number>, len: number, out: Uint32Array): void {
  for (let w = 0; w < 4; w++) {
    const bits = len - w * 32;
    out[w] = bits >= 32 ? words[w]! : bits <= 0 ? 0 : (words[w]! & (0xffffffff << (32 - bits))) >>> 0;
  }
}

/** Words to the 16 bytes `parseIPv6` returns. */
export function wordsToBytes(words: ArrayLike<number>): number[] {
  const out = new Array<number>(16);
  for (let i = 0; i < 16; i++) out[i] = (words[i >> 2]! >>> (24 - 8 * (i & 3))) & 255;
  return out;
}
