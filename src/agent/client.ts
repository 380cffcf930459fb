import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { DeminerError } from '../core/errors.ts';
import type { Finding } from '../core/finding.ts';
import type { SharedLearnedPool } from '../detect/pool-match/learned-pools.ts';
import type { TaskResult } from '../respond/host-tasks/protocol.ts';
import {
  type IsolationDirective,
  type IsolationReport,
  parseDirective,
} from '../respond/isolate/agent-protocol.ts';

/**
 * A small client for the server's agent and sensor API (`/api/v1`): bearer
 * tokens, a timeout on every request, typed answers, and errors with stable
 * codes that say whether trying again can help.
 *
 * Built on node's http/https modules rather than `fetch`: pinning the
 * server's certificate needs the peer certificate before a byte of the
 * request (and its bearer token) is sent, which node's built-in fetch does
 * not expose without a separately installed undici.
 *
 * Connections are kept alive between requests (one small pool per server,
 * shared by `withToken` clients): an agent that opened a new TCP connection
 * for each heartbeat and batch made the host's TCP counters move on every
 * scan, so its own socket-table reads could never be skipped on a quiet host,
 * and paid a handshake (a TLS one with https) every few seconds.
 */

export type ClientErrorCode =
  /** 401: no token, a bad token, or a bad enrolment secret. */
  | 'API_UNAUTHORIZED'
  /** 403: the token may not do this (wrong role, another host's findings). */
  | 'API_FORBIDDEN'
  /** 400, 404, 413, 422…: the request itself is wrong; sending it again gives the same answer. */
  | 'API_REJECTED'
  /** 429: retry later. */
  | 'API_RATE_LIMITED'
  /** 5xx: retry later. */
  | 'API_SERVER_ERROR'
  /** Connection refused, reset, DNS failure: retry later. */
  | 'API_NETWORK'
  | 'API_TIMEOUT'
  /** A 2xx answer that is not the JSON the API promises. */
  | 'API_BAD_RESPONSE'
  /** The server's certificate is not the pinned one: never retried, never sent a token. */
  | 'API_CERT_MISMATCH';

export class ApiClientError extends DeminerError {
  override readonly code: ClientErrorCode;
  /** HTTP status, when the server answered. */
  readonly status: number | undefined;
  /** The server's own error code (`DEMINER_FOREIGN_HOST`…). */
  readonly apiCode: string | undefined;
  /** The input the server named as at fault. */
  readonly field: string | undefined;
  /** True when the same request may succeed later (network, timeout, 5xx, 429). */
  readonly retryable: boolean;
  /** From a Retry-After header, in milliseconds. */
  readonly retryAfterMs: number | undefined;

  constructor(
    code: ClientErrorCode,
    message: string,
    o: {
      status?: number;
      apiCode?: string;
      field?: string;
      retryAfterMs?: number;
      cause?: unknown;
      location?: string;
    } = {},
  ) {
    super(code, message, {
      ...(o.location ? { location: o.location } : {}),
      ...(o.cause ? { cause: o.cause } : {}),
    });
    this.name = 'ApiClientError';
    this.code = code;
    this.status = o.status;
    this.apiCode = o.apiCode;
    this.field = o.field;
    this.retryAfterMs = o.retryAfterMs;
    this.retryable = RETRYABLE.has(code);
  }
}

const RETRYABLE = new Set<ClientErrorCode>([
  'API_RATE_LIMITED',
  'API_SERVER_ERROR',
  'API_NETWORK',
  'API_TIMEOUT',
]);

export interface ClientOptions {
  /** The server, e.g. `https://deminer.example:7878` (`/api/v1` is added unless given). */
  server: string;
  token?: string;
  /** Per request, connection to last byte. Default 15 s. */
  timeoutMs?: number;
  /**
   * SHA-256 of the server certificate (DER), hex with or without colons.
   * With a pin, the certificate must be exactly that one and the CA chain is
   * not consulted (a self-signed server certificate works); without one,
   * https checks the chain against the system CAs (or `ca`).
   */
  pinSha256?: string;
  /** PEM of a private CA to trust for https. */
  ca?: string;
  userAgent?: string;
}

