import type { HostRecord, MetricSample } from '../../store/types.ts';
import type { ServerDeps } from '../deps.ts';
import { ApiError } from '../errors.ts';
import { apiAgentConfig, apiHost, apiHostItem, apiMetric } from '../present.ts';
import { type ApiRoute, caller, defineRoute, ROLE_SETS } from '../route.ts';
import {
  HeartbeatBody,
  HeartbeatResponse,
  HostListItemSchema,
  HostsPage,
  HostsQuery,
  IdParams,
  MAX_FUTURE_MS,
  MetricsAccepted,
  MetricsBody,
  MetricsList,
  MetricsQuery,
} from '../schemas.ts';
import { tasksForHeartbeat } from './tasks.ts';

/** Hosts as people read them, and what agents send about their own host (heartbeats, metrics). */
export function hostRoutes(deps: ServerDeps): ApiRoute[] {
  const { store } = deps;
  return [
    defineRoute({
      method: 'GET',
      url: '/hosts',
      operationId: 'listHosts',
      summary: 'Hosts with their reporting status',
      action: 'hosts.list',
      access: ROLE_SETS.read,
      query: HostsQuery,
      status: 200,
      response: { description: 'One page of hosts', schema: HostsPage },
      async handler({ query }) {
        const page = await store.listHosts(query);
        return { items: await hostItems(deps, page.items), next: page.next };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/hosts/:id',
      operationId: 'getHost',
      summary: 'One host',
      action: 'hosts.get',
      access: ROLE_SETS.read,
      params: IdParams,
      status: 200,
      response: { description: 'The host', schema: HostListItemSchema },
      errors: { 404: 'No host has this id' },
      async handler({ params }) {
        const [item] = await hostItems(deps, [await knownHost(deps, params.id)]);
        return item;
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/hosts/:id/metrics',
      operationId: 'listHostMetrics',
      summary:
        "A host's metrics (CPU, memory, connections per minute): samples as sent where kept, older ones as 5-minute and 1-hour buckets",
      action: 'hosts.metrics',
      access: ROLE_SETS.read,
      params: IdParams,
      query: MetricsQuery,
      status: 200,
      response: { description: 'Metric samples', schema: MetricsList },
      errors: { 404: 'No host has this id' },
      async handler({ params, query }) {
        const host = await knownHost(deps, params.id);
        const samples = await store.listMetrics({ hostId: host.id, ...query });
        return { items: samples.map(apiMetric), next: null };
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/heartbeat',
      operationId: 'heartbeat',
      summary: "An agent's heartbeat: refreshes its host and answers its configuration",
      action: 'hosts.heartbeat',
      access: ROLE_SETS.agent,
      body: HeartbeatBody,
      status: 200,
      response: { description: 'The configuration the agent runs with', schema: HeartbeatResponse },
      async handler({ req, body, auth, state }) {
        const before = await agentHost(deps, caller(auth).hostId);
        deps.isolation.noteHeartbeat(before.id, req.ip);
        const facts = body.host ?? {};
        const after = await store.touchHost({
          id: before.id,
          name: before.name,
          ...(facts.os === undefined ? {} : { os: facts.os }),
          ...(facts.kernel === undefined ? {} : { kernel: facts.kernel }),
          ...(facts.addresses === undefined ? {} : { addresses: facts.addresses }),
          ...(facts.agent_version === undefined ? {} : { agentVersion: facts.agent_version }),
          ...(facts.cpus === undefined ? {} : { cpus: facts.cpus }),
          ...(facts.watts_per_core === undefined ? {} : { wattsPerCore: facts.watts_per_core }),
          agent: true,
          at: new Date().toISOString(),
        });
        state.target = after.id;
        publishIfChanged(deps, before, after);
        // Read at every heartbeat, not cached: servers sharing one database all hand out the latest.
        const isolation = await deps.isolation.directiveFor(after.id);
        const tasks = await tasksForHeartbeat(deps, after.id);
        return {
          config: apiAgentConfig(await store.getAgentConfig(), deps.agentConfig).config,
          ...(isolation ? { isolation } : {}),
          ...(tasks.length > 0
            ? { tasks: tasks.map((t) => ({ id: t.id, kind: t.kind, params: t.params })) }
            : {}),
        };
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/metrics',
      operationId: 'ingestMetrics',
      summary: "An agent's metric samples for its own host",
      action: 'hosts.metrics.ingest',
      access: ROLE_SETS.agent,
      body: MetricsBody,
      status: 202,
      response: { description: 'How many samples were stored', schema: MetricsAccepted },
      errors: { 422: 'A sample time lies more than 5 minutes in the future' },
      async handler({ body, auth, state }) {
        const host = await agentHost(deps, caller(auth).hostId);
        const now = Date.now();
        const samples: MetricSample[] = body.items.map((m, i) => {
          if (Date.parse(m.at) > now + MAX_FUTURE_MS) {
            throw new ApiError(
              'DEMINER_FUTURE_TIMESTAMP',
              `items[${i}].at lies more than 5 minutes in the future`,
              {
                field: `items[${i}].at`,
              },
            );
          }
          const s: MetricSample = { hostId: host.id, at: new Date(m.at).toISOString(), subject: m.subject };
          if (m.cpu !== undefined) s.cpu = m.cpu;
          if (m.memory_bytes !== undefined) s.memoryBytes = m.memory_bytes;
          if (m.connections_per_minute !== undefined) s.connectionsPerMinute = m.connections_per_minute;
          return s;
        });
        if (samples.length > 0) await store.addMetrics(samples);
        state.target = host.id;
        state.detail = { samples: samples.length };
        return { stored: samples.length };
      },
    }),
  ];
}

/** How many CPU samples a host of the list carries for its sparkline. */
const CPU_RECENT = 30;

/** Hosts with their open findings and recent CPU: two reads for the whole page, both by key. */
async function hostItems(deps: ServerDeps, hosts: readonly HostRecord[]) {
  const [open, cpu] = await Promise.all([
    deps.store.openFindingsByHost(hosts.map((h) => h.name)),
    deps.store.recentHostCpu(
      hosts.map((h) => h.id),
      CPU_RECENT,
    ),
  ]);
  const now = Date.now();
  return hosts.map((h) => apiHostItem(h, deps.gaps, open.get(h.name), cpu.get(h.id), now));
}

async function knownHost(deps: ServerDeps, id: string): Promise<HostRecord> {
  const h = await deps.store.getHost(id);
  if (!h) throw new ApiError('DEMINER_NOT_FOUND', 'no host has this id', { field: 'id' });
  return h;
}

async function agentHost(deps: ServerDeps, hostId: string | undefined): Promise<HostRecord> {
  const h = hostId === undefined ? undefined : await deps.store.getHost(hostId);
  if (!h) throw new ApiError('DEMINER_FORBIDDEN', 'this agent token is bound to no known host');
  return h;
}

/** A host event when a host appears or its status changes (a stale host reporting again). */
export function publishIfChanged(deps: ServerDeps, before: HostRecord | undefined, after: HostRecord): void {
  if (!deps.hub.listening) return;
  const now = Date.now();
  const next = apiHost(after, deps.gaps, now);
  if (before && apiHost(before, deps.gaps, now).status === next.status) return;
  deps.hub.publish('host', next);
}
