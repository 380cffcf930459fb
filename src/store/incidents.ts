import { randomBytes } from 'node:crypto';
import { type Kysely, PostgresAdapter, type Selectable, sql } from 'kysely';
import type { Finding } from '../core/finding.ts';
import { SEVERITIES, type Severity, severityRank } from '../core/severity.ts';
import { chunks } from './chunks.ts';
import type { StoreContext } from './context.ts';
import { StoreInputError } from './errors.ts';
import type {
  CampaignRecord,
  IncidentEvent,
  IncidentEventKind,
  IncidentLink,
  IncidentPatch,
  IncidentQuery,
  IncidentRecord,
  IncidentStore,
  IndicatorRecord,
  LinkedFinding,
  MoveOutcome,
  NewIncident,
  PhaseMove,
} from './incident-types.ts';
import { MAX_REVIEW_TEXT } from './incident-types.ts';
import { retryTransaction } from './retry.ts';
import type { Database, IncidentsTable } from './schema.ts';
import { badCursor, decodeCursor, encodeCursor, isoTime, pageLimit, shortText } from './values.ts';

/**
 * The incidents' data (migration 0006). Every write that must not happen
 * twice rests on a key the database enforces, so several servers on one
 * PostgreSQL can process the same findings: one open incident per host
 * (`open_key`), one link per finding and incident, one campaign per
 * indicator, one breach per clock and due time.
 */

type Row = Selectable<IncidentsTable>;
type Db = Kysely<Database>;

const newId = (prefix: string): string => `${prefix}_${randomBytes(6).toString('hex')}`;

function parseLinks(text: string): IncidentLink[] {
  try {
    const v = JSON.parse(text) as unknown;
    return Array.isArray(v) ? (v as IncidentLink[]) : [];
  } catch {
    return [];
  }
}

function fromRow(r: Row, findings: number): IncidentRecord {
  return {
    id: r.id,
    title: r.title,
    hostName: r.host_name,
    campaignId: r.campaign_id,
    severity: r.severity as Severity,
    phase: r.phase,
    phaseAt: r.phase_at,
    phaseBy: r.phase_by,
    assignee: r.assignee,
    links: parseLinks(r.links),
    openedAt: r.opened_at,
    openedBy: r.opened_by,
    discoveryAt: r.discovery_at,
    isolationMetAt: r.isolation_met_at,
    recoveryAt: r.recovery_at,
    reviewMetAt: r.review_met_at,
    closedAt: r.closed_at,
    updatedAt: r.updated_at,
    findings,
    rootCause: r.root_cause ?? null,
    lessons: r.lessons ?? null,
  };
}

async function findingCounts(db: Db, ids: readonly string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const chunk of chunks([...ids], 500)) {
    const rows = await db
      .selectFrom('incident_findings')
      .select((eb) => ['incident_id', eb.fn.countAll<number | string>().as('n')])
      .where('incident_id', 'in', chunk)
      .groupBy('incident_id')
      .execute();
    for (const r of rows) out.set(r.incident_id, Number(r.n));
  }
  return out;
}

async function records(db: Db, rows: readonly Row[]): Promise<IncidentRecord[]> {
  if (rows.length === 0) return [];
  const counts = await findingCounts(
    db,
    rows.map((r) => r.id),
  );
  return rows.map((r) => fromRow(r, counts.get(r.id) ?? 0));
}

async function getRow(db: Db, id: string): Promise<Row | undefined> {
  return db.selectFrom('incidents').selectAll().where('id', '=', id).executeTakeFirst();
}

async function insertEvent(
  db: Db,
  incidentId: string,
  e: { kind: IncidentEventKind; actor: string; at: string; data: Record<string, unknown> },
): Promise<IncidentEvent> {
  const row = await db
    .insertInto('incident_events')
    .values({ incident_id: incidentId, at: e.at, actor: e.actor, kind: e.kind, data: JSON.stringify(e.data) })
    .returning('seq')
    .executeTakeFirstOrThrow();
  return { seq: Number(row.seq), at: e.at, actor: e.actor, kind: e.kind, data: e.data };
}

