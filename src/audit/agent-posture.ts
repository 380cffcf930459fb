import { resolve } from 'node:path';
import type { Finding } from '../core/finding.ts';
import { loadChecks } from './checks.ts';
import { auditHost, CheckEngine } from './engine.ts';
import { LinuxFacts } from './linux/reader.ts';
import { findingOf, type HostScore, scoreOf } from './report.ts';

/**
 * The agent's posture step: the Linux checks of `deminer audit --host` (or of
 * the tree at `fsRoot`, as `--root` reads it), and the failures as findings
 * of the usual shape (rule `deminer.posture.<id>`). The agent imports this
 * module only when the step is due, so a host whose agent never audits never
 * loads the checks; the reader may run apt-get and getcap, which is why the
 * agent runs it at its own interval (24 h by default), never with each scan.
 */

export interface PostureRun {
  findings: Finding[];
  score: HostScore;
  /** Where the values were read: 'live host' or the tree. */
  origin: string;
}

export function linuxPosture(o: {
  /** The host name the findings carry (the agent's, which the server checks). */
  host: string;
  /** A tree to read instead of the live host ('/' or absent: the live host). */
  fsRoot?: string;
  /** Checks file instead of the shipped one. */
  checksFile?: string;
  now?: Date;
}): PostureRun {
  const root = o.fsRoot === undefined ? '/' : resolve(o.fsRoot);
  const live = root === '/';
  const now = o.now ?? new Date();
  const facts = new LinuxFacts(root, live);
  const results = auditHost(new CheckEngine(now), loadChecks(o.checksFile), facts, o.host, 'linux');
  const at = now.toISOString();
  return {
    findings: results.filter((r) => r.status === 'fail').map((r) => findingOf(r, at)),
    score: scoreOf(results),
    origin: live ? 'live host' : root,
  };
}