export interface HostFacts {
  os?: string;
  kernel?: string;
  addresses?: string[];
  agent_version?: string;
  cpus?: number;
  /** Marginal watts of one busy core, measured with the host's RAPL counters (absent without them). */
  watts_per_core?: number;
}

export interface AgentConfig {
  interval_s: number;
  allowlist?: string;
  never_alert?: string[];
}

export interface IngestAnswer {
  stored: number;
  duplicates: number;
  replayed: boolean;
}

export interface MetricItem {
  subject: string;
  at: string;
  cpu?: number;
  memory_bytes?: number;
  connections_per_minute?: number;
}

/** Answers larger than this are not the API's. */
const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
/**
 * Idle kept-alive connections are closed after this, well before servers
 * close theirs (fastify: 72 s), so a request rarely meets a connection the
 * server is closing; when it does, it is sent once more on a new one.
 */
const IDLE_CLOSE_MS = 30_000;

/** Normalises a pin to node's `fingerprint256` form (upper-case hex pairs joined by colons). */
export function normalisePin(pin: string): string {
  const hex = pin.replace(/[:\s]/g, '').toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex))
    throw new DeminerError('API_BAD_PIN', 'the certificate pin must be a SHA-256 (64 hex digits)');
  return hex.toUpperCase().match(/../g)!.join(':');
}

/** The SHA-256 pin of a PEM certificate, as `normalisePin` writes it. */
export function certificatePin(pem: string): string {
  const b64 = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  return normalisePin(createHash('sha256').update(Buffer.from(b64, 'base64')).digest('hex'));
}

export class ApiClient {
  readonly base: URL;
  readonly #token: string | undefined;
  readonly #timeoutMs: number;
  readonly #pin: string | undefined;
  readonly #ca: string | undefined;
  readonly #userAgent: string;
  readonly #pool: http.Agent;

  constructor(o: ClientOptions, pool?: http.Agent) {
    let url: URL;
    try {
      url = new URL(o.server);
    } catch {
      throw new DeminerError(
        'API_BAD_URL',
        `"${o.server}" is not a URL (example: https://deminer.example:7878)`,
      );
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new DeminerError('API_BAD_URL', `"${o.server}" must start with http:// or https://`);
    if (o.pinSha256 && url.protocol !== 'https:')
      throw new DeminerError('API_BAD_URL', 'a certificate pin needs an https:// server');
    const path = url.pathname.replace(/\/+$/, '');
    url.pathname = path.endsWith('/api/v1') ? `${path}/` : `${path}/api/v1/`;
    url.search = '';
    url.hash = '';
    this.base = url;
    this.#token = o.token;
    this.#timeoutMs = o.timeoutMs ?? 15_000;
    this.#pin = o.pinSha256 ? normalisePin(o.pinSha256) : undefined;
    this.#ca = o.ca;
    this.#userAgent = o.userAgent ?? 'deminer-agent';
    this.#pool = pool ?? this.#newPool();
  }

  /** Closes the kept-alive connections (they never hold the process open: idle ones are unref'd). */
  close(): void {
    this.#pool.destroy();
  }

  #newPool(): http.Agent {
    const keep = { keepAlive: true, maxSockets: 4, maxFreeSockets: 2, timeout: IDLE_CLOSE_MS };
    if (this.base.protocol === 'http:') return new http.Agent(keep);
    if (!this.#pin) return new https.Agent({ ...keep, ...(this.#ca ? { ca: this.#ca } : {}) });
    // Pinned: each new connection's certificate is checked against the pin before
    // the pool hands it to a request, so no byte (nor the token) goes to another server.
    const pool = new http.Agent(keep);
    pool.createConnection = (_o, done) => {
      this.#pinnedSocket(this.base, Date.now() + this.#timeoutMs, `connect ${this.base.host}`).then(
        (s) => done?.(null, s),
        (e: Error) => done?.(e, undefined as unknown as Duplex),
      );
      return undefined;
    };
    return pool;
  }

