import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { StoreContext } from './context.ts';
import { StoreInputError } from './errors.ts';
import { hostFromRow } from './hosts.ts';
import type { Database, IsolationsTable } from './schema.ts';
import {
  type HostRecord,
  ISOLATION_STATES,
  type IsolationAction,
  type IsolationPatch,
  type IsolationQuery,
  type IsolationRecord,
  type IsolationStateName,
  type NewIsolation,
  type Page,
} from './types.ts';
import {
  badCursor,
  decodeCursor,
  encodeCursor,
  isoTime,
  optionalText,
  pageLimit,
  shortText,
} from './values.ts';

/**
 * Isolations (migration 0005): where each stands, and its append-only action
 * log. The store checks shapes and keeps the one rule the database can keep
 * best: at most one isolation per host that is not released. What the
 * states mean, and who may move them, is the responder's business
 * (src/respond/isolate/service.ts).
 */

const APPROVALS = new Set(['not_required', 'pending', 'approved']);
/** Audit and action details are bounded (64 KiB in the audit log). */
const MAX_DETAIL = 60_000;

function state(value: unknown, field = 'state'): IsolationStateName {
  if (typeof value !== 'string' || !(ISOLATION_STATES as readonly string[]).includes(value))
    throw new StoreInputError('STORE_BAD_INPUT', `must be one of ${ISOLATION_STATES.join(', ')}`, {
      location: field,
    });
  return value as IsolationStateName;
}

function json(value: unknown): string | null {
  return value === undefined || value === null ? null : JSON.stringify(value);
}

