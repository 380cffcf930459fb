import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DeminerError, describeError, type ParseIssue } from '../core/errors.ts';
import { classifyValue } from './classify.ts';
import type { FeedConfig, IntelConfig } from './config.ts';
import { feedRole } from './config.ts';
import { download } from './download.ts';
import type { CsvSpec } from './parsers/index.ts';
import { parseFeed } from './parsers/index.ts';
import type { FeedState } from './state.ts';
import {
  compiledPath,
  ensurePrivateStateDir,
  rawPath,
  readFeedState,
  serializeIndicators,
  writeFeedState,
  writeFileAtomic,
} from './state.ts';
import type { Indicator } from './types.ts';

export interface RefreshOptions {
  /** Fetch even when the feed's interval has not passed. */
  force?: boolean;
  now?: () => number;
  retryBaseMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export interface RefreshOutcome {
  name: string;
  status: 'ok' | 'not-modified' | 'failed' | 'empty' | 'fresh';
  /** Indicators now in effect for this feed (the last good copy's, when the update failed). */
  indicators: number;
  issues: number;
  attempts: number;
  warning?: string;
  /** First few parse issues, for the user to fix the feed or its spec (they quote feed lines). */
  sampleIssues?: string[];
  /** Where the first issue is and its code, without the feed's text (for tables on a terminal). */
  firstIssue?: { location: string; code: string };
}

/**
 * Brings one feed up to date in the state directory. A failed, oversized,
 * truncated or empty download never replaces the last good copy: the feed
 * keeps its indicators and its state carries the warning.
 */
export async function refreshFeed(
  feed: FeedConfig,
  stateDir: string,
  opts: RefreshOptions = {},
): Promise<RefreshOutcome> {
  const now = opts.now ?? Date.now;
  const prev = readFeedState(stateDir, feed.name);
  const origin = feed.url ?? feed.file!;
  const base: FeedState = {
    name: feed.name,
    role: feedRole(feed),
    origin,
    format: feed.format,
    status: 'failed',
    indicators: prev?.origin === origin ? prev.indicators : 0,
    issues: prev?.issues ?? 0,
    bytes: prev?.bytes ?? 0,
    intervalMs: feed.interval,
  };
  const state: FeedState =
    prev?.origin === origin ? { ...prev, ...pick(base, ['role', 'format', 'intervalMs']) } : base;
  if (
    !opts.force &&
    prev?.lastAttempt &&
    prev.origin === origin &&
    now() - Date.parse(prev.lastAttempt) < feed.interval
  )
    return {
      name: feed.name,
      status: 'fresh',
      indicators: prev.indicators,
      issues: prev.issues,
      attempts: 0,
    };
  state.lastAttempt = new Date(now()).toISOString();

  let body: Buffer;
  let attempts = 1;
  try {
    if (feed.url) {
      const r = await download({
        url: feed.url,
        etag: state.etag,
        lastModified: state.lastModified,
        timeoutMs: feed.timeout,
        maxBytes: feed.max_size,
        retries: feed.retries,
        retryBaseMs: opts.retryBaseMs,
        sleep: opts.sleep,
      });
      attempts = r.attempts;
      if (r.notModified) return notModified(stateDir, state, attempts);
      body = r.body;
      if (r.etag) state.etag = r.etag;
      else delete state.etag;
      if (r.lastModified) state.lastModified = r.lastModified;
      else delete state.lastModified;
    } else {
      body = readLocal(feed.file!, feed.max_size);
    }
  } catch (e) {
    return fail(stateDir, state, describeError(e), attempts);
  }

  const sha256 = createHash('sha256').update(body).digest('hex');
  if (sha256 === state.sha256 && prev?.status !== 'failed' && prev?.status !== 'empty') {
    // Same bytes as the last good copy: nothing to reload.
    return notModified(stateDir, state, attempts);
  }
  const parsed = parseFeed(
    body.toString('utf8'),
    feed.format,
    {
      source: feed.name,
      confidence: feed.confidence,
      file: origin,
      ttlMs: feed.expire_after ?? 0,
      now: now(),
      checkPublicSuffix: feedRole(feed) === 'block',
    },
    csvSpec(feed),
  );
  if (parsed.indicators.length === 0) {
    state.status = 'empty';
    state.warning = `download had no indicators (${parsed.issueCount} issue(s)); kept the last good copy`;
    state.lastAttempt = new Date(now()).toISOString();
    writeFeedState(stateDir, state);
    return {
      name: feed.name,
      status: 'empty',
      indicators: state.indicators,
      issues: parsed.issueCount,
      attempts,
      warning: state.warning,
      sampleIssues: parsed.issues.slice(0, 5).map((i) => `${i.location}: ${i.code}: ${i.message}`),
      ...firstIssueOf(parsed.issues),
    };
  }
  const previous = state.indicators;
  writeFileAtomic(rawPath(stateDir, feed.name), body);
  writeFileAtomic(compiledPath(stateDir, feed.name), serializeIndicators(parsed.indicators));
  state.status = 'ok';
  state.indicators = parsed.indicators.length;
  state.issues = parsed.issueCount;
  state.bytes = body.byteLength;
  state.sha256 = sha256;
  state.lastSuccess = state.lastAttempt;
  state.lastChange = state.lastAttempt;
  state.format = parsed.format;
  delete state.warning;
  // A list that suddenly halves is more often broken upstream than cleaned up.
  if (previous > 100 && parsed.indicators.length < previous / 2)
    state.warning = `shrank from ${previous} to ${parsed.indicators.length} indicators`;
  writeFeedState(stateDir, state);
  const out: RefreshOutcome = {
    name: feed.name,
    status: 'ok',
    indicators: state.indicators,
    issues: parsed.issueCount,
    attempts,
  };
  if (state.warning) out.warning = state.warning;
  if (parsed.issues.length > 0) {
    out.sampleIssues = parsed.issues.slice(0, 5).map((i) => `${i.location}: ${i.code}: ${i.message}`);
    Object.assign(out, firstIssueOf(parsed.issues));
  }
  return out;
}

function firstIssueOf(issues: readonly ParseIssue[]): Pick<RefreshOutcome, 'firstIssue'> {
  const i = issues[0];
  return i ? { firstIssue: { location: i.location, code: i.code } } : {};
}

/** Refreshes every enabled feed in turn and records the allow-list and settings for loaders. */
export async function refreshAll(
  config: IntelConfig,
  stateDir: string,
  opts: RefreshOptions = {},
): Promise<RefreshOutcome[]> {
  ensurePrivateStateDir(stateDir);
  writeSettings(config, stateDir);
  const out: RefreshOutcome[] = [];
  for (const feed of config.feeds) if (feed.enabled) out.push(await refreshFeed(feed, stateDir, opts));
  return out;
}

/** What loaders need from the config when they are only given the state directory. */
export interface StoredSettings {
  builtin: boolean;
  builtin_allow: boolean;
  feeds: string[];
  passive_dns: IntelConfig['passive_dns'];
}

export function writeSettings(config: IntelConfig, stateDir: string): void {
  const allow: Indicator[] = [];
  for (const v of [...config.allow.domains, ...config.allow.ips, ...config.allow.urls]) {
    const c = classifyValue(v, false);
    if (!c.ok) throw new DeminerError('INTEL_BAD_ALLOW', c.message, { location: 'intel.allow' });
    allow.push({ value: c.value, type: c.type, source: 'user', confidence: 100 });
  }
  writeFileAtomic(join(stateDir, 'allow.tsv'), serializeIndicators(allow));
  const settings: StoredSettings = {
    builtin: config.builtin,
    builtin_allow: config.builtin_allow,
    feeds: config.feeds.filter((f) => f.enabled).map((f) => f.name),
    passive_dns: config.passive_dns,
  };
  writeFileAtomic(join(stateDir, 'settings.json'), `${JSON.stringify(settings, null, 2)}\n`);
}

function readLocal(file: string, maxBytes: number): Buffer {
  let size: number;
  try {
    size = statSync(file).size;
  } catch (cause) {
    throw new DeminerError('INTEL_FEED_UNREADABLE', 'cannot read feed file', { location: file, cause });
  }
  if (size > maxBytes)
    throw new DeminerError(
      'INTEL_FEED_TOO_LARGE',
      `file has ${size} bytes; the limit is ${maxBytes} (max_size)`,
      {
        location: file,
      },
    );
  return readFileSync(file);
}

/** The feed answered with nothing new: the last good copy stays, and counts as a success. */
function notModified(stateDir: string, state: FeedState, attempts: number): RefreshOutcome {
  state.status = 'not-modified';
  state.lastSuccess = state.lastAttempt;
  delete state.warning;
  writeFeedState(stateDir, state);
  return {
    name: state.name,
    status: 'not-modified',
    indicators: state.indicators,
    issues: state.issues,
    attempts,
  };
}

function fail(stateDir: string, state: FeedState, message: string, attempts: number): RefreshOutcome {
  state.status = 'failed';
  state.warning = `${message}; kept the last good copy`;
  writeFeedState(stateDir, state);
  return {
    name: state.name,
    status: 'failed',
    indicators: state.indicators,
    issues: state.issues,
    attempts,
    warning: state.warning,
  };
}

function csvSpec(feed: FeedConfig): CsvSpec | undefined {
  if (!feed.csv) return undefined;
  const spec: CsvSpec = { header: feed.csv.header, value: feed.csv.value };
  if (feed.csv.delimiter) spec.delimiter = feed.csv.delimiter;
  if (feed.csv.confidence !== undefined) spec.confidence = feed.csv.confidence;
  if (feed.csv.first_seen !== undefined) spec.firstSeen = feed.csv.first_seen;
  if (feed.csv.last_seen !== undefined) spec.lastSeen = feed.csv.last_seen;
  return spec;
}

function pick<T, K extends keyof T>(o: T, keys: K[]): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const k of keys) out[k] = o[k];
  return out;
}
