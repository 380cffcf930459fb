import type { Kysely, Selectable, SqlBool } from 'kysely';
import { PostgresAdapter, sql } from 'kysely';
import type { Finding } from '../core/finding.ts';
import { SEVERITIES, type Severity, severityRank } from '../core/severity.ts';
import { chunks } from './chunks.ts';
import type { StoreContext } from './context.ts';
import { addSightings, applyOpenDeltas, OpenDeltas, Sightings } from './counters.ts';
import { StoreInputError } from './errors.ts';
import { touchHostsSeen } from './hosts.ts';
import { findingSearchText } from './migrations/0002-search-and-metrics.ts';
import { retryTransaction } from './retry.ts';
import type { Database, FindingsTable } from './schema.ts';
import type {
  FindingQuery,
  FindingSummary,
  IngestResult,
  Page,
  RuleActivity,
  StoredFinding,
} from './types.ts';
import {
  badCursor,
  containsPattern,
  decodeCursor,
  encodeCursor,
  isoTime,
  pageLimit,
  shortText,
  toNumber,
} from './values.ts';

/** The most findings one ingest call may carry. */
export const MAX_BATCH = 1000;

type Row = Selectable<FindingsTable>;

function bad(index: number, field: string, message: string): StoreInputError {
  return new StoreInputError('STORE_BAD_FINDING', message, { location: `items[${index}].${field}` });
}

/**
 * The columns of one finding. Checked here as well as by the server's schema
 * (which may extend the finding): a batch with one finding the store cannot
 * index is refused whole, mid-transaction, so nothing of it stays.
 */
function toRow(f: Finding, i: number, at: string): Row {
  if (typeof f !== 'object' || f === null) throw bad(i, '', 'not a finding');
  if (typeof f.fingerprint !== 'string' || !/^[0-9a-f]{16,64}$/.test(f.fingerprint))
    throw bad(i, 'fingerprint', 'must be 16 to 64 lower-case hex digits');
  if (typeof f.id !== 'string' || f.id === '') throw bad(i, 'id', 'missing');
  if (!(SEVERITIES as readonly string[]).includes(f.severity)) throw bad(i, 'severity', 'unknown severity');
  if (typeof f.rule?.id !== 'string' || f.rule.id === '') throw bad(i, 'rule.id', 'missing');
  if (typeof f.rule.name !== 'string' || f.rule.name === '') throw bad(i, 'rule.name', 'missing');
  if (typeof f.host?.name !== 'string' || f.host.name === '') throw bad(i, 'host.name', 'missing');
  if (typeof f.message !== 'string') throw bad(i, 'message', 'missing');
  if (!Array.isArray(f.threat?.technique) || !f.threat.technique.every((t) => typeof t === 'string'))
    throw bad(i, 'threat.technique', 'must be a list of technique ids');
  let ts: string;
  try {
    ts = isoTime(f['@timestamp'], `items[${i}].@timestamp`);
  } catch (e) {
    throw bad(i, '@timestamp', e instanceof Error ? e.message : String(e));
  }
  // A clock ahead of the server's must not pin a finding to the top of every list.
  const seen = ts > at ? at : ts;
  return {
    fingerprint: f.fingerprint,
    finding_id: f.id,
    finding: JSON.stringify(f),
    severity: f.severity,
    severity_rank: severityRank(f.severity),
    rule_id: f.rule.id,
    rule_name: f.rule.name,
    host_name: f.host.name,
    message: f.message,
    first_seen: seen,
    last_seen: seen,
    count: 1,
    acknowledged: 0,
    acknowledged_by: null,
    acknowledged_at: null,
    search_text: findingSearchText(f.message, f.rule.name, f.host.name),
  };
}

/** Columns that follow the latest finding of a fingerprint. */
const LATEST = [
  'finding_id',
  'finding',
  'severity',
  'severity_rank',
  'rule_id',
  'rule_name',
  'host_name',
  'message',
  'search_text',
  'last_seen',
] as const;

