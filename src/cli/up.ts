import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../core/errors.ts';
import { EXIT, type RegisterCommand, type RunAction } from './command.ts';
import { addIsolationOptions, type IsolationCliOptions, serverIsolation } from './isolation-options.ts';
import { intelFrom, natsUrl, retentionFrom, slaFrom } from './serve.ts';

interface UpOptions extends IsolationCliOptions {
  host: string;
  port: string;
  data?: string;
  database?: string;
  agent: boolean;
  interval?: string;
  retainFindings?: string;
  retainMetrics?: string;
  retainRawMetrics?: string;
  retainAudit?: string;
  nats?: string;
  isolationSla?: string;
  reviewSla?: string;
}

/** Where the local agent of `up` keeps its token and spool, inside the data folder. */
const AGENT_STATE = 'agent';
/** The file in the data folder that records that the first admin token was shown. */
const ADMIN_MARK = 'admin-token-created';

/**
 * `deminer up`: the server and an agent for this machine in one process, on
 * embedded storage (nothing else to install). On the first start of a data
 * folder it prints a new admin token once; the local agent enrols with a
 * one-use secret it creates itself. Ctrl-C stops both cleanly.
 */
async function up(opts: UpOptions): Promise<number> {
  const port = Number(opts.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError('BAD_OPTION', `--port must be a port number (got "${opts.port.slice(0, 20)}")`);
  const nats = natsUrl(opts.nats);
  const isolation = serverIsolation(opts);
  const { startServer, defaultServerDataDir } = await import('../server/index.ts');
  const { parseDuration } = await import('../core/config.ts');
  const { existsSync, writeFileSync } = await import('node:fs');
  // The fleet's default, local agent included, until a configuration is stored through the API (which then wins).
  const intervalS = opts.interval
    ? Math.max(1, Math.round(parseDuration(opts.interval, '--interval', { max: 3600_000 }) / 1000))
    : undefined;
  const dataDir = opts.data ?? defaultServerDataDir();
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const started = performance.now();
  const server = await startServer({
    host: opts.host,
    port,
    dataDir,
    ...(opts.database ? { database: opts.database } : {}),
    ...nats,
    ...(intervalS === undefined ? {} : { agentConfig: { interval_s: intervalS } }),
    retention: await retentionFrom(opts),
    ...(isolation === undefined ? {} : { isolation }),
    cases: await slaFrom(opts),
    intelConfig: await intelFrom(opts),
  });
  const readyMs = Math.round(performance.now() - started);
  process.stderr.write(
    `deminer: up on ${server.url} (console ${server.url}/, API ${server.url}/api/v1, ready in ${readyMs} ms)\n`,
  );

  const mark = join(dataDir, ADMIN_MARK);
  if (!existsSync(mark)) {
    const { token } = await server.store.createToken({ role: 'admin', name: 'created by deminer up' });
    writeFileSync(mark, `${new Date().toISOString()}\n`, { mode: 0o600 });
    // The token goes to stdout alone, so `deminer up > token` keeps it; it is shown this once.
    process.stdout.write(`${token}\n`);
    process.stderr.write(
      `deminer: the line above is a new admin token, shown once: keep it (deminer token create makes more); sign in to the console at ${server.url}/ with it\n`,
    );
  }

  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let agentRun: Promise<unknown> = Promise.resolve();
  if (opts.agent) {
    const { runAgent } = await import('../agent/agent.ts');
    const stateDir = join(dataDir, AGENT_STATE);
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    // A fresh one-use secret each start: an agent that enrolled already keeps its token and ignores it.
    const { secret } = await server.store.createEnrolment({
      expiresAt: new Date(Date.now() + 10 * 60_000).toISOString(),
      uses: 1,
      createdBy: 'deminer up',
    });
    agentRun = runAgent({
      server: server.url,
      enrollSecret: secret,
      stateDir,
      signal: stop.signal,
      log: (m) => process.stderr.write(`deminer: agent: ${m}\n`),
    }).catch((e: unknown) => {
      process.stderr.write(`deminer: agent stopped: ${e instanceof Error ? e.message : String(e)}\n`);
    });
  }
  await new Promise<void>((resolve) => {
    if (stop.signal.aborted) resolve();
    else stop.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  process.stderr.write('deminer: stopping\n');
  await agentRun;
  await server.close();
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  return EXIT.OK;
}

export const registerUp: RegisterCommand = (program: Command, run: RunAction) => {
  const cmd = program
    .command('up')
    .description(
      'Server + an agent for this machine in one process, on embedded storage: prints the URL and, on first start, an admin token',
    )
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0: any free port)', '7878')
    .option('--data <dir>', 'data folder (default: /var/lib/deminer as root, ~/.deminer otherwise)')
    .option('--database <url>', 'postgres://… instead of the embedded SQLite database')
    .option('--no-agent', 'serve only, no local agent')
    .option(
      '--interval <duration>',
      'scan interval agents (the local one too) are handed until one is set with PUT /api/v1/agent-config (default 10s)',
    )
    .option('--retain-findings <age>', 'delete findings last seen longer ago than this (default: keep)')
    .option('--retain-metrics <age>', 'delete metric samples older than this (default 30d)')
    .option(
      '--retain-raw-metrics <age>',
      'keep metric samples as sent this long, then as 5-minute (to 7d) and 1-hour averages (default 24h)',
    )
    .option('--retain-audit <age>', 'delete audit entries older than this (default 365d)')
    .option('--nats <url>', 'queue ingested findings on NATS JetStream (nats://host:4222)')
    .option('--isolation-sla <age>', 'incidents: isolation due this long after discovery (default 30m)')
    .option('--review-sla <age>', 'incidents: review due this long after recovery (default 72h)');
  addIsolationOptions(cmd).action(run(async (opts: UpOptions) => up(opts)));
};
