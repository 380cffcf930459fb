import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { UsageError } from '../core/errors.ts';
import type { IntelConfig } from '../intel/config.ts';
import { defaultIntelConfig, resolveStateDir } from '../intel/config.ts';
import type { IntelEngine } from '../intel/engine.ts';
import { toHosts, toRpz } from '../intel/export/dns-zones.ts';
import { toNftables } from '../intel/export/nftables.ts';
import { toStix } from '../intel/export/stix.ts';
import { toSuricata } from '../intel/export/suricata.ts';
import { buildIntel } from '../intel/load.ts';
import { refreshAll } from '../intel/refresh.ts';
import type { Indicator } from '../intel/types.ts';
import { colours, type Painted, ProblemPrinter, paint, TextTable } from '../outputs/index.ts';
import { EXIT, parseChoice, type RegisterCommand } from './command.ts';
import { defaultConfigPath, loadDeminerConfig } from './config-file.ts';
import { withResultOut } from './output-options.ts';
import { readListLines } from './read-lines.ts';

interface CommonOptions {
  config?: string;
  stateDir?: string;
}

/** `--config`, else `$DEMINER_HOME/config.yaml` or `~/.deminer/config.yaml` when present. */
/** Values one `intel lookup` takes (arguments and --file together). */
const MAX_LOOKUPS = 1_000_000;

function configFrom(opts: CommonOptions): { config: IntelConfig; file?: string } {
  // The whole file is validated strictly, so a misspelt section is an error here too.
  if (opts.config) return { config: loadDeminerConfig(opts.config).intel, file: opts.config };
  const file = defaultConfigPath();
  if (existsSync(file)) return { config: loadDeminerConfig(file).intel, file };
  return { config: defaultIntelConfig() };
}

function engineFrom(opts: CommonOptions): IntelEngine {
  const { config, file } = configFrom(opts);
  return buildIntel({ stateDir: resolveStateDir(opts.stateDir, config), config: file ? config : undefined });
}

function common(c: Command): Command {
  return c
    .option('-c, --config <file>', 'deminer config file with an intel: section')
    .option('--state-dir <dir>', 'where feeds are kept (default $DEMINER_HOME/intel or ~/.deminer/intel)');
}

const LOOKUP_FORMATS = ['table', 'jsonl'] as const;
const STATS_FORMATS = ['table', 'json'] as const;
const EXPORT_FORMATS = ['nftables', 'hosts', 'rpz', 'suricata', 'stix'] as const;

