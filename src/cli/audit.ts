import { statSync } from 'node:fs';
import type { Command } from 'commander';
import { applySiteConfig, loadChecks } from '../audit/checks.ts';
import {
  AUDIT_FORMATS,
  renderCsv,
  renderJson,
  renderJsonl,
  renderTable,
  scoreLine,
} from '../audit/render.ts';
import { findingOf } from '../audit/report.ts';
import { type HostReport, runAudit } from '../audit/run.ts';
import { UsageError } from '../core/errors.ts';
import { atLeast } from '../core/severity.ts';
import { printProblems } from '../outputs/problems.ts';
import { escapeControls } from '../outputs/safe-text.ts';
import { parseChoice, type RegisterCommand } from './command.ts';
import { defaultConfigPath, loadDeminerConfig } from './config-file.ts';
import {
  addLevelOptions,
  addOutputOptions,
  exitCodeFor,
  type LevelCliOptions,
  type OutputCliOptions,
  parseLevels,
  withResultOut,
} from './output-options.ts';

interface AuditCliOptions extends OutputCliOptions, LevelCliOptions {
  host?: boolean;
  root?: string;
  config?: string;
  checks?: string;
}

export const registerAudit: RegisterCommand = (program: Command, run) => {
  const cmd = program
    .command('audit')
    .description(
      'Posture checks against miners: who may load drivers or debug, ProxyLogon patch, audit policy (4688/4697/5145), Secure Boot, allow-listing; Windows exports (PATH…) or a Linux host (--host, --root DIR)',
    )
    .argument(
      '[path...]',
      'Windows exports: a folder per host, or files (secedit INF, auditpol CSV, GPO report XML, AppLocker/WDAC XML, Get-HotFix, systeminfo, ExSetup version, Confirm-SecureBootUEFI, msinfo32)',
    )
    .option('--host', 'audit this Linux host (run as root to read sudoers and capabilities)')
    .option(
      '--root <dir>',
      'audit the Linux tree of a collected folder or mounted image (nothing outside it is read)',
    )
    .option('--checks <file>', 'checks file to use instead of the shipped data/posture/checks.yaml')
    .option(
      '-c, --config <file>',
      'config file (default: ~/.deminer/config.yaml when present): audit.expected, audit.skip',
    );
  addOutputOptions(cmd, AUDIT_FORMATS, 'table');
  addLevelOptions(cmd, undefined);
  cmd.action(
    run(async (paths: string[], opts: AuditCliOptions) => {
      const format = parseChoice(opts.format, AUDIT_FORMATS, '--format');
      const levels = parseLevels(opts, 'low');
      if (paths.length === 0 && !opts.host && opts.root === undefined)
        throw new UsageError('AUDIT_NOTHING', 'give Windows exports (PATH…), --host or --root DIR');
      if (opts.host && process.platform !== 'linux')
        throw new UsageError('AUDIT_NOT_LINUX', '--host reads a Linux host and runs on Linux only');
      if (opts.root !== undefined) checkFolder(opts.root);
      const config = loadDeminerConfig(opts.config);
      const checks = applySiteConfig(
        loadChecks(opts.checks),
        config.audit,
        opts.config ?? defaultConfigPath(),
      ).filter((c) => atLeast(c.severity, levels.min) && (!levels.only || levels.only.has(c.severity)));
      const audit = runAudit({
        paths,
        ...(opts.host ? { host: true } : {}),
        ...(opts.root !== undefined ? { root: opts.root } : {}),
        checks,
      });
      // Problems go to stderr whatever the format: they say why the exit code is 2.
      printProblems(audit.problems, process.stderr);
      if (opts.strict && audit.problems.length > 0)
        throw new UsageError('STRICT_STOPPED', 'stopped: an input could not be read in full (--strict)', {
          location: audit.problems[0]!.location,
        });
      const findings = audit.hosts.flatMap((h) =>
        h.results.filter((r) => r.status === 'fail').map((r) => findingOf(r)),
      );
      return withResultOut(opts, async (out) => {
        const machine = format !== 'table';
        if (format === 'jsonl') out.write(renderJsonl(audit.hosts));
        else if (format === 'json') out.write(renderJson(audit.hosts, findings, audit.problems));
        else if (format === 'csv') out.write(renderCsv(audit.hosts));
        else out.write(renderTable(audit.hosts, { color: out.color, width: out.width }));
        if (opts.summary !== false) summary(out.notes(machine), audit.hosts, audit.skipped, machine);
        return exitCodeFor(findings.length, audit.problems.length);
      });
    }),
  );
};

function checkFolder(root: string): void {
  let dir = false;
  try {
    dir = statSync(root).isDirectory();
  } catch {
    throw new UsageError('AUDIT_ROOT_MISSING', 'no such folder', { location: root });
  }
  if (!dir) throw new UsageError('AUDIT_ROOT_NOT_FOLDER', 'not a folder', { location: root });
}

function summary(
  notes: { write(s: string): unknown },
  hosts: readonly HostReport[],
  skipped: readonly string[],
  machine: boolean,
): void {
  // Machine formats carry the results only; the scores go to stderr beside them.
  if (machine) for (const h of hosts) notes.write(`${scoreLine(h)}\n`);
  if (skipped.length > 0)
    notes.write(
      `${skipped.length} file(s) left out (no export this reads): ${skipped.slice(0, 5).map(escapeControls).join(', ')}${skipped.length > 5 ? ', …' : ''}\n`,
    );
}