/** Links a finding inside a transaction; raises the severity; true when it was not linked before. */
async function link(trx: Db, incidentId: string, f: LinkedFinding, at: string): Promise<boolean> {
  return (await linkMany(trx, [{ incidentId, finding: f }], at)).length > 0;
}

/** Rows per multi-row statement of a batched link (3 and 7 bound values a row). */
const LINK_CHUNK = 256;

/**
 * Links findings inside a transaction: multi-row inserts (the incident
 * engine links what a whole ingest group brought in a few statements, not
 * five per finding), one `finding` event per new link in the order given,
 * each incident's severity raised once to the highest it received.
 */
async function linkMany(
  trx: Db,
  links: readonly { incidentId: string; finding: LinkedFinding }[],
  at: string,
): Promise<{ incidentId: string; fingerprint: string }[]> {
  const key = (incidentId: string, fingerprint: string): string => `${incidentId}\n${fingerprint}`;
  const unique = new Map<string, { incidentId: string; finding: LinkedFinding }>();
  for (const l of links) {
    const k = key(l.incidentId, l.finding.fingerprint);
    if (!unique.has(k)) unique.set(k, l);
  }
  const items = [...unique.values()];
  const added = new Set<string>();
  for (const chunk of chunks(items, LINK_CHUNK)) {
    const rows = await trx
      .insertInto('incident_findings')
      .values(
        chunk.map((l) => ({ incident_id: l.incidentId, fingerprint: l.finding.fingerprint, linked_at: at })),
      )
      .onConflict((oc) => oc.columns(['incident_id', 'fingerprint']).doNothing())
      .returning(['incident_id', 'fingerprint'])
      .execute();
    for (const r of rows) added.add(key(r.incident_id, r.fingerprint));
  }
  const fresh = items.filter((l) => added.has(key(l.incidentId, l.finding.fingerprint)));
  if (fresh.length === 0) return [];
  for (const chunk of chunks(fresh, LINK_CHUNK)) {
    await trx
      .insertInto('incident_events')
      .values(
        chunk.map(({ incidentId, finding: f }) => ({
          incident_id: incidentId,
          at,
          actor: 'deminer',
          kind: 'finding',
          data: JSON.stringify({
            fingerprint: f.fingerprint,
            rule_id: f.ruleId,
            rule_name: f.ruleName,
            severity: f.severity,
            message: f.message,
            seen_at: f.at,
          }),
        })),
      )
      .execute();
  }
  const highest = new Map<string, Severity>();
  for (const { incidentId, finding: f } of fresh) {
    const h = highest.get(incidentId);
    if (h === undefined || severityRank(f.severity) > severityRank(h)) highest.set(incidentId, f.severity);
  }
  for (const chunk of chunks([...highest.keys()], LINK_CHUNK)) {
    const rows = await trx
      .selectFrom('incidents')
      .select(['id', 'severity'])
      .where('id', 'in', chunk)
      .execute();
    for (const row of rows) {
      const s = highest.get(row.id)!;
      if (severityRank(s) <= severityRank(row.severity as Severity)) continue;
      await trx
        .updateTable('incidents')
        .set({ severity: s, updated_at: at })
        .where('id', '=', row.id)
        .execute();
    }
  }
  return fresh.map((l) => ({ incidentId: l.incidentId, fingerprint: l.finding.fingerprint }));
}

/** Root cause and lessons: any text up to MAX_REVIEW_TEXT characters (an empty one clears, as null does). */
function reviewText(value: unknown, field: string): string | null {
  if (typeof value !== 'string' || value.length > MAX_REVIEW_TEXT)
    throw new StoreInputError(
      'STORE_BAD_INPUT',
      `must be a string of at most ${MAX_REVIEW_TEXT} characters`,
      {
        location: field,
      },
    );
  return value.trim() === '' ? null : value;
}

