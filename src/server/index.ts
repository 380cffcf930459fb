import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { type NatsBus, type NatsBusOptions, openNatsBus } from '../bus/nats.ts';
import { packagePath } from '../core/paths.ts';
import { openStore } from '../store/index.ts';
import type { HostGaps, PruneResult, Store } from '../store/types.ts';
import { buildServer, type ServerOptions } from './app.ts';
import { EventHub } from './events.ts';
import { API_PREFIX } from './openapi.ts';
import { apiFinding } from './present.ts';
import type { AgentConfig } from './schemas.ts';

export { buildServer, DEFAULT_AGENT_CONFIG, DEFAULT_BODY_LIMIT, type ServerOptions } from './app.ts';
export { ApiError, ERROR_CODES, type ErrorCode } from './errors.ts';
export { EventHub, type HubEvent } from './events.ts';
export { API_PREFIX, buildOpenApi } from './openapi.ts';
export type { AgentConfig } from './schemas.ts';
export { CONSOLE_CSP, defaultWebRoot } from './web.ts';

export interface StartOptions {
  host: string;
  /** 0: any free port (the URL says which). */
  port: number;
  /** SQLite folder (when no database URL is given). */
  dataDir?: string;
  /** Where collected evidence is kept (default: DATA/evidence when a data folder is given; null: none). */
  evidenceDir?: string | null;
  /** postgres://… */
  database?: string;
  /** PEM files: serve HTTPS. */
  tlsCert?: string;
  tlsKey?: string;
  gaps?: HostGaps;
  agentConfig?: AgentConfig;
  logger?: ServerOptions['logger'];
  bodyLimit?: number;
  hub?: EventHub;
  /** Default: the package's version. */
  version?: string;
  /** How long findings (by last seen), metrics and audit entries are kept; pruned on start and every hour. */
  retention?: Retention;
  /** nats://…: POST /findings queues batches on NATS JetStream, and this server consumes its share. */
  nats?: string;
  /** Stream, subject, consumer names and timings of the NATS bus (defaults: bus/nats.ts NATS_DEFAULTS). */
  natsOptions?: Omit<NatsBusOptions, 'url' | 'store'>;
  /** The built web console (default: dist/web of the package; null: none). */
  webRoot?: string | null;
  /** The threat-intel state folder the overview reports (default: the intel CLI's; null: none). */
  intelStateDir?: string | null;
  /** The config file's `intel:` section: the feeds /intel/feeds lists and refreshes (default: none). */
  intelConfig?: ServerOptions['intelConfig'];
  /** Isolation backends, policy and never-isolate list (the listen address is added to the server's own addresses). */
  isolation?: ServerOptions['isolation'];
  /** The incident workflow's SLA times (docs/incidents.md). */
  cases?: ServerOptions['cases'];
}

/** Ages in milliseconds; undefined keeps that kind forever (or, for the two metric windows, never downsamples). */
export interface Retention {
  findingsMs?: number;
  metricsMs?: number;
  auditMs?: number;
  /** Metric samples are kept as sent this long, then folded into 5-minute buckets. */
  rawMetricsMs?: number;
  /** 5-minute buckets are kept this long, then folded into 1-hour buckets (kept until metricsMs). */
  fiveMinuteMetricsMs?: number;
}

/**
 * Metrics 30 days (as sent for the last 24 hours, in 5-minute buckets to 7
 * days, in 1-hour buckets after that), the audit log 365 days; findings
 * are kept until a retention is set for them (`--retain-findings`): their
 * age counts from the event time they were last seen at, and a hunt of last
 * year's logs must not vanish within the hour.
 */
export const DEFAULT_RETENTION: Retention = {
  metricsMs: 30 * 86_400_000,
  auditMs: 365 * 86_400_000,
  rawMetricsMs: 86_400_000,
  fiveMinuteMetricsMs: 7 * 86_400_000,
};

const PRUNE_EVERY_MS = 3600_000;

/** Deletes what is older than the retention allows and downsamples metrics by age; returns the counts (logged by the caller). */
export async function pruneOnce(store: Store, retention: Retention, now = Date.now()): Promise<PruneResult> {
  const cut = (ms: number | undefined): string | undefined =>
    ms === undefined ? undefined : new Date(now - ms).toISOString();
  const before: Parameters<Store['prune']>[0] = {};
  const f = cut(retention.findingsMs);
  const m = cut(retention.metricsMs);
  const a = cut(retention.auditMs);
  const raw = cut(retention.rawMetricsMs);
  const five = cut(retention.fiveMinuteMetricsMs);
  if (f) before.findings = f;
  if (m) before.metrics = m;
  if (a) before.audit = a;
  if (raw) before.rawMetrics = raw;
  if (five) before.fiveMinuteMetrics = five;
  return store.prune(before);
}

export interface RunningServer {
  /** Base URL of the server, e.g. http://127.0.0.1:7878 (the API is below /api/v1). */
  url: string;
  store: Store;
  app: FastifyInstance;
  hub: EventHub;
  /** Stops accepting, ends live streams, waits for requests in flight, stops the bus consumer, closes the store. */
  close(): Promise<void>;
}

