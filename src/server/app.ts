import { homedir } from 'node:os';
import Fastify, { type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { inProcessBus } from '../bus/in-process.ts';
import type { IngestBus } from '../bus/types.ts';
import type { ImpactConfig } from '../cases/config.ts';
import { CaseEngine } from '../cases/engine.ts';
import { impactSettings } from '../cases/impact.ts';
import { type IsolationTimeline, isolationTimeline } from '../cases/isolation-timeline.ts';
import { IncidentResponse } from '../cases/response.ts';
import type { SlaConfig } from '../cases/sla.ts';
import type { IntelConfig } from '../intel/config.ts';
import { type IsolationSettings, isolationSettings } from '../respond/isolate/server-config.ts';
import { IsolationService } from '../respond/isolate/service.ts';
import { StoreInputError } from '../store/errors.ts';
import { DEFAULT_HOST_GAPS, type HostGaps, type IsolationRecord, type Store } from '../store/types.ts';
import type { ServerDeps } from './deps.ts';
import { ApiError, clip } from './errors.ts';
import { EventHub } from './events.ts';
import { API_PREFIX } from './openapi.ts';
import { FailureLimiter, type FailureLimitOptions } from './rate-limit.ts';
import { type ApiRoute, requestState } from './route.ts';
import { accessRoutes } from './routes/access.ts';
import { configRoutes } from './routes/config.ts';
import { consoleRoutes } from './routes/console.ts';
import { findingRoutes } from './routes/findings.ts';
import { hostRoutes } from './routes/hosts.ts';
import { incidentRoutes } from './routes/incidents.ts';
import { intelRoutes } from './routes/intel.ts';
import { apiIsolation, isolationRoutes } from './routes/isolation.ts';
import { metaRoutes } from './routes/meta.ts';
import { StreamSet, streamRoutes, watchHostStatus } from './routes/stream.ts';
import { taskRoutes } from './routes/tasks.ts';
import type { AgentConfig } from './schemas.ts';
import { defaultWebRoot, isApiPath, registerConsole, sendConsolePage, setConsoleHeaders } from './web.ts';

export interface ServerOptions {
  store: Store;
  /** Reported by /health and the OpenAPI document. */
  version: string;
  /** When a silent host becomes stale / offline. */
  gaps?: HostGaps;
  /** Fastify's (pino) logger; off unless given. */
  logger?: FastifyServerOptions['logger'];
  /** Largest request body in bytes (default 5 MB). */
  bodyLimit?: number;
  /** What agents are told in answer to their heartbeat until a configuration is stored (PUT /agent-config). */
  agentConfig?: AgentConfig;
  /** Failed authentications per client address (default 20 a minute). */
  authFailures?: FailureLimitOptions;
  /** Serve HTTPS with this certificate and key (PEM). */
  https?: { cert: string | Buffer; key: string | Buffer };
  /** Trust X-Forwarded-For from a reverse proxy (Fastify's trustProxy). */
  trustProxy?: boolean | string;
  /** The event hub `/stream` serves (default: a new one). */
  hub?: EventHub;
  /** SSE heartbeat comment interval (default 15 s). */
  streamHeartbeatMs?: number;
  /** Concurrent `/stream` clients (default 256). */
  maxStreams?: number;
  /** Where POST /findings sends batches (default: straight to the store). Its owner closes it. */
  bus?: IngestBus;
  /**
   * The built web console served at `/` (default: dist/web of the package;
   * null: none, the API only). Need not exist: until it does, pages answer
   * a short note to run `npm run build`.
   */
  webRoot?: string | null;
  /** The threat-intel state folder whose feeds GET /overview reports (default: the intel CLI's; null: none). */
  intelStateDir?: string | null;
  /**
   * The config file's `intel:` section: the feeds GET /intel/feeds lists and POST /intel/feeds/refresh
   * updates (default: none; `serve` and `up` pass the config file's). Its `state_dir` applies when
   * `intelStateDir` is not given.
   */
  intelConfig?: IntelConfig | null;
  /** How long POST /intel/feeds/refresh waits for the update (default 5 min); it goes on in the background past that. */
  intelRefreshTimeoutMs?: number;
  /**
   * The incident workflow (src/cases/): SLA times (default 30 min to isolation, 72 h to review),
   * the clock (tests inject one) and how often the SLA check and the sweep run (default 30 s).
   */
  cases?: {
    sla?: Partial<SlaConfig>;
    now?: () => number;
    checkEveryMs?: number;
    watchMs?: number;
    /** The cost model of the reports (the config file's `cases.impact`; default: documented defaults). */
    impact?: ImpactConfig;
  };
  /**
   * Where evidence the agents collect is kept (files, one folder per host; null or absent:
   * none, and evidence requests answer 503). `serve`/`up` use DATA/evidence.
   */
  evidenceDir?: string | null;
  /**
   * Isolation (src/respond/isolate/): backends, policy, expiry and the never-isolate list
   * (default: none configured; requests are refused, nothing is isolated automatically).
   * `serverAddresses`: this server's addresses beyond its interfaces' (never isolated; agents keep reaching them).
   */
  isolation?: {
    settings: IsolationSettings;
    serverAddresses?: readonly string[];
    tickMs?: number;
    localInfrastructure?: boolean;
  };
}

export const DEFAULT_BODY_LIMIT = 5 * 1024 * 1024;
/** The default: a scan every 10 s (what the agent does when the server says nothing). */
export const DEFAULT_AGENT_CONFIG: AgentConfig = { interval_s: 10 };

/**
 * The HTTP API (DESIGN.md §4), everything under /api/v1. Routes are data
 * (route.ts); this wires them to Fastify with authentication, the audit
 * log and one error shape that never carries a stack trace.
 */
export function buildServer(opts: ServerOptions): FastifyInstance {
  const store = opts.store;
  const base = {
    logger: opts.logger ?? false,
    bodyLimit: opts.bodyLimit ?? DEFAULT_BODY_LIMIT,
    trustProxy: opts.trustProxy ?? false,
    // A client that dribbles its request (slowloris) gives up its socket.
    requestTimeout: 60_000,
    return503OnClosing: true,
  };
  // An HTTPS server hands Fastify the same request and response classes as HTTP.
  const app = (opts.https
    ? Fastify({ ...base, https: opts.https })
    : Fastify(base)) as unknown as FastifyInstance;

  // JSON only: a text/plain body is refused (415) rather than read as a string.
  app.removeContentTypeParser('text/plain');

  // Isolation steps also go on the host's open incident (set once the case engine exists, below).
  let onIsolation: ((r: IsolationRecord) => void) | undefined;
  let timeline: IsolationTimeline | undefined;
  const deps: ServerDeps = {
    store,
    hub: opts.hub ?? new EventHub(),
    gaps: opts.gaps ?? DEFAULT_HOST_GAPS,
    agentConfig: opts.agentConfig ?? DEFAULT_AGENT_CONFIG,
    limiter: new FailureLimiter(opts.authFailures ?? { max: 20, windowMs: 60_000 }),
    version: opts.version,
    startedAt: Date.now(),
    intelStateDir:
      opts.intelStateDir === undefined && opts.intelConfig?.state_dir !== undefined
        ? opts.intelConfig.state_dir.replace(/^~(?=$|\/)/, homedir())
        : opts.intelStateDir,
    intelConfig: opts.intelConfig ?? null,
    intelRefreshTimeoutMs: opts.intelRefreshTimeoutMs ?? 5 * 60_000,
    isolation: new IsolationService({
      store,
      settings: opts.isolation?.settings ?? isolationSettings(undefined),
      ...(opts.isolation?.serverAddresses ? { serverAddresses: opts.isolation.serverAddresses } : {}),
      ...(opts.isolation?.tickMs === undefined ? {} : { tickMs: opts.isolation.tickMs }),
      ...(opts.isolation?.localInfrastructure === undefined
        ? {}
        : { localInfrastructure: opts.isolation.localInfrastructure }),
      publish: (r) => {
        if (deps.hub.listening) deps.hub.publish('isolation', apiIsolation(r));
        onIsolation?.(r);
      },
      log: {
        info: (m, x) => app.log.info(x ?? {}, m),
        warn: (m, x) => app.log.warn(x ?? {}, m),
        error: (m, x) => app.log.error(x ?? {}, m),
      },
    }),
  };
  // The isolation policy decides on what ingest stored, after the commit and off its path (queued).
  const detachIsolation = store.onIngested((batch) => deps.isolation.onFindings(batch));
  if (deps.isolation.backends.length > 0) deps.isolation.start();
  // Incidents open from mining findings after each ingest has committed (the store's hook), queued.
  const cases = new CaseEngine({
    store,
    ...(opts.cases?.sla === undefined ? {} : { sla: opts.cases.sla }),
    ...(opts.cases?.now === undefined ? {} : { now: opts.cases.now }),
    publish: (type, data) => {
      deps.hub.publish(type, data);
      const d = data as { change?: unknown; id?: unknown };
      if (type === 'incident' && d.change === 'opened' && typeof d.id === 'string')
        timeline?.onIncidentOpened(d.id);
    },
    log: (message, err) => app.log.error({ err }, message),
  });
  const detachCases = cases.attach();
  timeline = isolationTimeline(cases, store, (message, err) => app.log.error({ err }, message));
  onIsolation = (r) => timeline?.onIsolation(r);
  cases.start(opts.cases?.checkEveryMs ?? 30_000);
  // Forensics and eradication through the agents, and the watch after a clean-up (src/cases/response.ts).
  const response = new IncidentResponse({
    engine: cases,
    store,
    ...(opts.cases?.watchMs === undefined ? {} : { watchMs: opts.cases.watchMs }),
    releaseIsolation: async (hostId, why) => {
      if (await store.currentIsolation(hostId))
        await deps.isolation.release(hostId, { name: 'auto:recovery' }, why);
    },
    log: (message, err) => app.log.error({ err }, message),
  });
  cases.onJoined = (incidentId, findings) => response.onJoined(incidentId, findings);
  response.start(opts.cases?.checkEveryMs ?? 30_000);
  const evidenceDir = opts.evidenceDir ?? null;
  // Evidence arrives as raw bytes (application/octet-stream), and only there; every other route takes JSON.
  app.addContentTypeParser('application/octet-stream', (req, payload, done) => {
    if (/^\/api\/v1\/hosts\/[^/]+\/tasks\/[^/]+\/evidence(\?|$)/.test(req.url)) done(null, payload);
    else
      done(
        new ApiError('DEMINER_UNSUPPORTED_MEDIA_TYPE', 'this route takes JSON (application/json)'),
        undefined,
      );
  });
  const webRoot = opts.webRoot === undefined ? defaultWebRoot() : opts.webRoot;
  const streams = new StreamSet();
  const routes: ApiRoute[] = [];
  routes.push(
    ...metaRoutes(deps, () => routes),
    ...accessRoutes(deps),
    ...hostRoutes(deps),
    ...configRoutes(deps),
    ...findingRoutes(deps, opts.bus ?? inProcessBus(store)),
    ...consoleRoutes(deps),
    ...intelRoutes(deps),
    ...incidentRoutes(deps, cases, {
      impact: impactSettings(opts.cases?.impact),
      hostCores: async (name: string) => (await store.getHostByName(name))?.cpus,
      hostWattsPerCore: async (name: string) => (await store.getHostByName(name))?.wattsPerCore,
      ...(evidenceDir === null
        ? {}
        : {
            evidence: async (id: string) =>
              (await store.tasks.listEvidence({ incidentId: id })).map((e) => ({
                id: e.id,
                kind: e.kind,
                sha256: e.sha256,
                bytes: e.bytes,
                collected_at: e.collectedAt,
                host: e.hostName,
              })),
          }),
    }),
    ...isolationRoutes(deps),
    ...taskRoutes(deps, response, evidenceDir),
    ...streamRoutes(deps, streams, {
      heartbeatMs: opts.streamHeartbeatMs ?? 15_000,
      maxStreams: opts.maxStreams ?? 256,
    }),
  );

  app.setErrorHandler((err, req, reply) => {
    const api = toApiError(err);
    if (api.statusCode >= 500) req.log.error({ err }, 'request failed');
    requestState(req).error = {
      code: api.code,
      message: api.message,
      ...(api.field === undefined ? {} : { field: api.field }),
    };
    for (const [k, v] of Object.entries(api.headers)) reply.header(k, v);
    return reply.code(api.statusCode).send(api.body());
  });
  app.setNotFoundHandler(async (req, reply) => {
    if (webRoot !== null && (await sendConsolePage(req, reply, webRoot))) return reply;
    return reply
      .code(404)
      .send(new ApiError('DEMINER_NOT_FOUND', `no route ${req.method} ${clip(req.url, 200)}`).body());
  });
  if (webRoot !== null) registerConsole(app, webRoot);

  app.addHook('onSend', async (req, reply, payload) => {
    if (webRoot !== null && !isApiPath(req.url)) {
      setConsoleHeaders(reply);
    } else {
      reply.header('cache-control', 'no-store');
      reply.header('x-content-type-options', 'nosniff');
    }
    await auditRequest(store, req, reply.statusCode);
    return payload;
  });

  const stopWatching = watchHostStatus(deps, Math.max(1000, Math.min(15_000, deps.gaps.staleMs / 2)));
  app.addHook('preClose', async () => {
    stopWatching();
    cases.stop();
    response.stop();
    detachCases();
    await cases.idle();
    detachIsolation();
    await deps.isolation.stop();
    streams.closeAll();
  });

  for (const r of routes) {
    app.route({
      method: r.method,
      url: `${API_PREFIX}${r.url}`,
      onRequest: async (req) => authenticate(deps, r, req),
      handler: async (req, reply) => {
        const out = await r.run(req, reply);
        if (out === reply) return reply;
        return reply.code(r.status).send(out);
      },
    });
  }
  return app;
}

/** Bearer token → token record and role check; blocked addresses are refused before any token is looked at. */
async function authenticate(deps: ServerDeps, route: ApiRoute, req: FastifyRequest): Promise<void> {
  const state = requestState(req);
  state.route = route;
  if (route.access === 'public') return;
  const wait = deps.limiter.blockedFor(req.ip);
  if (wait > 0) {
    if (!deps.limiter.firstRefusal(req.ip)) state.quiet = true;
    throw new ApiError(
      'DEMINER_RATE_LIMITED',
      'too many failed authentications from this address; try again later',
      {
        headers: { 'retry-after': String(Math.ceil(wait / 1000)) },
      },
    );
  }
  if (route.access === 'enrol') return;
  const header = req.headers.authorization;
  if (header === undefined || header === '') {
    throw new ApiError('DEMINER_UNAUTHORIZED', 'a bearer token is required (Authorization: Bearer <token>)');
  }
  const m = /^Bearer +([\x21-\x7e]{1,1024})$/i.exec(header);
  const record = m ? await deps.store.verifyToken(m[1]!) : undefined;
  if (!record) {
    deps.limiter.fail(req.ip);
    throw new ApiError('DEMINER_UNAUTHORIZED', 'the bearer token is not valid');
  }
  state.auth = record;
  if (!route.access.includes(record.role)) {
    throw new ApiError('DEMINER_FORBIDDEN', `this needs one of the roles ${route.access.join(', ')}`);
  }
}

/** Every change and every refusal goes to the audit log; reads that succeed do not. */
async function auditRequest(store: Store, req: FastifyRequest, status: number): Promise<void> {
  const state = requestState(req);
  const route = state.route;
  if (!route || state.quiet) return;
  if (status < 400 && route.method === 'GET') return;
  const detail: Record<string, unknown> = { ip: req.ip, ...(state.detail ?? {}) };
  if (state.error) {
    detail.code = state.error.code;
    detail.message = clip(state.error.message, 300);
    if (state.error.field !== undefined) detail.field = state.error.field;
  }
  try {
    await store.audit({
      at: new Date().toISOString(),
      actor: state.auth?.id ?? state.actor ?? 'anonymous',
      action: route.action,
      ...(state.target === undefined ? {} : { target: state.target }),
      outcome: status < 400 ? 'ok' : String(status),
      detail,
    });
  } catch (err) {
    // The answer stands; a lost audit entry is logged loudly.
    req.log.error({ err }, 'audit write failed');
  }
}

function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  return typeof err.code === 'string' ? err.code : undefined;
}

