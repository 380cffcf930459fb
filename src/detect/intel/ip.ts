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
