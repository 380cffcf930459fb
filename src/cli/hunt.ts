import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { UsageError } from '../core/errors.ts';
import type { HostNames } from '../core/host-identity.ts';
import { isCommunitySet, loadCommunityRules, summariseCommunityIssues } from '../detect/sigma/community.ts';
import { type LoadedRules, loadSigmaRules } from '../detect/sigma/index.ts';
import { loadDefaultIntel } from '../intel/index.ts';
import {
  escapeControls,
  FINDING_FORMATS,
  printProblems,
  renderSummary,
  sinkFor,
  summarizeByRule,
} from '../outputs/index.ts';
import { hunt } from '../pipeline/hunt.ts';
import type { TimeWindow } from '../pipeline/time-window.ts';
import { loadAssetMap } from '../sources/asset-map/index.ts';
import type { RegisterCommand } from './command.ts';
import { parseChoice } from './command.ts';
import { defaultConfigPath, loadDeminerConfig } from './config-file.ts';
import {
  addLevelOptions,
  addOutputOptions,
  exitCodeFor,
  keepLevels,
  type LevelCliOptions,
  type OutputCliOptions,
  parseLevels,
  strictStop,
  withResultOut,
} from './output-options.ts';
import {
  addSendOptions,
  checkSendOptions,
  learnedPoolsIfAsked,
  type SendCliOptions,
  sendIfAsked,
} from './send-options.ts';

interface HuntCliOptions extends OutputCliOptions, LevelCliOptions, SendCliOptions {
  rules: string[];
  config?: string;
  builtin: boolean;
  status?: string;
  includeEid?: string;
  excludeEid?: string;
  from?: string;
  to?: string;
  progress: boolean;
  intel: boolean;
  threads?: string;
  assets?: string;
}

/** Sigma rule statuses (`--status`). */
const STATUSES = ['stable', 'test', 'experimental', 'deprecated', 'unsupported'] as const;

export function parseTime(v: string | undefined, option: string): number | undefined {
  if (v === undefined) return undefined;
  const ms = Date.parse(v);
  if (Number.isNaN(ms) || Math.abs(ms) > 8.64e15)
    throw new UsageError(
      'BAD_OPTION',
      `${option} must be a date or ISO-8601 time (got "${escapeControls(v.slice(0, 40))}")`,
    );
  return ms;
}

export function parseThreads(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 256)
    throw new UsageError(
      'BAD_OPTION',
      `--threads must be a whole number from 1 to 256 (got "${escapeControls(v.slice(0, 40))}")`,
    );
  return n;
}

/** `--include-eid 1,4688`: event ids as the records write them (whole numbers, at most 1,000 of them). */
export function parseEventIds(v: string | undefined, option: string): string[] | undefined {
  if (v === undefined) return undefined;
  const ids = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (ids.length === 0 || ids.length > 1000 || ids.some((id) => !/^\d{1,10}$/.test(id)))
    throw new UsageError(
      'BAD_OPTION',
      `${option} takes event ids separated by commas, e.g. 1,4688 (got "${escapeControls(v.slice(0, 40))}")`,
    );
  return ids.map((id) => String(Number(id)));
}

/**
 * `hunt.rules` of the config file (`--config`, else the default file when it
 * exists): community set names as they are, paths relative to the file's folder.
 */
function configRules(opts: HuntCliOptions): string[] {
  const file = opts.config ?? defaultConfigPath();
  if (opts.config === undefined && !existsSync(file)) return [];
  const rules = loadDeminerConfig(file).hunt.rules ?? [];
  return rules.map((r) => (isCommunitySet(r) ? r : resolve(dirname(file), r)));
}

/**
 * The rules of a hunt: each `--rules` path must exist and give at least one
 * rule (a typo must not quietly leave only the built-in rules running).
 * `community`, `community:emerging-threats`, … name SigmaHQ's rules shipped
 * in the package (a folder of that name is `./community`).
 */
