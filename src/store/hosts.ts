import { createHash } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import { type RawBuilder, SqliteAdapter, sql } from 'kysely';
import { chunks } from './chunks.ts';
import type { StoreContext } from './context.ts';
import { StoreInputError } from './errors.ts';
import type { Database, HostsTable } from './schema.ts';
import type { HostCounts, HostGaps, HostQuery, HostRecord, HostSort, HostStatus, Page } from './types.ts';
import {
  badCursor,
  containsPattern,
  decodeCursor,
  encodeCursor,
  isoFromMs,
  isoTime,
  optionalText,
  pageLimit,
  shortText,
  toNumber,
} from './values.ts';

export interface HostUpdate {
  id?: string;
  name: string;
  os?: string;
  kernel?: string;
  addresses?: readonly string[];
  agentVersion?: string;
  cpus?: number;
  wattsPerCore?: number;
  /** Absent: keep what the host was (a finding naming a host does not make it an agent or not). */
  agent?: boolean;
  /** The earliest and latest times this update saw the host at. */
  firstAt: string;
  lastAt: string;
}

/** Ids of hosts only sensors and hunts name: derived from the name, so every writer agrees on them. */
export function derivedHostId(name: string): string {
  return 'h_' + createHash('sha256').update(name, 'utf8').digest('hex').slice(0, 32);
}

/** A CPU count as stored: a whole number from 1 to 65,536, else none. */
function cpuCount(n: number | undefined): number | null {
  return n !== undefined && Number.isInteger(n) && n >= 1 && n <= 65_536 ? n : null;
}

/** Watts per busy core as stored: a positive figure up to 1,000, else none. */
function watts(w: number | undefined): number | null {
  return w !== undefined && Number.isFinite(w) && w > 0 && w <= 1000 ? w : null;
}

export function hostStatus(lastSeen: string, now: number, gaps: HostGaps): HostStatus {
  const silent = now - Date.parse(lastSeen);
  if (silent <= gaps.staleMs) return 'reporting';
  if (silent <= gaps.offlineMs) return 'stale';
  return 'offline';
}

export function hostFromRow(r: Selectable<HostsTable>, ctx: StoreContext): HostRecord {
  const h: HostRecord = {
    id: r.id,
    name: r.name,
    addresses: parseAddresses(r.addresses),
    agent: r.agent === 1,
    firstSeen: r.first_seen,
    lastSeen: r.last_seen,
    status: hostStatus(r.last_seen, ctx.now(), ctx.gaps),
  };
  if (r.os !== null) h.os = r.os;
  if (r.kernel !== null) h.kernel = r.kernel;
  if (r.agent_version !== null) h.agentVersion = r.agent_version;
  if (r.cpus !== null && r.cpus !== undefined) h.cpus = Number(r.cpus);
  if (r.watts_per_core !== null && r.watts_per_core !== undefined) h.wattsPerCore = Number(r.watts_per_core);
  return h;
}

function parseAddresses(text: string): string[] {
  const v: unknown = JSON.parse(text);
  return Array.isArray(v) ? v.filter((a): a is string => typeof a === 'string') : [];
}

function searchText(r: Pick<HostsTable, 'name' | 'os' | 'kernel' | 'addresses'>): string {
  return [r.name, r.os ?? '', r.kernel ?? '', ...parseAddresses(r.addresses)].join('\n').toLowerCase();
}

function checkAddresses(a: readonly string[] | undefined): string | undefined {
  if (a === undefined) return undefined;
  if (!Array.isArray(a) || a.length > 256) {
    throw new StoreInputError('STORE_BAD_INPUT', 'must be a list of at most 256 addresses', {
      location: 'addresses',
    });
  }
  return JSON.stringify(a.map((x, i) => shortText(x, `addresses[${i}]`, 256)));
}

/**
 * Creates or refreshes a host; call inside a transaction. first/last seen
 * only ever widen (computed in SQL, so concurrent writers cannot move them
 * back). A host known only by name gives its name up to an agent host that
 * claims it (its first_seen is kept); an agent host's name cannot be claimed.
 */
