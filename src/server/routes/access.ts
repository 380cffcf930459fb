import type { FastifyRequest } from 'fastify';
import { canonicalHostName } from '../../core/host-identity.ts';
import type { ServerDeps } from '../deps.ts';
import { ApiError } from '../errors.ts';
import { apiAudit, apiEnrolment, apiToken } from '../present.ts';
import { type ApiRoute, caller, defineRoute, ROLE_SETS } from '../route.ts';
import {
  AuditPage,
  AuditQuery,
  EnrolBody,
  EnrolmentCreateBody,
  EnrolmentCreated,
  EnrolmentsList,
  EnrolResponse,
  IdParams,
  TokenCreateBody,
  TokenCreated,
  TokensList,
  WhoamiSchema,
} from '../schemas.ts';
import { publishIfChanged } from './hosts.ts';

const DAY_S = 86_400;

/** Who may talk to the server: enrolment of agents, tokens, and the audit log of it all. */
export function accessRoutes(deps: ServerDeps): ApiRoute[] {
  const { store } = deps;
  return [
    defineRoute({
      method: 'POST',
      url: '/enrolments',
      operationId: 'createEnrolment',
      summary: 'A secret agents trade for their own token (deminer agent --enroll SECRET)',
      action: 'enrolments.create',
      access: ROLE_SETS.admin,
      body: EnrolmentCreateBody,
      status: 201,
      response: {
        description: 'The secret (shown once) and the command that installs an agent with it',
        schema: EnrolmentCreated,
      },
      async handler({ req, body, auth, state }) {
        const who = caller(auth);
        const expiresAt = new Date(Date.now() + (body.expires_in_s ?? DAY_S) * 1000).toISOString();
        const { secret, record } = await store.createEnrolment({
          expiresAt,
          uses: body.uses ?? 1,
          createdBy: who.id,
        });
        state.target = record.id;
        state.detail = { uses: record.usesLeft, expires_at: record.expiresAt };
        return {
          id: record.id,
          secret,
          expires_at: record.expiresAt,
          uses_left: record.usesLeft,
          install_command: installCommand(req, secret),
        };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/enrolments',
      operationId: 'listEnrolments',
      summary: 'Every enrolment secret issued, newest first (never the secret itself)',
      action: 'enrolments.list',
      access: ROLE_SETS.admin,
      status: 200,
      response: { description: 'Enrolments', schema: EnrolmentsList },
      async handler() {
        const now = Date.now();
        return { items: (await store.listEnrolments()).map((e) => apiEnrolment(e, now)), next: null };
      },
    }),
    defineRoute({
      method: 'DELETE',
      url: '/enrolments/:id',
      operationId: 'deleteEnrolment',
      summary:
        'Withdraw an enrolment secret: it no longer enrols (agents that enrolled with it keep their tokens)',
      action: 'enrolments.delete',
      access: ROLE_SETS.admin,
      params: IdParams,
      status: 204,
      response: { description: 'Deleted' },
      errors: { 404: 'No enrolment has this id' },
      async handler({ params, reply, state }) {
        state.target = params.id;
        if (!(await store.deleteEnrolment(params.id))) {
          throw new ApiError('DEMINER_NOT_FOUND', 'no enrolment has this id', { field: 'id' });
        }
        return reply.code(204).send();
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/enrol',
      operationId: 'enrol',
      summary: 'An agent trades an enrolment secret for a token bound to its host (no bearer token)',
      action: 'enrol',
      access: 'enrol',
      body: EnrolBody,
      status: 201,
      response: { description: 'The agent token (shown once) and its host', schema: EnrolResponse },
      errors: { 401: 'The secret is unknown, expired or used up' },
      async handler({ req, body, state }) {
        const h = body.host;
        const result = await store.enrol(body.secret, {
          name: canonicalHostName(h.name),
          ...(h.os === undefined ? {} : { os: h.os }),
          ...(h.kernel === undefined ? {} : { kernel: h.kernel }),
          ...(h.addresses === undefined ? {} : { addresses: h.addresses }),
          ...(h.agent_version === undefined ? {} : { agentVersion: h.agent_version }),
          ...(h.cpus === undefined ? {} : { cpus: h.cpus }),
          ...(h.watts_per_core === undefined ? {} : { wattsPerCore: h.watts_per_core }),
        });
        if (!result) {
          // A wrong secret is a failed authentication: it counts towards the address's limit.
          deps.limiter.fail(req.ip);
          throw new ApiError(
            'DEMINER_ENROLMENT_INVALID',
            'the enrolment secret is unknown, expired or used up',
          );
        }
        state.actor = 'enrolment';
        state.target = result.host.id;
        state.detail = { host: result.host.name };
        publishIfChanged(deps, undefined, result.host);
        return { token: result.token, host: { id: result.host.id, name: result.host.name } };
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/tokens',
      operationId: 'createToken',
      summary: 'A new bearer token (shown once)',
      action: 'tokens.create',
      access: ROLE_SETS.admin,
      body: TokenCreateBody,
      status: 201,
      response: { description: 'The token', schema: TokenCreated },
      errors: { 422: 'An agent token needs the id of a known host' },
      async handler({ body, state }) {
        if (body.role === 'agent') {
          const host = body.host_id === undefined ? undefined : await store.getHost(body.host_id);
          if (!host) {
            throw new ApiError(
              'DEMINER_UNPROCESSABLE',
              'an agent token needs host_id, the id of a known host',
              {
                field: 'host_id',
              },
            );
          }
        } else if (body.host_id !== undefined) {
          throw new ApiError('DEMINER_UNPROCESSABLE', 'host_id applies to agent tokens only', {
            field: 'host_id',
          });
        }
        const { token, record } = await store.createToken({
          role: body.role,
          name: body.name,
          ...(body.host_id === undefined ? {} : { hostId: body.host_id }),
        });
        state.target = record.id;
        state.detail = { role: record.role, name: record.name };
        return { id: record.id, token, role: record.role, name: record.name };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/tokens',
      operationId: 'listTokens',
      summary: 'Every token (never the token itself)',
      action: 'tokens.list',
      access: ROLE_SETS.admin,
      status: 200,
      response: { description: 'Tokens', schema: TokensList },
      async handler() {
        return { items: (await store.listTokens()).map(apiToken), next: null };
      },
    }),
    defineRoute({
      method: 'DELETE',
      url: '/tokens/:id',
      operationId: 'revokeToken',
      summary: 'Revoke a token',
      action: 'tokens.revoke',
      access: ROLE_SETS.admin,
      params: IdParams,
      status: 204,
      response: { description: 'Revoked' },
      errors: { 404: 'No token has this id' },
      async handler({ params, reply, state }) {
        state.target = params.id;
        if (!(await store.revokeToken(params.id))) {
          throw new ApiError('DEMINER_NOT_FOUND', 'no token has this id', { field: 'id' });
        }
        return reply.code(204).send();
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/whoami',
      operationId: 'whoami',
      summary: "The caller's token: its id, role and name (people's roles only)",
      action: 'whoami',
      access: ROLE_SETS.read,
      status: 200,
      response: { description: 'The token', schema: WhoamiSchema },
      async handler({ auth }) {
        const who = caller(auth);
        return { id: who.id, role: who.role, name: who.name };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/audit',
      operationId: 'listAudit',
      summary: 'The audit log: every change and every refused request, newest first',
      action: 'audit.list',
      access: ROLE_SETS.admin,
      query: AuditQuery,
      status: 200,
      response: { description: 'One page of audit entries', schema: AuditPage },
      async handler({ query }) {
        const page = await store.listAudit(query);
        return { items: page.items.map(apiAudit), next: page.next };
      },
    }),
  ];
}

/** A Host header a shell takes as one plain word: a name or an IPv4/IPv6 address, and a port. */
const PLAIN_HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;

/**
 * The line an admin pastes on a Linux host to install the agent as a
 * service (`deminer agent install`, src/cli/agent.ts) enrolled with this
 * secret, pointed at this server the way the request reached it (scheme
 * and Host header, or X-Forwarded-* behind a trusted proxy). A Host that
 * is not a plain name is shell-quoted rather than pasted as is.
 */
export function installCommand(req: FastifyRequest, secret: string): string {
  const url = `${req.protocol}://${req.host}`;
  const server = PLAIN_HOST.test(req.host) ? url : `'${url.replaceAll("'", "'\\''")}'`;
  return `sudo npx deminer agent install --server ${server} --enroll ${secret}`;
}
