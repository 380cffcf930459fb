import { z } from 'zod';
import { IsolationReportSchema } from '../../respond/isolate/agent-protocol.ts';
import { IsolationRequestError } from '../../respond/isolate/service.ts';
import { ISOLATION_STATES, type IsolationAction, type IsolationRecord } from '../../store/types.ts';
import type { ServerDeps } from '../deps.ts';
import { ApiError } from '../errors.ts';
import { type ApiRoute, caller, defineRoute, ROLE_SETS } from '../route.ts';
import { IdParams } from '../schemas.ts';

/**
 * Isolation through the API (issue 16): analysts and admins isolate and
 * release hosts and approve what waits for approval; everyone who reads
 * sees where each isolation stands and its action log (also in the audit
 * log); an agent reports what its own firewall did. The work itself is the
 * responder's (src/respond/isolate/service.ts), which the server runs.
 */

const MAX_TTL_S = 30 * 86_400;

export const IsolateBody = z
  .strictObject({
    backend: z
      .string()
      .min(1)
      .max(64)
      .optional()
      .describe("A backend configured on the server (default: the server's default backend)"),
    address: z
      .string()
      .min(1)
      .max(64)
      .optional()
      .describe("The address to isolate (default: the host's one routable address)"),
    reason: z.string().min(1).max(1000).optional().describe('Why: a finding fingerprint, or a few words'),
    ttl_s: z
      .number()
      .int()
      .min(1)
      .max(MAX_TTL_S)
      .optional()
      .describe("Released after this many seconds unless renewed (default: the server's, else never)"),
    dry_run: z
      .boolean()
      .optional()
      .describe('Answer the exact requests or commands it would send, and send nothing'),
  })
  .optional();

export const ReleaseBody = z.strictObject({ reason: z.string().min(1).max(1000).optional() }).optional();

const ActionSchema = z.object({
  seq: z.number().int(),
  at: z.string(),
  kind: z
    .string()
    .describe(
      'request, approve, apply, exchange (a request or command and its answer), retry, verify, error, release, expire, report (an agent), withdraw, resume',
    ),
  actor: z.string(),
  outcome: z.string().describe("'ok', or an error code or status"),
  detail: z.record(z.string(), z.unknown()).optional(),
});

export const IsolationSchema = z.object({
  id: z.string(),
  host_id: z.string(),
  host_name: z.string(),
  state: z.enum(ISOLATION_STATES),
  backend: z.string(),
  target: z.string().nullable().describe('The address isolated'),
  requested_by: z.string().describe('The token name of whoever asked, or policy:<rule id>'),
  reason: z.string().nullable().describe('The fingerprint of the finding that asked, or free text'),
  approval: z.enum(['not_required', 'pending', 'approved']),
  approved_by: z.string().nullable(),
  approved_at: z.string().nullable(),
  ttl_s: z.number().int().nullable(),
  expires_at: z.string().nullable().describe('Released then unless renewed (set once isolated)'),
  attempts: z.number().int().describe('Attempts sent to the device or controller, retries included'),
  last_error: z.object({ code: z.string(), message: z.string() }).nullable(),
  failed_action: z.enum(['isolate', 'release']).nullable(),
  verification: z.record(z.string(), z.unknown()).nullable().describe('The last read-back'),
  created_at: z.string(),
  updated_at: z.string(),
  isolated_at: z.string().nullable(),
  released_at: z.string().nullable(),
  released_by: z.string().nullable(),
  actions: z.array(ActionSchema).optional().describe('The action log, oldest first'),
});
export type ApiIsolation = z.output<typeof IsolationSchema>;

const PlannedSchema = z.object({
  dry_run: z.literal(true),
  host_id: z.string(),
  backend: z.string(),
  target: z.string(),
  approval_required: z.boolean(),
  plan: z.array(z.record(z.string(), z.unknown())).describe('Every request or command, in order, as sent'),
});

const IsolationsQuery = z.strictObject({
  state: z
    .string()
    .transform((s) => s.split(',').map((x) => x.trim()))
    .pipe(z.array(z.enum(ISOLATION_STATES)).min(1))
    .optional()
    .describe('Comma-separated states'),
  host: z.string().min(1).max(200).optional().describe('A host id'),
  limit: z.coerce.number().int().min(1).max(500).optional(),
  cursor: z.string().min(1).max(1000).optional(),
});

