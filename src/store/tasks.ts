import { randomBytes } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { StoreContext } from './context.ts';
import { StoreInputError } from './errors.ts';
import type { EvidenceTable, HostTasksTable } from './schema.ts';
import {
  CUSTODY_ACTIONS,
  type CustodyAction,
  type CustodyEntry,
  EVIDENCE_KINDS,
  type EvidenceRecord,
  type NewEvidence,
  type NewTask,
  TASK_KINDS,
  type TaskRecord,
  type TaskStore,
} from './task-types.ts';
import { isoFromMs, isoTime, shortText, toNumber } from './values.ts';

/** Params, results and custody details are bounded: they are shown on timelines and in reports. */
const MAX_JSON = 256 * 1024;

function jsonText(value: unknown, field: string): string {
  const text = JSON.stringify(value ?? {});
  if (text.length > MAX_JSON)
    throw new StoreInputError('STORE_BAD_INPUT', `over ${MAX_JSON} characters of JSON`, { location: field });
  return text;
}

function parseObject(text: string | null): Record<string, unknown> | null {
  if (text === null) return null;
  try {
    const v = JSON.parse(text) as unknown;
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function oneOf<T extends string>(value: string, list: readonly T[], field: string): T {
  if (!(list as readonly string[]).includes(value))
    throw new StoreInputError('STORE_BAD_INPUT', `must be one of ${list.join(', ')}`, { location: field });
  return value as T;
}

function taskFromRow(r: Selectable<HostTasksTable>): TaskRecord {
  return {
    id: r.id,
    hostId: r.host_id,
    hostName: r.host_name,
    incidentId: r.incident_id,
    kind: r.kind as TaskRecord['kind'],
    state: r.state as TaskRecord['state'],
    params: parseObject(r.params) ?? {},
    requestedBy: r.requested_by,
    requestedAt: r.requested_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    result: parseObject(r.result),
    watch:
      r.watch_until === null || r.watch_since === null
        ? null
        : {
            since: r.watch_since,
            until: r.watch_until,
            killed: parsePids(r.watch_killed),
            endedAt: r.watch_ended_at,
            outcome: r.watch_outcome === 'returned' || r.watch_outcome === 'quiet' ? r.watch_outcome : null,
          },
  };
}

function parsePids(text: string | null): number[] {
  if (text === null) return [];
  try {
    const v = JSON.parse(text) as unknown;
    return Array.isArray(v) ? v.filter((n): n is number => Number.isInteger(n)).slice(0, 10_000) : [];
  } catch {
    return [];
  }
}

function evidenceFromRow(r: Selectable<EvidenceTable>): EvidenceRecord {
  return {
    id: r.id,
    taskId: r.task_id,
    incidentId: r.incident_id,
    hostId: r.host_id,
    hostName: r.host_name,
    kind: r.kind as EvidenceRecord['kind'],
    name: r.name,
    bytes: toNumber(r.bytes),
    sha256: r.sha256,
    path: r.path,
    meta: parseObject(r.meta) ?? {},
    collectedAt: r.collected_at,
    storedAt: r.stored_at,
  };
}

/** Tasks for agents, their evidence and its chain of custody (migration 0008). */
export function taskStore(ctx: StoreContext): TaskStore {
  const { db } = ctx;
  const now = () => isoFromMs(ctx.now());

  const addCustody = async (
    evidenceId: string,
    e: { actor: string; action: CustodyAction; detail?: Record<string, unknown> },
  ): Promise<void> => {
    await db
      .insertInto('evidence_custody')
      .values({
        evidence_id: evidenceId,
        at: now(),
        actor: shortText(e.actor, 'actor', 200),
        action: oneOf(e.action, CUSTODY_ACTIONS, 'action'),
        detail: e.detail ? jsonText(e.detail, 'detail') : null,
      })
      .execute();
  };

  return {
    async create(t: NewTask) {
      const row = {
        id: `task_${randomBytes(8).toString('hex')}`,
        host_id: shortText(t.hostId, 'host_id', 200),
        host_name: shortText(t.hostName, 'host_name', 255),
        incident_id: t.incidentId ?? null,
        kind: oneOf(t.kind, TASK_KINDS, 'kind'),
        state: 'queued',
        params: jsonText(t.params, 'params'),
        requested_by: shortText(t.requestedBy, 'requested_by', 200),
        requested_at: now(),
        started_at: null,
        finished_at: null,
        result: null,
        watch_since: null,
        watch_until: null,
        watch_killed: null,
        watch_ended_at: null,
        watch_outcome: null,
      };
      await db.insertInto('host_tasks').values(row).execute();
      return taskFromRow(row);
    },

    async get(id) {
      const r = await db.selectFrom('host_tasks').selectAll().where('id', '=', id).executeTakeFirst();
      return r ? taskFromRow(r) : undefined;
    },

    async list(q) {
      let s = db.selectFrom('host_tasks').selectAll();
      if (q.incidentId !== undefined) s = s.where('incident_id', '=', q.incidentId);
      if (q.hostId !== undefined) s = s.where('host_id', '=', q.hostId);
      const rows = await s
        .orderBy('requested_at', 'desc')
        .orderBy('id', 'desc')
        .limit(Math.min(500, Math.max(1, q.limit ?? 100)))
        .execute();
      return rows.map(taskFromRow);
    },

    async claim(hostId, opts) {
      return db.transaction().execute(async (tx) => {
        const rows = await tx
          .selectFrom('host_tasks')
          .selectAll()
          .where('host_id', '=', hostId)
          .where((eb) =>
            eb.or([
              eb('state', '=', 'queued'),
              eb.and([eb('state', '=', 'running'), eb('started_at', '<', opts.staleBefore)]),
            ]),
          )
          .orderBy('requested_at')
          .orderBy('id')
          .limit(Math.max(1, opts.limit))
          .execute();
        const at = now();
        const out: TaskRecord[] = [];
        for (const r of rows) {
          // Compare-and-set on what was read: two servers hand a task out once.
          const u = await tx
            .updateTable('host_tasks')
            .set({ state: 'running', started_at: at })
            .where('id', '=', r.id)
            .where('state', '=', r.state)
            .where((eb) =>
              r.started_at === null ? eb('started_at', 'is', null) : eb('started_at', '=', r.started_at),
            )
            .executeTakeFirst();
          if (Number(u.numUpdatedRows) === 1)
            out.push(taskFromRow({ ...r, state: 'running', started_at: at }));
        }
        return out;
      });
    },

    async finish(id, hostId, end) {
      const at = now();
      const u = await db
        .updateTable('host_tasks')
        .set({ state: end.state, finished_at: at, result: jsonText(end.result, 'result') })
        .where('id', '=', id)
        .where('host_id', '=', hostId)
        .where('state', '=', 'running')
        .executeTakeFirst();
      if (Number(u.numUpdatedRows) !== 1) return undefined;
      const r = await db.selectFrom('host_tasks').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      return taskFromRow(r);
    },

    async startWatch(id, w) {
      await db
        .updateTable('host_tasks')
        .set({
          watch_since: isoTime(w.since, 'since'),
          watch_until: isoTime(w.until, 'until'),
          watch_killed: JSON.stringify(w.killed.filter((n) => Number.isInteger(n)).slice(0, 10_000)),
          watch_ended_at: null,
          watch_outcome: null,
        })
        .where('id', '=', id)
        .execute();
    },

    async activeWatch(incidentId, at) {
      const r = await db
        .selectFrom('host_tasks')
        .selectAll()
        .where('incident_id', '=', incidentId)
        .where('watch_ended_at', 'is', null)
        .where('watch_until', '>', at)
        .orderBy('watch_until', 'desc')
        .executeTakeFirst();
      return r ? taskFromRow(r) : undefined;
    },

    async dueWatches(at, limit) {
      const rows = await db
        .selectFrom('host_tasks')
        .selectAll()
        .where('watch_ended_at', 'is', null)
        .where('watch_until', '<=', at)
        .orderBy('watch_until')
        .limit(Math.max(1, Math.min(1000, limit)))
        .execute();
      return rows.map(taskFromRow);
    },

    async endWatch(id, at, outcome) {
      const u = await db
        .updateTable('host_tasks')
        .set({ watch_ended_at: isoTime(at, 'at'), watch_outcome: outcome })
        .where('id', '=', id)
        .where('watch_ended_at', 'is', null)
        .where('watch_until', 'is not', null)
        .executeTakeFirst();
      return Number(u.numUpdatedRows) === 1;
    },

    async addEvidence(e: NewEvidence, custody) {
      const rec: EvidenceRecord = { ...e, storedAt: now() };
      await db.transaction().execute(async (tx) => {
        await tx
          .insertInto('evidence')
          .values({
            id: rec.id,
            task_id: rec.taskId,
            incident_id: rec.incidentId,
            host_id: rec.hostId,
            host_name: rec.hostName,
            kind: oneOf(rec.kind, EVIDENCE_KINDS, 'kind'),
            name: shortText(rec.name, 'name', 1000),
            bytes: rec.bytes,
            sha256: rec.sha256,
            path: rec.path,
            meta: jsonText(rec.meta, 'meta'),
            collected_at: rec.collectedAt,
            stored_at: rec.storedAt,
          })
          .execute();
        const base = { bytes: rec.bytes, sha256: rec.sha256, host: rec.hostName, task: rec.taskId };
        await tx
          .insertInto('evidence_custody')
          .values([
            {
              evidence_id: rec.id,
              at: rec.collectedAt,
              actor: custody.agent,
              action: 'collected',
              detail: jsonText(
                { ...base, ...(rec.meta['pid'] === undefined ? {} : { pid: rec.meta['pid'] }) },
                'detail',
              ),
            },
            {
              evidence_id: rec.id,
              at: rec.storedAt,
              actor: custody.server,
              action: 'stored',
              detail: jsonText({ ...base, path: rec.path, hash_checked: true }, 'detail'),
            },
          ])
          .execute();
      });
      return rec;
    },

    async getEvidence(id) {
      const r = await db.selectFrom('evidence').selectAll().where('id', '=', id).executeTakeFirst();
      return r ? evidenceFromRow(r) : undefined;
    },

    async listEvidence(q) {
      let s = db.selectFrom('evidence').selectAll();
      if (q.incidentId !== undefined) s = s.where('incident_id', '=', q.incidentId);
      if (q.taskId !== undefined) s = s.where('task_id', '=', q.taskId);
      const rows = await s
        .orderBy('stored_at')
        .orderBy('id')
        .limit(Math.min(1000, Math.max(1, q.limit ?? 1000)))
        .execute();
      return rows.map(evidenceFromRow);
    },

    addCustody,

    async custody(evidenceId) {
      const rows = await db
        .selectFrom('evidence_custody')
        .selectAll()
        .where('evidence_id', '=', evidenceId)
        .orderBy('seq')
        .limit(10_000)
        .execute();
      return rows.map(
        (r): CustodyEntry => ({
          seq: Number(r.seq),
          at: r.at,
          actor: r.actor,
          action: r.action as CustodyAction,
          detail: parseObject(r.detail) ?? {},
        }),
      );
    },
  };
}