/** One fingerprint of a batch, its sightings merged in batch order. */
interface Merged {
  /** The kept (latest) sighting's columns; first_seen the earliest, count the sightings. */
  row: Row;
  /** The kept sighting's techniques. */
  techniques: readonly string[];
}

/**
 * Merges the sightings of each fingerprint within the batch as successive
 * upserts would: count adds up, first_seen is the earliest, and the kept
 * version is the latest (ties go to the later one in the batch).
 */
function mergeBatch(rows: readonly Row[], techniques: readonly (readonly string[])[]): Merged[] {
  const byFingerprint = new Map<string, Merged>();
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    const m = byFingerprint.get(row.fingerprint);
    if (!m) {
      byFingerprint.set(row.fingerprint, { row, techniques: techniques[i]! });
      continue;
    }
    const count = m.row.count + 1;
    const firstSeen = row.first_seen < m.row.first_seen ? row.first_seen : m.row.first_seen;
    if (row.last_seen >= m.row.last_seen) {
      m.row = { ...row, count, first_seen: firstSeen };
      m.techniques = techniques[i]!;
    } else {
      m.row = { ...m.row, count, first_seen: firstSeen };
    }
  }
  // Fingerprint order: concurrent batches lock the rows they share in the same order (PostgreSQL).
  return [...byFingerprint.values()].sort((a, b) => compare(a.row.fingerprint, b.row.fingerprint));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Bound parameters per statement: well under SQLite's limit (32766) and PostgreSQL's (65535). */
const MAX_PARAMS = 8000;
/** Findings rows per statement (16 columns each). */
const FINDINGS_CHUNK = Math.floor(MAX_PARAMS / 16);
/** Technique rows per statement (2 columns each). */
const TECHNIQUES_CHUNK = Math.floor(MAX_PARAMS / 2);

type Outcome = { isNew: boolean; kept: boolean };

/**
 * One multi-row upsert. `narrow`: a known row is raised only when the
 * indexed columns other than count and last_seen stay as they are (the
 * usual re-sighting: same host, rule and severity, not earlier than the
 * first one), and then only the columns that change are written, so the
 * engine rewrites two of the table's indexes rather than all seven. Rows
 * the condition refuses are not returned: the caller sends them again, not
 * narrow. The condition is checked under the row's lock, so a concurrent
 * writer cannot slip in between.
 */
async function upsertChunk(trx: Kysely<Database>, rows: readonly Row[], narrow: boolean) {
  return trx
    .insertInto('findings')
    .values(rows)
    .onConflict((oc) => {
      const target = oc.column('fingerprint');
      // Ties go to the arrival: a re-sent finding with the same time refreshes the stored one.
      const set = target.doUpdateSet((eb) => {
        const newer = eb(eb.ref('excluded.last_seen'), '>=', eb.ref('findings.last_seen'));
        const pick = <C extends (typeof LATEST)[number]>(c: C) =>
          eb
            .case()
            .when(newer)
            .then(eb.ref(`excluded.${c}`))
            .else(eb.ref(`findings.${c}`))
            .end();
        const always = {
          finding_id: pick('finding_id'),
          finding: pick('finding'),
          severity: pick('severity'),
          rule_name: pick('rule_name'),
          message: pick('message'),
          search_text: pick('search_text'),
          count: eb('findings.count', '+', eb.ref('excluded.count')),
          last_seen: pick('last_seen'),
        };
        if (narrow) return always;
        return {
          ...always,
          severity_rank: pick('severity_rank'),
          rule_id: pick('rule_id'),
          host_name: pick('host_name'),
          first_seen: eb
            .case()
            .when(eb.ref('excluded.first_seen'), '<', eb.ref('findings.first_seen'))
            .then(eb.ref('excluded.first_seen'))
            .else(eb.ref('findings.first_seen'))
            .end(),
        };
      });
      if (!narrow) return set;
      return set.where((eb) =>
        eb.and([
          eb(eb.ref('findings.first_seen'), '<=', eb.ref('excluded.first_seen')),
          eb.or([
            eb(eb.ref('excluded.last_seen'), '<', eb.ref('findings.last_seen')),
            eb.and([
              eb(eb.ref('findings.host_name'), '=', eb.ref('excluded.host_name')),
              eb(eb.ref('findings.rule_id'), '=', eb.ref('excluded.rule_id')),
              eb(eb.ref('findings.severity_rank'), '=', eb.ref('excluded.severity_rank')),
            ]),
          ]),
        ]),
      );
    })
    .returning(['fingerprint', 'count', 'finding_id', 'host_name', 'severity', 'acknowledged'])
    .execute();
}