/**
 * Opens the store, builds the API and listens: what `deminer serve` runs and
 * `deminer up` reuses beside a local agent.
 */
export async function startServer(opts: StartOptions): Promise<RunningServer> {
  if ((opts.tlsCert === undefined) !== (opts.tlsKey === undefined)) {
    throw new Error('TLS needs both a certificate and a key');
  }
  const https =
    opts.tlsCert !== undefined && opts.tlsKey !== undefined
      ? { cert: await readFile(opts.tlsCert), key: await readFile(opts.tlsKey) }
      : undefined;
  const store = await openStore({
    ...(opts.dataDir === undefined ? {} : { dataDir: opts.dataDir }),
    ...(opts.database === undefined ? {} : { database: opts.database }),
    ...(opts.gaps === undefined ? {} : { gaps: opts.gaps }),
  });
  const hub = opts.hub ?? new EventHub();
  let app: FastifyInstance;
  let bus: NatsBus | undefined;
  try {
    if (opts.nats !== undefined) bus = await openNatsBus({ ...opts.natsOptions, url: opts.nats, store });
    app = buildServer({
      store,
      hub,
      ...(bus === undefined ? {} : { bus }),
      version: opts.version ?? (await packageVersion()),
      ...(opts.gaps === undefined ? {} : { gaps: opts.gaps }),
      ...(opts.agentConfig === undefined ? {} : { agentConfig: opts.agentConfig }),
      ...(opts.logger === undefined ? {} : { logger: opts.logger }),
      ...(opts.bodyLimit === undefined ? {} : { bodyLimit: opts.bodyLimit }),
      ...(https === undefined ? {} : { https }),
      ...(opts.webRoot === undefined ? {} : { webRoot: opts.webRoot }),
      ...(opts.intelStateDir === undefined ? {} : { intelStateDir: opts.intelStateDir }),
      ...(opts.intelConfig === undefined ? {} : { intelConfig: opts.intelConfig }),
      ...(opts.cases === undefined ? {} : { cases: opts.cases }),
      // Evidence files beside the data (servers sharing one PostgreSQL should share this folder too).
      evidenceDir:
        opts.evidenceDir !== undefined
          ? opts.evidenceDir
          : opts.dataDir !== undefined
            ? join(opts.dataDir, 'evidence')
            : null,
      ...(opts.isolation === undefined
        ? {}
        : {
            isolation: {
              ...opts.isolation,
              // Where agents reach this server: never isolated, and let through by an isolated agent's firewall.
              serverAddresses: [
                ...(opts.isolation.serverAddresses ?? []),
                ...(/^[0-9.]+$|:/.test(opts.host) && !['0.0.0.0', '::'].includes(opts.host)
                  ? [opts.host]
                  : []),
              ],
            },
          }),
    });
    await app.listen({ host: opts.host, port: opts.port });
  } catch (e) {
    await bus?.close().catch(() => undefined);
    await store.close();
    throw e;
  }
  bus?.startConsuming({
    log: app.log,
    // What this server's consumer stored goes to this server's stream clients.
    onStored: async (items) => {
      if (!hub.listening) return;
      for (const fp of new Set(items.map((f) => f.fingerprint))) {
        const s = await store.getFinding(fp);
        if (s) hub.publish('finding', apiFinding(s));
      }
    },
  });
  const retention = opts.retention ?? DEFAULT_RETENTION;
  const prune = (): void => {
    pruneOnce(store, retention).then(
      (n) => {
        if (n.findings + n.metrics + n.audit > 0)
          app.log.info({ pruned: n }, 'retention: old findings, metrics and audit entries removed');
        if (n.rolledUp.raw + n.rolledUp.fiveMinute > 0)
          app.log.info({ rolledUp: n.rolledUp }, 'retention: older metrics downsampled');
      },
      (e: unknown) => app.log.error({ err: e }, 'retention: prune failed'),
    );
  };
  prune();
  const pruneTimer = setInterval(prune, PRUNE_EVERY_MS);
  pruneTimer.unref();
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : opts.port;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  let closing: Promise<void> | undefined;
  return {
    url: `${https ? 'https' : 'http'}://${host}:${port}`,
    store,
    app,
    hub,
    close() {
      closing ??= (async () => {
        clearInterval(pruneTimer);
        try {
          await app.close();
        } finally {
          // The consumer finishes the batch in hand (the rest goes back to the stream) before the store closes.
          await bus?.close().catch((e: unknown) => app.log.error({ err: e }, 'bus: close failed'));
          await store.close();
        }
      })();
      return closing;
    },
  };
}

/** Where `serve` and `token create` keep the embedded database: a system folder as root, else the user's. */
export function defaultServerDataDir(): string {
  return process.getuid?.() === 0 ? '/var/lib/deminer' : join(homedir(), '.deminer');
}

/** The API's base URL for a server URL. */
export function apiUrl(serverUrl: string): string {
  return `${serverUrl}${API_PREFIX}`;
}

async function packageVersion(): Promise<string> {
  const pkg = JSON.parse(await readFile(packagePath('package.json'), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
}
