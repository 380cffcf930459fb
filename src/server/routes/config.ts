import { createHash } from 'node:crypto';
import { DeminerError } from '../../core/errors.ts';
import { parseAllowlist } from '../../detect/host/allowlist/parse.ts';
import type { AgentSettings } from '../../store/types.ts';
import type { ServerDeps } from '../deps.ts';
import { ApiError, clip } from '../errors.ts';
import { apiAgentConfig } from '../present.ts';
import { type ApiRoute, caller, defineRoute, ROLE_SETS } from '../route.ts';
import { AgentConfigBody, AgentConfigResponse } from '../schemas.ts';

/**
 * The fleet's agent configuration, tuned in one place: what every agent is
 * handed at heartbeat (scan interval, allow-list, rules never to report).
 * Until an admin stores one, the server's default applies (`deminer up
 * --interval`, else 10 s); once stored, it wins.
 */
export function configRoutes(deps: ServerDeps): ApiRoute[] {
  const { store } = deps;
  return [
    defineRoute({
      method: 'GET',
      url: '/agent-config',
      operationId: 'getAgentConfig',
      summary: 'The configuration every agent is handed at heartbeat',
      action: 'agent-config.get',
      access: ROLE_SETS.read,
      status: 200,
      response: { description: 'The configuration, and who set it when', schema: AgentConfigResponse },
      async handler() {
        return apiAgentConfig(await store.getAgentConfig(), deps.agentConfig);
      },
    }),
    defineRoute({
      method: 'PUT',
      url: '/agent-config',
      operationId: 'setAgentConfig',
      summary: 'Replace the configuration every agent is handed at heartbeat (what is left out is unset)',
      action: 'agent-config.set',
      access: ROLE_SETS.admin,
      body: AgentConfigBody,
      status: 200,
      response: { description: 'The stored configuration', schema: AgentConfigResponse },
      errors: {
        400: 'Malformed input (the field is named), or an allow-list that does not parse (DEMINER_BAD_ALLOWLIST; the message names the line)',
      },
      async handler({ body, auth, state }) {
        state.target = 'agent-config';
        // Refused here, with its line, rather than by every agent of the fleet at its next heartbeat.
        const entries = body.allowlist === undefined ? undefined : checkAllowlist(body.allowlist);
        const config: AgentSettings = { intervalS: body.interval_s };
        if (body.allowlist !== undefined) config.allowlist = body.allowlist;
        if (body.never_alert !== undefined) config.neverAlert = body.never_alert;
        const stored = await store.setAgentConfig(config, caller(auth).id);
        // The audit entry says what changed in size and fingerprint; the lists themselves may be large.
        state.detail = {
          interval_s: body.interval_s,
          never_alert: body.never_alert?.length ?? 0,
          ...(body.allowlist === undefined
            ? {}
            : {
                allowlist_entries: entries,
                allowlist_sha256: createHash('sha256').update(body.allowlist).digest('hex'),
              }),
        };
        if (deps.hub.listening)
          deps.hub.publish('config', { updated_at: stored.updatedAt, updated_by: stored.updatedBy });
        return apiAgentConfig(stored, deps.agentConfig);
      },
    }),
  ];
}

/** The allow-list's entry count, or a 400 naming the line, with the parser the agents use. */
function checkAllowlist(text: string): number {
  try {
    return parseAllowlist(text, 'allowlist').length;
  } catch (e) {
    if (e instanceof DeminerError) {
      const line = /:(\d+)$/.exec(e.location ?? '')?.[1];
      const prefix = e.location === undefined ? '' : `${e.location}: `;
      const why = e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message;
      throw new ApiError(
        'DEMINER_BAD_ALLOWLIST',
        clip(`allowlist${line === undefined ? '' : ` line ${line}`}: ${why} (${e.code})`, 300),
        { field: 'allowlist' },
      );
    }
    // Whatever else the parser trips on (nesting deep enough to exhaust the stack) is still this input's fault.
    throw new ApiError('DEMINER_BAD_ALLOWLIST', 'allowlist: cannot be read as an allow-list', {
      field: 'allowlist',
    });
  }
}
