/**
 * What the server tests share: a real server on loopback (port 0) over a
 * real store (SQLite in a temporary folder, or PostgreSQL in a schema of
 * its own), a small JSON client and finding builders.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { type Finding, makeFinding } from '../../src/core/finding.ts';
import type { Severity } from '../../src/core/severity.ts';
import { buildServer, type ServerOptions } from '../../src/server/index.ts';
import { openStore } from '../../src/store/index.ts';
import type { Role, Store } from '../../src/store/types.ts';

export interface OpenedStore {
  store: Store;
  /** Removes what the store left behind (folder, schema); the store is closed by then. */
  cleanup(): Promise<void>;
}
export type StoreOpener = () => Promise<OpenedStore>;

export const sqliteOpener: StoreOpener = async () => {
  const dir = mkdtempSync(join(tmpdir(), 'deminer-server-'));
  const store = await openStore({ dataDir: dir });
  return { store, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
};

export const PG_URL = process.env.DEMINER_TEST_DATABASE || 'postgres://postgres@127.0.0.1:5432/test';

/** Why PostgreSQL cannot be used here, or undefined when it can. */
export async function postgresUnavailable(url = PG_URL): Promise<string | undefined> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.query('select 1');
    return undefined;
  } catch (e) {
    return `PostgreSQL at ${url.replace(/\/\/[^@/]*@/, '//…@')} is unreachable: ${e instanceof Error ? e.message : String(e)}`;
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** A store in a new schema of the test database, dropped afterwards: tests never see each other's rows. */
export function postgresOpener(url = PG_URL): StoreOpener {
  return async () => {
    const schema = `deminer_server_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await admin.query(`create schema ${schema}`);
    } finally {
      await admin.end();
    }
    const u = new URL(url);
    u.searchParams.set('options', `-c search_path=${schema}`);
    const store = await openStore({ database: u.toString() });
    return {
      store,
      cleanup: async () => {
        const c = new pg.Client({ connectionString: url });
        await c.connect();
        try {
          await c.query(`drop schema ${schema} cascade`);
        } finally {
          await c.end();
        }
      },
    };
  };
}

export interface Reply<T = Json> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}
// biome-ignore lint/suspicious/noExplicitAny: test answers are read field by field and asserted on
export type Json = any;

export class Api {
  constructor(readonly base: string) {}

  async call(
    method: string,
    path: string,
    opts: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
  ): Promise<Reply> {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
    let body: string | undefined;
    if (opts.raw !== undefined) body = opts.raw;
    else if (opts.body !== undefined) body = JSON.stringify(opts.body);
    if (body !== undefined && headers['content-type'] === undefined)
      headers['content-type'] = 'application/json';
    const r = await fetch(`${this.base}/api/v1${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body }),
    });
    const text = await r.text();
    let parsed: Json;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: r.status, headers: r.headers, body: parsed, text };
  }

  get(path: string, token?: string): Promise<Reply> {
    return this.call('GET', path, token === undefined ? {} : { token });
  }

  post(
    path: string,
    token: string | undefined,
    body: unknown,
    headers?: Record<string, string>,
  ): Promise<Reply> {
    return this.call('POST', path, {
      body,
      ...(token === undefined ? {} : { token }),
      ...(headers === undefined ? {} : { headers }),
    });
  }
}

export interface Harness {
  api: Api;
  store: Store;
  url: string;
  admin: string;
  token(role: Exclude<Role, 'agent'>, name?: string): Promise<string>;
  /** Enrols an agent through the API; its token and host. */
  enrolAgent(name: string): Promise<{ token: string; hostId: string; hostName: string }>;
}

export async function withServer(
  open: StoreOpener,
  fn: (h: Harness) => Promise<void>,
  options: Partial<Omit<ServerOptions, 'store' | 'version'>> = {},
): Promise<void> {
  const opened = await open();
  const app = buildServer({ store: opened.store, version: '0.0.0-test', ...options });
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    if (typeof address !== 'object' || address === null) throw new Error('no address');
    const url = `http://127.0.0.1:${address.port}`;
    const api = new Api(url);
    const admin = (await opened.store.createToken({ role: 'admin', name: 'test admin' })).token;
    const h: Harness = {
      api,
      store: opened.store,
      url,
      admin,
      token: async (role, name = `test ${role}`) => (await opened.store.createToken({ role, name })).token,
      enrolAgent: async (name) => {
        const e = await api.post('/enrolments', admin, {});
        if (e.status !== 201) throw new Error(`enrolment: ${e.status} ${e.text}`);
        const r = await api.post('/enrol', undefined, { secret: e.body.secret, host: { name } });
        if (r.status !== 201) throw new Error(`enrol: ${r.status} ${r.text}`);
        return { token: r.body.token, hostId: r.body.host.id, hostName: r.body.host.name };
      },
    };
    await fn(h);
  } finally {
    await app.close();
    await opened.store.close().catch(() => undefined);
    await opened.cleanup();
  }
}

let subjectNo = 0;

/** A valid finding; a new subject (so a new fingerprint) unless one is given. */
export function finding(
  o: { host?: string; subject?: string; severity?: Severity; at?: string; rule?: string } = {},
): Finding {
  return makeFinding({
    rule: { id: o.rule ?? 'deminer.test.server', name: 'Server test rule', ruleset: 'builtin' },
    severity: o.severity ?? 'high',
    techniques: ['T1496'],
    host: o.host ?? 'web01',
    subject: [o.subject ?? `subject-${process.pid}-${subjectNo++}`],
    message: 'A miner runs here; stop it.',
    timestamp: o.at ?? new Date(Date.now() - 60_000).toISOString(),
    evidence: { note: 'test' },
  });
}

/** Every finding the server lists (all pages). */
export async function allFindings(api: Api, token: string, query = ''): Promise<Json[]> {
  const out: Json[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 1000; i++) {
    const sep = query === '' ? '?' : `?${query}&`;
    const r = await api.get(
      `/findings${sep}limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      token,
    );
    if (r.status !== 200) throw new Error(`list findings: ${r.status} ${r.text}`);
    out.push(...r.body.items);
    cursor = r.body.next;
    if (cursor === null) return out;
  }
  throw new Error('paging did not end');
}

/**
 * Opens `GET /stream` and collects its text; `until` resolves once the text
 * matches (or rejects after `timeoutMs`).
 */
export function openStream(
  url: string,
  token: string,
): Promise<{
  status: number;
  text: () => string;
  until(re: RegExp, timeoutMs?: number): Promise<string>;
  close(): void;
}> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/api/v1/stream`,
      { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' } },
      (res) => {
        let text = '';
        const waiters: Array<() => void> = [];
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          text += d;
          for (const w of [...waiters]) w();
        });
        res.on('error', () => undefined);
        resolve({
          status: res.statusCode ?? 0,
          text: () => text,
          until(re, timeoutMs = 5000) {
            return new Promise((ok, fail) => {
              const check = (): boolean => {
                const m = re.exec(text);
                if (m) {
                  clearTimeout(timer);
                  waiters.splice(waiters.indexOf(waiter), 1);
                  ok(m[0]);
                  return true;
                }
                return false;
              };
              const waiter = (): void => {
                check();
              };
              const timer = setTimeout(() => {
                waiters.splice(waiters.indexOf(waiter), 1);
                fail(new Error(`stream did not show ${re} within ${timeoutMs} ms; got:\n${text}`));
              }, timeoutMs);
              waiters.push(waiter);
              check();
            });
          },
          close: () => req.destroy(),
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}
