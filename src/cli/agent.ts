import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { ENROL_SECRET_FILE, runAgent } from '../agent/agent.ts';
import { normalisePin } from '../agent/client.ts';
import { parseDuration } from '../core/config.ts';
import { UsageError } from '../core/errors.ts';
import { packagePath } from '../core/paths.ts';
import { escapeControls } from '../outputs/safe-text.ts';
import { EXIT, type RegisterCommand } from './command.ts';

/**
 * `deminer agent`: the endpoint agent (see src/agent/agent.ts), and
 * `agent install|uninstall` for its hardened systemd service.
 */

interface AgentCliOptions {
  server?: string;
  enroll?: string;
  state?: string;
  interval?: string;
  window?: string;
  once?: boolean;
  serverPin?: string;
  intel?: boolean;
  auditInterval?: string;
  audit?: boolean;
  behaviour?: boolean;
}

interface InstallCliOptions extends AgentCliOptions {
  unitDir?: string;
  start?: boolean;
}

export const UNIT_NAME = 'deminer-agent.service';
const DEFAULT_UNIT_DIR = '/etc/systemd/system';
const MAX_INTERVAL_MS = 3600_000;
const MAX_WINDOW_MS = 60_000;

export function defaultStateDir(): string {
  return process.getuid?.() === 0 ? '/var/lib/deminer/agent' : join(homedir(), '.deminer', 'agent');
}