/**
 * Inserts or raises the merged findings of a batch, a chunk per statement
 * (plus one for the rare rows whose host, rule, severity or first_seen
 * moves); returns for each fingerprint whether it was new and whether the
 * batch's version is now the kept one. New: the stored count is the batch's
 * own (a known row's count was at least 1 before), decided by the statement
 * that writes, so concurrent batches cannot both count a fingerprint as new.
 *
 * The open-findings counters follow (`open`): a new finding is open under
 * its host and severity; only the second, wide statement can move a known
 * finding to another host or severity, and the rows it takes are read
 * first (PostgreSQL locked them when the narrow statement met them, so
 * what is read is what is changed).
 */
async function upsertFindings(
  trx: Kysely<Database>,
  merged: readonly Merged[],
  open: OpenDeltas,
): Promise<Map<string, Outcome>> {
  const out = new Map<string, Outcome>();
  for (const chunk of chunks(merged, FINDINGS_CHUNK)) {
    const rows = chunk.map((m) => m.row);
    const note = (returned: { fingerprint: string; count: number; finding_id: string }[]) => {
      for (const r of returned) {
        const row = sent.get(r.fingerprint);
        if (row)
          out.set(r.fingerprint, {
            isNew: Number(r.count) === row.count,
            kept: r.finding_id === row.finding_id,
          });
      }
    };
    const sent = new Map(rows.map((r) => [r.fingerprint, r]));
    note(await upsertChunk(trx, rows, true));
    for (const row of rows) if (out.get(row.fingerprint)?.isNew) open.add(row.host_name, row.severity, 1);
    const rest = rows.filter((r) => !out.has(r.fingerprint));
    if (rest.length > 0) {
      const before = new Map(
        (
          await trx
            .selectFrom('findings')
            .select(['fingerprint', 'host_name', 'severity', 'acknowledged'])
            .where(
              'fingerprint',
              'in',
              rest.map((r) => r.fingerprint),
            )
            .execute()
        ).map((r) => [r.fingerprint, r]),
      );
      const returned = await upsertChunk(trx, rest, false);
      note(returned);
      for (const r of returned) {
        const old = before.get(r.fingerprint);
        if (old && Number(old.acknowledged) === 0) open.add(old.host_name, old.severity, -1);
        if (Number(r.acknowledged) === 0) open.add(r.host_name, r.severity, 1);
      }
    }
  }
  if (out.size !== merged.length) throw new Error('ingest: the upsert did not return every fingerprint');
  return out;
}

/**
 * Makes the technique rows of the findings whose kept version changed the
 * kept version's techniques: reads what is stored, then deletes and inserts
 * only the difference (a re-sighting usually changes nothing). The findings
 * rows are locked by then, so no concurrent batch writes these meanwhile.
 */
