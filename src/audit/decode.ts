import { UsageError } from '../core/errors.ts';
import { readRegular } from '../sources/procfs/read-bounded.ts';

/** Largest export read (a Get-GPOReport of a big GPO is a few MB in UTF-16). */
export const MAX_INPUT_BYTES = 16 * 1024 * 1024;
/** Longest line parsed; a longer one is an input problem, not a reason to stop. */
export const MAX_LINE = 64 * 1024;
/** Most lines looked at per file. */
export const MAX_LINES = 200_000;

/**
 * Text of an export in the encoding Windows wrote it in: UTF-16LE with a BOM
 * (secedit, GptTmpl.inf, Get-GPOReport, msinfo32), UTF-16BE, UTF-8 with or
 * without BOM; UTF-16LE without BOM is recognised by its zero high bytes.
 */
export function decodeText(buf: Buffer): string {
  if (buf.length >= 2 && buf[0] === 0xff && buf[1] === 0xfe) return buf.subarray(2).toString('utf16le');
  if (buf.length >= 2 && buf[0] === 0xfe && buf[1] === 0xff) {
    const body = Buffer.from(buf.subarray(2, 2 + ((buf.length - 2) & ~1)));
    body.swap16();
    return body.toString('utf16le');
  }
  if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf)
    return buf.subarray(3).toString('utf8');
  if (buf.length >= 4 && buf[0] !== 0 && buf[1] === 0 && buf[2] !== 0 && buf[3] === 0)
    return buf.toString('utf16le');
  return buf.toString('utf8');
}

/** The decoded text of a regular file, at most MAX_INPUT_BYTES (more is an input error naming the file). */
export function readInput(path: string): string {
  const r = readRegular(path, MAX_INPUT_BYTES + 1);
  if (!r)
    throw new UsageError('AUDIT_UNREADABLE', 'cannot read (not a regular file, or no access)', {
      location: path,
    });
  if (r.data.length > MAX_INPUT_BYTES)
    throw new UsageError(
      'AUDIT_TOO_LARGE',
      `larger than ${MAX_INPUT_BYTES} bytes: not an export this reads`,
      {
        location: path,
      },
    );
  return decodeText(r.data);
}

/** Lines without their CR, bounded in number. */
export function linesOf(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  while (start <= text.length && out.length < MAX_LINES) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    let line = text.slice(start, end);
    if (line.endsWith('\r')) line = line.slice(0, -1);
    out.push(line);
    start = end + 1;
  }
  return out;
}