function checkServer(url: string | undefined): string {
  if (!url)
    throw new UsageError(
      'BAD_OPTION',
      '--server URL is required (e.g. --server https://deminer.example:7878)',
    );
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError('BAD_OPTION', `--server "${url}" is not a URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new UsageError('BAD_OPTION', `--server must be an http:// or https:// URL (got "${url}")`);
  return url;
}

function checkPin(pin: string | undefined): string | undefined {
  if (pin === undefined) return undefined;
  try {
    return normalisePin(pin);
  } catch {
    throw new UsageError(
      'BAD_OPTION',
      '--server-pin must be the SHA-256 of the certificate (64 hex digits, colons allowed)',
    );
  }
}

function durations(opts: AgentCliOptions): { intervalMs?: number; windowMs?: number } {
  const out: { intervalMs?: number; windowMs?: number } = {};
  if (opts.interval !== undefined) {
    out.intervalMs = parseDuration(opts.interval, '--interval', { max: MAX_INTERVAL_MS });
    if (out.intervalMs < 2000) throw new UsageError('BAD_OPTION', '--interval must be at least 2s');
  }
  if (opts.window !== undefined)
    out.windowMs = parseDuration(opts.window, '--window', { max: MAX_WINDOW_MS });
  if (out.intervalMs !== undefined && out.windowMs !== undefined && out.windowMs >= out.intervalMs)
    throw new UsageError('BAD_OPTION', '--window must be shorter than --interval');
  return out;
}

/** The posture audit's interval: --no-audit switches it off; at least a minute (it may run apt-get). */
function auditOption(opts: AgentCliOptions): { auditIntervalMs?: number } {
  if (opts.audit === false) return { auditIntervalMs: 0 };
  if (opts.auditInterval === undefined) return {};
  const ms = parseDuration(opts.auditInterval, '--audit-interval');
  if (ms < 60_000) throw new UsageError('BAD_OPTION', '--audit-interval must be at least 1m');
  return { auditIntervalMs: ms };
}

/** A systemd ExecStart word: quoted, with specifiers (%) and variables ($) escaped. */
function unitWord(s: string): string {
  if (/[\n\r\0]/.test(s))
    throw new UsageError('BAD_OPTION', 'a line break or NUL cannot go into a unit file');
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%').replace(/\$/g, '$$$$')}"`;
}

/** A path in a unit's path settings (ReadWritePaths=): no quoting there, so no spaces either. */
function unitPath(s: string): string {
  if (!/^\/[^\s"'\\%$]*$/.test(s))
    throw new UsageError(
      'BAD_OPTION',
      `the state folder "${s}" must be an absolute path without spaces, quotes, % or $`,
    );
  return s;
}

export function agentUnit(o: {
  server: string;
  stateDir: string;
  interval?: string;
  serverPin?: string;
}): string {
  const exec = [
    process.execPath,
    packagePath('bin', 'deminer.js'),
    'agent',
    '--server',
    o.server,
    '--state',
    o.stateDir,
  ];
  if (o.interval) exec.push('--interval', o.interval);
  if (o.serverPin) exec.push('--server-pin', o.serverPin);
  const state = unitPath(o.stateDir);
  return `# Written by deminer agent install; deminer agent uninstall removes it.
[Unit]
Description=deminer agent: finds hidden cryptocurrency miners on this host
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
ExecStart=${exec.map(unitWord).join(' ')}
Restart=always
RestartSec=10s
# The enrolment secret waits in ${state}/${ENROL_SECRET_FILE} (0600, deleted once traded for a token),
# never on this command line: unit files and ExecStart are readable by every user.
UMask=0077
Nice=10
IOSchedulingClass=idle
MemoryMax=512M

# Hardening. The agent runs as root because the scan reads /proc of every
# process (exe, fd, cwd and root links of other users' processes need
# CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH); what that rules out:
#   - User=/DynamicUser=: an unprivileged user sees only its own processes' links;
#   - ProtectProc=invisible / ProcSubset=pid: would hide the very processes and
#     /proc/net tables the scan is for;
#   - ProtectHome=yes: shell start files and authorized_keys under /home and
#     /root are persistence the scan reads (read-only is enough);
#   - PrivateNetwork=: the agent must reach the server;
#   - RestrictNamespaces=, PrivatePIDs: it reads other namespaces through /proc.
# Everything else is taken: it can write nothing but its state folder, gains
# no privilege, and keeps only the capabilities reading /proc needs.
NoNewPrivileges=yes
ProtectSystem=strict
ReadWritePaths=${state}
ProtectHome=read-only
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictSUIDSGID=yes
RestrictRealtime=yes
LockPersonality=yes
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX
CapabilityBoundingSet=CAP_SYS_PTRACE CAP_DAC_READ_SEARCH CAP_DAC_OVERRIDE
SystemCallArchitectures=native

[Install]
WantedBy=multi-user.target
`;
}

function hasSystemctl(): boolean {
  return (process.env['PATH'] ?? '')
    .split(delimiter)
    .some((d) => d !== '' && existsSync(join(d, 'systemctl')));
}

function systemctl(args: string[]): void {
  const r = spawnSync('systemctl', args, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0)
    throw new UsageError(
      'SYSTEMCTL_FAILED',
      `systemctl ${args.join(' ')} failed (exit ${r.status ?? r.signal})`,
    );
}

function writeUnit(dir: string, text: string): string {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(dir);
  } catch {
    throw new UsageError('BAD_OPTION', 'no such folder', { location: dir });
  }
  if (!st.isDirectory()) throw new UsageError('BAD_OPTION', 'not a folder', { location: dir });
  const file = join(dir, UNIT_NAME);
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, text, { mode: 0o644 });
  renameSync(tmp, file);
  chmodSync(file, 0o644);
  return file;
}

export const registerAgent: RegisterCommand = (program: Command, run) => {
  const agent = program
    .command('agent')
    .description('Run the endpoint agent: scan this host every interval and report to a deminer server')
    .option('--server <url>', 'the deminer server (e.g. https://deminer.example:7878)')
    .option('--enroll <secret>', 'enrolment secret, traded once for a token kept in the state folder')
    .option(
      '--state <dir>',
      'state folder: token and spool (default: /var/lib/deminer/agent as root, else ~/.deminer/agent)',
    )
    .option('--interval <duration>', "scan interval, at least 2s (default: the server's setting, else 10s)")
    .option('-w, --window <duration>', 'sampling window of each scan (default: 1s)')
    .option(
      '--once',
      'one scan, deliver what is spooled, stop (exit 1 when something could not be delivered)',
    )
    .option('--server-pin <sha256>', "with an https --server: the SHA-256 of the server's certificate")
    .option('--no-intel', 'do not check pools against threat intelligence')
    .option(
      '--audit-interval <duration>',
      'posture audit (deminer audit --host) at start and then this often; failures are sent as findings (default: 24h)',
    )
    .option('--no-audit', 'no posture audit')
    .option('--no-behaviour', 'do not sample busy processes once a second for the behaviour model')
    .action(
      run(async (opts: AgentCliOptions) => {
        const server = checkServer(opts.server);
        const pin = checkPin(opts.serverPin);
        const d = durations(opts);
        const audit = auditOption(opts);
        if (process.platform !== 'linux')
          throw new UsageError('AGENT_NOT_LINUX', 'the agent reads /proc and runs on Linux only');
        const ac = new AbortController();
        const stop = () => ac.abort();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        try {
          const summary = await runAgent({
            server,
            stateDir: resolve(opts.state ?? defaultStateDir()),
            ...(opts.enroll ? { enrollSecret: opts.enroll } : {}),
            ...d,
            ...(opts.once ? { once: true } : {}),
            ...(pin ? { pinSha256: pin } : {}),
            ...(opts.intel === false ? { intel: false } : {}),
            ...audit,
            ...(opts.behaviour === false ? { behaviour: false } : {}),
            signal: ac.signal,
          });
          process.stderr.write(
            `deminer agent: ${summary.scans} scan(s), ${summary.findingsQueued} finding(s) queued, ${summary.pending} batch(es) left in the spool\n`,
          );
          return opts.once && summary.pending > 0 ? EXIT.FINDINGS : EXIT.OK;
        } finally {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
        }
      }),
    );

  agent
    .command('install')
    .description(`Install and start the agent as a hardened systemd service (${UNIT_NAME})`)
    .option('--server <url>', 'the deminer server')
    .option('--enroll <secret>', 'enrolment secret (kept 0600 in the state folder until traded for a token)')
    .option('--state <dir>', 'state folder (default: /var/lib/deminer/agent)')
    .option('--interval <duration>', 'scan interval')
    .option('--server-pin <sha256>', "the SHA-256 of the server's certificate")
    .option(
      '--unit-dir <dir>',
      `where the unit goes (default: ${DEFAULT_UNIT_DIR}; another folder is not started)`,
    )
    .option('--no-start', 'write the unit, do not enable or start it')
    .action(
      run(async (_: InstallCliOptions, cmd: Command) => {
        // Options shared with `agent` land on it when given after `install`: read both.
        const opts = cmd.optsWithGlobals<InstallCliOptions>();
        const server = checkServer(opts.server);
        const pin = checkPin(opts.serverPin);
        durations(opts);
        const unitDir = resolve(opts.unitDir ?? DEFAULT_UNIT_DIR);
        const system = unitDir === DEFAULT_UNIT_DIR;
        if (system && process.getuid?.() !== 0)
          throw new UsageError(
            'AGENT_INSTALL_NOT_ROOT',
            `installing into ${DEFAULT_UNIT_DIR} needs root (sudo)`,
          );
        const stateDir = resolve(opts.state ?? (system ? '/var/lib/deminer/agent' : defaultStateDir()));
        if (!opts.enroll && !existsSync(join(stateDir, 'state.json')))
          throw new UsageError(
            'BAD_OPTION',
            '--enroll SECRET is required (this host has no agent token yet)',
          );
        const unit = agentUnit({
          server,
          stateDir,
          ...(opts.interval ? { interval: opts.interval } : {}),
          ...(pin ? { serverPin: pin } : {}),
        });
        mkdirSync(stateDir, { recursive: true, mode: 0o700 });
        chmodSync(stateDir, 0o700);
        if (opts.enroll)
          writeFileSync(join(stateDir, ENROL_SECRET_FILE), `${opts.enroll}\n`, { mode: 0o600 });
        const file = writeUnit(unitDir, unit);
        process.stderr.write(`deminer agent: wrote ${escapeControls(file)}\n`);
        const start = `systemctl daemon-reload && systemctl enable --now ${UNIT_NAME}`;
        if (!system || opts.start === false) {
          process.stderr.write(`deminer agent: not started; to start it: ${start}\n`);
          return EXIT.OK;
        }
        if (!hasSystemctl()) {
          process.stderr.write(
            `deminer agent: systemctl is not available; start the agent with systemd later (${start}), or run: deminer agent --server ${escapeControls(server)} --state ${escapeControls(stateDir)}\n`,
          );
          return EXIT.OK;
        }
        systemctl(['daemon-reload']);
        systemctl(['enable', '--now', UNIT_NAME]);
        process.stderr.write(`deminer agent: ${UNIT_NAME} enabled and started\n`);
        return EXIT.OK;
      }),
    );

  agent
    .command('uninstall')
    .description(`Stop and remove the agent's systemd service (the state folder is kept unless --purge)`)
    .option('--unit-dir <dir>', `where the unit is (default: ${DEFAULT_UNIT_DIR})`)
    .option('--state <dir>', 'state folder to remove with --purge')
    .option('--purge', 'also delete the state folder (token and unsent findings)')
    .action(
      run(async (_: unknown, cmd: Command) => {
        const opts = cmd.optsWithGlobals<{ unitDir?: string; state?: string; purge?: boolean }>();
        const unitDir = resolve(opts.unitDir ?? DEFAULT_UNIT_DIR);
        const system = unitDir === DEFAULT_UNIT_DIR;
        if (system && process.getuid?.() !== 0)
          throw new UsageError(
            'AGENT_INSTALL_NOT_ROOT',
            `removing from ${DEFAULT_UNIT_DIR} needs root (sudo)`,
          );
        const file = join(unitDir, UNIT_NAME);
        if (system && hasSystemctl()) {
          // Stopping a unit that is not loaded fails harmlessly: the file is what matters.
          spawnSync('systemctl', ['disable', '--now', UNIT_NAME], { stdio: 'ignore' });
        }
        const existed = existsSync(file);
        rmSync(file, { force: true });
        if (system && hasSystemctl()) spawnSync('systemctl', ['daemon-reload'], { stdio: 'ignore' });
        if (opts.purge) {
          const stateDir = resolve(opts.state ?? (system ? '/var/lib/deminer/agent' : defaultStateDir()));
          rmSync(stateDir, { recursive: true, force: true });
          process.stderr.write(`deminer agent: removed ${escapeControls(stateDir)}\n`);
        }
        process.stderr.write(
          existed
            ? `deminer agent: removed ${escapeControls(file)}\n`
            : `deminer agent: ${escapeControls(file)} was not installed\n`,
        );
        return EXIT.OK;
      }),
    );
};
