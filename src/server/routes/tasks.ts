import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import type { IncidentResponse } from '../../cases/response.ts';
import {
  COLLECT_ITEMS,
  ERADICATE_STEPS,
  EvidenceUploadQuerySchema,
  TaskResultSchema,
} from '../../respond/host-tasks/protocol.ts';
import type { CustodyEntry, EvidenceRecord, TaskRecord } from '../../store/task-types.ts';
import type { ServerDeps } from '../deps.ts';
import { ApiError } from '../errors.ts';
import { type ApiRoute, caller, defineRoute, ROLE_SETS } from '../route.ts';
import { IncidentParams } from '../schemas.ts';
import { mapped } from './incidents.ts';

/**
 * Forensics and eradication through the host's agent (issue 17): analysts
 * ask for evidence or a clean-up on an incident; the agent is handed the
 * task with its next heartbeat, uploads what it collects and reports what it
 * did; analysts download evidence, whose hash is checked again on every
 * download, and read its chain of custody. What the tasks mean for the
 * incident is src/cases/response.ts.
 */

/** Largest piece of evidence one upload may carry (a memory dump is capped by the task before that). */
export const MAX_EVIDENCE_BYTES = 17 * 1024 ** 3;
/** A task handed out and not ended within this is handed out again (the agent restarted). */
const STALE_TASK_MS = 30 * 60_000;
const TASK_ID = /^task_[0-9a-f]{16}$/;
const EVIDENCE_ID = /^ev_[0-9a-f]{16}$/;

const TaskSchema = z.object({
  id: z.string(),
  host_id: z.string(),
  host: z.string(),
  incident: z.string().nullable(),
  kind: z.enum(['collect', 'eradicate']),
  state: z.string(),
  params: z.record(z.string(), z.unknown()),
  requested_by: z.string(),
  requested_at: z.string(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  result: z.record(z.string(), z.unknown()).nullable(),
  watch: z
    .object({
      since: z.string(),
      until: z.string(),
      ended_at: z.string().nullable(),
      outcome: z.enum(['returned', 'quiet']).nullable(),
    })
    .nullable()
    .describe('The watch after a verified eradication (null: none started)'),
});

const CustodySchema = z.object({
  seq: z.number().int(),
  at: z.string(),
  actor: z.string(),
  action: z.string().describe('collected, stored, downloaded, verified, hash_mismatch'),
  detail: z.record(z.string(), z.unknown()),
});

const EvidenceSchema = z.object({
  id: z.string(),
  task: z.string(),
  incident: z.string().nullable(),
  host: z.string(),
  kind: z.string(),
  name: z.string(),
  bytes: z.number().int(),
  sha256: z.string(),
  collected_at: z.string(),
  stored_at: z.string(),
  meta: z.record(z.string(), z.unknown()),
  custody: z.array(CustodySchema).optional(),
});

export function apiTask(t: TaskRecord): z.output<typeof TaskSchema> {
  return {
    id: t.id,
    host_id: t.hostId,
    host: t.hostName,
    incident: t.incidentId,
    kind: t.kind,
    state: t.state,
    params: t.params,
    requested_by: t.requestedBy,
    requested_at: t.requestedAt,
    started_at: t.startedAt,
    finished_at: t.finishedAt,
    result: t.result,
    watch: t.watch
      ? { since: t.watch.since, until: t.watch.until, ended_at: t.watch.endedAt, outcome: t.watch.outcome }
      : null,
  };
}

function apiEvidence(e: EvidenceRecord, custody?: CustodyEntry[]): z.output<typeof EvidenceSchema> {
  return {
    id: e.id,
    task: e.taskId,
    incident: e.incidentId,
    host: e.hostName,
    kind: e.kind,
    name: e.name,
    bytes: e.bytes,
    sha256: e.sha256,
    collected_at: e.collectedAt,
    stored_at: e.storedAt,
    meta: e.meta,
    ...(custody ? { custody } : {}),
  };
}

const CollectBody = z
  .strictObject({
    pid: z
      .number()
      .int()
      .min(1)
      .max(4_194_304)
      .optional()
      .describe("One process (default: every process the incident's findings name)"),
    include: z.array(z.enum(COLLECT_ITEMS)).min(1).max(COLLECT_ITEMS.length).optional(),
    memory_max_bytes: z
      .number()
      .int()
      .min(0)
      .max(16 * 1024 ** 3)
      .optional()
      .describe('Memory of all targets together is cut here (default 256 MiB)'),
  })
  .optional();

const EradicateBody = z
  .strictObject({
    pid: z.number().int().min(1).max(4_194_304).optional(),
    steps: z
      .array(z.enum(ERADICATE_STEPS))
      .min(1)
      .max(ERADICATE_STEPS.length)
      .optional()
      .describe('Default: suspend, kill, quarantine, remove_persistence'),
    watch_s: z
      .number()
      .int()
      .min(1)
      .max(30 * 86_400)
      .optional()
      .describe("How long to watch the host after a verified clean-up (default: the server's, 30 min)"),
  })
  .optional();

const TaskParams = z.strictObject({
  id: z.string().min(1).max(200),
  task: z.string().regex(TASK_ID, 'a task id (task_…)'),
});
const EvidenceParams = z.strictObject({ id: z.string().regex(EVIDENCE_ID, 'an evidence id (ev_…)') });

function ownHost(hostId: string | undefined, id: string): void {
  if (hostId !== id)
    throw new ApiError('DEMINER_FOREIGN_HOST', 'an agent works for its own host only', { field: 'id' });
}

/** SHA-256 of a stored file, read again. */
async function hashFile(path: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(path), h);
  return h.digest('hex');
}