async function writeTechniques(trx: Kysely<Database>, techniques: ReadonlyMap<string, readonly string[]>) {
  const fingerprints = [...techniques.keys()].sort(compare);
  const stored = new Map<string, Set<string>>();
  for (const chunk of chunks(fingerprints, TECHNIQUES_CHUNK)) {
    const rows = await trx
      .selectFrom('finding_techniques')
      .select(['fingerprint', 'technique'])
      .where('fingerprint', 'in', chunk)
      .execute();
    for (const r of rows) {
      const set = stored.get(r.fingerprint);
      if (set) set.add(r.technique);
      else stored.set(r.fingerprint, new Set([r.technique]));
    }
  }
  const gone: { fingerprint: string; technique: string }[] = [];
  const added: { fingerprint: string; technique: string }[] = [];
  for (const fingerprint of fingerprints) {
    const want = new Set(techniques.get(fingerprint));
    const have = stored.get(fingerprint) ?? new Set<string>();
    for (const technique of [...have].sort(compare))
      if (!want.has(technique)) gone.push({ fingerprint, technique });
    for (const technique of [...want].sort(compare))
      if (!have.has(technique)) added.push({ fingerprint, technique });
  }
  // Few at a time: each pair is a term of one OR, and SQLite bounds expression depth (1000).
  for (let i = 0; i < gone.length; i += 100) {
    const chunk = gone.slice(i, i + 100);
    await trx
      .deleteFrom('finding_techniques')
      .where((eb) =>
        eb.or(
          chunk.map((g) =>
            eb.and([eb('fingerprint', '=', g.fingerprint), eb('technique', '=', g.technique)]),
          ),
        ),
      )
      .execute();
  }
  for (const chunk of chunks(added, TECHNIQUES_CHUNK)) {
    await trx.insertInto('finding_techniques').values(chunk).execute();
  }
}

/**
 * The rows of a batch, or the first finding the store refuses. Computed
 * before the transaction (no lock is held meanwhile) and refused inside it,
 * after the idempotency key: a replayed key answers as before, whatever the
 * batch holds.
 */
function batchRows(batch: readonly Finding[], at: string): { rows: Row[] } | { error: unknown } {
  const rows: Row[] = [];
  try {
    for (let i = 0; i < batch.length; i++) rows.push(toRow(batch[i]!, i, at));
  } catch (error) {
    return { error };
  }
  return { rows };
}

/** One ingest call: a batch with what its caller said about it. */
export interface IngestRequest {
  batch: readonly Finding[];
  idempotencyKey?: string;
  actor: string;
  at: string;
}

/** A request checked outside the transaction: its rows, or why the store refuses them. */
interface Prepared {
  batch: readonly Finding[];
  key: string | undefined;
  actor: string;
  at: string;
  size: number;
  prepared: { rows: Row[] } | { error: unknown };
}

/** What a request's caller gets: the result, or the error its batch was refused with. */
export type IngestOutcome = { result: IngestResult } | { error: unknown };

/**
 * Checks what can be checked before any lock: the batch's size and the
 * caller's fields throw at once (nothing to claim); a finding the store
 * cannot index is kept as the batch's refusal, answered after its key.
 */
export function prepareIngest(req: IngestRequest): Prepared {
  const { batch } = req;
  if (!Array.isArray(batch))
    throw new StoreInputError('STORE_BAD_INPUT', 'must be a list', { location: 'items' });
  if (batch.length > MAX_BATCH) {
    throw new StoreInputError(
      'STORE_BATCH_TOO_LARGE',
      `${batch.length} findings in one batch; at most ${MAX_BATCH}`,
      { location: 'items' },
    );
  }
  const actor = shortText(req.actor, 'actor', 200);
  const at = isoTime(req.at, 'at');
  const key =
    req.idempotencyKey === undefined ? undefined : shortText(req.idempotencyKey, 'idempotencyKey', 255);
  return { batch, key, actor, at, size: batch.length, prepared: batchRows(batch, at) };
}

/**
 * Writes several checked requests in one transaction, answering each as if
 * they had been written one after the other in the order given: a key seen
 * before (or earlier in the group) is replayed and writes nothing; a refused
 * batch writes nothing, its key included; a fingerprint new to the store
 * counts as stored for the first request that carries it and as a duplicate
 * for the others. One commit, one upsert of the merged sightings and one
 * update of the hosts serve the whole group: under load that is most of
 * the cost of a batch (see bench/server/ingest.ts).
 */
