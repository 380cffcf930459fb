import { DeminerError } from '../core/errors.ts';
import type { Finding } from '../core/finding.ts';
import { atLeast, type Severity } from '../core/severity.ts';
import type { IncidentEvent, IncidentPatch, IncidentRecord, LinkedFinding } from '../store/incident-types.ts';
import type { Store } from '../store/types.ts';
import { indicatorsOf, isMiningFinding } from './indicators.ts';
import { type Clocks, checkMove, clocksAfterMove, isPhase, type Phase } from './phases.ts';
import { DEFAULT_SLA, type SlaConfig, type SlaState, slaState } from './sla.ts';

/**
 * The incident workflow's rules over the store: automatic opening from
 * mining findings, joining, campaign linking, phase moves, notes, actions
 * and the SLA clocks. No HTTP here (src/server/routes/incidents.ts is the
 * API over it); what it tells the outside world goes through `publish`.
 */

/** Refusals with a stable code the API maps to a status. */
export class CaseError extends DeminerError {
  constructor(
    code: 'CASE_NOT_FOUND' | 'CASE_BAD_MOVE' | 'CASE_CONFLICT' | 'CASE_HOST_OPEN' | 'CASE_UNPROCESSABLE',
    message: string,
    options: { location?: string; incident?: string } = {},
  ) {
    super(code, message, options.location === undefined ? {} : { location: options.location });
    this.name = 'CaseError';
    this.incident = options.incident;
  }
  readonly incident: string | undefined;
}

export type CaseEventType = 'incident' | 'incident.sla_breached';

export interface CaseEngineOptions {
  store: Store;
  sla?: Partial<SlaConfig>;
  /** The clock (tests inject one). */
  now?: () => number;
  /** Live notifications (the server's event hub). */
  publish?: (type: CaseEventType, data: unknown) => void;
  /** Where failures of background work are reported. */
  log?: (message: string, err: unknown) => void;
}

/** Findings that join an open incident: mining ones, and anything from medium up on that host. */
const JOIN_MIN: Severity = 'medium';
/** What opens one: a high or critical mining finding. */
const OPEN_MIN: Severity = 'high';
/** Closed incidents stay under watch this long for a late-raised breach. */
const RECENTLY_CLOSED_MS = 24 * 3_600_000;
/** The sweep looks back this far for mining findings no incident holds (a crash between commit and processing). */
const SWEEP_MS = 24 * 3_600_000;

export interface IncidentView {
  incident: IncidentRecord;
  sla: SlaState;
}

export class CaseEngine {
  readonly store: Store;
  readonly sla: SlaConfig;
  readonly #now: () => number;
  readonly #publish: (type: CaseEventType, data: unknown) => void;
  readonly #log: (message: string, err: unknown) => void;
  readonly #queue: Finding[] = [];
  #draining: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #ticking = false;
  /** Breaches this process already knows are recorded (saves a write per read). */
  readonly #raised = new Set<string>();

  constructor(o: CaseEngineOptions) {
    this.store = o.store;
    this.sla = { ...DEFAULT_SLA, ...(o.sla ?? {}) };
    this.#now = o.now ?? Date.now;
    this.#publish = o.publish ?? (() => undefined);
    this.#log = o.log ?? (() => undefined);
  }

  /** Called after a finding joined an open incident (the response's watch period: ./response.ts). */
  onJoined: ((incident: IncidentRecord, f: Finding) => Promise<void>) | undefined;