  /** A client for the same server with another token. */
  withToken(token: string): ApiClient {
    return new ApiClient(
      {
        server: this.base.href,
        token,
        timeoutMs: this.#timeoutMs,
        ...(this.#pin ? { pinSha256: this.#pin } : {}),
        ...(this.#ca ? { ca: this.#ca } : {}),
        userAgent: this.#userAgent,
      },
      this.#pool,
    );
  }

  /** The pools the fleet learned (`GET /intel/learned-pools`), to seed a pool check with. */
  async learnedPools(): Promise<SharedLearnedPool[]> {
    const r = (await this.#request('GET', 'intel/learned-pools', undefined)) as
      | { items?: unknown }
      | undefined;
    return Array.isArray(r?.items) ? (r.items as SharedLearnedPool[]) : [];
  }

  async health(): Promise<boolean> {
    await this.#request('GET', 'health', undefined, { auth: false });
    return true;
  }

  async enrol(
    secret: string,
    host: HostFacts & { name: string },
  ): Promise<{ token: string; host: { id: string; name: string } }> {
    const r = await this.#request('POST', 'enrol', { secret, host }, { auth: false });
    const body = r as { token?: unknown; host?: { id?: unknown; name?: unknown } };
    if (
      typeof body.token !== 'string' ||
      typeof body.host?.id !== 'string' ||
      typeof body.host.name !== 'string'
    )
      throw new ApiClientError('API_BAD_RESPONSE', 'the enrolment answer has no token and host');
    return { token: body.token, host: { id: body.host.id, name: body.host.name } };
  }

  async heartbeat(host: HostFacts = {}): Promise<{
    config: AgentConfig;
    isolation?: IsolationDirective;
    isolationUnreadable?: true;
    /** Evidence collection and eradication to run (src/agent/tasks.ts reads them). */
    tasks?: unknown[];
  }> {
    const r = (await this.#request('POST', 'heartbeat', { host })) as {
      config?: Partial<AgentConfig>;
      isolation?: unknown;
      tasks?: unknown;
    };
    const tasks = Array.isArray(r.tasks) ? { tasks: r.tasks.slice(0, 16) } : {};
    const c = r.config;
    if (!c || typeof c.interval_s !== 'number' || !(c.interval_s > 0))
      throw new ApiClientError('API_BAD_RESPONSE', 'the heartbeat answer has no config.interval_s');
    const config: AgentConfig = { interval_s: c.interval_s };
    if (typeof c.allowlist === 'string') config.allowlist = c.allowlist;
    if (Array.isArray(c.never_alert)) config.never_alert = c.never_alert.filter((x) => typeof x === 'string');
    // Only while the host is isolated on its own firewall (src/agent/isolation.ts); older servers never send it.
    if (r.isolation === undefined) return { config, ...tasks };
    const isolation = parseDirective(r.isolation);
    // One it cannot read changes nothing: the host stays as it is, never released by accident.
    return isolation ? { config, isolation, ...tasks } : { config, isolationUnreadable: true, ...tasks };
  }

  /** What this host's firewall did about an isolation (POST /hosts/{id}/isolation/report). */
  async reportIsolation(hostId: string, report: IsolationReport): Promise<void> {
    await this.#request('POST', `hosts/${encodeURIComponent(hostId)}/isolation/report`, report);
  }

  /** Uploads one piece of evidence of a task (the file's bytes); answers the server's evidence record. */
  async uploadEvidence(
    hostId: string,
    taskId: string,
    q: { kind: string; name: string; sha256: string; collected_at: string; pid?: number },
    file: { path: string; bytes: number },
  ): Promise<{ id: string; sha256: string; bytes: number }> {
    const query = new URLSearchParams({
      kind: q.kind,
      name: q.name,
      sha256: q.sha256,
      collected_at: q.collected_at,
      ...(q.pid === undefined ? {} : { pid: String(q.pid) }),
    });
    return (await this.#request(
      'POST',
      `hosts/${encodeURIComponent(hostId)}/tasks/${encodeURIComponent(taskId)}/evidence?${query}`,
      undefined,
      // A memory dump is large: a minute per 100 MB at least.
      {
        upload: file,
        timeoutMs: Math.max(this.#timeoutMs, 60_000 + Math.ceil(file.bytes / 1_700_000) * 1000),
      },
    )) as { id: string; sha256: string; bytes: number };
  }

  /** Reports how a task ended. */
  async reportTask(hostId: string, taskId: string, result: TaskResult): Promise<void> {
    await this.#request(
      'POST',
      `hosts/${encodeURIComponent(hostId)}/tasks/${encodeURIComponent(taskId)}/result`,
      result,
    );
  }

  async sendFindings(items: readonly Finding[], idempotencyKey: string): Promise<IngestAnswer> {
    const r = (await this.#request(
      'POST',
      'findings',
      { items },
      { headers: { 'idempotency-key': idempotencyKey } },
    )) as Partial<IngestAnswer>;
    if (typeof r.stored !== 'number' || typeof r.duplicates !== 'number')
      throw new ApiClientError('API_BAD_RESPONSE', 'the findings answer has no stored/duplicates counts');
    return { stored: r.stored, duplicates: r.duplicates, replayed: r.replayed === true };
  }

  async sendMetrics(items: readonly MetricItem[]): Promise<void> {
    await this.#request('POST', 'metrics', { items });
  }

  async #request(
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    o: {
      auth?: boolean;
      headers?: Record<string, string>;
      /** A file sent as the raw body (application/octet-stream) instead of `body`. */
      upload?: { path: string; bytes: number };
      timeoutMs?: number;
    } = {},
  ): Promise<unknown> {
    const url = new URL(path, this.base);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': this.#userAgent,
      ...o.headers,
    };
    if (o.upload) {
      headers['content-type'] = 'application/octet-stream';
      headers['content-length'] = String(o.upload.bytes);
    } else if (payload) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(payload.length);
    }
    if (o.auth !== false && this.#token) headers['authorization'] = `Bearer ${this.#token}`;
    const where = `${method} ${url.pathname}`;
    const timeoutMs = o.timeoutMs ?? this.#timeoutMs;
    const deadline = Date.now() + timeoutMs;
    let answer: Answer;
    try {
      answer = await this.#send(method, url, headers, payload, o.upload, deadline, timeoutMs, where);
    } catch (e) {
      // A kept-alive connection the server closed as we wrote to it: nothing
      // was answered, so the request is sent again once, on a new connection
      // (ingest is idempotent by key; the other calls are reads or replace state).
      if (!(e instanceof StaleConnection)) throw e;
      answer = await this.#send(method, url, headers, payload, o.upload, deadline, timeoutMs, where);
    }
    const { status, text, retryAfter } = answer;
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (status >= 200 && status < 300) {
      if (json === undefined && method !== 'GET')
        throw new ApiClientError('API_BAD_RESPONSE', `answer ${status} is not JSON`, {
          status,
          location: where,
        });
      return json;
    }
    throw errorFor(status, json, retryAfter, where);
  }

  #send(
    method: 'GET' | 'POST',
    url: URL,
    headers: Record<string, string>,
    payload: Buffer | undefined,
    upload: { path: string; bytes: number } | undefined,
    deadline: number,
    timeoutMs: number,
    where: string,
  ): Promise<Answer> {
    return new Promise<Answer>((resolve, reject) => {
      const options: http.RequestOptions = {
        method,
        hostname: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port || (url.protocol === 'https:' ? 443 : 80),
        path: url.pathname + url.search,
        headers,
        agent: this.#pool,
      };
      const req = url.protocol === 'https:' && !this.#pin ? https.request(options) : http.request(options);
      let answered = false;
      const timer = setTimeout(
        () =>
          req.destroy(
            new ApiClientError('API_TIMEOUT', `no answer within ${timeoutMs} ms`, { location: where }),
          ),
        Math.max(1, deadline - Date.now()),
      );
      req.on('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        if (e instanceof ApiClientError) return reject(e);
        if (!answered && req.reusedSocket && STALE_CODES.has(e.code ?? ''))
          return reject(new StaleConnection());
        reject(
          new ApiClientError('API_NETWORK', `cannot reach the server: ${e.message}`, {
            cause: e,
            location: where,
          }),
        );
      });
      req.on('response', (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_RESPONSE_BYTES) {
            req.destroy(
              new ApiClientError('API_BAD_RESPONSE', 'the answer is too large', { location: where }),
            );
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => {
          clearTimeout(timer);
          const ra = res.headers['retry-after'];
          resolve({
            status: res.statusCode ?? 0,
            text: Buffer.concat(chunks).toString('utf8'),
            retryAfter: Array.isArray(ra) ? ra[0] : ra,
          });
        });
        res.on('error', (e) => {
          clearTimeout(timer);
          reject(
            new ApiClientError('API_NETWORK', `the answer was cut: ${e.message}`, {
              cause: e,
              location: where,
            }),
          );
        });
      });
      if (upload) {
        const file = createReadStream(upload.path);
        file.on('error', (e) => req.destroy(e));
        file.pipe(req);
      } else req.end(payload);
    });
  }

  /** A TLS connection whose certificate was checked against the pin before anything is sent over it. */
  #pinnedSocket(url: URL, deadline: number, where: string): Promise<tls.TLSSocket> {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    return new Promise((resolve, reject) => {
      const socket = tls.connect({
        host,
        port: Number(url.port || 443),
        ...(/^[\d.]+$|:/.test(host) ? {} : { servername: host }),
        // The pin replaces the chain check: exactly this certificate is trusted, CA-signed or not.
        rejectUnauthorized: false,
        ALPNProtocols: ['http/1.1'],
      });
      const timer = setTimeout(
        () => {
          socket.destroy();
          reject(
            new ApiClientError('API_TIMEOUT', `no TLS handshake within ${this.#timeoutMs} ms`, {
              location: where,
            }),
          );
        },
        Math.max(1, deadline - Date.now()),
      );
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        const got = socket.getPeerCertificate().fingerprint256;
        if (got !== this.#pin) {
          socket.destroy();
          reject(
            new ApiClientError(
              'API_CERT_MISMATCH',
              `the server's certificate (SHA-256 ${got ?? 'none'}) is not the pinned one (${this.#pin})`,
              { location: where },
            ),
          );
          return;
        }
        resolve(socket);
      });
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(
          new ApiClientError('API_NETWORK', `cannot reach the server: ${e.message}`, {
            cause: e,
            location: where,
          }),
        );
      });
    });
  }
}

