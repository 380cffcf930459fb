import type { Kysely } from 'kysely';
import { SEVERITIES, type Severity } from '../core/severity.ts';
import { chunks } from './chunks.ts';
import type { StoreContext } from './context.ts';
import type { Database } from './schema.ts';
import type { SeverityCounts, SightingCount } from './types.ts';
import { toNumber } from './values.ts';

/**
 * The counters of migration 0004: unacknowledged findings per host and
 * severity, and findings ingested per hour and severity. Writers of
 * findings collect their changes in memory and apply them with a few
 * multi-row upserts at the end of their own transaction, so the counters
 * move exactly when the findings do.
 */

export function zeroCounts(): SeverityCounts {
  return { low: 0, medium: 0, high: 0, critical: 0 };
}

function isSeverity(s: string): s is Severity {
  return (SEVERITIES as readonly string[]).includes(s);
}

/** Changes to `open_findings`, per host name. */
export class OpenDeltas {
  readonly #byHost = new Map<string, SeverityCounts>();

  add(host: string, severity: string, delta: number): void {
    if (!isSeverity(severity) || delta === 0) return;
    let c = this.#byHost.get(host);
    if (!c) {
      c = zeroCounts();
      this.#byHost.set(host, c);
    }
    c[severity] += delta;
  }

  get size(): number {
    return this.#byHost.size;
  }

  /** Rows that change something, in host name order (concurrent writers lock them in the same order). */
  rows(): { host_name: string; low: number; medium: number; high: number; critical: number }[] {
    return [...this.#byHost]
      .filter(([, c]) => c.low !== 0 || c.medium !== 0 || c.high !== 0 || c.critical !== 0)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([host_name, c]) => ({ host_name, ...c }));
  }
}

/** 5 columns per row: well under both engines' bound-parameter limits. */
const OPEN_CHUNK = 1000;

export async function applyOpenDeltas(db: Kysely<Database>, deltas: OpenDeltas): Promise<void> {
  for (const chunk of chunks(deltas.rows(), OPEN_CHUNK)) {
    await db
      .insertInto('open_findings')
      .values(chunk)
      .onConflict((oc) =>
        oc.column('host_name').doUpdateSet((eb) => ({
          low: eb('open_findings.low', '+', eb.ref('excluded.low')),
          medium: eb('open_findings.medium', '+', eb.ref('excluded.medium')),
          high: eb('open_findings.high', '+', eb.ref('excluded.high')),
          critical: eb('open_findings.critical', '+', eb.ref('excluded.critical')),
        })),
      )
      .execute();
  }
}

/** The hour an ISO time the store wrote falls in (its start), in the same text form. */
export function hourOf(iso: string): string {
  return `${iso.slice(0, 13)}:00:00.000Z`;
}

/** Sightings per hour and severity, added up in memory. */
export class Sightings {
  readonly #counts = new Map<string, number>();

  add(at: string, severity: string, n = 1): void {
    const key = `${hourOf(at)}|${severity}`;
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + n);
  }

  rows(): { hour: string; severity: string; sightings: number }[] {
    return [...this.#counts.keys()].sort().map((key) => {
      const [hour, severity] = key.split('|') as [string, string];
      return { hour, severity, sightings: this.#counts.get(key)! };
    });
  }
}

const SIGHTINGS_CHUNK = 2000;

export async function addSightings(db: Kysely<Database>, sightings: Sightings): Promise<void> {
  for (const chunk of chunks(sightings.rows(), SIGHTINGS_CHUNK)) {
    await db
      .insertInto('finding_sightings')
      .values(chunk)
      .onConflict((oc) =>
        oc.columns(['hour', 'severity']).doUpdateSet((eb) => ({
          sightings: eb('finding_sightings.sightings', '+', eb.ref('excluded.sightings')),
        })),
      )
      .execute();
  }
}

function countsOf(r: {
  low: string | number;
  medium: string | number;
  high: string | number;
  critical: string | number;
}) {
  return {
    low: toNumber(r.low),
    medium: toNumber(r.medium),
    high: toNumber(r.high),
    critical: toNumber(r.critical),
  };
}

/** Unacknowledged findings of the whole fleet by severity. */
export async function openFindings(ctx: StoreContext): Promise<SeverityCounts> {
  const r = await ctx.db
    .selectFrom('open_findings')
    .select((eb) => [
      eb.fn.sum<string | number | null>('low').as('low'),
      eb.fn.sum<string | number | null>('medium').as('medium'),
      eb.fn.sum<string | number | null>('high').as('high'),
      eb.fn.sum<string | number | null>('critical').as('critical'),
    ])
    .executeTakeFirst();
  return r
    ? countsOf({ low: r.low ?? 0, medium: r.medium ?? 0, high: r.high ?? 0, critical: r.critical ?? 0 })
    : zeroCounts();
}

/** Unacknowledged findings by severity of each host named (all zero for a host without any). */
export async function openFindingsByHost(
  ctx: StoreContext,
  names: readonly string[],
): Promise<Map<string, SeverityCounts>> {
  const out = new Map<string, SeverityCounts>();
  for (const n of names) out.set(n, zeroCounts());
  for (const chunk of chunks([...new Set(names)], 1000)) {
    const rows = await ctx.db
      .selectFrom('open_findings')
      .selectAll()
      .where('host_name', 'in', chunk)
      .execute();
    for (const r of rows) out.set(r.host_name, countsOf(r));
  }
  return out;
}

/** Sightings per hour and severity of the hours starting in [from, to). */
export async function listSightings(
  ctx: StoreContext,
  q: { from: string; to: string },
): Promise<SightingCount[]> {
  const rows = await ctx.db
    .selectFrom('finding_sightings')
    .selectAll()
    .where('hour', '>=', q.from)
    .where('hour', '<', q.to)
    .orderBy('hour')
    .orderBy('severity')
    .execute();
  return rows
    .filter((r) => isSeverity(r.severity))
    .map((r) => ({ hour: r.hour, severity: r.severity as Severity, count: toNumber(r.sightings) }));
}