export async function upsertHost(
  db: Kysely<Database>,
  ctx: StoreContext,
  h: HostUpdate,
): Promise<HostRecord> {
  const name = shortText(h.name, 'host.name', 255);
  const firstAt = isoTime(h.firstAt, 'at');
  const lastAt = isoTime(h.lastAt, 'at');
  const addresses = checkAddresses(h.addresses);
  const fresh = (id: string): Selectable<HostsTable> => {
    const r = {
      id,
      name,
      os: optionalText(h.os, 'os'),
      kernel: optionalText(h.kernel, 'kernel'),
      addresses: addresses ?? '[]',
      agent_version: optionalText(h.agentVersion, 'agentVersion', 128),
      agent: h.agent ? 1 : 0,
      cpus: cpuCount(h.cpus),
      watts_per_core: watts(h.wattsPerCore),
      first_seen: firstAt,
      last_seen: lastAt,
      search_text: '',
    };
    return { ...r, search_text: searchText(r) };
  };

  let id: string;
  if (h.id === undefined) {
    id = derivedHostId(name);
    // Concurrent writers naming the same new host: one inserts, the others update below.
    await db
      .insertInto('hosts')
      .values(fresh(id))
      .onConflict((oc) => oc.doNothing())
      .execute();
    const row = await db.selectFrom('hosts').select('id').where('name', '=', name).executeTakeFirstOrThrow();
    id = row.id;
  } else {
    id = shortText(h.id, 'id', 128);
    const holder = await db.selectFrom('hosts').selectAll().where('name', '=', name).executeTakeFirst();
    let firstSeen = firstAt;
    if (holder && holder.id !== id) {
      if (holder.agent === 1) {
        throw new StoreInputError('STORE_HOST_NAME_TAKEN', `another agent reports as ${name}`, {
          location: 'host.name',
        });
      }
      await db.deleteFrom('hosts').where('id', '=', holder.id).execute();
      await db.updateTable('metrics').set({ host_id: id }).where('host_id', '=', holder.id).execute();
      await db.updateTable('tokens').set({ host_id: id }).where('host_id', '=', holder.id).execute();
      if (holder.first_seen < firstSeen) firstSeen = holder.first_seen;
    }
    await db
      .insertInto('hosts')
      .values({ ...fresh(id), first_seen: firstSeen })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  }

  const row = await db.selectFrom('hosts').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const merged = {
    name,
    os: h.os !== undefined ? optionalText(h.os, 'os') : row.os,
    kernel: h.kernel !== undefined ? optionalText(h.kernel, 'kernel') : row.kernel,
    addresses: addresses ?? row.addresses,
    agent_version:
      h.agentVersion !== undefined ? optionalText(h.agentVersion, 'agentVersion', 128) : row.agent_version,
    agent: h.agent === undefined ? row.agent : h.agent ? 1 : 0,
    cpus: h.cpus !== undefined ? cpuCount(h.cpus) : row.cpus,
    watts_per_core: h.wattsPerCore !== undefined ? watts(h.wattsPerCore) : row.watts_per_core,
  };
  const updated = await db
    .updateTable('hosts')
    .set((eb) => ({
      ...merged,
      search_text: searchText(merged),
      first_seen: eb
        .case()
        .when('first_seen', '>', firstAt)
        .then(sql.val(firstAt))
        .else(eb.ref('first_seen'))
        .end(),
      last_seen: eb
        .case()
        .when('last_seen', '<', lastAt)
        .then(sql.val(lastAt))
        .else(eb.ref('last_seen'))
        .end(),
    }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return hostFromRow(updated, ctx);
}

/** Host rows per statement (10 columns each): well under both engines' bound-parameter limits. */
const HOST_CHUNK = 500;

/**
 * Ingest's side of hosts, for a whole batch in a few statements: every host
 * a finding names is created if unknown (by name only, never an agent) and
 * its first/last seen widened; call inside a transaction. The same as
 * upsertHost() without an id or host details, one name at a time, but in
 * name order, so that concurrent batches naming the same hosts lock their
 * rows in the same order (PostgreSQL) and cannot deadlock on them.
 */
export async function touchHostsSeen(
  db: Kysely<Database>,
  seen: ReadonlyMap<string, { first: string; last: string }>,
): Promise<void> {
  const rows = [...seen]
    .map(([raw, s]) => {
      const name = shortText(raw, 'host.name', 255);
      const r = {
        id: derivedHostId(name),
        name,
        os: null,
        kernel: null,
        addresses: '[]',
        agent_version: null,
        agent: 0,
        cpus: null,
        watts_per_core: null,
        first_seen: isoTime(s.first, 'at'),
        last_seen: isoTime(s.last, 'at'),
        search_text: '',
      };
      return { ...r, search_text: searchText(r) };
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  // SQLite has one writer at a time: nothing can come between a lookup and an insert.
  const concurrent = !(db.getExecutor().adapter instanceof SqliteAdapter);
  for (const chunk of chunks(rows, HOST_CHUNK)) {
    if (concurrent) {
      // Unknown hosts first (a read finds them; usually there are none). No conflict target:
      // a concurrent writer's new row under either unique key (id or name) is waited for and
      // kept, never an error; the upsert below then finds every name present.
      const known = await db
        .selectFrom('hosts')
        .select('name')
        .where(
          'name',
          'in',
          chunk.map((r) => r.name),
        )
        .execute();
      const have = new Set(known.map((r) => r.name));
      const unknown = chunk.filter((r) => !have.has(r.name));
      if (unknown.length > 0) {
        await db
          .insertInto('hosts')
          .values(unknown)
          .onConflict((oc) => oc.doNothing())
          .execute();
      }
    }
    // Every named host (whatever its id) widens its first/last seen; rows that would not move stay untouched.
    await db
      .insertInto('hosts')
      .values(chunk)
      .onConflict((oc) =>
        oc
          .column('name')
          .doUpdateSet((eb) => ({
            first_seen: eb
              .case()
              .when(eb.ref('excluded.first_seen'), '<', eb.ref('hosts.first_seen'))
              .then(eb.ref('excluded.first_seen'))
              .else(eb.ref('hosts.first_seen'))
              .end(),
            last_seen: eb
              .case()
              .when(eb.ref('excluded.last_seen'), '>', eb.ref('hosts.last_seen'))
              .then(eb.ref('excluded.last_seen'))
              .else(eb.ref('hosts.last_seen'))
              .end(),
          }))
          .where((eb) =>
            eb.or([
              eb(eb.ref('excluded.first_seen'), '<', eb.ref('hosts.first_seen')),
              eb(eb.ref('excluded.last_seen'), '>', eb.ref('hosts.last_seen')),
            ]),
          ),
      )
      .execute();
  }
}

export async function getHost(ctx: StoreContext, id: string): Promise<HostRecord | undefined> {
  const row = await ctx.db.selectFrom('hosts').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? hostFromRow(row, ctx) : undefined;
}

const HOST_SORTS = ['name', 'last_seen', 'status', 'open'] as const;

interface HostCursor {
  s: HostSort;
  o: 'asc' | 'desc';
  /** The sort keys of the page's last host (none for `name`). */
  v: (string | number)[];
  n: string;
}

function readHostCursor(cursor: string, sort: HostSort, order: 'asc' | 'desc', keys: number): HostCursor {
  const c = decodeCursor(cursor);
  if (typeof c !== 'object' || c === null) throw badCursor();
  const { s, o, v, n } = c as Record<string, unknown>;
  if (typeof n !== 'string') throw badCursor();
  // Cursors of the name-only list before sorting was offered: name ascending.
  if (s === undefined && o === undefined && v === undefined && sort === 'name' && order === 'asc')
    return { s: sort, o: order, v: [], n };
  if (s !== sort || o !== order || !Array.isArray(v) || v.length !== keys) throw badCursor();
  const numeric = sort === 'status' || sort === 'open';
  for (const x of v) {
    if (numeric ? typeof x !== 'number' || !Number.isInteger(x) : typeof x !== 'string') throw badCursor();
  }
  return { s: sort, o: order, v: v as (string | number)[], n };
}

/**
 * Keyset paging on (sort keys, name): a page starts strictly after the
 * previous page's last host. Ties are in name order whatever the
 * direction. `status` sorts reporting, stale, offline (as of the request);
 * `open` by unacknowledged critical, then high, medium and low findings
 * (the open_findings counters, one primary-key lookup per host).
 */
export async function listHosts(ctx: StoreContext, q: HostQuery): Promise<Page<HostRecord>> {
  const limit = pageLimit(q.limit, 100, 500);
  const sort: HostSort = q.sort ?? 'name';
  const order = q.order ?? 'asc';
  if (!(HOST_SORTS as readonly string[]).includes(sort))
    throw new StoreInputError('STORE_BAD_INPUT', 'unknown sort', { location: 'sort' });
  if (order !== 'asc' && order !== 'desc')
    throw new StoreInputError('STORE_BAD_INPUT', 'must be asc or desc', { location: 'order' });
  const now = ctx.now();
  const staleCut = isoFromMs(now - ctx.gaps.staleMs);
  const offlineCut = isoFromMs(now - ctx.gaps.offlineMs);

  let query = ctx.db
    .selectFrom('hosts')
    .leftJoin('open_findings', 'open_findings.host_name', 'hosts.name')
    .selectAll('hosts');
  if (q.status !== undefined) {
    if (q.status === 'reporting') query = query.where('hosts.last_seen', '>=', staleCut);
    else if (q.status === 'stale')
      query = query.where('hosts.last_seen', '<', staleCut).where('hosts.last_seen', '>=', offlineCut);
    else if (q.status === 'offline') query = query.where('hosts.last_seen', '<', offlineCut);
    else throw new StoreInputError('STORE_BAD_INPUT', 'unknown host status', { location: 'status' });
  }
  if (q.text !== undefined && q.text !== '') {
    query = query.where(sql<boolean>`hosts.search_text like ${containsPattern(q.text)} escape '\\'`);
  }

  const open = (c: 'critical' | 'high' | 'medium' | 'low') =>
    sql<number>`coalesce(${sql.ref(`open_findings.${c}`)}, 0)`;
  const keys: RawBuilder<string | number>[] =
    sort === 'last_seen'
      ? [sql<string>`hosts.last_seen`]
      : sort === 'status'
        ? [
            sql<number>`case when hosts.last_seen >= ${staleCut} then 0 when hosts.last_seen >= ${offlineCut} then 1 else 2 end`,
          ]
        : sort === 'open'
          ? [open('critical'), open('high'), open('medium'), open('low')]
          : [];
  const name = sql.ref('hosts.name');
  if (q.cursor !== undefined) {
    const c = readHostCursor(q.cursor, sort, order, keys.length);
    const after = order === 'asc' ? sql.raw('>') : sql.raw('<');
    if (keys.length === 0) {
      query = query.where(sql<boolean>`${name} ${after} ${c.n}`);
    } else {
      const k = sql.join(keys);
      const v = sql.join(c.v);
      query = query.where(sql<boolean>`((${k}) ${after} (${v}) or ((${k}) = (${v}) and ${name} > ${c.n}))`);
    }
  }
  let ordered = query.select(keys.map((k, i) => k.as(`k${i}`)));
  for (const k of keys) ordered = ordered.orderBy(k, order);
  const rows = await ordered
    .orderBy('hosts.name', keys.length === 0 ? order : 'asc')
    .limit(limit + 1)
    .execute();
  const page = rows.slice(0, limit);
  const items = page.map((r) => hostFromRow(r, ctx));
  const last = page[page.length - 1] as (Record<string, unknown> & { name: string }) | undefined;
  if (rows.length <= limit || !last) return { items, next: null };
  const v = keys.map((_, i) => {
    const x = last[`k${i}`];
    return sort === 'last_seen' ? String(x) : Number(x);
  });
  return { items, next: encodeCursor({ s: sort, o: order, v, n: last.name } satisfies HostCursor) };
}

/** Hosts by status: three index range counts on hosts_last_seen. */
export async function countHosts(ctx: StoreContext): Promise<HostCounts> {
  const now = ctx.now();
  const staleCut = isoFromMs(now - ctx.gaps.staleMs);
  const offlineCut = isoFromMs(now - ctx.gaps.offlineMs);
  const r = await ctx.db
    .selectNoFrom((eb) => [
      eb.selectFrom('hosts').select(eb.fn.countAll<string | number>().as('n')).as('total'),
      eb
        .selectFrom('hosts')
        .select(eb.fn.countAll<string | number>().as('n'))
        .where('last_seen', '>=', staleCut)
        .as('reporting'),
      eb
        .selectFrom('hosts')
        .select(eb.fn.countAll<string | number>().as('n'))
        .where('last_seen', '>=', offlineCut)
        .as('online'),
    ])
    .executeTakeFirstOrThrow();
  const total = toNumber(r.total ?? 0);
  const reporting = toNumber(r.reporting ?? 0);
  const online = toNumber(r.online ?? 0);
  return { reporting, stale: online - reporting, offline: total - online, total };
}