function loadHuntRules(opts: HuntCliOptions): LoadedRules {
  const all: LoadedRules = opts.builtin
    ? loadSigmaRules({ builtin: true })
    : { rules: [], issues: [], files: 0 };
  const wanted = [...new Set([...configRules(opts), ...opts.rules])];
  // The whole set holds the others: each community rule is loaded once.
  const sets = wanted.includes('community') ? wanted.filter((p) => !p.startsWith('community:')) : wanted;
  for (const p of sets) {
    if (isCommunitySet(p)) {
      const loaded = loadCommunityRules(p);
      all.rules.push(...loaded.rules);
      all.issues.push(...loaded.issues);
      all.files += loaded.files;
      continue;
    }
    if (!existsSync(p))
      throw new UsageError('HUNT_RULES_MISSING', 'no such rule file or folder', { location: p });
    const loaded = loadSigmaRules({ ruleDirs: [p], builtin: false });
    if (loaded.rules.length === 0) {
      printProblems(loaded.issues, process.stderr);
      throw new UsageError(
        'HUNT_NO_RULES',
        loaded.files === 0
          ? 'no rule file (.yml/.yaml) here'
          : `none of its ${loaded.files} file(s) holds a valid rule`,
        { location: p },
      );
    }
    all.rules.push(...loaded.rules);
    all.issues.push(...loaded.issues);
    all.files += loaded.files;
  }
  if (opts.status !== undefined) {
    const keep = new Set(opts.status.split(',').map((s) => parseChoice(s.trim(), STATUSES, '--status')));
    all.rules = all.rules.filter((r) => keep.has((r.status ?? 'experimental') as (typeof STATUSES)[number]));
  }
  if (all.rules.length === 0 && (opts.rules.length > 0 || !opts.builtin || opts.status !== undefined))
    throw new UsageError(
      'HUNT_NO_RULES',
      'no rule was left to run (check --rules, --no-builtin and --status)',
      {
        location: opts.rules.join(' ') || '--no-builtin',
      },
    );
  return all;
}