  nowIso(): string {
    return new Date(this.#now()).toISOString();
  }

  /** Reads every committed ingest of the store; returns the detacher. */
  attach(): () => void {
    return this.store.onIngested((batch) => this.enqueue(batch));
  }

  /** Starts the periodic SLA check and sweep (every `everyMs`, default 30 s). */
  start(everyMs = 30_000): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.tick(), everyMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Queues the findings of a stored batch that can open or join an incident; processed one at a time, in order. */
  enqueue(batch: readonly Finding[]): void {
    for (const f of batch) {
      if (isMiningFinding(f) || atLeast(f.severity, JOIN_MIN)) this.#queue.push(f);
    }
    if (this.#queue.length > 0 && !this.#draining) {
      this.#draining = new Promise<void>((resolve) => setImmediate(resolve))
        .then(() => this.#drain())
        .finally(() => {
          this.#draining = undefined;
          if (this.#queue.length > 0) this.enqueue([]);
        });
    }
  }

  /** Resolves once everything queued so far is processed (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#draining) await this.#draining;
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const f = this.#queue.shift()!;
      try {
        await this.processFinding(f);
      } catch (e) {
        // The sweep picks a lost mining finding up again; the store holds it either way.
        this.#log('incident processing failed', e);
      }
    }
  }

  /** Opens, joins or ignores one finding. Idempotent: a finding already linked is not linked again. */
  async processFinding(f: Finding): Promise<IncidentRecord | undefined> {
    const at = this.nowIso();
    const host = f.host.name;
    const mining = isMiningFinding(f);
    const linked: LinkedFinding = {
      fingerprint: f.fingerprint,
      ruleId: f.rule.id,
      ruleName: f.rule.name,
      severity: f.severity,
      message: f.message,
      at: f['@timestamp'],
    };
    let incident = await this.store.incidents.openFor(host);
    if (incident) {
      if (await this.store.incidents.linkFinding(incident.id, linked, at)) {
        this.#publish('incident', { id: incident.id, change: 'finding', fingerprint: f.fingerprint });
        await this.onJoined?.(incident, f);
      }
    } else {
      if (!mining || !atLeast(f.severity, OPEN_MIN)) return undefined;
      // A finding an incident already held and closed over opens a new one only when seen after that close.
      const closed = await this.store.incidents.closedWith(f.fingerprint);
      if (closed !== null && f['@timestamp'] <= closed) return undefined;
      const r = await this.store.incidents.open({
        title: `${f.rule.name} on ${host}`,
        hostName: host,
        severity: f.severity,
        openedBy: `auto:${f.rule.id}`,
        at,
        finding: linked,
      });
      incident = r.incident;
      this.#publish('incident', { id: incident.id, change: r.created ? 'opened' : 'finding' });
    }
    const indicators = indicatorsOf(f);
    if (indicators.length > 0) {
      const c = await this.store.incidents.addIndicators(incident.id, indicators, at);
      if (c.changed)
        this.#publish('incident', { id: incident.id, change: 'campaign', campaign: c.campaignId });
    }
    return incident;
  }

  /** An analyst's incident (a user's report). One open incident per host: a second is refused, naming the first. */
  async openManual(o: {
    title: string;
    host?: string;
    severity?: Severity;
    note?: string;
    actor: string;
  }): Promise<IncidentRecord> {
    const host = o.host ?? null;
    if (host !== null) {
      const open = await this.store.incidents.openFor(host);
      if (open) throw this.#hostOpen(host, open.id);
    }
    const r = await this.store.incidents.open({
      title: o.title,
      hostName: host,
      severity: o.severity ?? 'medium',
      openedBy: o.actor,
      at: this.nowIso(),
      ...(o.note === undefined ? {} : { note: o.note }),
    });
    if (!r.created) throw this.#hostOpen(host ?? '', r.incident.id);
    this.#publish('incident', { id: r.incident.id, change: 'opened' });
    return r.incident;
  }

  #hostOpen(host: string, id: string): CaseError {
    return new CaseError('CASE_HOST_OPEN', `host ${host} already has an open incident (${id})`, {
      location: 'host',
      incident: id,
    });
  }

  async get(id: string): Promise<IncidentRecord> {
    const i = await this.store.incidents.get(id);
    if (!i) throw new CaseError('CASE_NOT_FOUND', `no incident ${id}`, { location: 'id' });
    return i;
  }

  /** The incident with its SLA clocks; a breach seen here is raised at once (once). */
  async view(id: string): Promise<IncidentView> {
    const incident = await this.get(id);
    const sla = this.slaOf(incident);
    await this.#raiseBreaches(incident, sla);
    return { incident, sla };
  }

  slaOf(i: IncidentRecord): SlaState {
    return slaState(clocksOf(i), this.sla, this.#now());
  }

  async move(id: string, to: string, actor: string, note?: string): Promise<IncidentView> {
    if (!isPhase(to)) throw new CaseError('CASE_BAD_MOVE', `unknown phase ${to}`, { location: 'to' });
    const incident = await this.get(id);
    const from = incident.phase as Phase;
    const check = checkMove(from, to);
    if (!check.ok) throw new CaseError('CASE_BAD_MOVE', check.reason, { location: 'to', incident: id });
    const at = this.nowIso();
    const clocks = clocksAfterMove(clocksOf(incident), to, at);
    const outcome = await this.store.incidents.move(id, {
      from,
      to,
      at,
      actor,
      clocks,
      ...(note === undefined ? {} : { note }),
    });
    if (outcome === 'not_found')
      throw new CaseError('CASE_NOT_FOUND', `no incident ${id}`, { location: 'id' });
    if (outcome === 'phase_changed')
      throw new CaseError('CASE_CONFLICT', `the incident left ${from} meanwhile; read it again`, {
        location: 'to',
        incident: id,
      });
    if (outcome === 'host_has_open_incident') {
      const other =
        incident.hostName === null ? undefined : await this.store.incidents.openFor(incident.hostName);
      throw this.#hostOpen(incident.hostName ?? '', other?.id ?? 'another');
    }
    this.#publish('incident', { id, change: 'phase', from, to });
    return this.view(id);
  }

  async note(id: string, text: string, actor: string): Promise<IncidentEvent> {
    const ev = await this.store.incidents.addEvent(id, {
      kind: 'note',
      actor,
      at: this.nowIso(),
      data: { text },
    });
    if (!ev) throw new CaseError('CASE_NOT_FOUND', `no incident ${id}`, { location: 'id' });
    this.#publish('incident', { id, change: 'note' });
    return ev;
  }

  /** What another component did for the incident (an isolation, a kill): `kind` names it, `detail` is its own. */
  async action(
    id: string,
    kind: string,
    detail: Record<string, unknown>,
    actor: string,
  ): Promise<IncidentEvent> {
    const ev = await this.store.incidents.addEvent(id, {
      kind: 'action',
      actor,
      at: this.nowIso(),
      data: { action: kind, detail },
    });
    if (!ev) throw new CaseError('CASE_NOT_FOUND', `no incident ${id}`, { location: 'id' });
    this.#publish('incident', { id, change: 'action', action: kind });
    return ev;
  }

  async update(id: string, patch: IncidentPatch, actor: string): Promise<IncidentRecord> {
    const r = await this.store.incidents.update(id, patch, actor, this.nowIso());
    if (!r) throw new CaseError('CASE_NOT_FOUND', `no incident ${id}`, { location: 'id' });
    this.#publish('incident', { id, change: 'update' });
    return r;
  }

  /** Raises the breaches among these incidents not raised yet (list reads call it too). */
  async raiseBreaches(items: readonly IncidentRecord[]): Promise<void> {
    for (const i of items) await this.#raiseBreaches(i, this.slaOf(i));
  }

  async #raiseBreaches(i: IncidentRecord, sla: SlaState): Promise<void> {
    for (const name of ['isolation', 'review'] as const) {
      const c = sla[name];
      if (!c.breached || c.due === null) continue;
      const key = `${i.id}\n${name}\n${c.due}`;
      if (this.#raised.has(key)) continue;
      const first = await this.store.incidents.recordBreach(i.id, name, c.due, this.nowIso());
      this.#raised.add(key);
      if (first) {
        this.#publish('incident.sla_breached', {
          incident: i.id,
          title: i.title,
          host: i.hostName,
          phase: i.phase,
          clock: name,
          due: c.due,
          met_at: c.met_at,
        });
      }
    }
  }

  /** One periodic pass: SLA breaches of open (and recently closed) incidents, then the sweep for missed findings. */
  async tick(): Promise<void> {
    if (this.#ticking) return;
    this.#ticking = true;
    try {
      const now = this.#now();
      const items = await this.store.incidents.forSla(new Date(now - RECENTLY_CLOSED_MS).toISOString());
      await this.raiseBreaches(items);
      const missed = await this.store.incidents.unlinkedMiningFindings(
        new Date(now - SWEEP_MS).toISOString(),
        500,
      );
      // Oldest first, so the first finding of a host opens its incident.
      for (const f of missed.reverse()) await this.processFinding(f);
    } catch (e) {
      this.#log('incident check failed', e);
    } finally {
      this.#ticking = false;
    }
  }
}

export function clocksOf(i: IncidentRecord): Clocks {
  return {
    discoveryAt: i.discoveryAt,
    isolationMetAt: i.isolationMetAt,
    recoveryAt: i.recoveryAt,
    reviewMetAt: i.reviewMetAt,
    closedAt: i.closedAt,
  };
}
