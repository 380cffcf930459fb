import type { ImpactConfig } from '../cases/config.ts';
import { DeminerError, UsageError } from '../core/errors.ts';
import type { IntelConfig } from '../intel/config.ts';
import type { RunningServer } from '../server/index.ts';
import { StoreConfigError } from '../store/errors.ts';
import { EXIT, type RegisterCommand } from './command.ts';
import { addIsolationOptions, type IsolationCliOptions, serverIsolation } from './isolation-options.ts';

interface ServeOptions extends IsolationCliOptions {
  host: string;
  port: string;
  data?: string;
  database?: string;
  tlsCert?: string;
  tlsKey?: string;
  logLevel: string;
  retainFindings?: string;
  retainMetrics?: string;
  retainRawMetrics?: string;
  retainAudit?: string;
  nats?: string;
  isolationSla?: string;
  reviewSla?: string;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const registerServe: RegisterCommand = (program, run) => {
  const cmd = program
    .command('serve')
    .description(
      'Run the deminer server: the HTTP API (/api/v1) for agents, sensors and people, on SQLite (default) or PostgreSQL.',
    )
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0: any free port, printed when listening)', '7878')
    .option(
      '--data <dir>',
      'folder of the embedded database (default /var/lib/deminer as root, else ~/.deminer)',
    )
    .option('--database <url>', 'PostgreSQL URL (postgres://…) instead of the embedded database')
    .option('--tls-cert <file>', 'serve HTTPS with this certificate (PEM; needs --tls-key)')
    .option('--tls-key <file>', 'private key of --tls-cert (PEM)')
    .option('--log-level <level>', `request log level on stderr: ${LOG_LEVELS.join('|')}`, 'info')
    .option(
      '--retain-findings <age>',
      'delete findings last seen longer ago than this, e.g. 180d (default: keep)',
    )
    .option('--retain-metrics <age>', 'delete metric samples older than this (default 30d)')
    .option(
      '--retain-raw-metrics <age>',
      'keep metric samples as sent this long, then as 5-minute (to 7d) and 1-hour averages (default 24h)',
    )
    .option('--retain-audit <age>', 'delete audit entries older than this (default 365d)')
    .option(
      '--nats <url>',
      'queue ingested findings on NATS JetStream (nats://host:4222); every server sharing it stores its share',
    )
    .option('--isolation-sla <age>', 'incidents: isolation due this long after discovery (default 30m)')
    .option('--review-sla <age>', 'incidents: review due this long after recovery (default 72h)');
  addIsolationOptions(cmd).action(run((opts: ServeOptions) => serveCommand(opts)));
};

export function parsePort(value: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) {
    throw new UsageError('BAD_OPTION', `--port must be a number from 0 to 65535 (got "${value}")`);
  }
  return Number(value);
}

/** `--nats`: one nats:// (or tls://) URL, or several separated by commas. */
export function natsUrl(value: string | undefined): { nats?: string } {
  if (value === undefined) return {};
  const parts = value.split(',').map((p) => p.trim());
  if (parts.some((p) => !/^(nats|tls):\/\/[^\s/]+\/?$/i.test(p))) {
    throw new UsageError('BAD_OPTION', '--nats must be a nats:// URL (several separated by commas)');
  }
  return { nats: value };
}

/** --data and --database name two different stores: one of them, or neither. */
export async function storeLocation(opts: {
  data?: string;
  database?: string;
}): Promise<{ dataDir?: string; database?: string }> {
  if (opts.data !== undefined && opts.database !== undefined) {
    throw new UsageError('BAD_OPTION', 'give --data or --database, not both');
  }
  if (opts.database !== undefined) {
    if (!/^postgres(ql)?:\/\//i.test(opts.database)) {
      throw new UsageError('BAD_OPTION', '--database must be a postgres:// or postgresql:// URL');
    }
    return { database: opts.database };
  }
  if (opts.data !== undefined) return { dataDir: opts.data };
  // The server and its dependencies load only for the commands that need them.
  const { defaultServerDataDir } = await import('../server/index.ts');
  return { dataDir: defaultServerDataDir() };
}