export async function ingestPrepared(
  ctx: StoreContext,
  group: readonly Prepared[],
): Promise<IngestOutcome[]> {
  return retryTransaction(() =>
    ctx.db.transaction().execute(async (trx): Promise<IngestOutcome[]> => {
      const outcomes: (IngestOutcome | undefined)[] = new Array(group.length);
      // Requests whose batch goes in, by position in the group.
      const accepted: number[] = [];
      const claimed = new Set<string>();
      for (let r = 0; r < group.length; r++) {
        const p = group[r]!;
        if (p.key !== undefined) {
          const id = `${p.actor}\n${p.key}`;
          let seen = claimed.has(id);
          if (!seen && 'error' in p.prepared) {
            // A refused batch must not spend its key: look, do not claim.
            seen = !!(await trx
              .selectFrom('ingest_keys')
              .select('key')
              .where('actor', '=', p.actor)
              .where('key', '=', p.key)
              .executeTakeFirst());
          } else if (!seen) {
            // A concurrent batch with the same key waits here for the first to commit, then finds it.
            seen = !(await trx
              .insertInto('ingest_keys')
              .values({ actor: p.actor, key: p.key, at: p.at })
              .onConflict((oc) => oc.columns(['actor', 'key']).doNothing())
              .returning('key')
              .executeTakeFirst());
            if (!seen) claimed.add(id);
          }
          if (seen) {
            outcomes[r] = { result: { stored: 0, duplicates: 0, replayed: true } };
            continue;
          }
        }
        if ('error' in p.prepared) {
          outcomes[r] = { error: p.prepared.error };
          continue;
        }
        accepted.push(r);
      }

      // Every accepted sighting, in group order; the request that first carries each fingerprint.
      const rows: Row[] = [];
      const techniques: (readonly string[])[] = [];
      const firstRequest = new Map<string, number>();
      const hosts = new Map<string, { first: string; last: string }>();
      for (const r of accepted) {
        const p = group[r]!;
        const own = (p.prepared as { rows: Row[] }).rows;
        for (let i = 0; i < own.length; i++) {
          const row = own[i]!;
          rows.push(row);
          techniques.push(p.batch[i]!.threat.technique);
          if (!firstRequest.has(row.fingerprint)) firstRequest.set(row.fingerprint, r);
          const h = hosts.get(row.host_name);
          if (!h) hosts.set(row.host_name, { first: row.first_seen, last: row.last_seen });
          else {
            if (row.first_seen < h.first) h.first = row.first_seen;
            if (row.last_seen > h.last) h.last = row.last_seen;
          }
        }
      }
      const storedBy = new Map<number, number>();
      if (rows.length > 0) {
        const merged = mergeBatch(rows, techniques);
        const open = new OpenDeltas();
        const outcome = await upsertFindings(trx, merged, open);
        const kept = new Map<string, readonly string[]>();
        for (const m of merged) {
          const o = outcome.get(m.row.fingerprint)!;
          if (o.isNew) {
            const r = firstRequest.get(m.row.fingerprint)!;
            storedBy.set(r, (storedBy.get(r) ?? 0) + 1);
          }
          if (o.kept) kept.set(m.row.fingerprint, m.techniques);
        }
        await writeTechniques(trx, kept);
        await touchHostsSeen(trx, hosts);
        // The counters last: rows every ingest shares (the current hour) are held locked the shortest.
        await applyOpenDeltas(trx, open);
        const sightings = new Sightings();
        for (const row of rows) sightings.add(row.last_seen, row.severity);
        await addSightings(trx, sightings);
      }
      for (const r of accepted) {
        const stored = storedBy.get(r) ?? 0;
        outcomes[r] = { result: { stored, duplicates: group[r]!.size - stored, replayed: false } };
      }
      return outcomes as IngestOutcome[];
    }),
  );
}