function errorStatus(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null || !('statusCode' in err)) return undefined;
  return typeof err.statusCode === 'number' ? err.statusCode : undefined;
}

/** Fastify's own refusals under our codes; anything else is a 500 that says nothing of its cause. */
function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof StoreInputError) {
    // The store refused a value the schemas let through (a stale cursor, a name another agent holds).
    const field = err.location === undefined ? {} : { field: err.location };
    const message = clip(err.message, 300);
    return err.code === 'STORE_HOST_NAME_TAKEN'
      ? new ApiError('DEMINER_CONFLICT', message, field)
      : new ApiError('DEMINER_VALIDATION', message, field);
  }
  const code = errorCode(err);
  const status = errorStatus(err);
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError('DEMINER_BODY_TOO_LARGE', 'the request body is larger than this server accepts');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError('DEMINER_UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ApiError('DEMINER_BAD_JSON', 'the body is empty but declared as JSON');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new ApiError('DEMINER_BAD_JSON', 'the body is not valid JSON');
  }
  if (err instanceof SyntaxError && status === 400) {
    return new ApiError('DEMINER_BAD_JSON', `the body is not valid JSON: ${clip(err.message, 200)}`);
  }
  if (status !== undefined && status >= 400 && status < 500) {
    const message = err instanceof Error ? clip(err.message, 200) : 'bad request';
    return new ApiError('DEMINER_BAD_REQUEST', message);
  }
  return new ApiError('DEMINER_INTERNAL', 'internal error; the server log has the detail');
}