async function serveCommand(opts: ServeOptions): Promise<number> {
  const port = parsePort(opts.port);
  const where = await storeLocation(opts);
  const nats = natsUrl(opts.nats);
  if ((opts.tlsCert === undefined) !== (opts.tlsKey === undefined)) {
    throw new UsageError('BAD_OPTION', '--tls-cert and --tls-key go together');
  }
  if (!(LOG_LEVELS as readonly string[]).includes(opts.logLevel)) {
    throw new UsageError('BAD_OPTION', `--log-level must be one of ${LOG_LEVELS.join(', ')}`);
  }
  const isolation = serverIsolation(opts);
  const { startServer } = await import('../server/index.ts');
  let server: RunningServer;
  try {
    server = await startServer({
      host: opts.host,
      port,
      ...where,
      ...nats,
      ...(opts.tlsCert === undefined ? {} : { tlsCert: opts.tlsCert }),
      ...(opts.tlsKey === undefined ? {} : { tlsKey: opts.tlsKey }),
      // Logs go to stderr: stdout carries machine output only (docs/cli.md).
      logger: { level: opts.logLevel, stream: process.stderr },
      retention: await retentionFrom(opts),
      ...(isolation === undefined ? {} : { isolation }),
      cases: await slaFrom(opts),
      intelConfig: await intelFrom(opts),
    });
  } catch (e) {
    throw startError(e, port);
  }
  process.stderr.write(`deminer: serving on ${server.url}\n`);
  process.stderr.write(`deminer: console on ${server.url}/ (API ${server.url}/api/v1)\n`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  // A second signal while closing ends the process at once.
  const force = (): never => process.exit(EXIT.INTERNAL);
  process.once('SIGINT', force);
  process.once('SIGTERM', force);
  process.stderr.write(`deminer: ${signal}: closing\n`);
  await server.close();
  process.off('SIGINT', force);
  process.off('SIGTERM', force);
  return EXIT.OK;
}

/** Problems of the setup (address in use, missing TLS file, bad URL) are usage errors, not bugs. */
function startError(e: unknown, port: number): unknown {
  if (e instanceof StoreConfigError) return new UsageError(e.code, e.message, { cause: e });
  if (e instanceof DeminerError) return e;
  const code = typeof e === 'object' && e !== null && 'code' in e ? String(e.code) : '';
  const message = e instanceof Error ? e.message : String(e);
  if (code === 'EADDRINUSE')
    return new UsageError('SERVE_ADDRESS_IN_USE', `port ${port} is in use`, { cause: e });
  if (['EACCES', 'EADDRNOTAVAIL', 'ENOENT', 'EISDIR', 'ENOTFOUND'].includes(code)) {
    return new UsageError('SERVE_CANNOT_START', message, { cause: e });
  }
  return new DeminerError('SERVE_CANNOT_START', message, { cause: e });
}

/** `--retain-*` over the defaults (at most ten years each). */
export async function retentionFrom(opts: {
  retainFindings?: string;
  retainMetrics?: string;
  retainRawMetrics?: string;
  retainAudit?: string;
}): Promise<import('../server/index.ts').Retention> {
  const { DEFAULT_RETENTION } = await import('../server/index.ts');
  const { parseDuration } = await import('../core/config.ts');
  const age = (v: string | undefined, option: string, dflt: number | undefined): number | undefined =>
    v === undefined ? dflt : parseDuration(v, option, { max: 3660 * 86_400_000 });
  const r: import('../server/index.ts').Retention = {};
  const f = age(opts.retainFindings, '--retain-findings', DEFAULT_RETENTION.findingsMs);
  const m = age(opts.retainMetrics, '--retain-metrics', DEFAULT_RETENTION.metricsMs);
  const a = age(opts.retainAudit, '--retain-audit', DEFAULT_RETENTION.auditMs);
  const raw = age(opts.retainRawMetrics, '--retain-raw-metrics', DEFAULT_RETENTION.rawMetricsMs);
  if (f !== undefined) r.findingsMs = f;
  if (m !== undefined) r.metricsMs = m;
  if (a !== undefined) r.auditMs = a;
  if (raw !== undefined) r.rawMetricsMs = raw;
  if (DEFAULT_RETENTION.fiveMinuteMetricsMs !== undefined)
    r.fiveMinuteMetricsMs = DEFAULT_RETENTION.fiveMinuteMetricsMs;
  return r;
}

/**
 * The incident SLA times: `--isolation-sla`/`--review-sla`, else the config
 * file's `cases:` section (when the default config file exists), else the
 * defaults (30m, 72h).
 */
export async function slaFrom(opts: { isolationSla?: string; reviewSla?: string }): Promise<{
  sla: { isolationMs?: number; reviewMs?: number };
  /** The config file's `cases.impact` (the cost model: docs/incidents.md). */
  impact?: ImpactConfig;
}> {
  const { parseDuration } = await import('../core/config.ts');
  const { loadDeminerConfig } = await import('./config-file.ts');
  const file = loadDeminerConfig().cases;
  const sla: { isolationMs?: number; reviewMs?: number } = {};
  const isolation =
    opts.isolationSla === undefined
      ? file.isolation_sla
      : parseDuration(opts.isolationSla, '--isolation-sla');
  const review =
    opts.reviewSla === undefined ? file.review_sla : parseDuration(opts.reviewSla, '--review-sla');
  if (isolation !== undefined) sla.isolationMs = isolation;
  if (review !== undefined) sla.reviewMs = review;
  return { sla, ...(file.impact === undefined ? {} : { impact: file.impact }) };
}

/** The `intel:` section of `-c FILE` (else the default config file, when present): the feeds the console lists and refreshes. */
export async function intelFrom(opts: { config?: string }): Promise<IntelConfig> {
  const { loadDeminerConfig } = await import('./config-file.ts');
  return loadDeminerConfig(opts.config).intel;
}