export async function ingestFindings(
  ctx: StoreContext,
  batch: readonly Finding[],
  opts: { idempotencyKey?: string; actor: string; at: string },
): Promise<IngestResult> {
  const [outcome] = await ingestPrepared(ctx, [prepareIngest({ batch, ...opts })]);
  if ('error' in outcome!) throw outcome.error;
  return outcome!.result;
}

function fromRow(r: Row): StoredFinding {
  const s: StoredFinding = {
    finding: JSON.parse(r.finding) as Finding,
    firstSeen: r.first_seen,
    lastSeen: r.last_seen,
    count: r.count,
    acknowledged: r.acknowledged === 1,
  };
  if (r.acknowledged_by !== null) s.acknowledgedBy = r.acknowledged_by;
  if (r.acknowledged_at !== null) s.acknowledgedAt = r.acknowledged_at;
  return s;
}

export async function getFinding(ctx: StoreContext, fingerprint: string): Promise<StoredFinding | undefined> {
  const row = await ctx.db
    .selectFrom('findings')
    .selectAll()
    .where('fingerprint', '=', fingerprint)
    .executeTakeFirst();
  return row ? fromRow(row) : undefined;
}

const SORT_COLUMN = {
  last_seen: 'last_seen',
  first_seen: 'first_seen',
  severity: 'severity_rank',
  count: 'count',
} as const;
type SortKey = keyof typeof SORT_COLUMN;

interface FindingCursor {
  s: SortKey;
  o: 'asc' | 'desc';
  v: string | number;
  /** The row's insertion order (SQLite rowid, PostgreSQL seq): the tie-breaker. */
  q: number;
}

function readCursor(cursor: string, sort: SortKey, order: 'asc' | 'desc'): FindingCursor {
  const c = decodeCursor(cursor);
  if (typeof c !== 'object' || c === null) throw badCursor();
  const { s, o, v, q } = c as Record<string, unknown>;
  const numeric = sort === 'severity' || sort === 'count';
  if (s !== sort || o !== order || typeof q !== 'number' || !Number.isSafeInteger(q)) throw badCursor();
  if (numeric ? typeof v !== 'number' || !Number.isInteger(v) : typeof v !== 'string') throw badCursor();
  return { s: sort, o: order, v: v as string | number, q };
}

/**
 * A finding row's insertion order, which breaks ties of the sort indexes
 * (migration 0010): the rowid on SQLite, the `seq` column on PostgreSQL.
 */
function insertionOrder(ctx: StoreContext) {
  return ctx.db.getExecutor().adapter instanceof PostgresAdapter
    ? sql<number>`findings.seq`
    : sql<number>`findings.rowid`;
}

/**
 * Keyset paging on (sort key, insertion order): a page starts strictly after
 * the previous page's last row, so rows inserted meanwhile never shift the
 * pages (a row whose sort key changes meanwhile, e.g. a raised count, may
 * move). Insertion order rather than the random fingerprint keeps the
 * indexes appending under ingest (migration 0010).
 */