function checkSeverity(s: string, field: string): Severity {
  if (!(SEVERITIES as readonly string[]).includes(s))
    throw new StoreInputError('STORE_BAD_INPUT', `unknown severity ${s}`, { location: field });
  return s as Severity;
}

interface IncidentCursor {
  o: string;
  i: string;
}

function readCursor(cursor: string): IncidentCursor {
  const c = decodeCursor(cursor);
  if (typeof c !== 'object' || c === null) throw badCursor();
  const { o, i } = c as Record<string, unknown>;
  if (typeof o !== 'string' || typeof i !== 'string') throw badCursor();
  return { o, i };
}

const isPostgres = (db: Db): boolean => db.getExecutor().adapter instanceof PostgresAdapter;

export function incidentStore(ctx: StoreContext): IncidentStore {
  const db = ctx.db;
  return {
    async open(n: NewIncident) {
      const title = shortText(n.title, 'title', 300);
      const hostName = n.hostName === null ? null : shortText(n.hostName, 'host', 253);
      const severity = checkSeverity(n.severity, 'severity');
      const at = isoTime(n.at, 'at');
      const openedBy = shortText(n.openedBy, 'opened_by', 300);
      return retryTransaction(() =>
        db.transaction().execute(async (trx) => {
          const id = newId('inc');
          const created = await trx
            .insertInto('incidents')
            .values({
              id,
              title,
              host_name: hostName,
              campaign_id: null,
              severity,
              phase: 'discovery',
              phase_at: at,
              phase_by: openedBy,
              assignee: null,
              links: '[]',
              opened_at: at,
              opened_by: openedBy,
              discovery_at: at,
              isolation_met_at: null,
              recovery_at: null,
              review_met_at: null,
              closed_at: null,
              updated_at: at,
              open_key: hostName,
            })
            .onConflict((oc) => oc.column('open_key').doNothing())
            .returning('id')
            .executeTakeFirst();
          let incidentId: string;
          if (created) {
            incidentId = created.id;
            await insertEvent(trx, incidentId, {
              kind: 'opened',
              actor: openedBy,
              at,
              data: {
                title,
                host: hostName,
                severity,
                opened_by: openedBy,
                ...(n.note === undefined ? {} : { note: n.note }),
              },
            });
          } else {
            // The host has an open incident (opened meanwhile here or by another server): join it.
            const existing = await trx
              .selectFrom('incidents')
              .select('id')
              .where('open_key', '=', hostName)
              .executeTakeFirstOrThrow();
            incidentId = existing.id;
          }
          if (n.finding) await link(trx, incidentId, n.finding, at);
          const row = (await getRow(trx, incidentId))!;
          const [rec] = await records(trx, [row]);
          return { incident: rec!, created: !!created };
        }),
      );
    },

    async get(id) {
      const row = await getRow(db, id);
      return row ? (await records(db, [row]))[0] : undefined;
    },

    async openFor(hostName) {
      const row = await db
        .selectFrom('incidents')
        .selectAll()
        .where('open_key', '=', hostName)
        .executeTakeFirst();
      return row ? (await records(db, [row]))[0] : undefined;
    },

    async list(q: IncidentQuery) {
      const limit = pageLimit(q.limit, 100, 500);
      let query = db.selectFrom('incidents').selectAll();
      if (q.phase !== undefined) query = query.where('phase', '=', q.phase);
      if (q.host !== undefined) query = query.where('host_name', '=', q.host);
      if (q.campaign !== undefined) query = query.where('campaign_id', '=', q.campaign);
      if (q.cursor !== undefined) {
        const c = readCursor(q.cursor);
        query = query.where((eb) =>
          eb.or([eb('opened_at', '<', c.o), eb.and([eb('opened_at', '=', c.o), eb('id', '<', c.i)])]),
        );
      }
      const rows = await query
        .orderBy('opened_at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit + 1)
        .execute();
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      const next =
        rows.length > limit && last
          ? encodeCursor({ o: last.opened_at, i: last.id } satisfies IncidentCursor)
          : null;
      return { items: await records(db, page), next };
    },

    linkFinding(incidentId, f, at) {
      return retryTransaction(() =>
        db.transaction().execute((trx) => link(trx, incidentId, f, isoTime(at, 'at'))),
      );
    },

    linkFindings(links, at) {
      if (links.length === 0) return Promise.resolve([]);
      const when = isoTime(at, 'at');
      return retryTransaction(() => db.transaction().execute((trx) => linkMany(trx, links, when)));
    },

    async openIdsFor(hostNames) {
      const out = new Map<string, string>();
      for (const chunk of chunks([...new Set(hostNames)], 500)) {
        const rows = await db
          .selectFrom('incidents')
          .select(['id', 'open_key'])
          .where('open_key', 'in', chunk)
          .execute();
        for (const r of rows) if (r.open_key !== null) out.set(r.open_key, r.id);
      }
      return out;
    },

    async closedWith(fingerprint) {
      const row = await db
        .selectFrom('incident_findings')
        .innerJoin('incidents', 'incidents.id', 'incident_findings.incident_id')
        .select((eb) => eb.fn.max('incidents.closed_at').as('closed'))
        .where('incident_findings.fingerprint', '=', fingerprint)
        .executeTakeFirst();
      return (row?.closed as string | null | undefined) ?? null;
    },

    async linkedFindings(incidentId) {
      const rows = await db
        .selectFrom('incident_findings')
        .select('fingerprint')
        .where('incident_id', '=', incidentId)
        .orderBy('linked_at')
        .orderBy('fingerprint')
        .execute();
      return rows.map((r) => r.fingerprint);
    },

    async move(id, m: PhaseMove): Promise<MoveOutcome> {
      const at = isoTime(m.at, 'at');
      return retryTransaction(() =>
        db.transaction().execute(async (trx) => {
          const row = await getRow(trx, id);
          if (!row) return 'not_found';
          if (row.phase !== m.from) return 'phase_changed';
          const reopening = m.to === 'discovery';
          if (reopening && row.host_name !== null) {
            const other = await trx
              .selectFrom('incidents')
              .select('id')
              .where('open_key', '=', row.host_name)
              .executeTakeFirst();
            if (other && other.id !== id) return 'host_has_open_incident';
          }
          const done = await trx
            .updateTable('incidents')
            .set({
              phase: m.to,
              phase_at: at,
              phase_by: m.actor,
              discovery_at: m.clocks.discoveryAt,
              isolation_met_at: m.clocks.isolationMetAt,
              recovery_at: m.clocks.recoveryAt,
              review_met_at: m.clocks.reviewMetAt,
              closed_at: m.clocks.closedAt,
              updated_at: at,
              open_key: m.to === 'closed' ? null : row.host_name,
            })
            .where('id', '=', id)
            .where('phase', '=', m.from)
            .executeTakeFirst();
          if (Number(done.numUpdatedRows) !== 1) return 'phase_changed';
          await insertEvent(trx, id, {
            kind: 'phase',
            actor: m.actor,
            at,
            data: { from: m.from, to: m.to, ...(m.note === undefined ? {} : { note: m.note }) },
          });
          return 'moved';
        }),
      );
    },

    async update(id, patch: IncidentPatch, actor, at) {
      const when = isoTime(at, 'at');
      return retryTransaction(() =>
        db.transaction().execute(async (trx) => {
          const row = await getRow(trx, id);
          if (!row) return undefined;
          const set: Partial<Row> = { updated_at: when };
          if (patch.title !== undefined && patch.title !== row.title) {
            set.title = shortText(patch.title, 'title', 300);
            await insertEvent(trx, id, {
              kind: 'update',
              actor,
              at: when,
              data: { field: 'title', from: row.title, to: set.title },
            });
          }
          if (patch.assignee !== undefined && patch.assignee !== row.assignee) {
            set.assignee = patch.assignee === null ? null : shortText(patch.assignee, 'assignee', 200);
            await insertEvent(trx, id, {
              kind: 'assignment',
              actor,
              at: when,
              data: { from: row.assignee, to: set.assignee },
            });
          }
          // The review's texts: the timeline says it changed and how long it is, the incident holds the text.
          for (const [field, column, value] of [
            ['root_cause', 'root_cause', patch.rootCause],
            ['lessons', 'lessons', patch.lessons],
          ] as const) {
            if (value === undefined) continue;
            const text = value === null ? null : reviewText(value, field);
            if (text === row[column]) continue;
            set[column] = text;
            await insertEvent(trx, id, {
              kind: 'update',
              actor,
              at: when,
              data: { field, length: text === null ? 0 : text.length },
            });
          }
          if (patch.links !== undefined) {
            const text = JSON.stringify(patch.links);
            if (text !== row.links) {
              set.links = text;
              await insertEvent(trx, id, {
                kind: 'update',
                actor,
                at: when,
                data: { field: 'links', to: patch.links },
              });
            }
          }
          await trx.updateTable('incidents').set(set).where('id', '=', id).execute();
          return (await records(trx, [(await getRow(trx, id))!]))[0];
        }),
      );
    },

    async addEvent(id, e) {
      const at = isoTime(e.at, 'at');
      return retryTransaction(() =>
        db.transaction().execute(async (trx) => {
          const row = await getRow(trx, id);
          if (!row) return undefined;
          const ev = await insertEvent(trx, id, { ...e, at });
          await trx.updateTable('incidents').set({ updated_at: at }).where('id', '=', id).execute();
          return ev;
        }),
      );
    },

    async events(id) {
      const rows = await db
        .selectFrom('incident_events')
        .selectAll()
        .where('incident_id', '=', id)
        .orderBy('seq')
        .execute();
      return rows.map((r) => ({
        seq: Number(r.seq),
        at: r.at,
        actor: r.actor,
        kind: r.kind as IncidentEventKind,
        data: JSON.parse(r.data) as Record<string, unknown>,
      }));
    },

    async addIndicators(incidentId, indicators, at) {
      const when = isoTime(at, 'at');
      return retryTransaction(() =>
        db.transaction().execute(async (trx) => {
          // Campaign merges are rare and touch several incidents: one at a time across servers.
          if (isPostgres(trx)) await sql`select pg_advisory_xact_lock(4242017)`.execute(trx);
          const row = await getRow(trx, incidentId);
          if (!row) return { campaignId: null, changed: false };
          for (const chunk of chunks([...indicators], 500)) {
            if (chunk.length === 0) continue;
            await trx
              .insertInto('incident_indicators')
              .values(
                chunk.map((i) => ({
                  incident_id: incidentId,
                  kind: i.kind,
                  value: i.value,
                  coin: i.coin ?? null,
                  first_seen: when,
                })),
              )
              .onConflict((oc) => oc.columns(['incident_id', 'kind', 'value']).doNothing())
              .execute();
          }
          const mine = await trx
            .selectFrom('incident_indicators')
            .select(['kind', 'value'])
            .where('incident_id', '=', incidentId)
            .execute();
          if (mine.length === 0) return { campaignId: row.campaign_id, changed: false };
          const wanted = new Set(mine.map((i) => `${i.kind}\n${i.value}`));
          const owners = new Set<string>();
          for (const chunk of chunks([...new Set(mine.map((i) => i.value))], 500)) {
            for (const r of await trx
              .selectFrom('indicator_campaigns')
              .select(['kind', 'value', 'campaign_id'])
              .where('value', 'in', chunk)
              .execute())
              if (wanted.has(`${r.kind}\n${r.value}`)) owners.add(r.campaign_id);
          }
          if (row.campaign_id !== null) owners.add(row.campaign_id);
          let keep: string;
          if (owners.size === 0) {
            keep = newId('cmp');
            await trx
              .insertInto('campaigns')
              .values({ id: keep, created_at: when, merged_into: null })
              .execute();
          } else {
            const found = await trx
              .selectFrom('campaigns')
              .select(['id', 'created_at'])
              .where('id', 'in', [...owners])
              .orderBy('created_at')
              .orderBy('id')
              .execute();
            keep = found[0]?.id ?? [...owners].sort()[0]!;
            for (const other of owners) {
              if (other === keep) continue;
              await trx
                .updateTable('incidents')
                .set({ campaign_id: keep })
                .where('campaign_id', '=', other)
                .execute();
              await trx
                .updateTable('indicator_campaigns')
                .set({ campaign_id: keep })
                .where('campaign_id', '=', other)
                .execute();
              await trx.updateTable('campaigns').set({ merged_into: keep }).where('id', '=', other).execute();
            }
          }
          for (const chunk of chunks(mine, 500)) {
            await trx
              .insertInto('indicator_campaigns')
              .values(chunk.map((i) => ({ kind: i.kind, value: i.value, campaign_id: keep })))
              .onConflict((oc) => oc.columns(['kind', 'value']).doNothing())
              .execute();
          }
          const changed = row.campaign_id !== keep;
          if (changed) {
            await trx
              .updateTable('incidents')
              .set({ campaign_id: keep, updated_at: when })
              .where('id', '=', incidentId)
              .execute();
            const others = await trx
              .selectFrom('incidents')
              .select('id')
              .where('campaign_id', '=', keep)
              .where('id', '!=', incidentId)
              .execute();
            await insertEvent(trx, incidentId, {
              kind: 'campaign',
              actor: 'deminer',
              at: when,
              data: {
                campaign: keep,
                from: row.campaign_id,
                linked_incidents: others.map((o) => o.id).sort(),
              },
            });
          }
          return { campaignId: keep, changed };
        }),
      );
    },

    async indicators(incidentId) {
      const rows = await db
        .selectFrom('incident_indicators')
        .selectAll()
        .where('incident_id', '=', incidentId)
        .orderBy('kind')
        .orderBy('value')
        .execute();
      return rows.map((r) => ({ kind: r.kind, value: r.value, coin: r.coin, firstSeen: r.first_seen }));
    },

    async campaigns() {
      const ids = await db
        .selectFrom('campaigns')
        .select('id')
        .where('merged_into', 'is', null)
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(500)
        .execute();
      const out: CampaignRecord[] = [];
      for (const { id } of ids) {
        const c = await campaignOf(db, id);
        if (c && c.incidents.length > 0) out.push(c);
      }
      return out;
    },

    async campaign(id) {
      // A merged campaign answers as the one it was merged into.
      let current = id;
      for (let i = 0; i < 20; i++) {
        const row = await db.selectFrom('campaigns').selectAll().where('id', '=', current).executeTakeFirst();
        if (!row) return undefined;
        if (row.merged_into === null) return campaignOf(db, current);
        current = row.merged_into;
      }
      return undefined;
    },

    async forSla(closedSince) {
      const rows = await db
        .selectFrom('incidents')
        .selectAll()
        .where((eb) =>
          eb.or([eb('closed_at', 'is', null), eb('closed_at', '>=', isoTime(closedSince, 'closedSince'))]),
        )
        .orderBy('opened_at')
        .limit(10_000)
        .execute();
      return records(db, rows);
    },

    async recordBreach(incidentId, clock, due, at) {
      const when = isoTime(at, 'at');
      return retryTransaction(() =>
        db.transaction().execute(async (trx) => {
          const first = await trx
            .insertInto('incident_sla_breaches')
            .values({ incident_id: incidentId, clock, due, raised_at: when })
            .onConflict((oc) => oc.columns(['incident_id', 'clock', 'due']).doNothing())
            .returning('clock')
            .executeTakeFirst();
          if (!first) return false;
          await insertEvent(trx, incidentId, {
            kind: 'sla_breached',
            actor: 'deminer',
            at: when,
            data: { clock, due },
          });
          return true;
        }),
      );
    },

    async openedBetween(from, to, limit) {
      const rows = await db
        .selectFrom('incidents')
        .selectAll()
        .where('opened_at', '>=', isoTime(from, 'from'))
        .where('opened_at', '<', isoTime(to, 'to'))
        .orderBy('opened_at')
        .orderBy('id')
        .limit(pageLimit(limit, 1000, 10_001))
        .execute();
      return records(db, rows);
    },

    async firstFindingSeen(incidentIds) {
      const out = new Map<string, string>();
      for (const chunk of chunks([...new Set(incidentIds)], 500)) {
        if (chunk.length === 0) continue;
        const rows = await db
          .selectFrom('incident_findings')
          .innerJoin('findings', 'findings.fingerprint', 'incident_findings.fingerprint')
          .select((eb) => ['incident_findings.incident_id', eb.fn.min('findings.first_seen').as('first')])
          .where('incident_findings.incident_id', 'in', chunk)
          .groupBy('incident_findings.incident_id')
          .execute();
        for (const r of rows) if (typeof r.first === 'string') out.set(r.incident_id, r.first);
      }
      return out;
    },

    async unlinkedMiningFindings(since, limit) {
      const rows = await db
        .selectFrom('findings')
        .select('finding')
        .where('last_seen', '>=', isoTime(since, 'since'))
        .where('severity_rank', '>=', severityRank('high'))
        .where('acknowledged', '=', 0)
        .where((eb) =>
          eb.exists(
            eb
              .selectFrom('finding_techniques')
              .select('finding_techniques.technique')
              .whereRef('finding_techniques.fingerprint', '=', 'findings.fingerprint')
              .where('finding_techniques.technique', '=', 'T1496'),
          ),
        )
        .where((eb) =>
          eb.not(
            eb.exists(
              eb
                .selectFrom('incident_findings')
                .select('incident_findings.fingerprint')
                .whereRef('incident_findings.fingerprint', '=', 'findings.fingerprint'),
            ),
          ),
        )
        .orderBy('last_seen', 'desc')
        .limit(pageLimit(limit, 500, 5000))
        .execute();
      return rows.map((r) => JSON.parse(r.finding) as Finding);
    },
  };
}

async function campaignOf(db: Db, id: string): Promise<CampaignRecord | undefined> {
  const row = await db.selectFrom('campaigns').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) return undefined;
  const incidents = await db
    .selectFrom('incidents')
    .select(['id', 'host_name', 'phase', 'opened_at', 'title'])
    .where('campaign_id', '=', id)
    .orderBy('opened_at')
    .orderBy('id')
    .execute();
  const indicators = await db
    .selectFrom('indicator_campaigns')
    .select(['kind', 'value'])
    .where('campaign_id', '=', id)
    .orderBy('kind')
    .orderBy('value')
    .execute();
  const details = new Map<string, IndicatorRecord>();
  if (incidents.length > 0) {
    for (const r of await db
      .selectFrom('incident_indicators')
      .select(['kind', 'value', 'coin', 'first_seen'])
      .where(
        'incident_id',
        'in',
        incidents.map((i) => i.id),
      )
      .execute()) {
      const key = `${r.kind}\n${r.value}`;
      const known = details.get(key);
      if (!known || r.first_seen < known.firstSeen)
        details.set(key, { kind: r.kind, value: r.value, coin: r.coin, firstSeen: r.first_seen });
    }
  }
  return {
    id,
    createdAt: row.created_at,
    incidents: incidents.map((i) => ({
      id: i.id,
      hostName: i.host_name,
      phase: i.phase,
      openedAt: i.opened_at,
      title: i.title,
    })),
    indicators: indicators.map(
      (i) =>
        details.get(`${i.kind}\n${i.value}`) ?? {
          kind: i.kind,
          value: i.value,
          coin: null,
          firstSeen: row.created_at,
        },
    ),
  };
}
