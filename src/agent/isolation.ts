import { randomBytes } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { describeError } from '../core/errors.ts';
import type { IsolationDirective, IsolationReport } from '../respond/isolate/agent-protocol.ts';
import { nftablesBackend, systemResolvers } from '../respond/isolate/nftables/index.ts';
import { type IsolationResult, runIsolation } from '../respond/isolate/run.ts';
import { makeRunner } from '../respond/isolate/runner.ts';
import { canonicalCidr } from '../respond/isolate/safety.ts';
import { canonicalAddress, parseTarget } from '../respond/isolate/target.ts';
import type { IsolationTarget } from '../respond/isolate/types.ts';

/**
 * The agent's side of isolation on the host's own firewall (backend
 * `agent-nftables`): the server's heartbeat answer says whether an
 * isolation holds; the agent puts the nftables table in place (only the
 * deminer server, DNS and DHCP stay reachable), reads it back, reports,
 * and checks it at every heartbeat. The isolation is written to the state
 * folder before the table is applied, so that after a restart (a reboot
 * empties the firewall) the agent puts it back at once, before it has
 * heard from the server; it removes it when the server no longer holds it.
 */

export interface AgentIsolationOptions {
  stateDir: string;
  /** The server URL the agent reaches: its address always stays reachable. */
  server: string;
  report: (r: IsolationReport) => Promise<void>;
  log: (m: string) => void;
  /** The nft program (tests). */
  nft?: string;
  /** This host's addresses (default: its interfaces'). */
  addresses?: () => string[];
  resolvers?: () => string[];
}

/** What the state folder keeps while an isolation holds. */
interface Saved {
  id: string;
  /** Every address that stays reachable, as applied (the server's resolved address included). */
  allow: string[];
  dns: string[];
  saved_at: string;
}

const FILE = 'isolation.json';
/** A failed apply or release is tried again at a heartbeat no sooner than this. */
const RETRY_AFTER_MS = 30_000;
const EXCHANGES_REPORTED = 20;

function hostAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) if (!a.internal) out.push(a.address);
  return out;
}

export class AgentIsolation {
  readonly #o: AgentIsolationOptions;
  #saved: Saved | undefined;
  /** Reports not delivered yet (the server was away): sent again at the next heartbeat. */
  #unsent: IsolationReport[] = [];
  #lastTry = new Map<string, number>();
  #busy: Promise<void> = Promise.resolve();

  constructor(o: AgentIsolationOptions) {
    this.#o = o;
    this.#saved = this.#read();
  }

  /** Whether an isolation holds on this host as far as the agent knows. */
  get holding(): string | undefined {
    return this.#saved?.id;
  }