export async function listFindings(ctx: StoreContext, q: FindingQuery): Promise<Page<StoredFinding>> {
  const limit = pageLimit(q.limit, 100, 500);
  const sort: SortKey = q.sort ?? 'last_seen';
  const order = q.order ?? 'desc';
  if (!Object.hasOwn(SORT_COLUMN, sort))
    throw new StoreInputError('STORE_BAD_INPUT', 'unknown sort', { location: 'sort' });
  if (order !== 'asc' && order !== 'desc')
    throw new StoreInputError('STORE_BAD_INPUT', 'must be asc or desc', { location: 'order' });
  const col = SORT_COLUMN[sort];

  const tie = insertionOrder(ctx);
  let query = ctx.db.selectFrom('findings').selectAll().select(tie.as('tie'));
  if (q.severity !== undefined) {
    const list = [...new Set(q.severity)];
    for (const s of list) {
      if (!(SEVERITIES as readonly string[]).includes(s))
        throw new StoreInputError('STORE_BAD_INPUT', `unknown severity ${s}`, { location: 'severity' });
    }
    if (list.length === 0) return { items: [], next: null };
    query = query.where('severity', 'in', list as Severity[]);
  }
  if (q.rule !== undefined) query = query.where('rule_id', '=', q.rule);
  if (q.host !== undefined) query = query.where('host_name', '=', q.host);
  if (q.technique !== undefined) {
    const technique = q.technique;
    query = query.where((eb) =>
      eb.exists(
        eb
          .selectFrom('finding_techniques')
          .select('finding_techniques.technique')
          .whereRef('finding_techniques.fingerprint', '=', 'findings.fingerprint')
          .where('finding_techniques.technique', '=', technique),
      ),
    );
  }
  if (q.text !== undefined && q.text !== '') {
    query = query.where(sql<SqlBool>`search_text like ${containsPattern(q.text)} escape '\\'`);
  }
  if (q.from !== undefined) query = query.where('last_seen', '>=', isoTime(q.from, 'from'));
  if (q.to !== undefined) query = query.where('last_seen', '<', isoTime(q.to, 'to'));
  if (q.acknowledged !== undefined) query = query.where('acknowledged', '=', q.acknowledged ? 1 : 0);
  if (q.cursor !== undefined) {
    const c = readCursor(q.cursor, sort, order);
    const op = order === 'desc' ? '<' : '>';
    query = query.where((eb) => eb.or([eb(col, op, c.v), eb.and([eb(col, '=', c.v), eb(tie, op, c.q)])]));
  }
  const rows = await query
    .orderBy(col, order)
    .orderBy(tie, order)
    .limit(limit + 1)
    .execute();
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  const next =
    rows.length > limit && last
      ? encodeCursor({ s: sort, o: order, v: last[col], q: Number(last.tie) } satisfies FindingCursor)
      : null;
  return { items: page.map(fromRow), next };
}

/** Marks findings acknowledged; returns how many were newly acknowledged (the first acknowledger is kept). */
export async function acknowledge(
  ctx: StoreContext,
  fingerprints: readonly string[],
  by: string,
  at: string,
): Promise<number> {
  if (fingerprints.length > MAX_BATCH) {
    throw new StoreInputError('STORE_BATCH_TOO_LARGE', `at most ${MAX_BATCH} findings at once`, {
      location: 'fingerprints',
    });
  }
  if (fingerprints.length === 0) return 0;
  const ackBy = shortText(by, 'by', 200);
  const ackAt = isoTime(at, 'at');
  const list = [...new Set(fingerprints)];
  return retryTransaction(() =>
    ctx.db.transaction().execute(async (trx) => {
      // What this call acknowledged, as stored when it did: the open counters fall by exactly that.
      const done = await trx
        .updateTable('findings')
        .set({ acknowledged: 1, acknowledged_by: ackBy, acknowledged_at: ackAt })
        .where('fingerprint', 'in', list)
        .where('acknowledged', '=', 0)
        .returning(['host_name', 'severity'])
        .execute();
      const open = new OpenDeltas();
      for (const r of done) open.add(r.host_name, r.severity, -1);
      await applyOpenDeltas(trx, open);
      return done.length;
    }),
  );
}

/** Unacknowledged findings of at least `minSeverity` last seen since a time, newest first (the last_seen index, newest end). */
export async function activeFindings(
  ctx: StoreContext,
  q: { since: string; minSeverity: Severity; limit: number },
): Promise<FindingSummary[]> {
  const limit = pageLimit(q.limit, 50, 500);
  const rows = await ctx.db
    .selectFrom('findings')
    .leftJoin('hosts', 'hosts.name', 'findings.host_name')
    .select([
      'findings.fingerprint',
      'findings.rule_id',
      'findings.rule_name',
      'findings.severity',
      'findings.host_name',
      'findings.last_seen',
      'hosts.id as host_id',
    ])
    .where('findings.last_seen', '>=', isoTime(q.since, 'since'))
    .where('findings.severity_rank', '>=', severityRank(q.minSeverity))
    .where('findings.acknowledged', '=', 0)
    .orderBy('findings.last_seen', 'desc')
    .orderBy('findings.fingerprint', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => {
    const f: FindingSummary = {
      fingerprint: r.fingerprint,
      ruleId: r.rule_id,
      ruleName: r.rule_name,
      severity: r.severity as Severity,
      hostName: r.host_name,
      lastSeen: r.last_seen,
    };
    if (r.host_id !== null) f.hostId = r.host_id;
    return f;
  });
}