/** The tasks an agent is handed with its heartbeat answer. */
export async function tasksForHeartbeat(deps: ServerDeps, hostId: string): Promise<TaskRecord[]> {
  return deps.store.tasks.claim(hostId, {
    limit: 4,
    staleBefore: new Date(Date.now() - STALE_TASK_MS).toISOString(),
  });
}

export function taskRoutes(
  deps: ServerDeps,
  response: IncidentResponse,
  evidenceDir: string | null,
): ApiRoute[] {
  const store = deps.store;
  const needDir = (): string => {
    if (evidenceDir === null)
      throw new ApiError(
        'DEMINER_UNAVAILABLE',
        'this server keeps no evidence: start it with a data folder (--data) or --evidence DIR',
      );
    return evidenceDir;
  };
  const incidentExists = async (id: string) => {
    if (!(await store.incidents.get(id)))
      throw new ApiError('DEMINER_NOT_FOUND', 'no incident has this id', { field: 'id' });
  };

  return [
    defineRoute({
      method: 'POST',
      url: '/incidents/:id/evidence',
      operationId: 'collectEvidence',
      summary:
        "Collect evidence on the incident's host through its agent: process details, executable, memory, persistence entries, miner config",
      action: 'incidents.evidence.collect',
      access: ROLE_SETS.acknowledge,
      params: IncidentParams,
      body: CollectBody,
      status: 202,
      response: { description: 'The task, queued for the agent', schema: TaskSchema },
      errors: {
        404: 'No incident has this id',
        422: 'The incident names no host, its host has no agent, or it is closed',
        503: 'The server keeps no evidence',
      },
      async handler({ params, body, auth, state }) {
        const who = caller(auth);
        needDir();
        state.target = params.id;
        const task = await mapped(() => response.collect(params.id, body ?? {}, who.id));
        state.detail = { task: task.id, host: task.hostName };
        return apiTask(task);
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/incidents/:id/eradicate',
      operationId: 'eradicate',
      summary:
        "Clean the incident's host through its agent: suspend, then kill the miner's process tree, quarantine its binary, remove its persistence; each step verified",
      action: 'incidents.eradicate',
      access: ROLE_SETS.acknowledge,
      params: IncidentParams,
      body: EradicateBody,
      status: 202,
      response: { description: 'The task, queued for the agent', schema: TaskSchema },
      errors: {
        404: 'No incident has this id',
        422: 'The incident names no host, no process and no persistence entry, its host has no agent, or it is closed',
      },
      async handler({ params, body, auth, state }) {
        const who = caller(auth);
        state.target = params.id;
        const task = await mapped(() => response.eradicate(params.id, body ?? {}, who.id));
        state.detail = { task: task.id, host: task.hostName, steps: task.params['steps'] };
        return apiTask(task);
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/incidents/:id/tasks',
      operationId: 'incidentTasks',
      summary:
        'The evidence and eradication tasks of an incident, newest first, with what the agent reported',
      action: 'incidents.tasks',
      access: ROLE_SETS.read,
      params: IncidentParams,
      status: 200,
      response: {
        description: 'The tasks, and the watch period in force',
        schema: z.object({
          items: z.array(TaskSchema),
          watch: z.object({ until: z.string(), task: z.string() }).nullable(),
        }),
      },
      errors: { 404: 'No incident has this id' },
      async handler({ params }) {
        await incidentExists(params.id);
        const items = await store.tasks.list({ incidentId: params.id });
        return { items: items.map(apiTask), watch: (await response.watching(params.id)) ?? null };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/incidents/:id/evidence',
      operationId: 'incidentEvidence',
      summary: 'The evidence collected for an incident, with hashes and chain of custody',
      action: 'incidents.evidence',
      access: ROLE_SETS.read,
      params: IncidentParams,
      status: 200,
      response: {
        description: 'The evidence, oldest first',
        schema: z.object({ items: z.array(EvidenceSchema) }),
      },
      errors: { 404: 'No incident has this id' },
      async handler({ params }) {
        await incidentExists(params.id);
        const items = await store.tasks.listEvidence({ incidentId: params.id });
        return {
          items: await Promise.all(items.map(async (e) => apiEvidence(e, await store.tasks.custody(e.id)))),
        };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/evidence/:id',
      operationId: 'downloadEvidence',
      summary:
        'Download a piece of evidence (analysts): its SHA-256 is computed again first and must match the one recorded when it was stored; the download goes into its chain of custody',
      action: 'evidence.download',
      access: ROLE_SETS.acknowledge,
      params: EvidenceParams,
      status: 200,
      response: {
        description: 'The bytes (X-Deminer-SHA256 says their hash)',
        contentType: 'application/octet-stream',
      },
      errors: {
        404: 'No evidence has this id',
        409: 'DEMINER_EVIDENCE_ALTERED: the stored file no longer matches its hash (recorded in the chain of custody)',
      },
      async handler({ params, auth, reply, state }) {
        const who = caller(auth);
        const dir = needDir();
        state.target = params.id;
        const e = await store.tasks.getEvidence(params.id);
        if (!e) throw new ApiError('DEMINER_NOT_FOUND', 'no evidence has this id', { field: 'id' });
        const path = join(dir, e.path);
        let actual: string;
        try {
          actual = await hashFile(path);
        } catch {
          actual = 'missing';
        }
        const actor = `${who.name} (${who.id})`;
        if (actual !== e.sha256) {
          await store.tasks.addCustody(e.id, {
            actor,
            action: 'hash_mismatch',
            detail: { expected: e.sha256, actual },
          });
          throw new ApiError(
            'DEMINER_EVIDENCE_ALTERED',
            actual === 'missing'
              ? 'the stored file of this evidence is gone'
              : `the stored file no longer matches its SHA-256 (${e.sha256}): not sent`,
          );
        }
        await store.tasks.addCustody(e.id, {
          actor,
          action: 'downloaded',
          detail: { sha256: actual, verified: true },
        });
        reply.header('content-type', 'application/octet-stream');
        reply.header('x-deminer-sha256', e.sha256);
        reply.header('content-disposition', `attachment; filename="${e.id}-${e.kind}.bin"`);
        return reply.code(200).send(createReadStream(path));
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/evidence/:id/custody',
      operationId: 'evidenceCustody',
      summary:
        'The chain of custody of a piece of evidence: who collected, stored and downloaded it, and when',
      action: 'evidence.custody',
      access: ROLE_SETS.read,
      params: EvidenceParams,
      status: 200,
      response: { description: 'The evidence with its custody, oldest entry first', schema: EvidenceSchema },
      errors: { 404: 'No evidence has this id' },
      async handler({ params }) {
        const e = await store.tasks.getEvidence(params.id);
        if (!e) throw new ApiError('DEMINER_NOT_FOUND', 'no evidence has this id', { field: 'id' });
        return apiEvidence(e, await store.tasks.custody(e.id));
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/hosts/:id/tasks/:task/evidence',
      operationId: 'uploadEvidence',
      summary:
        'An agent uploads one piece of evidence for a task it runs (raw bytes, application/octet-stream); the server hashes what it stores and refuses a mismatch',
      action: 'hosts.tasks.evidence',
      access: ROLE_SETS.agent,
      params: TaskParams,
      query: EvidenceUploadQuerySchema,
      status: 201,
      response: { description: 'The evidence as stored', schema: EvidenceSchema },
      errors: {
        403: 'Another host than the agent’s own',
        404: 'This host has no running task with this id',
        413: 'Over the size limit',
        422: 'The bytes do not match the SHA-256 the agent sent',
      },
      async handler({ req, params, query, auth, state }) {
        const who = caller(auth);
        ownHost(who.hostId, params.id);
        const dir = needDir();
        state.target = params.task;
        const task = await store.tasks.get(params.task);
        if (!task || task.hostId !== params.id || task.state !== 'running')
          throw new ApiError('DEMINER_NOT_FOUND', 'this host has no running task with this id', {
            field: 'task',
          });
        const stream = req.body as Readable | undefined;
        if (!stream || typeof (stream as Readable).pipe !== 'function')
          throw new ApiError('DEMINER_UNSUPPORTED_MEDIA_TYPE', 'send the bytes as application/octet-stream');
        const id = `ev_${randomBytes(8).toString('hex')}`;
        const rel = join(task.hostId.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 100), `${id}.bin`);
        const path = join(dir, rel);
        mkdirSync(join(dir, rel, '..'), { recursive: true, mode: 0o700 });
        const partial = `${path}.part`;
        const h = createHash('sha256');
        let bytes = 0;
        try {
          await pipeline(
            stream,
            async function* (source: AsyncIterable<Buffer>) {
              for await (const chunk of source) {
                bytes += chunk.length;
                if (bytes > MAX_EVIDENCE_BYTES)
                  throw new ApiError('DEMINER_BODY_TOO_LARGE', `evidence over ${MAX_EVIDENCE_BYTES} bytes`);
                h.update(chunk);
                yield chunk;
              }
            },
            createWriteStream(partial, { mode: 0o400 }),
          );
        } catch (e) {
          rmSync(partial, { force: true });
          throw e;
        }
        const sha256 = h.digest('hex');
        if (sha256 !== query.sha256) {
          rmSync(partial, { force: true });
          throw new ApiError(
            'DEMINER_UNPROCESSABLE',
            `the ${bytes} bytes received hash to ${sha256}, not ${query.sha256}: not stored`,
            { field: 'sha256' },
          );
        }
        renameSync(partial, path);
        const rec = await store.tasks.addEvidence(
          {
            id,
            taskId: task.id,
            incidentId: task.incidentId,
            hostId: task.hostId,
            hostName: task.hostName,
            kind: query.kind,
            name: query.name,
            bytes,
            sha256,
            path: rel,
            meta: query.pid === undefined ? {} : { pid: query.pid },
            collectedAt: Number.isNaN(Date.parse(query.collected_at))
              ? new Date().toISOString()
              : new Date(query.collected_at).toISOString(),
          },
          { agent: `agent:${task.hostName} (${who.id})`, server: `server (${deps.version})` },
        );
        state.detail = { task: task.id, evidence: id, kind: query.kind, bytes, sha256 };
        return apiEvidence(rec);
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/hosts/:id/tasks/:task/result',
      operationId: 'reportTask',
      summary: 'An agent reports how a task ended: every step, and whether it was verified',
      action: 'hosts.tasks.result',
      access: ROLE_SETS.agent,
      params: TaskParams,
      body: TaskResultSchema,
      status: 200,
      response: { description: 'The task as it now stands', schema: TaskSchema },
      errors: { 403: 'Another host than the agent’s own', 404: 'This host has no running task with this id' },
      async handler({ params, body, auth, state }) {
        const who = caller(auth);
        ownHost(who.hostId, params.id);
        state.target = params.task;
        const task = await store.tasks.finish(params.task, params.id, {
          state: body.ok ? 'done' : 'failed',
          result: body,
        });
        if (!task)
          throw new ApiError('DEMINER_NOT_FOUND', 'this host has no running task with this id', {
            field: 'task',
          });
        state.detail = { task: task.id, ok: body.ok, steps: body.steps.length };
        await response.onTaskEnded(task, body);
        return apiTask(task);
      },
    }),
  ];
}
