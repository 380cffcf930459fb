import type { IsolationRecord, IsolationStateName, Store } from '../store/types.ts';
import type { CaseEngine } from './engine.ts';

/**
 * The isolation steps an incident's timeline shows: when the host was asked
 * to be cut off and by whom, when the device confirmed it, a failure with its
 * error, the release. Steps in between (applying, releasing) are the
 * isolation's own action log, not the incident's.
 */
const SHOWN: ReadonlySet<IsolationStateName> = new Set(['requested', 'isolated', 'failed', 'released']);

/** Steps remembered (incident, isolation, state), so a step published twice is entered once; the oldest are forgotten past this. */
const REMEMBERED = 10_000;

export interface IsolationTimeline {
  /** What the isolation service publishes: each shown step of the host's isolation. */
  onIsolation(r: IsolationRecord): void;
  /** An incident was opened: the host may have been isolated already (the policy and the case engine both act on the same ingest, in either order). */
  onIncidentOpened(incidentId: string): void;
}

/**
 * Enters each shown isolation step on the timeline of the host's open
 * incident, if it has one, as an `action` entry `isolation.<state>` (the
 * incident workflow's "attached to its incident"); a verified isolation
 * moves an incident still in discovery or isolation on to forensics, which
 * meets its isolation SLA. An incident opened after its host's isolation
 * gets the current step when it opens.
 */
export function isolationTimeline(
  cases: CaseEngine,
  store: Store,
  onError: (message: string, err: unknown) => void,
): IsolationTimeline {
  const entered = new Set<string>();

  async function enter(incidentId: string, phase: string, r: IsolationRecord): Promise<void> {
    const key = `${incidentId}|${r.id}|${r.state}`;
    // Checked and claimed with no await between: the two paths cannot both enter one step.
    if (entered.has(key)) return;
    entered.add(key);
    if (entered.size > REMEMBERED) entered.delete(entered.values().next().value!);
    await cases.action(
      incidentId,
      `isolation.${r.state}`,
      {
        isolation_id: r.id,
        backend: r.backend,
        ...(r.target === undefined ? {} : { target: r.target }),
        requested_by: r.requestedBy,
        ...(r.lastError === undefined ? {} : { error: r.lastError }),
      },
      'isolation',
    );
    // Cut off and confirmed by the device: the isolation phase is over, and its clock stops
    // (sla.ts: met when the incident moves past `isolation`). Only forward, never over a person's move.
    if (r.state === 'isolated' && (phase === 'discovery' || phase === 'isolation')) {
      await cases.move(
        incidentId,
        'forensics',
        'isolation',
        `${r.hostName} isolated (${r.backend}${r.target === undefined ? '' : `, ${r.target}`}), verified on the device`,
      );
    }
  }

  return {
    onIsolation(r) {
      if (!SHOWN.has(r.state)) return;
      void (async () => {
        const incident = await store.incidents.openFor(r.hostName);
        if (incident) await enter(incident.id, incident.phase, r);
      })().catch((e: unknown) => onError('incident timeline: isolation step not entered', e));
    },
    onIncidentOpened(incidentId) {
      void (async () => {
        const incident = await store.incidents.get(incidentId);
        if (!incident?.hostName) return;
        const name = incident.hostName;
        const host = (await store.listHosts({ text: name, limit: 100 })).items.find((h) => h.name === name);
        if (!host) return;
        const current = await store.currentIsolation(host.id);
        if (current && SHOWN.has(current.state)) await enter(incident.id, incident.phase, current);
      })().catch((e: unknown) => onError('incident timeline: isolation step not entered', e));
    },
  };
}