export function apiIsolation(r: IsolationRecord, actions?: readonly IsolationAction[]): ApiIsolation {
  return {
    id: r.id,
    host_id: r.hostId,
    host_name: r.hostName,
    state: r.state,
    backend: r.backend,
    target: r.target ?? null,
    requested_by: r.requestedBy,
    reason: r.reason ?? null,
    approval: r.approval,
    approved_by: r.approvedBy ?? null,
    approved_at: r.approvedAt ?? null,
    ttl_s: r.ttlS ?? null,
    expires_at: r.expiresAt ?? null,
    attempts: r.attempts,
    last_error: r.lastError ?? null,
    failed_action: r.failedAction ?? null,
    verification: r.verification ?? null,
    created_at: r.createdAt,
    updated_at: r.updatedAt,
    isolated_at: r.isolatedAt ?? null,
    released_at: r.releasedAt ?? null,
    released_by: r.releasedBy ?? null,
    ...(actions
      ? {
          actions: actions.map((a) => ({
            seq: a.seq,
            at: a.at,
            kind: a.kind,
            actor: a.actor,
            outcome: a.outcome,
            ...(a.detail ? { detail: a.detail } : {}),
          })),
        }
      : {}),
  };
}

/** The responder's refusals as the API's errors (the message names the entry, backend or address). */
function apiError(e: unknown): unknown {
  if (!(e instanceof IsolationRequestError)) return e;
  const field = e.field === undefined ? {} : { field: e.field };
  switch (e.status) {
    case 404:
      return new ApiError('DEMINER_NOT_FOUND', e.message, field);
    case 409:
      return new ApiError('DEMINER_CONFLICT', e.message, field);
    case 403:
      return new ApiError('DEMINER_FORBIDDEN', e.message, field);
    default:
      return new ApiError('DEMINER_UNPROCESSABLE', e.message, field);
  }
}

async function mapped<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    throw apiError(e);
  }
}