/**
 * Per rule id: the number of findings (last seen since a time, when given),
 * the newest last_seen, and the name and techniques of the newest finding.
 * Index reads only, on findings_rule_id_last_seen (migration 0004): the
 * rule ids are found by skipping from one to the next (a seek each), and
 * each count is a range of that index, so the cost follows the findings
 * counted, never the table's size in bytes.
 */
export async function ruleActivity(
  ctx: StoreContext,
  q: { since?: string; ruleId?: string },
): Promise<RuleActivity[]> {
  const since = q.since === undefined ? undefined : isoTime(q.since, 'since');
  const inRange = since === undefined ? sql`` : sql` and f.last_seen >= ${since}`;
  const ids =
    q.ruleId === undefined
      ? sql`with recursive r(id) as (
          select min(rule_id) from findings
          union all
          select (select min(rule_id) from findings where rule_id > r.id) from r where r.id is not null
        ) select id from r where id is not null`
      : sql`select cast(${shortText(q.ruleId, 'ruleId', 512)} as text) as id`;
  const stats = await sql<{
    id: string;
    n: string | number;
    last_seen: string | null;
    fingerprint: string | null;
  }>`
    select s.id as id,
      (select count(*) from findings f where f.rule_id = s.id${inRange}) as n,
      (select max(f.last_seen) from findings f where f.rule_id = s.id) as last_seen,
      (select f.fingerprint from findings f where f.rule_id = s.id order by f.last_seen desc limit 1) as fingerprint
    from (${ids}) as s`.execute(ctx.db);
  const rows = stats.rows.filter(
    (r) => r.last_seen !== null && r.fingerprint !== null && (since === undefined || toNumber(r.n) > 0),
  );
  const newest = rows.map((r) => r.fingerprint!);
  const latest = new Map<string, { name: string; severity: Severity; ruleset: string }>();
  const techniques = new Map<string, string[]>();
  for (const chunk of chunks(newest, 1000)) {
    for (const r of await ctx.db
      .selectFrom('findings')
      .select(['fingerprint', 'rule_name', 'severity', 'finding'])
      .where('fingerprint', 'in', chunk)
      .execute()) {
      let ruleset = 'unknown';
      try {
        const f = JSON.parse(r.finding) as { rule?: { ruleset?: unknown } };
        if (typeof f.rule?.ruleset === 'string') ruleset = f.rule.ruleset;
      } catch {
        // The column is always JSON the store wrote; a rule without a ruleset says so.
      }
      latest.set(r.fingerprint, { name: r.rule_name, severity: r.severity as Severity, ruleset });
    }
    for (const r of await ctx.db
      .selectFrom('finding_techniques')
      .select(['fingerprint', 'technique'])
      .where('fingerprint', 'in', chunk)
      .orderBy('technique')
      .execute()) {
      const list = techniques.get(r.fingerprint) ?? [];
      list.push(r.technique);
      techniques.set(r.fingerprint, list);
    }
  }
  return rows.map((r) => ({
    ruleId: r.id,
    ruleName: latest.get(r.fingerprint!)?.name ?? r.id,
    ruleset: latest.get(r.fingerprint!)?.ruleset ?? 'unknown',
    severity: latest.get(r.fingerprint!)?.severity ?? 'low',
    findings: toNumber(r.n),
    lastSeen: r.last_seen!,
    techniques: techniques.get(r.fingerprint!) ?? [],
  }));
}