interface Answer {
  status: number;
  text: string;
  retryAfter: string | undefined;
}

/** Errors of a write to a kept-alive connection the server had just closed. */
const STALE_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

/** Internal: the request went out on a kept-alive connection that turned out closed, unanswered. */
class StaleConnection extends Error {}

function errorFor(
  status: number,
  json: unknown,
  retryAfter: string | undefined,
  where: string,
): ApiClientError {
  const e = (json as { error?: { code?: unknown; message?: unknown; field?: unknown } } | undefined)?.error;
  const apiCode = typeof e?.code === 'string' ? e.code : undefined;
  const field = typeof e?.field === 'string' ? e.field : undefined;
  const text = typeof e?.message === 'string' ? e.message : `HTTP ${status}`;
  const code: ClientErrorCode =
    status === 401
      ? 'API_UNAUTHORIZED'
      : status === 403
        ? 'API_FORBIDDEN'
        : status === 429
          ? 'API_RATE_LIMITED'
          : status >= 500
            ? 'API_SERVER_ERROR'
            : 'API_REJECTED';
  const secs = retryAfter !== undefined ? Number(retryAfter) : Number.NaN;
  return new ApiClientError(
    code,
    `${status}${apiCode ? ` ${apiCode}` : ''}: ${text}${field ? ` (${field})` : ''}`,
    {
      status,
      ...(apiCode ? { apiCode } : {}),
      ...(field ? { field } : {}),
      ...(Number.isFinite(secs) && secs >= 0 ? { retryAfterMs: secs * 1000 } : {}),
      location: where,
    },
  );
}