export const registerHunt: RegisterCommand = (program: Command, run) => {
  const cmd = program
    .command('hunt')
    .description(
      'Hunt offline over event logs (EVTX, JSON/JSONL exports), captures (pcap, pcapng) and Zeek/Suricata logs; folders are walked',
    )
    .argument('<path...>', 'files or folders; each file is recognised by its content')
    .option(
      '-R, --rules <path>',
      "also load Sigma rules from this file or folder, or SigmaHQ's shipped set: community|community:rules|community:emerging-threats|community:threat-hunting (repeatable)",
      collect,
      [],
    )
    .option(
      '-c, --config <file>',
      'deminer config file whose hunt.rules are loaded too (default: the usual one, if any)',
    )
    .option('--no-builtin', "leave out deminer's own rules")
    .option('--status <list>', `only Sigma rules of these statuses, comma-separated: ${STATUSES.join('|')}`)
    .option('--include-eid <ids>', 'only event-log records with these event ids, comma-separated')
    .option('--exclude-eid <ids>', 'leave out event-log records with these event ids')
    .option('--from <time>', 'only events at or after this time (ISO-8601), event logs and network alike')
    .option('--to <time>', 'only events at or before this time (ISO-8601)')
    .option(
      '--threads <n>',
      'event-log files matched in parallel: this thread plus n-1 worker processes (default: one per core)',
    )
    .option('--assets <file>', 'asset map ("address,name" per line): names the hosts behind addresses')
    .option('--no-progress', 'no progress bar even on a terminal')
    .option('--no-intel', 'check pools against the built-in list only, not threat intelligence');
  addOutputOptions(cmd, FINDING_FORMATS, 'table');
  addLevelOptions(cmd);
  addSendOptions(cmd);
  cmd.action(
    run(async (paths: string[], opts: HuntCliOptions) => {
      checkSendOptions(opts);
      const format = parseChoice(opts.format, FINDING_FORMATS, '--format');
      const levels = parseLevels(opts);
      const from = parseTime(opts.from, '--from');
      const to = parseTime(opts.to, '--to');
      if (from !== undefined && to !== undefined && from > to)
        throw new UsageError('BAD_OPTION', '--from is after --to');
      const window: TimeWindow = {};
      if (from !== undefined) window.from = from;
      if (to !== undefined) window.to = to;
      const include = parseEventIds(opts.includeEid, '--include-eid');
      const exclude = parseEventIds(opts.excludeEid, '--exclude-eid');
      if (include) window.includeIds = include;
      if (exclude) window.excludeIds = exclude;
      const threads = parseThreads(opts.threads);
      const hostNames: HostNames | undefined = opts.assets ? loadAssetMap(opts.assets) : undefined;

      const loaded = loadHuntRules(opts);
      const intel = opts.intel ? loadDefaultIntel() : undefined;

      return withResultOut(opts, async (out) => {
        const tty = process.stderr.isTTY === true && opts.progress && !opts.quiet;
        let bar: SingleBar | undefined;
        if (tty) {
          bar = new SingleBar({
            stream: process.stderr,
            format: 'hunting [{bar}] {percentage}% | {filesDone}/{files} files | {events} events',
            hideCursor: true,
            clearOnComplete: true,
          });
          bar.start(1, 0, { filesDone: 0, files: 0, events: 0 });
        }
        const strict = strictStop(opts.strict);
        const learnedPools = await learnedPoolsIfAsked(opts);
        const result = await hunt({
          paths,
          minLevel: levels.min,
          rules: loaded.rules,
          intel,
          learnedPools,
          ...window,
          ...(threads !== undefined ? { threads } : {}),
          ...(hostNames ? { hostNames } : {}),
          ...strict.options,
          ...(bar
            ? {
                onProgress: (p) => {
                  bar.setTotal(Math.max(1, p.bytes));
                  bar.update(p.bytesDone, { filesDone: p.filesDone, files: p.files, events: p.events });
                },
              }
            : {}),
        });
        bar?.stop();

        const allRuleIssues = [...loaded.issues, ...(result.sigma?.issues ?? [])];
        const ruleIssues = summariseCommunityIssues(allRuleIssues);
        printProblems(
          [...ruleIssues, ...result.issues],
          process.stderr,
          ruleIssues.length + result.stats.issues,
        );
        strict.check();
        if (result.stats.files === 0)
          throw new UsageError('HUNT_NO_INPUT', 'no readable input among the given paths', {
            location: paths.join(' '),
          });
        const sigma = result.sigma?.stats;
        const findings = keepLevels(result.findings, levels.only);
        await sendIfAsked(opts, findings);
        const sink = sinkFor(format, { out, color: out.color, width: out.width });
        sink.end({
          findings,
          issues: result.issues,
          stats: { ...result.stats, ...(sigma ? { rules: sigma } : {}) },
        });
        if (opts.summary !== false) {
          const summary = renderSummary(summarizeByRule(findings), result.stats, findings.length);
          const rulesLine = sigma
            ? `Rules: ${sigma.runnable} runnable of ${sigma.rules} loaded from ${loaded.files} file(s)${sigma.unmapped ? `, ${sigma.unmapped} for log sources without a mapping (not run)` : ''}${allRuleIssues.length ? `, ${allRuleIssues.length} skipped as invalid` : ''}.\n`
            : 'Rules: none loaded (network rules and pool checks only).\n';
          const notes = out.notes(sink.machine);
          notes.write(`${notes === out ? '\n' : ''}${summary}${rulesLine}`);
        }
        // Rule files that did not load are the user's own choice, reported above; input problems set the exit code.
        return exitCodeFor(findings.length, result.stats.issues);
      });
    }),
  );
};

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}