export const registerIntel: RegisterCommand = (program, run) => {
  const intel = program
    .command('intel')
    .description('threat intelligence: mining-pool feeds, allow-list, lookups and exports');

  common(intel.command('update'))
    .description('fetch the configured feeds (conditional GET; a failed download keeps the last good copy)')
    .option('--force', 'fetch even when a feed is within its interval')
    .option('-f, --format <format>', 'table|jsonl', 'table')
    .action(
      run(async (opts: CommonOptions & { force?: boolean; format: string }) => {
        const format = parseChoice(opts.format, LOOKUP_FORMATS, '--format');
        const { config } = configFrom(opts);
        const stateDir = resolveStateDir(opts.stateDir, config);
        const outcomes = await refreshAll(config, stateDir, { force: opts.force === true });
        if (format === 'jsonl') for (const o of outcomes) process.stdout.write(`${JSON.stringify(o)}\n`);
        else {
          const t = new TextTable({ head: ['feed', 'status', 'indicators', 'issues', 'note'], color: tty() });
          for (const o of outcomes)
            t.push([
              o.name,
              colourStatus(o.status),
              o.indicators,
              o.issues,
              // Never the feed's own text here: its lines are whatever the feed's author wrote.
              o.warning ??
                (o.firstIssue
                  ? `${o.issues} skipped; first at ${o.firstIssue.location} (${o.firstIssue.code})`
                  : ''),
            ]);
          process.stdout.write(
            `${outcomes.length === 0 ? 'no feeds configured (intel.feeds)\n' : `${t.toString()}\n`}`,
          );
        }
        const problems = new ProblemPrinter(process.stderr);
        for (const o of outcomes)
          if (o.warning)
            problems.add({ code: feedWarningCode(o.status), message: o.warning, location: o.name });
        problems.end();
        return outcomes.some((o) => o.status === 'failed' || o.status === 'empty') ? EXIT.FINDINGS : EXIT.OK;
      }),
    );

  common(intel.command('lookup'))
    .description('is a domain, IP, IP:port or URL listed? (exit 1 when one is)')
    .argument('[values...]', 'values to look up')
    .option('--file <file>', 'read values from a file, one per line ("-" for stdin)')
    .option('-f, --format <format>', 'table|jsonl', 'table')
    .action(
      run(async (values: string[], opts: CommonOptions & { file?: string; format: string }) => {
        const format = parseChoice(opts.format, LOOKUP_FORMATS, '--format');
        const all = values.map((value, i) => ({ value, location: `argument ${i + 1}` }));
        const problems = new ProblemPrinter(process.stderr);
        let invalid = 0;
        if (opts.file) {
          for await (const l of readListLines(opts.file, (i) => {
            invalid++;
            problems.add(i);
          })) {
            if (all.length >= MAX_LOOKUPS)
              throw new UsageError('INTEL_TOO_MANY_VALUES', `more than ${MAX_LOOKUPS} values in one lookup`, {
                location: l.location,
              });
            all.push(l);
          }
        }
        if (all.length === 0 && invalid === 0)
          throw new UsageError('NO_VALUES', 'give values to look up, or --file');
        const engine = engineFrom(opts);
        let listed = 0;
        const t = new TextTable({ head: ['value', 'verdict', 'matches'], color: tty() });
        for (const { value, location } of all) {
          const v = engine.lookup(value);
          if (v.kind === undefined) {
            invalid++;
            problems.add({
              code: 'INTEL_BAD_VALUE',
              // The engine's problem names the value (quoted, cut short); the printer escapes it.
              message: `${v.problem ?? `"${value}" is not a domain, IP, IP:port or URL`}; skipped`,
              location,
            });
          }
          if (v.listed) listed++;
          if (format === 'jsonl') {
            const line: Record<string, unknown> = {
              value,
              listed: v.listed,
              allowed: v.allowed,
              matches: v.matches,
            };
            if (v.allowedBy) line.allowedBy = v.allowedBy;
            process.stdout.write(`${JSON.stringify(line)}\n`);
          } else {
            const verdict = v.listed
              ? paint('listed', colours.red)
              : v.allowed
                ? paint('allowed', colours.green)
                : 'not listed';
            const m = [...v.matches, ...(v.allowedBy ?? [])].map(
              (x) => `${x.indicator} (${x.source}, ${x.confidence}${x.via ? `, via ${x.via}` : ''})`,
            );
            t.push([value, verdict, m]);
          }
        }
        problems.end();
        if (format === 'table') process.stdout.write(`${t.toString()}\n`);
        return listed > 0 ? EXIT.FINDINGS : invalid > 0 ? EXIT.USAGE : EXIT.OK;
      }),
    );

  common(intel.command('stats'))
    .description('indicator counts by type and source, and the health of every feed')
    .option('-f, --format <format>', 'table|json', 'table')
    .action(
      run((opts: CommonOptions & { format: string }) => {
        const format = parseChoice(opts.format, STATS_FORMATS, '--format');
        const started = performance.now();
        const engine = engineFrom(opts);
        const loadMs = Math.round(performance.now() - started);
        const s = engine.stats();
        if (format === 'json') {
          process.stdout.write(`${JSON.stringify({ ...s, loadMs }, null, 2)}\n`);
        } else {
          const types = new TextTable({ head: ['type', 'indicators'], color: tty() });
          for (const [k, n] of Object.entries(s.byType)) if (n > 0) types.push([k, n]);
          const feeds = new TextTable({
            head: ['feed', 'status', 'indicators', 'last success', 'warning'],
            color: tty(),
          });
          for (const f of s.feeds)
            feeds.push([f.name, colourStatus(f.status), f.indicators, f.lastSuccess ?? '', f.warning ?? '']);
          process.stdout.write(
            `${s.indicators} indicators, ${s.allowEntries} allow-list entries, loaded in ${loadMs} ms\n${types.toString()}\n${feeds.toString()}\n`,
          );
        }
        return EXIT.OK;
      }),
    );

  common(intel.command('export'))
    .description('write the listed indicators (allow-listed ones left out) for another tool')
    .requiredOption('-f, --format <format>', EXPORT_FORMATS.join('|'))
    .option(
      '-o, --output <file>',
      'write here instead of stdout (replaced when complete; the folder must exist)',
    )
    .action(
      run(async (opts: CommonOptions & { format: string; output?: string }) => {
        const format = parseChoice(opts.format, EXPORT_FORMATS, '--format');
        const engine = engineFrom(opts);
        const live: Indicator[] = [];
        for (const i of engine.indicators()) if (!engine.isAllowedIndicator(i.type, i.value)) live.push(i);
        let text: string;
        switch (format) {
          case 'nftables':
            text = toNftables(live);
            break;
          case 'hosts':
            text = toHosts(live);
            break;
          case 'rpz': {
            const allowed = [...engine.allowEntries()].filter((a) => a.type === 'domain').map((a) => a.value);
            text = toRpz(
              live,
              allowed.filter((a) => engine.matchDomain(a).matches.length > 0),
            );
            break;
          }
          case 'suricata':
            text = toSuricata(live);
            break;
          case 'stix':
            text = toStix(live);
            break;
        }
        return withResultOut(opts, async (out) => {
          out.write(text);
          return EXIT.OK;
        });
      }),
    );
};

function colourStatus(s: string): Painted {
  if (s === 'failed' || s === 'empty' || s === 'never-fetched') return paint(s, colours.red);
  if (s === 'stale') return paint(s, colours.yellow);
  return paint(s, colours.green);
}

/** Tables are coloured on a terminal only. */
function tty(): boolean {
  return process.stdout.isTTY === true;
}

function feedWarningCode(status: string): string {
  if (status === 'failed') return 'INTEL_FEED_FAILED';
  if (status === 'empty') return 'INTEL_FEED_EMPTY';
  return 'INTEL_FEED_WARNING';
}