function parseJson<T>(text: string | null): T | undefined {
  if (text === null) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

function fromRow(r: Selectable<IsolationsTable>): IsolationRecord {
  const out: IsolationRecord = {
    id: r.id,
    hostId: r.host_id,
    hostName: r.host_name,
    state: r.state as IsolationStateName,
    backend: r.backend,
    requestedBy: r.requested_by,
    approval: r.approval as IsolationRecord['approval'],
    attempts: Number(r.attempts),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
  if (r.target !== null) out.target = r.target;
  if (r.requested_by_id !== null) out.requestedById = r.requested_by_id;
  if (r.reason !== null) out.reason = r.reason;
  if (r.approved_by !== null) out.approvedBy = r.approved_by;
  if (r.approved_at !== null) out.approvedAt = r.approved_at;
  if (r.ttl_s !== null) out.ttlS = Number(r.ttl_s);
  if (r.expires_at !== null) out.expiresAt = r.expires_at;
  const err = parseJson<{ code: string; message: string }>(r.last_error);
  if (err) out.lastError = err;
  if (r.failed_action === 'isolate' || r.failed_action === 'release') out.failedAction = r.failed_action;
  const v = parseJson<Record<string, unknown>>(r.verification);
  if (v) out.verification = v;
  if (r.isolated_at !== null) out.isolatedAt = r.isolated_at;
  if (r.released_at !== null) out.releasedAt = r.released_at;
  if (r.released_by !== null) out.releasedBy = r.released_by;
  return out;
}

/** A unique-index violation on either engine. */
function isUniqueViolation(e: unknown): boolean {
  if (typeof e !== 'object' || e === null || !('code' in e)) return false;
  const code = String((e as { code: unknown }).code);
  return code === '23505' || code.startsWith('SQLITE_CONSTRAINT');
}

function activeError(hostId: string): StoreInputError {
  return new StoreInputError(
    'STORE_ISOLATION_ACTIVE',
    `host ${hostId} already has an isolation that is not released`,
    { location: 'hostId' },
  );
}

export async function getHostByName(ctx: StoreContext, name: string): Promise<HostRecord | undefined> {
  const row = await ctx.db.selectFrom('hosts').selectAll().where('name', '=', name).executeTakeFirst();
  return row ? hostFromRow(row, ctx) : undefined;
}

export async function createIsolation(ctx: StoreContext, i: NewIsolation): Promise<IsolationRecord> {
  const at = isoTime(i.at, 'at');
  if (!APPROVALS.has(i.approval))
    throw new StoreInputError('STORE_BAD_INPUT', 'must be not_required, pending or approved', {
      location: 'approval',
    });
  if (i.ttlS !== undefined && (!Number.isInteger(i.ttlS) || i.ttlS < 1))
    throw new StoreInputError('STORE_BAD_INPUT', 'must be a whole number of seconds, at least 1', {
      location: 'ttlS',
    });
  const row: Selectable<IsolationsTable> = {
    id: randomUUID(),
    host_id: shortText(i.hostId, 'hostId', 128),
    host_name: shortText(i.hostName, 'hostName', 255),
    state: state(i.state ?? 'requested'),
    backend: shortText(i.backend, 'backend', 64),
    target: optionalText(i.target, 'target', 64),
    requested_by: shortText(i.requestedBy, 'requestedBy', 300),
    requested_by_id: optionalText(i.requestedById, 'requestedById', 128),
    reason: optionalText(i.reason, 'reason', 1000),
    approval: i.approval,
    approved_by: null,
    approved_at: null,
    ttl_s: i.ttlS ?? null,
    expires_at: i.expiresAt === undefined ? null : isoTime(i.expiresAt, 'expiresAt'),
    attempts: 0,
    last_error: null,
    failed_action: null,
    verification: null,
    created_at: at,
    updated_at: at,
    isolated_at: null,
    released_at: null,
    released_by: null,
  };
  try {
    await ctx.db.transaction().execute(async (trx) => {
      const active = await trx
        .selectFrom('isolations')
        .select('id')
        .where('host_id', '=', row.host_id)
        .where('state', '<>', 'released')
        .executeTakeFirst();
      if (active) throw activeError(row.host_id);
      await trx.insertInto('isolations').values(row).execute();
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw activeError(row.host_id);
    throw e;
  }
  return fromRow(row);
}

export async function getIsolation(ctx: StoreContext, id: string): Promise<IsolationRecord | undefined> {
  const row = await ctx.db.selectFrom('isolations').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? fromRow(row) : undefined;
}

export async function currentIsolation(
  ctx: StoreContext,
  hostId: string,
): Promise<IsolationRecord | undefined> {
  const active = await ctx.db
    .selectFrom('isolations')
    .selectAll()
    .where('host_id', '=', hostId)
    .where('state', '<>', 'released')
    .executeTakeFirst();
  if (active) return fromRow(active);
  const newest = await ctx.db
    .selectFrom('isolations')
    .selectAll()
    .where('host_id', '=', hostId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return newest ? fromRow(newest) : undefined;
}

/** Newest first; the cursor is the last row's (created_at, id). */
export async function listIsolations(ctx: StoreContext, q: IsolationQuery): Promise<Page<IsolationRecord>> {
  const limit = pageLimit(q.limit, 100, 500);
  let query = ctx.db.selectFrom('isolations').selectAll();
  if (q.state !== undefined) {
    if (!Array.isArray(q.state) || q.state.length === 0)
      throw new StoreInputError('STORE_BAD_INPUT', 'must be a list of states', { location: 'state' });
    query = query.where(
      'state',
      'in',
      q.state.map((s) => state(s)),
    );
  }
  if (q.hostId !== undefined) query = query.where('host_id', '=', q.hostId);
  if (q.reason !== undefined) query = query.where('reason', '=', q.reason);
  if (q.expiresBefore !== undefined)
    query = query.where('expires_at', '<=', isoTime(q.expiresBefore, 'expiresBefore'));
  if (q.updatedBefore !== undefined)
    query = query.where('updated_at', '<', isoTime(q.updatedBefore, 'updatedBefore'));
  if (q.cursor !== undefined) {
    const c = decodeCursor(q.cursor);
    if (typeof c !== 'object' || c === null) throw badCursor();
    const { c: created, i } = c as Record<string, unknown>;
    if (typeof created !== 'string' || typeof i !== 'string') throw badCursor();
    query = query.where((eb) =>
      eb.or([eb('created_at', '<', created), eb.and([eb('created_at', '=', created), eb('id', '<', i)])]),
    );
  }
  const rows = await query
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit + 1)
    .execute();
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    items: page.map(fromRow),
    next: rows.length > limit && last ? encodeCursor({ c: last.created_at, i: last.id }) : null,
  };
}

export async function updateIsolation(
  ctx: StoreContext,
  id: string,
  p: IsolationPatch,
  from?: readonly IsolationStateName[],
): Promise<IsolationRecord | undefined> {
  const at = isoTime(p.at, 'at');
  const set: Partial<Record<keyof IsolationsTable, unknown>> = { updated_at: at };
  if (p.state !== undefined) set.state = state(p.state);
  if (p.approval !== undefined) {
    if (!APPROVALS.has(p.approval))
      throw new StoreInputError('STORE_BAD_INPUT', 'must be not_required, pending or approved', {
        location: 'approval',
      });
    set.approval = p.approval;
  }
  if (p.approvedBy !== undefined) set.approved_by = shortText(p.approvedBy, 'approvedBy', 300);
  if (p.approvedAt !== undefined) set.approved_at = isoTime(p.approvedAt, 'approvedAt');
  if (p.target !== undefined) set.target = shortText(p.target, 'target', 64);
  if (p.expiresAt !== undefined)
    set.expires_at = p.expiresAt === null ? null : isoTime(p.expiresAt, 'expiresAt');
  if (p.ttlS !== undefined) set.ttl_s = p.ttlS;
  if (p.lastError !== undefined)
    set.last_error =
      p.lastError === null
        ? null
        : json({
            code: shortText(p.lastError.code, 'lastError.code', 100),
            message: p.lastError.message.slice(0, 2000),
          });
  if (p.failedAction !== undefined) set.failed_action = p.failedAction;
  if (p.verification !== undefined) {
    const v = json(p.verification);
    set.verification = v !== null && v.length > MAX_DETAIL ? json({ truncated: true }) : v;
  }
  if (p.isolatedAt !== undefined)
    set.isolated_at = p.isolatedAt === null ? null : isoTime(p.isolatedAt, 'isolatedAt');
  if (p.releasedAt !== undefined)
    set.released_at = p.releasedAt === null ? null : isoTime(p.releasedAt, 'releasedAt');
  if (p.releasedBy !== undefined) set.released_by = p.releasedBy;
  const add = p.addAttempts ?? 0;
  if (!Number.isInteger(add) || add < 0)
    throw new StoreInputError('STORE_BAD_INPUT', 'must be a whole number, at least 0', {
      location: 'addAttempts',
    });
  try {
    const row = await ctx.db
      .updateTable('isolations')
      .set((eb) => ({
        ...(set as Partial<IsolationsTable>),
        ...(add > 0 ? { attempts: eb('attempts', '+', add) } : {}),
      }))
      .where('id', '=', id)
      .$if(from !== undefined, (qb) =>
        qb.where(
          'state',
          'in',
          (from ?? []).map((s) => state(s, 'from')),
        ),
      )
      .returningAll()
      .executeTakeFirst();
    return row ? fromRow(row) : undefined;
  } catch (e) {
    // Moving a released isolation back while the host has another one.
    if (isUniqueViolation(e)) throw activeError(id);
    throw e;
  }
}

function boundedDetail(detail: Record<string, unknown> | undefined): string | null {
  if (detail === undefined) return null;
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail))
    throw new StoreInputError('STORE_BAD_INPUT', 'must be an object', { location: 'detail' });
  const text = JSON.stringify(detail);
  if (text.length <= MAX_DETAIL) return text;
  // Keep what identifies the step; the bulk (a long answer) is cut.
  return JSON.stringify({ truncated: true, characters: text.length, head: text.slice(0, 4000) });
}

export async function addIsolationAction(
  ctx: StoreContext,
  a: Omit<IsolationAction, 'seq'> & { hostId: string },
): Promise<void> {
  const at = isoTime(a.at, 'at');
  const kind = shortText(a.kind, 'kind', 64);
  const actor = shortText(a.actor, 'actor', 200);
  const outcome = shortText(a.outcome, 'outcome', 200);
  const detail = boundedDetail(a.detail);
  const isolationId = shortText(a.isolationId, 'isolationId', 128);
  await ctx.db.transaction().execute(async (trx: Kysely<Database>) => {
    await trx
      .insertInto('isolation_actions')
      .values({ isolation_id: isolationId, at, kind, actor, outcome, detail })
      .execute();
    // The same step in the audit log, where every change of the platform is.
    const auditDetail =
      detail === null
        ? { isolation_id: isolationId }
        : { isolation_id: isolationId, ...(JSON.parse(detail) as object) };
    await trx
      .insertInto('audit')
      .values({
        at,
        actor,
        action: `isolation.${kind}`,
        target: shortText(a.hostId, 'hostId', 128),
        outcome,
        detail: JSON.stringify(auditDetail),
      })
      .execute();
  });
}

export async function listIsolationActions(
  ctx: StoreContext,
  isolationId: string,
  limit = 500,
): Promise<IsolationAction[]> {
  const n = pageLimit(limit, 500, 5000);
  const rows = await ctx.db
    .selectFrom('isolation_actions')
    .selectAll()
    .where('isolation_id', '=', isolationId)
    .orderBy('seq', 'desc')
    .limit(n)
    .execute();
  return rows.reverse().map((r) => {
    const out: IsolationAction = {
      seq: Number(r.seq),
      isolationId: r.isolation_id,
      at: r.at,
      kind: r.kind,
      actor: r.actor,
      outcome: r.outcome,
    };
    const d = parseJson<Record<string, unknown>>(r.detail);
    if (d) out.detail = d;
    return out;
  });
}
