import { inProcessBus } from '../../bus/in-process.ts';
import { BusUnavailableError, type IngestBus, isQueued } from '../../bus/types.ts';
import type { Finding } from '../../core/finding.ts';
import type { ServerDeps } from '../deps.ts';
import { ApiError, clip } from '../errors.ts';
import { apiFinding } from '../present.ts';
import { type ApiRoute, caller, defineRoute, ROLE_SETS } from '../route.ts';
import {
  AckBody,
  AckResponse,
  FindingsBody,
  FindingsPage,
  FindingsQuery,
  FingerprintParams,
  IdempotencyKey,
  IngestResponse,
  MAX_FUTURE_MS,
  StoredFindingSchema,
} from '../schemas.ts';

export function findingRoutes(deps: ServerDeps, bus: IngestBus = inProcessBus(deps.store)): ApiRoute[] {
  const { store, hub } = deps;
  return [
    defineRoute({
      method: 'POST',
      url: '/findings',
      operationId: 'ingestFindings',
      summary: 'Ingest a batch of findings (all or nothing), de-duplicated by fingerprint',
      action: 'findings.ingest',
      access: ROLE_SETS.ingest,
      body: FindingsBody,
      headers: [
        {
          name: 'Idempotency-Key',
          description: 'A repeated key stores nothing twice (scoped to the token)',
          schema: IdempotencyKey,
          required: false,
        },
      ],
      status: 202,
      response: { description: 'What was stored and what was a duplicate', schema: IngestResponse },
      errors: {
        403: 'An agent sent a finding of another host',
        413: 'The body is larger than the server accepts',
        422: 'A timestamp lies more than 5 minutes in the future',
        503: 'With --nats: the ingest queue did not take the batch (retry)',
      },
      async handler({ req, body, auth, state }) {
        const who = caller(auth);
        const key = idempotencyKey(req.headers['idempotency-key']);
        const items = body.items;
        futureCheck(items);
        if (who.role === 'agent') await ownHostOnly(deps, who.hostId, items);
        const submitted = await bus
          .submit({
            items,
            ...(key === undefined ? {} : { idempotencyKey: `${who.id}:${key}` }),
            actor: who.id,
            at: new Date().toISOString(),
          })
          .catch((e: unknown) => {
            if (!(e instanceof BusUnavailableError)) throw e;
            req.log.error({ err: e }, 'ingest bus unavailable');
            throw new ApiError('DEMINER_UNAVAILABLE', 'the ingest queue is unavailable; try again shortly', {
              headers: { 'retry-after': '5' },
            });
          });
        if (isQueued(submitted)) {
          // A consumer (of this server or another) stores it shortly and tells its stream clients.
          state.detail = {
            items: items.length,
            queued: true,
            ...(key === undefined ? {} : { idempotency_key: key }),
          };
          return { queued: true, stored: 0, duplicates: 0, replayed: false };
        }
        const result = submitted;
        state.detail = {
          items: items.length,
          ...result,
          ...(key === undefined ? {} : { idempotency_key: key }),
        };
        if (!result.replayed && hub.listening) {
          // Stored is stored: a failure to tell stream clients does not fail the ingest.
          await publishFindings(deps, items).catch((e: unknown) =>
            req.log.warn({ err: e }, 'stream publish failed'),
          );
        }
        return { stored: result.stored, duplicates: result.duplicates, replayed: result.replayed };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/findings',
      operationId: 'listFindings',
      summary: 'Findings, filtered and paged (default: last_seen descending)',
      action: 'findings.list',
      access: ROLE_SETS.read,
      query: FindingsQuery,
      status: 200,
      response: { description: 'One page of findings', schema: FindingsPage },
      async handler({ query }) {
        const page = await store.listFindings(query);
        return { items: page.items.map(apiFinding), next: page.next };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/findings/:fingerprint',
      operationId: 'getFinding',
      summary: 'One finding by fingerprint',
      action: 'findings.get',
      access: ROLE_SETS.read,
      params: FingerprintParams,
      status: 200,
      response: { description: 'The finding', schema: StoredFindingSchema },
      errors: { 404: 'No finding has this fingerprint' },
      async handler({ params }) {
        const f = await store.getFinding(params.fingerprint);
        if (!f)
          throw new ApiError('DEMINER_NOT_FOUND', 'no finding has this fingerprint', {
            field: 'fingerprint',
          });
        return apiFinding(f);
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/findings/ack',
      operationId: 'acknowledgeFindings',
      summary: 'Acknowledge findings by fingerprint',
      action: 'findings.acknowledge',
      access: ROLE_SETS.acknowledge,
      body: AckBody,
      status: 200,
      response: { description: 'How many findings were acknowledged', schema: AckResponse },
      async handler({ req, body, auth, state }) {
        const who = caller(auth);
        const acknowledged = await store.acknowledge(body.fingerprints, who.id, new Date().toISOString());
        state.detail = { fingerprints: body.fingerprints.length, acknowledged };
        if (acknowledged > 0 && hub.listening) {
          await publishFingerprints(deps, body.fingerprints).catch((e: unknown) =>
            req.log.warn({ err: e }, 'stream publish failed'),
          );
        }
        return { acknowledged };
      },
    }),
  ];
}

function idempotencyKey(raw: string | string[] | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const r = IdempotencyKey.safeParse(Array.isArray(raw) ? raw.join(', ') : raw);
  if (!r.success) {
    throw new ApiError('DEMINER_VALIDATION', `Idempotency-Key: ${r.error.issues[0]?.message ?? 'invalid'}`, {
      field: 'Idempotency-Key',
    });
  }
  return r.data;
}

/** A clock more than MAX_FUTURE_MS ahead is a broken or lying sender: refuse the batch, naming the first. */
function futureCheck(items: readonly Finding[], now = Date.now()): void {
  for (let i = 0; i < items.length; i++) {
    if (Date.parse(items[i]!['@timestamp']) > now + MAX_FUTURE_MS) {
      throw new ApiError(
        'DEMINER_FUTURE_TIMESTAMP',
        `items[${i}].@timestamp lies more than 5 minutes in the future`,
        {
          field: `items[${i}].@timestamp`,
        },
      );
    }
  }
}

/** An agent writes for the host its token was enrolled for, and for no other. */
async function ownHostOnly(
  deps: ServerDeps,
  hostId: string | undefined,
  items: readonly Finding[],
): Promise<void> {
  const host = hostId === undefined ? undefined : await deps.store.getHost(hostId);
  if (!host) throw new ApiError('DEMINER_FORBIDDEN', 'this agent token is bound to no known host');
  for (let i = 0; i < items.length; i++) {
    const name = items[i]!.host.name;
    if (name !== host.name) {
      throw new ApiError(
        'DEMINER_FOREIGN_HOST',
        `items[${i}].host.name is "${clip(name, 100)}"; this agent writes for "${host.name}" only`,
        { field: `items[${i}].host.name` },
      );
    }
  }
}

/** Sends the stored state (count, first/last seen) of each fingerprint of the batch to stream clients. */
async function publishFindings(deps: ServerDeps, items: readonly Finding[]): Promise<void> {
  await publishFingerprints(deps, [...new Set(items.map((f) => f.fingerprint))]);
}

async function publishFingerprints(deps: ServerDeps, fingerprints: readonly string[]): Promise<void> {
  for (const fp of new Set(fingerprints)) {
    const s = await deps.store.getFinding(fp);
    if (s) deps.hub.publish('finding', apiFinding(s));
  }
}