  /** At start: the isolation the state folder holds is put back before anything else. */
  resume(): Promise<void> {
    return this.#serial(async () => {
      const s = this.#saved;
      if (!s) return;
      this.#o.log(`isolation ${s.id} holds: putting this host's firewall table back`);
      await this.#apply(s, 'restart');
    });
  }

  /** At each heartbeat answer: have the table in place, or have it gone. */
  onHeartbeat(d: IsolationDirective | undefined, unreadable = false): Promise<void> {
    return this.#serial(async () => {
      await this.#flushReports();
      if (unreadable) return;
      if (d?.action === 'isolate') {
        const s = this.#saved;
        if (s && s.id === d.id) {
          // Held already: check it is still there (someone may have flushed the firewall).
          if (await this.#inPlace(s)) return;
          if (!this.#due(`isolate:${d.id}`)) return;
          this.#o.log(`isolation ${d.id}: the firewall table is missing or changed; putting it back`);
          await this.#apply(s, 'check');
          return;
        }
        if (!this.#due(`isolate:${d.id}`)) return;
        const allow = await this.#allowList(d.allow);
        const saved: Saved = {
          id: d.id,
          allow,
          dns: d.dns ?? (this.#o.resolvers ?? systemResolvers)(),
          saved_at: new Date().toISOString(),
        };
        // Written first: a crash between here and the table still ends isolated after the restart.
        this.#write(saved);
        await this.#apply(saved, 'directive');
        return;
      }
      const holding = this.#saved;
      if (d?.action === 'release' || holding) {
        const id = d?.id ?? holding!.id;
        if (!this.#due(`release:${id}`)) return;
        await this.#release(id, holding);
      }
    });
  }

  /** Until what is under way is done (tests, shutdown). */
  idle(): Promise<void> {
    return this.#busy;
  }

  #serial(fn: () => Promise<void>): Promise<void> {
    const next = this.#busy.then(fn).catch((e: unknown) => this.#o.log(`isolation: ${describeError(e)}`));
    this.#busy = next;
    return next;
  }

  #due(key: string): boolean {
    const last = this.#lastTry.get(key);
    return last === undefined || Date.now() - last >= RETRY_AFTER_MS;
  }

  #target(): IsolationTarget {
    const all = (this.#o.addresses ?? hostAddresses)()
      .map((a) => canonicalAddress(a.split('%')[0] ?? ''))
      .filter((a) => a !== undefined);
    const pick = all.find((a) => a.family === 4) ?? all[0];
    // The address only names the host in the table's comment: any of its own will do.
    return parseTarget(pick?.ip ?? '192.0.2.0');
  }

  /** The server's list, and the address this agent reaches the server at (resolved now, while DNS works). */
  async #allowList(fromServer: readonly string[]): Promise<string[]> {
    const out = new Set(fromServer.filter((a) => canonicalCidr(a) !== undefined));
    try {
      const host = new URL(this.#o.server).hostname.replace(/^\[|\]$/g, '');
      const direct = canonicalAddress(host);
      if (direct) out.add(direct.ip);
      else for (const a of await lookup(host, { all: true })) out.add(a.address);
    } catch (e) {
      this.#o.log(
        `isolation: cannot resolve the server's address (${describeError(e)}); using the server's list`,
      );
    }
    return [...out];
  }

  #backend(s: Pick<Saved, 'allow' | 'dns'>) {
    return nftablesBackend({ allow: s.allow, dns: s.dns, ...(this.#o.nft ? { nft: this.#o.nft } : {}) });
  }

  async #inPlace(s: Saved): Promise<boolean> {
    try {
      const st = await this.#backend(s).status(this.#target(), makeRunner({ timeoutMs: 5000 }));
      return st.state === 'isolated';
    } catch {
      return false;
    }
  }

  async #apply(s: Saved, trigger: IsolationReport['trigger']): Promise<void> {
    this.#lastTry.set(`isolate:${s.id}`, Date.now());
    let result: IsolationResult;
    try {
      result = await runIsolation('isolate', this.#backend(s), this.#target(), {
        retries: 2,
        backoffMs: 250,
        timeoutMs: 5000,
      });
    } catch (e) {
      await this.#report(failedReport(s.id, 'isolate', e, trigger));
      return;
    }
    if (result.ok) this.#lastTry.delete(`isolate:${s.id}`);
    this.#o.log(
      result.ok
        ? `isolation ${s.id}: ${result.outcome === 'already_isolated' ? 'already' : 'now'} isolated on this host's firewall (allowed: ${s.allow.join(', ')})`
        : `isolation ${s.id}: could not isolate: ${result.error?.code}: ${result.error?.message}`,
    );
    await this.#report(reportOf(s.id, result, trigger));
  }

  async #release(id: string, holding: Saved | undefined): Promise<void> {
    this.#lastTry.set(`release:${id}`, Date.now());
    // Release needs no allow list; the table is removed whole.
    const backend = this.#backend(holding ?? { allow: [], dns: [] });
    let result: IsolationResult;
    try {
      result = await runIsolation('release', backend, this.#target(), {
        retries: 2,
        backoffMs: 250,
        timeoutMs: 5000,
      });
    } catch (e) {
      await this.#report(failedReport(id, 'release', e, 'directive'));
      return;
    }
    if (result.ok) {
      this.#lastTry.delete(`release:${id}`);
      this.#clear();
      this.#o.log(`isolation ${id}: released; this host's firewall table is gone`);
    } else this.#o.log(`isolation ${id}: could not release: ${result.error?.code}: ${result.error?.message}`);
    await this.#report(reportOf(id, result, 'directive'));
  }

  async #report(r: IsolationReport): Promise<void> {
    this.#unsent.push(r);
    await this.#flushReports();
  }

  async #flushReports(): Promise<void> {
    while (this.#unsent.length > 0) {
      const r = this.#unsent[0]!;
      try {
        await this.#o.report(r);
      } catch (e) {
        const status = (e as { status?: number }).status;
        // The server does not know it (or refuses its shape): sending it again cannot help.
        if (status !== undefined && status >= 400 && status < 500 && status !== 429) {
          this.#o.log(`isolation ${r.isolation_id}: the server refused the report (${describeError(e)})`);
        } else {
          if (this.#unsent.length > 20) this.#unsent.splice(0, this.#unsent.length - 20);
          return;
        }
      }
      this.#unsent.shift();
    }
  }

  #read(): Saved | undefined {
    try {
      const v = JSON.parse(readFileSync(join(this.#o.stateDir, FILE), 'utf8')) as Partial<Saved>;
      if (typeof v.id !== 'string' || !Array.isArray(v.allow) || !Array.isArray(v.dns)) return undefined;
      return {
        id: v.id,
        allow: v.allow.filter((a): a is string => typeof a === 'string'),
        dns: v.dns.filter((a): a is string => typeof a === 'string'),
        saved_at: typeof v.saved_at === 'string' ? v.saved_at : '',
      };
    } catch {
      return undefined;
    }
  }

  #write(s: Saved): void {
    const file = join(this.#o.stateDir, FILE);
    const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(s, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, file);
    this.#saved = s;
  }

  #clear(): void {
    rmSync(join(this.#o.stateDir, FILE), { force: true });
    this.#saved = undefined;
  }
}

function reportOf(id: string, r: IsolationResult, trigger: IsolationReport['trigger']): IsolationReport {
  return {
    isolation_id: id,
    action: r.action,
    ok: r.ok,
    outcome: r.outcome === 'planned' ? 'failed' : r.outcome,
    attempts: r.attempts,
    ...(r.verification ? { verification: { ...r.verification } } : {}),
    ...(r.error ? { error: { code: r.error.code, message: r.error.message.slice(0, 2000) } } : {}),
    exchanges: r.exchanges.slice(-EXCHANGES_REPORTED).map((e) => ({
      step: { ...e.step },
      at: e.at,
      ms: e.ms,
      ...(e.answer ? { answer: { ...e.answer } } : {}),
      ...(e.error !== undefined ? { error: e.error.slice(0, 4000) } : {}),
    })),
    timings: { ...r.timings },
    ...(trigger ? { trigger } : {}),
  };
}

function failedReport(
  id: string,
  action: 'isolate' | 'release',
  e: unknown,
  trigger: IsolationReport['trigger'],
): IsolationReport {
  const code = (e as { code?: unknown }).code;
  return {
    isolation_id: id,
    action,
    ok: false,
    outcome: 'failed',
    attempts: 0,
    error: {
      code: typeof code === 'string' ? code.slice(0, 100) : 'AGENT_ISOLATION_FAILED',
      message: describeError(e).slice(0, 2000),
    },
    ...(trigger ? { trigger } : {}),
  };
}
