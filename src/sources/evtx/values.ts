import { ansiValue, filetime, guid, hexUpper, sid, systemtime, utf16, utf16Value } from './text.ts';
import type { DecodedValue, Fragment, Scalar, SubValue } from './types.ts';

/** Value types of the EVTX binary XML (MS-EVEN6 2.2.12 / libevtx documentation). */
export const T = {
  NULL: 0x00,
  STRING: 0x01,
  ANSI: 0x02,
  INT8: 0x03,
  UINT8: 0x04,
  INT16: 0x05,
  UINT16: 0x06,
  INT32: 0x07,
  UINT32: 0x08,
  INT64: 0x09,
  UINT64: 0x0a,
  REAL32: 0x0b,
  REAL64: 0x0c,
  BOOL: 0x0d,
  BINARY: 0x0e,
  GUID: 0x0f,
  SIZET: 0x10,
  FILETIME: 0x11,
  SYSTEMTIME: 0x12,
  SID: 0x13,
  HEX32: 0x14,
  HEX64: 0x15,
  EVTHANDLE: 0x20,
  BINXML: 0x21,
  EVTXML: 0x23,
  ARRAY: 0x80,
} as const;

/** Fixed item sizes, for reading arrays of fixed-size values. */
const FIXED_SIZE: Record<number, number> = {
  [T.INT8]: 1,
  [T.UINT8]: 1,
  [T.INT16]: 2,
  [T.UINT16]: 2,
  [T.INT32]: 4,
  [T.UINT32]: 4,
  [T.INT64]: 8,
  [T.UINT64]: 8,
  [T.REAL32]: 4,
  [T.REAL64]: 8,
  [T.BOOL]: 4,
  [T.GUID]: 16,
  [T.FILETIME]: 8,
  [T.SYSTEMTIME]: 16,
  [T.HEX32]: 4,
  [T.HEX64]: 8,
};

export class ValueError extends Error {}

/** 64-bit integers stay numbers while exact; larger ones become their exact decimal digits. */
function int64(dv: DataView, off: number, signed: boolean): number | string {
  const big = signed ? dv.getBigInt64(off, true) : dv.getBigUint64(off, true);
  const n = Number(big);
  return Number.isSafeInteger(n) ? n : big.toString();
}

function scalar(buf: Uint8Array, dv: DataView, t: number, off: number, size: number): Scalar {
  switch (t) {
    case T.STRING:
      return utf16Value(buf, off, size);
    case T.ANSI:
      return ansiValue(buf, off, size);
    case T.INT8:
      return dv.getInt8(off);
    case T.UINT8:
      return dv.getUint8(off);
    case T.INT16:
      return dv.getInt16(off, true);
    case T.UINT16:
      return dv.getUint16(off, true);
    case T.INT32:
      return dv.getInt32(off, true);
    case T.UINT32:
      return dv.getUint32(off, true);
    case T.INT64:
      return int64(dv, off, true);
    case T.UINT64:
      return int64(dv, off, false);
    case T.REAL32:
      return dv.getFloat32(off, true);
    case T.REAL64:
      return dv.getFloat64(off, true);
    case T.BOOL:
      return size >= 4 ? dv.getUint32(off, true) !== 0 : size > 0 && dv.getUint8(off) !== 0;
    case T.BINARY:
    case T.EVTHANDLE:
      return hexUpper(buf, off, size);
    case T.GUID:
      return guid(buf, off);
    case T.SIZET:
      return size === 8
        ? `0x${dv.getBigUint64(off, true).toString(16).padStart(16, '0')}`
        : `0x${dv.getUint32(off, true).toString(16).padStart(8, '0')}`;
    case T.FILETIME:
      return filetime(dv, off);
    case T.SYSTEMTIME:
      return systemtime(dv, off);
    case T.SID:
      return sid(dv, off, size);
    case T.HEX32:
      return `0x${dv.getUint32(off, true).toString(16)}`;
    case T.HEX64:
      return `0x${dv.getBigUint64(off, true).toString(16)}`;
    case T.EVTXML:
      return utf16Value(buf, off, size);
    default:
      throw new ValueError(`unknown value type 0x${t.toString(16)}`);
  }
}

/**
 * Decodes one substitution value. `parseBinXml` parses an embedded binary XML
 * fragment (type 0x21); it is passed in to keep this module free of the parser.
 */
export function decodeValue(
  buf: Uint8Array,
  dv: DataView,
  t: number,
  off: number,
  size: number,
  parseBinXml: (off: number, end: number) => Fragment,
): SubValue {
  if (size === 0 || t === T.NULL) return { t, v: null };
  if (t === T.BINXML) return { t, v: parseBinXml(off, off + size) };
  if (t & T.ARRAY) return { t, v: decodeArray(buf, dv, t & 0x7f, off, size) };
  const fixed = FIXED_SIZE[t];
  if (fixed !== undefined && size < fixed)
    throw new ValueError(`value of type 0x${t.toString(16)} has ${size} bytes`);
  return { t, v: scalar(buf, dv, t, off, size) };
}

function decodeArray(buf: Uint8Array, dv: DataView, t: number, off: number, size: number): DecodedValue {
  const out: Scalar[] = [];
  if (t === T.STRING) {
    // NUL-separated UTF-16 strings.
    let start = off;
    const end = off + (size & ~1);
    for (let i = off; i < end; i += 2) {
      if (buf[i] === 0 && buf[i + 1] === 0) {
        out.push(utf16(buf, start, (i - start) >>> 1));
        start = i + 2;
      }
    }
    if (start < end) out.push(utf16(buf, start, (end - start) >>> 1));
    return out;
  }
  if (t === T.ANSI) {
    let start = off;
    for (let i = off; i < off + size; i++) {
      if (buf[i] === 0) {
        out.push(ansiValue(buf, start, i - start));
        start = i + 1;
      }
    }
    if (start < off + size) out.push(ansiValue(buf, start, off + size - start));
    return out;
  }
  const item = t === T.SIZET ? (size % 8 === 0 ? 8 : 4) : t === T.SID ? 0 : FIXED_SIZE[t];
  if (t === T.SID) {
    let p = off;
    while (p + 8 <= off + size) {
      const len = 8 + 4 * buf[p + 1]!;
      if (p + len > off + size) break;
      out.push(sid(dv, p, len));
      p += len;
    }
    return out;
  }
  if (item === undefined || item === 0) throw new ValueError(`unsupported array type 0x${t.toString(16)}`);
  for (let p = off; p + item <= off + size; p += item) out.push(scalar(buf, dv, t, p, item));
  return out;
}