export function isolationRoutes(deps: ServerDeps): ApiRoute[] {
  const { store, isolation } = deps;
  return [
    defineRoute({
      method: 'POST',
      url: '/hosts/:id/isolate',
      operationId: 'isolateHost',
      summary:
        "Isolate a host through the server's backend (switch, SDN controller, or its own firewall through its agent)",
      action: 'hosts.isolate',
      access: ROLE_SETS.acknowledge,
      params: IdParams,
      body: IsolateBody,
      status: 202,
      response: {
        description:
          'The isolation (202: under way, or waiting for approval; 200: the host was isolated already, or a dry run with its plan)',
        schema: z.union([IsolationSchema, PlannedSchema]),
      },
      errors: {
        404: 'No host has this id',
        409: 'The isolation is being released, or failed through another backend',
        422: 'The address is on the never-isolate list (the entry is named), no backend is configured or the one named is not, or the host has no single routable address',
      },
      async handler({ params, body, auth, state, reply }) {
        const who = caller(auth);
        const b = body ?? {};
        state.target = params.id;
        const out = await mapped(
          isolation.request({
            hostId: params.id,
            ...(b.backend === undefined ? {} : { backend: b.backend }),
            ...(b.address === undefined ? {} : { address: b.address }),
            ...(b.reason === undefined ? {} : { reason: b.reason }),
            ...(b.ttl_s === undefined ? {} : { ttlS: b.ttl_s }),
            ...(b.dry_run === undefined ? {} : { dryRun: b.dry_run }),
            actor: { id: who.id, name: who.name },
          }),
        );
        if (out.kind === 'planned') {
          state.detail = {
            dry_run: true,
            backend: out.backend,
            target: out.target.ip,
            steps: out.plan.length,
          };
          return reply.code(200).send({
            dry_run: true,
            host_id: out.hostId,
            backend: out.backend,
            target: out.target.ip,
            approval_required: out.approvalRequired,
            plan: out.plan,
          });
        }
        state.detail = {
          isolation_id: out.record.id,
          backend: out.record.backend,
          target: out.record.target,
          state: out.record.state,
          created: out.created,
        };
        const already = !out.created && out.record.state === 'isolated';
        return reply.code(already ? 200 : 202).send(apiIsolation(out.record));
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/hosts/:id/release',
      operationId: 'releaseHost',
      summary: "Undo a host's isolation (or withdraw a request still waiting for approval)",
      action: 'hosts.release',
      access: ROLE_SETS.acknowledge,
      params: IdParams,
      body: ReleaseBody,
      status: 202,
      response: {
        description: 'The isolation (202: being released; 200: released already, or withdrawn)',
        schema: IsolationSchema,
      },
      errors: { 404: 'No host has this id, or it was never isolated' },
      async handler({ params, body, auth, state, reply }) {
        const who = caller(auth);
        state.target = params.id;
        const rec = await mapped(isolation.release(params.id, { id: who.id, name: who.name }));
        state.detail = {
          isolation_id: rec.id,
          state: rec.state,
          ...(body?.reason === undefined ? {} : { reason: body.reason }),
        };
        return reply.code(rec.state === 'released' ? 200 : 202).send(apiIsolation(rec));
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/hosts/:id/isolation',
      operationId: 'getHostIsolation',
      summary: "The host's isolation (the one not released, else the newest) with its action log",
      action: 'hosts.isolation',
      access: ROLE_SETS.read,
      params: IdParams,
      status: 200,
      response: {
        description: '`isolation` is null for a host never isolated',
        schema: z.object({
          isolation: IsolationSchema.nullable(),
          backends: z.array(z.string()).describe('The backends a request may name'),
          default_backend: z.string().nullable(),
        }),
      },
      errors: { 404: 'No host has this id' },
      async handler({ params }) {
        const host = await store.getHost(params.id);
        if (!host) throw new ApiError('DEMINER_NOT_FOUND', 'no host has this id', { field: 'id' });
        const rec = await store.currentIsolation(host.id);
        return {
          isolation: rec ? apiIsolation(rec, await store.listIsolationActions(rec.id)) : null,
          backends: isolation.backends,
          default_backend: isolation.settings.defaultBackend ?? null,
        };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/isolations',
      operationId: 'listIsolations',
      summary: 'Isolations, newest first',
      action: 'isolations.list',
      access: ROLE_SETS.read,
      query: IsolationsQuery,
      status: 200,
      response: {
        description: 'One page of isolations',
        schema: z.object({ items: z.array(IsolationSchema), next: z.string().nullable() }),
      },
      async handler({ query }) {
        const page = await store.listIsolations({
          ...(query.state === undefined ? {} : { state: query.state }),
          ...(query.host === undefined ? {} : { hostId: query.host }),
          ...(query.limit === undefined ? {} : { limit: query.limit }),
          ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
        });
        return { items: page.items.map((r) => apiIsolation(r)), next: page.next };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/isolations/:id',
      operationId: 'getIsolation',
      summary: 'One isolation with its action log',
      action: 'isolations.get',
      access: ROLE_SETS.read,
      params: IdParams,
      status: 200,
      response: { description: 'The isolation', schema: IsolationSchema },
      errors: { 404: 'No isolation has this id' },
      async handler({ params }) {
        const rec = await store.getIsolation(params.id);
        if (!rec) throw new ApiError('DEMINER_NOT_FOUND', 'no isolation has this id', { field: 'id' });
        return apiIsolation(rec, await store.listIsolationActions(rec.id));
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/isolations/:id/approve',
      operationId: 'approveIsolation',
      summary: 'Approve an isolation waiting for approval: it is sent at once',
      action: 'isolations.approve',
      access: ROLE_SETS.acknowledge,
      params: IdParams,
      status: 202,
      response: { description: 'The isolation, under way', schema: IsolationSchema },
      errors: { 404: 'No isolation has this id', 409: 'It waits for no approval' },
      async handler({ params, auth, state }) {
        const who = caller(auth);
        state.target = params.id;
        const rec = await mapped(isolation.approve(params.id, { id: who.id, name: who.name }));
        state.detail = { host_id: rec.hostId, state: rec.state };
        return apiIsolation(rec);
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/hosts/:id/isolation/report',
      operationId: 'reportIsolation',
      summary: "An agent reports what its host's firewall did about an isolation (its own host only)",
      action: 'hosts.isolation.report',
      access: ROLE_SETS.agent,
      params: IdParams,
      body: IsolationReportSchema,
      status: 200,
      response: { description: 'The isolation as it now stands', schema: IsolationSchema },
      errors: { 403: 'Another host than the agent’s own', 404: 'No isolation of this host has this id' },
      async handler({ params, body, auth, state }) {
        const who = caller(auth);
        state.target = params.id;
        if (who.hostId !== params.id)
          throw new ApiError('DEMINER_FOREIGN_HOST', 'an agent reports for its own host only', {
            field: 'id',
          });
        state.detail = {
          isolation_id: body.isolation_id,
          action: body.action,
          ok: body.ok,
          outcome: body.outcome,
        };
        return apiIsolation(await mapped(isolation.report(params.id, body)));
      },
    }),
  ];
}
