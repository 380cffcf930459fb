/** Byte-level decoding helpers shared by the chunk and binary XML readers. */

const utf16Decoder = new TextDecoder('utf-16le');
const latin1Decoder = new TextDecoder('latin1');

/**
 * UTF-16LE to string. Short strings (element names, most values) are built by
 * hand because TextDecoder's fixed cost dominates below a few dozen units.
 */
export function utf16(buf: Uint8Array, off: number, units: number): string {
  if (units <= 0) return '';
  if (units < 32) {
    let s = '';
    for (let i = off, end = off + 2 * units; i < end; i += 2)
      s += String.fromCharCode(buf[i]! | (buf[i + 1]! << 8));
    return s;
  }
  return utf16Decoder.decode(buf.subarray(off, off + 2 * units));
}

/** UTF-16LE value of a substitution: Windows often stores the terminating NULs, which are not part of it. */
export function utf16Value(buf: Uint8Array, off: number, bytes: number): string {
  let units = bytes >>> 1;
  while (units > 0 && buf[off + 2 * units - 2] === 0 && buf[off + 2 * units - 1] === 0) units--;
  return utf16(buf, off, units);
}

/** ANSI strings are code-page text; cp1252 differs from latin1 only in 0x80–0x9f, which is rare in logs. */
export function ansiValue(buf: Uint8Array, off: number, bytes: number): string {
  let end = off + bytes;
  while (end > off && buf[end - 1] === 0) end--;
  return latin1Decoder.decode(buf.subarray(off, end));
}

const HEX_UPPER: string[] = [];
const HEX_LOWER: string[] = [];
for (let i = 0; i < 256; i++) {
  HEX_UPPER.push(i.toString(16).toUpperCase().padStart(2, '0'));
  HEX_LOWER.push(i.toString(16).padStart(2, '0'));
}

export function hexUpper(buf: Uint8Array, off: number, len: number): string {
  let s = '';
  for (let i = off; i < off + len; i++) s += HEX_UPPER[buf[i]!]!;
  return s;
}

/** GUID in the dumpers' JSON form: upper case, no braces (`5770385F-C22A-43E0-BF4C-06F5698FFBD9`). */
export function guid(buf: Uint8Array, off: number): string {
  const h = HEX_UPPER;
  const b = (i: number) => h[buf[off + i]!]!;
  return (
    b(3) +
    b(2) +
    b(1) +
    b(0) +
    '-' +
    b(5) +
    b(4) +
    '-' +
    b(7) +
    b(6) +
    '-' +
    b(8) +
    b(9) +
    '-' +
    b(10) +
    b(11) +
    b(12) +
    b(13) +
    b(14) +
    b(15)
  );
}

export function sid(dv: DataView, off: number, len: number): string {
  if (len < 8) return '';
  const revision = dv.getUint8(off);
  const count = dv.getUint8(off + 1);
  // The identifier authority is a 48-bit big-endian number.
  const authority = dv.getUint16(off + 2) * 2 ** 32 + dv.getUint32(off + 4);
  let s = `S-${revision}-${authority}`;
  const n = Math.min(count, (len - 8) >>> 2);
  for (let i = 0; i < n; i++) s += `-${dv.getUint32(off + 8 + 4 * i, true)}`;
  return s;
}

const FILETIME_UNIX_EPOCH_SECONDS = 11644473600;
const MAX_DATE_SECONDS = 8.64e12;
let lastSecond = -1;
let lastSecondText = '';

/**
 * FILETIME (100 ns ticks since 1601) as ISO-8601 UTC keeping all 7 fractional
 * digits. Values outside JavaScript's date range come back as their hex ticks
 * so that a damaged value never throws.
 */
export function filetime(dv: DataView, off: number): string {
  const ticks = dv.getBigUint64(off, true);
  const seconds = Number(ticks / 10_000_000n);
  const frac = Number(ticks % 10_000_000n);
  const unixSeconds = seconds - FILETIME_UNIX_EPOCH_SECONDS;
  if (unixSeconds < -MAX_DATE_SECONDS || unixSeconds > MAX_DATE_SECONDS) return `0x${ticks.toString(16)}`;
  let head: string;
  if (unixSeconds === lastSecond) head = lastSecondText;
  else {
    head = new Date(unixSeconds * 1000).toISOString().slice(0, -5);
    lastSecond = unixSeconds;
    lastSecondText = head;
  }
  return `${head}.${String(frac).padStart(7, '0')}Z`;
}

export function systemtime(dv: DataView, off: number): string {
  const p2 = (n: number) => String(n).padStart(2, '0');
  const year = dv.getUint16(off, true);
  const month = dv.getUint16(off + 2, true);
  const day = dv.getUint16(off + 6, true);
  const hour = dv.getUint16(off + 8, true);
  const minute = dv.getUint16(off + 10, true);
  const second = dv.getUint16(off + 12, true);
  const ms = dv.getUint16(off + 14, true);
  return `${String(year).padStart(4, '0')}-${p2(month)}-${p2(day)}T${p2(hour)}:${p2(minute)}:${p2(second)}.${String(ms).padStart(3, '0')}Z`;
}
