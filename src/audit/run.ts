import { lstatSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { describeError, type ParseIssue, UsageError } from '../core/errors.ts';
import { canonicalHostName } from '../core/host-identity.ts';
import { readInput } from './decode.ts';
import { auditHost, CheckEngine } from './engine.ts';
import { LinuxFacts } from './linux/reader.ts';
import { type HostScore, scoreOf } from './report.ts';
import type { Check, CheckResult } from './types.ts';
import { readWindowsExport } from './windows/detect.ts';
import { WindowsFacts } from './windows/facts.ts';

/** Most files read from one folder, and how deep a folder is walked. */
const MAX_FILES_PER_HOST = 500;
const MAX_WALK_DEPTH = 4;

export interface HostReport {
  host: string;
  platform: 'windows' | 'linux';
  /** The folder, tree or live host the results come from. */
  origin: string;
  /** Exports read and what each was taken for (Windows). */
  inputs: { file: string; kind: string }[];
  results: CheckResult[];
  score: HostScore;
}

export interface AuditRun {
  hosts: HostReport[];
  /** Inputs that could not be read in full: each names its file (and line). */
  problems: ParseIssue[];
  /** Files in a folder that are no export this reads (left out, not a problem). */
  skipped: string[];
}

export interface AuditOptions {
  paths: readonly string[];
  /** The live Linux host. */
  host?: boolean;
  /** A collected folder or mounted image of a Linux host. */
  root?: string;
  checks: readonly Check[];
  now?: Date;
}

/** Regular files under `dir` (no links followed), bounded in number and depth. */
function walk(dir: string, depth: number, out: string[], problems: ParseIssue[]): void {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (e) {
    problems.push({ code: 'AUDIT_UNREADABLE', message: describeError(e), location: dir });
    return;
  }
  for (const n of names) {
    if (out.length >= MAX_FILES_PER_HOST) {
      problems.push({
        code: 'AUDIT_TOO_MANY_FILES',
        message: `only the first ${MAX_FILES_PER_HOST} files are read`,
        location: dir,
      });
      return;
    }
    const p = join(dir, n);
    let st: ReturnType<typeof lstatSync>;
    try {
      st = lstatSync(p);
    } catch {
      continue;
    }
    if (st.isFile()) out.push(p);
    else if (st.isDirectory() && depth < MAX_WALK_DEPTH) walk(p, depth + 1, out, problems);
  }
}

/** PATH arguments → one group of files per host: a folder is one host; loose files group by their folder. */
function groupInputs(
  paths: readonly string[],
  problems: ParseIssue[],
): Map<string, { files: string[]; explicit: Set<string> }> {
  const groups = new Map<string, { files: string[]; explicit: Set<string> }>();
  const add = (key: string): { files: string[]; explicit: Set<string> } => {
    let g = groups.get(key);
    if (!g) {
      g = { files: [], explicit: new Set() };
      groups.set(key, g);
    }
    return g;
  };
  for (const p of paths) {
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(p);
    } catch {
      throw new UsageError('AUDIT_NO_SUCH_PATH', 'no such file or folder', { location: p });
    }
    if (st.isDirectory()) {
      const files: string[] = [];
      walk(p, 0, files, problems);
      add(resolve(p)).files.push(...files);
    } else {
      const g = add(resolve(dirname(p)));
      g.files.push(p);
      g.explicit.add(p);
    }
  }
  return groups;
}

export function runAudit(opts: AuditOptions): AuditRun {
  const engine = new CheckEngine(opts.now);
  const problems: ParseIssue[] = [];
  const skipped: string[] = [];
  const hosts: HostReport[] = [];
  for (const [dir, group] of groupInputs(opts.paths, problems)) {
    const facts = new WindowsFacts();
    const inputs: { file: string; kind: string }[] = [];
    for (const file of group.files) {
      let text: string;
      try {
        // A file named on the command line may be a link (the user chose it); files found in a folder never are.
        text = readInput(group.explicit.has(file) ? realpathSync(file) : file);
      } catch (e) {
        problems.push({
          code: e instanceof UsageError ? e.code : 'AUDIT_UNREADABLE',
          message: describeError(e),
          location: file,
        });
        continue;
      }
      const r = readWindowsExport(text, file, facts);
      if ('code' in r) {
        if (r.code === 'AUDIT_UNKNOWN_INPUT' && !group.explicit.has(file)) skipped.push(file);
        else problems.push(r);
        continue;
      }
      inputs.push({ file, kind: r.kind });
    }
    problems.push(...facts.issues);
    if (facts.droppedIssues > 0)
      problems.push({
        code: 'AUDIT_MORE_PROBLEMS',
        message: `${facts.droppedIssues} more problem(s) in these exports not listed`,
        location: dir,
      });
    if (inputs.length === 0) {
      if (group.files.length > 0 || group.explicit.size === 0)
        problems.push({
          code: 'AUDIT_NO_INPUT',
          message: 'no export this reads was found here',
          location: dir,
        });
      continue;
    }
    const host = canonicalHostName((facts.hostName ?? basename(dir)).slice(0, 253));
    const results = auditHost(engine, opts.checks, facts, host, 'windows');
    hosts.push({ host, platform: 'windows', origin: dir, inputs, results, score: scoreOf(results) });
  }
  const linux: LinuxFacts[] = [];
  if (opts.host) linux.push(new LinuxFacts('/', true));
  if (opts.root !== undefined) linux.push(new LinuxFacts(resolve(opts.root), false));
  for (const lf of linux) {
    const host = canonicalHostName(lf.hostName().slice(0, 253));
    const results = auditHost(engine, opts.checks, lf, host, 'linux');
    hosts.push({
      host,
      platform: 'linux',
      origin: lf.live ? 'live host' : lf.root,
      inputs: [],
      results,
      score: scoreOf(results),
    });
  }
  return { hosts, problems, skipped };
}
