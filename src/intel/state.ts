import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import type { Indicator, IndicatorType } from './types.ts';
import { INDICATOR_TYPES } from './types.ts';

/**
 * The state directory: per feed, the last good raw body, its indicators in
 * a normalised form that loads without re-validation, and a small JSON
 * record of validators (ETag, Last-Modified) and health. Every file is
 * replaced by write-to-temp + rename, so a reader never sees half a file and
 * a crash mid-update leaves the last good copy in place.
 */
export interface FeedState {
  name: string;
  role: 'block' | 'allow';
  origin: string;
  format: string;
  etag?: string;
  lastModified?: string;
  lastAttempt?: string;
  lastSuccess?: string;
  /** Last time the body changed (or was first fetched). */
  lastChange?: string;
  status: 'ok' | 'not-modified' | 'failed' | 'empty';
  warning?: string;
  indicators: number;
  issues: number;
  bytes: number;
  sha256?: string;
  intervalMs: number;
}

export function feedsDir(stateDir: string): string {
  return join(stateDir, 'feeds');
}

/**
 * Writes through a temporary file and a rename. Private to the user (0600,
 * folders 0700): cached feeds can be internal lists (a `file:` feed of
 * one's own hosts), and nothing here is meant for other accounts.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    try {
      writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (e) {
    // Never leave the temporary file behind (a full disk, a folder where the file should be).
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** The state folder and its feeds folder, created or tightened to 0700. */
export function ensurePrivateStateDir(stateDir: string): void {
  for (const dir of [stateDir, feedsDir(stateDir)]) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
  }
}

export function readFeedState(stateDir: string, name: string): FeedState | undefined {
  try {
    return JSON.parse(readFileSync(join(feedsDir(stateDir), `${name}.json`), 'utf8')) as FeedState;
  } catch {
    return undefined;
  }
}

export function writeFeedState(stateDir: string, state: FeedState): void {
  writeFileAtomic(join(feedsDir(stateDir), `${state.name}.json`), `${JSON.stringify(state, null, 2)}\n`);
}

export function listFeedStates(stateDir: string): FeedState[] {
  let names: string[];
  try {
    names = readdirSync(feedsDir(stateDir)).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
  return names
    .sort()
    .map((f) => readFeedState(stateDir, f.slice(0, -5)))
    .filter((s): s is FeedState => s !== undefined);
}

export function rawPath(stateDir: string, name: string): string {
  return join(feedsDir(stateDir), `${name}.raw`);
}

export function compiledPath(stateDir: string, name: string): string {
  return join(feedsDir(stateDir), `${name}.tsv`);
}

const HEADER =
  '# deminer intel v1: type<TAB>value<TAB>confidence<TAB>first_seen<TAB>last_seen<TAB>expires (epoch ms)';

/** Normalised indicators, one per line; values are already canonical. */
export function serializeIndicators(indicators: Iterable<Indicator>): string {
  const lines = [HEADER];
  for (const i of indicators)
    lines.push(
      `${INDICATOR_TYPES.indexOf(i.type)}\t${i.value}\t${i.confidence}\t${i.firstSeen ?? 0}\t${i.lastSeen ?? 0}\t${i.expires ?? 0}`,
    );
  return `${lines.join('\n')}\n`;
}

/**
 * Reads what `serializeIndicators` wrote, for `source`. This is the load
 * path for a million indicators, so it slices by tab without regexes. Pass
 * the file's bytes where possible: values then become strings of their own
 * instead of slices that keep the whole file's text alive, and numbers are
 * read without making strings.
 */
export function deserializeIndicators(
  text: string | Uint8Array,
  source: string,
  fn: (ind: Indicator) => void,
): number {
  if (typeof text !== 'string') return deserializeBytes(text, source, fn);
  let start = 0;
  let n = 0;
  const len = text.length;
  while (start < len) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = len;
    if (text.charCodeAt(start) !== 35 && end > start) {
      const t1 = text.indexOf('\t', start);
      const t2 = text.indexOf('\t', t1 + 1);
      const t3 = text.indexOf('\t', t2 + 1);
      const t4 = text.indexOf('\t', t3 + 1);
      const t5 = text.indexOf('\t', t4 + 1);
      const type: IndicatorType | undefined = INDICATOR_TYPES[Number(text.slice(start, t1))];
      if (type && t5 > 0 && t5 < end) {
        const ind: Indicator = {
          value: text.slice(t1 + 1, t2),
          type,
          source,
          confidence: Number(text.slice(t2 + 1, t3)),
        };
        const fs = Number(text.slice(t3 + 1, t4));
        if (fs) ind.firstSeen = fs;
        const ls = Number(text.slice(t4 + 1, t5));
        if (ls) ind.lastSeen = ls;
        const ex = Number(text.slice(t5 + 1, end));
        if (ex) ind.expires = ex;
        fn(ind);
        n++;
      }
    }
    start = end + 1;
  }
  return n;
}

function deserializeBytes(bytes: Uint8Array, source: string, fn: (ind: Indicator) => void): number {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = buf.length;
  const tabs = [0, 0, 0, 0, 0];
  let start = 0;
  let n = 0;
  while (start < len) {
    let end = buf.indexOf(10, start);
    if (end < 0) end = len;
    if (buf[start] !== 35 && end > start) {
      let t = 0;
      let high = false;
      for (let i = start; i < end && t < 5; i++) {
        const c = buf[i]!;
        if (c === 9) tabs[t++] = i;
        else if (c >= 0x80) high = true;
      }
      const type: IndicatorType | undefined =
        t === 5 ? INDICATOR_TYPES[readNumber(buf, start, tabs[0]!)] : undefined;
      if (type) {
        const ind: Indicator = {
          value: buf.toString(high ? 'utf8' : 'latin1', tabs[0]! + 1, tabs[1]!),
          type,
          source,
          confidence: readNumber(buf, tabs[1]! + 1, tabs[2]!),
        };
        const fs = readNumber(buf, tabs[2]! + 1, tabs[3]!);
        if (fs) ind.firstSeen = fs;
        const ls = readNumber(buf, tabs[3]! + 1, tabs[4]!);
        if (ls) ind.lastSeen = ls;
        const ex = readNumber(buf, tabs[4]! + 1, end);
        if (ex) ind.expires = ex;
        fn(ind);
        n++;
      }
    }
    start = end + 1;
  }
  return n;
}

/** Decimal digits read in place; anything else (a fraction, a sign) goes through `Number`, as the text path does. */
function readNumber(buf: Buffer, start: number, end: number): number {
  let v = 0;
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (c < 48 || c > 57) return Number(buf.toString('latin1', start, end));
    v = v * 10 + (c - 48);
  }
  return start === end ? 0 : v;
}
