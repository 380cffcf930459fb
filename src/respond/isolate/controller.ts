import { UsageError } from '../../core/errors.ts';
import { ActionError } from './errors.ts';
import { shown } from './target.ts';
import type { Answer, HttpStep, StepRunner } from './types.ts';

/**
 * What the HTTP backends (ryu, onos, odl, http) share: the controller's base
 * URL, its credentials (sent, never printed), and the mapping of answers to
 * failures that are, or are not, worth retrying.
 */
export interface ControllerAuth {
  /** Headers as a plan or record shows them (secrets redacted). */
  readonly shown: Record<string, string>;
  /** The real values, added when the request is sent. */
  readonly secret: Record<string, string>;
}

export const NO_AUTH: ControllerAuth = { shown: {}, secret: {} };

/** `http(s)://host[:port][/prefix]`, without credentials, query or fragment; no trailing slash. */
export function parseControllerUrl(text: string, option = '--controller'): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(
      'ISOLATE_BAD_CONTROLLER',
      `${option} must be an http:// or https:// URL (got ${shown(text)})`,
      {
        location: option,
      },
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(
      'ISOLATE_BAD_CONTROLLER',
      `${option} must be an http:// or https:// URL (got ${shown(text)})`,
      {
        location: option,
      },
    );
  if (url.username || url.password)
    throw new UsageError(
      'ISOLATE_BAD_CONTROLLER',
      `${option}: give credentials with --user and --password (or the environment), not in the URL`,
      { location: option },
    );
  if (url.search || url.hash)
    throw new UsageError('ISOLATE_BAD_CONTROLLER', `${option} must have no query or fragment`, {
      location: option,
    });
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

export function basicAuth(user: string, password: string): ControllerAuth {
  const token = Buffer.from(`${user}:${password}`, 'utf8').toString('base64');
  return {
    shown: { Authorization: `Basic <${user}:redacted>` },
    secret: { Authorization: `Basic ${token}` },
  };
}

export function bearerAuth(token: string): ControllerAuth {
  return { shown: { Authorization: 'Bearer <redacted>' }, secret: { Authorization: `Bearer ${token}` } };
}

/** Header names whose values are secrets, whatever the controller calls them. */
const SECRET_HEADER = /auth|token|key|secret|cookie|passw|session/i;

/** `--header 'Name: value'`: a valid field name, a value without line breaks; secret-looking values redacted when shown. */
export function extraHeader(text: string): { name: string; value: string; secret: boolean } {
  const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}):[ \t]*(.*)$/.exec(text);
  if (!m || /[\r\n\0]/.test(text) || text.length > 8192)
    throw new UsageError(
      'ISOLATE_BAD_HEADER',
      `--header must be "Name: value" on one line (got ${shown(text)})`,
      {
        location: '--header',
      },
    );
  const name = m[1]!;
  if (/^(host|content-length|transfer-encoding|connection)$/i.test(name))
    throw new UsageError('ISOLATE_BAD_HEADER', `--header cannot set ${name}`, { location: '--header' });
  return { name, value: m[2]!.trim(), secret: SECRET_HEADER.test(name) };
}

export function mergeAuth(...parts: ControllerAuth[]): ControllerAuth {
  const out = { shown: {} as Record<string, string>, secret: {} as Record<string, string> };
  for (const p of parts) {
    Object.assign(out.shown, p.shown);
    Object.assign(out.secret, p.secret);
  }
  return out;
}

export function headersAuth(headers: readonly string[]): ControllerAuth {
  const out = { shown: {} as Record<string, string>, secret: {} as Record<string, string> };
  for (const h of headers) {
    const { name, value, secret } = extraHeader(h);
    out.shown[name] = secret ? '<redacted>' : value;
    if (secret) out.secret[name] = value;
  }
  return out;
}

export function httpStep(
  purpose: HttpStep['purpose'],
  method: string,
  url: string,
  auth: ControllerAuth,
  body?: unknown,
): HttpStep {
  const headers: Record<string, string> = { Accept: 'application/json', ...auth.shown };
  if (body === undefined) return { kind: 'http', purpose, method, url, headers };
  return {
    kind: 'http',
    purpose,
    method,
    url,
    headers: { ...headers, 'Content-Type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  };
}

export function send(io: StepRunner, step: HttpStep, auth: ControllerAuth): Promise<Answer> {
  return io.http(step, auth.secret);
}

function snippet(body: string | undefined): string {
  const s = (body ?? '').replace(/\s+/g, ' ').trim();
  if (!s) return '';
  return `: ${s.length > 200 ? `${s.slice(0, 200)}…` : s}`;
}

/**
 * Throws unless the status is one of `ok`: 401/403 (credentials), 404 (an
 * unknown device or path) and other 4xx are not worth retrying; 5xx, 408 and
 * 429 are.
 */
export function expectStatus(answer: Answer, step: HttpStep, ok: readonly number[], what: string): void {
  const status = answer.status ?? 0;
  if (ok.includes(status)) return;
  const where = `${step.method} ${step.url}`;
  const tail = snippet(answer.body);
  if (status === 401 || status === 403)
    throw new ActionError(
      'CONTROLLER_AUTH',
      `${where} answered ${status}: the controller refused our credentials (check --user/--password or the token)${tail}`,
      { retryable: false },
    );
  if (status === 404)
    throw new ActionError('CONTROLLER_NOT_FOUND', `${where} answered 404: ${what}${tail}`, {
      retryable: false,
    });
  if (status >= 300 && status < 400)
    throw new ActionError(
      'CONTROLLER_REDIRECT',
      `${where} answered ${status} (redirect to ${answer.location ?? '?'}): give the final URL, redirects are not followed`,
      { retryable: false },
    );
  const retryable = status >= 500 || status === 408 || status === 429;
  throw new ActionError(
    retryable ? 'CONTROLLER_ERROR' : 'CONTROLLER_REFUSED',
    `${where} answered ${status}${tail}`,
    { retryable },
  );
}

export function parseJson(answer: Answer, step: HttpStep): unknown {
  try {
    return JSON.parse(answer.body ?? '');
  } catch {
    throw new ActionError(
      'CONTROLLER_BAD_ANSWER',
      `${step.method} ${step.url} answered ${answer.status} with something that is not JSON${snippet(answer.body)}`,
      { retryable: true },
    );
  }
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
