import { DeminerError } from '../core/errors.ts';
import type { Finding } from '../core/finding.ts';
import { atLeast, type Severity } from '../core/severity.ts';
import type { IncidentEvent, IncidentPatch, IncidentRecord, LinkedFinding } from '../store/incident-types.ts';
import type { Store } from '../store/types.ts';
import { type Indicator, indicatorsOf, isMiningFinding } from './indicators.ts';
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
  /** Findings waiting for processing at most (default 100,000; the sweep catches up on the rest). */
  maxQueue?: number;
}

/** Findings that join an open incident: mining ones, and anything from medium up on that host. */
const JOIN_MIN: Severity = 'medium';
/** What opens one: a high or critical mining finding. */
const OPEN_MIN: Severity = 'high';
/** Closed incidents stay under watch this long for a late-raised breach. */
const RECENTLY_CLOSED_MS = 24 * 3_600_000;
/** Findings waiting for incident processing at most, by default (the sweep catches up on the rest). */
const MAX_QUEUE = 100_000;
/** Findings processed together: a short transaction, so that ingest never waits long behind one. */
const DRAIN_GROUP = 500;
/** How long incident work waits for ingest to pause before it goes anyway. */
const INGEST_YIELD_MS = 200;
/** Indicators remembered as already added, across incidents. */
const MAX_KNOWN_INDICATORS = 50_000;
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
  readonly #maxQueue: number;
  #draining: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #ticking = false;
  /** Breaches this process already knows are recorded (saves a write per read). */
  readonly #raised = new Set<string>();
  /** `incident\nkind\nvalue` of indicators this process added (saves a campaign pass per repeat). */
  readonly #knownIndicators = new Set<string>();

  constructor(o: CaseEngineOptions) {
    this.store = o.store;
    this.sla = { ...DEFAULT_SLA, ...(o.sla ?? {}) };
    this.#now = o.now ?? Date.now;
    this.#publish = o.publish ?? (() => undefined);
    this.#log = o.log ?? (() => undefined);
    this.#maxQueue = Math.max(1, o.maxQueue ?? MAX_QUEUE);
  }

  /**
   * Called after findings joined an open incident (the response's watch
   * period: ./response.ts), once per incident and processed group, the new
   * links in the order they came.
   */
  onJoined: ((incidentId: string, findings: readonly Finding[]) => Promise<void>) | undefined;

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

  /**
   * Queues the findings of a stored batch that can open or join an incident;
   * processed in order, a group at a time. The queue is bounded: past
   * MAX_QUEUE the oldest are dropped with a warning (the store holds them, and
   * the periodic sweep links the mining findings no incident holds).
   */
  enqueue(batch: readonly Finding[]): void {
    for (const f of batch) {
      if (isMiningFinding(f) || atLeast(f.severity, JOIN_MIN)) this.#queue.push(f);
    }
    if (this.#queue.length > this.#maxQueue) {
      const dropped = this.#queue.length - this.#maxQueue;
      this.#queue.splice(0, dropped);
      this.#log(
        `incident queue full: ${dropped} findings left to the sweep`,
        new Error(`more than ${this.#maxQueue} findings waiting for incident processing`),
      );
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
      // Between ingest groups: a sensor's batch should not wait behind incident work.
      await this.store.ingestIdle(INGEST_YIELD_MS);
      const group = this.#queue.splice(0, DRAIN_GROUP);
      try {
        await this.processFindings(group);
      } catch (e) {
        // The sweep picks a lost mining finding up again; the store holds it either way.
        this.#log('incident processing failed', e);
      }
    }
  }

  /** Opens, joins or ignores one finding. Idempotent: a finding already linked is not linked again. */
  async processFinding(f: Finding): Promise<IncidentRecord | undefined> {
    const ids = await this.processFindings([f]);
    const id = ids.get(f.fingerprint);
    return id === undefined ? undefined : this.store.incidents.get(id);
  }

  /**
   * Opens, joins or ignores findings, in order, as one finding at a time
   * would: a host's first high mining finding opens its incident (unless an
   * incident already closed over it), and everything after joins. Batched
   * for ingest rates: one query for the hosts' open incidents, one
   * transaction for the links, one indicator update per incident and
   * group. Returns the incident each finding is in.
   */
  async processFindings(fs: readonly Finding[]): Promise<Map<string, string>> {
    const at = this.nowIso();
    const byHost = new Map<string, Finding[]>();
    for (const f of fs) {
      const list = byHost.get(f.host.name);
      if (list) list.push(f);
      else byHost.set(f.host.name, [f]);
    }
    const open = await this.store.incidents.openIdsFor([...byHost.keys()]);
    const placed = new Map<string, string>();
    const links: { incidentId: string; finding: LinkedFinding }[] = [];
    const held = new Map<string, Finding[]>();
    for (const [host, list] of byHost) {
      let incidentId = open.get(host);
      for (const f of list) {
        if (incidentId === undefined) {
          if (!isMiningFinding(f) || !atLeast(f.severity, OPEN_MIN)) continue;
          // A finding an incident already held and closed over opens a new one only when seen after that close.
          const closed = await this.store.incidents.closedWith(f.fingerprint);
          if (closed !== null && f['@timestamp'] <= closed) continue;
          const r = await this.store.incidents.open({
            title: `${f.rule.name} on ${host}`,
            hostName: host,
            severity: f.severity,
            openedBy: `auto:${f.rule.id}`,
            at,
            finding: linkedOf(f),
          });
          incidentId = r.incident.id;
          this.#publish('incident', { id: incidentId, change: r.created ? 'opened' : 'finding' });
        } else {
          links.push({ incidentId, finding: linkedOf(f) });
        }
        placed.set(f.fingerprint, incidentId);
        const h = held.get(incidentId);
        if (h) h.push(f);
        else held.set(incidentId, [f]);
      }
    }
    const added = await this.store.incidents.linkFindings(links, at);
    const joined = new Map<string, Set<string>>();
    for (const a of added) {
      this.#publish('incident', { id: a.incidentId, change: 'finding', fingerprint: a.fingerprint });
      const s = joined.get(a.incidentId);
      if (s) s.add(a.fingerprint);
      else joined.set(a.incidentId, new Set([a.fingerprint]));
    }
    for (const [incidentId, list] of held) {
      const fresh = joined.get(incidentId);
      if (fresh && this.onJoined)
        await this.onJoined(
          incidentId,
          list.filter((f) => fresh.has(f.fingerprint)),
        );
      const indicators = this.#newIndicators(incidentId, list);
      if (indicators.length === 0) continue;
      const c = await this.store.incidents.addIndicators(incidentId, indicators, at);
      if (c.changed)
        this.#publish('incident', { id: incidentId, change: 'campaign', campaign: c.campaignId });
    }
    return placed;
  }

  /**
   * The indicators of these findings this process has not yet added to the
   * incident (bounded memory: forgotten wholesale past MAX_KNOWN_INDICATORS,
   * which costs a few repeated, idempotent writes).
   */
  #newIndicators(incidentId: string, fs: readonly Finding[]): Indicator[] {
    const out = new Map<string, Indicator>();
    for (const f of fs) {
      for (const i of indicatorsOf(f)) {
        const k = `${incidentId}\n${i.kind}\n${i.value}`;
        if (!this.#knownIndicators.has(k)) out.set(k, i);
      }
    }
    if (this.#knownIndicators.size + out.size > MAX_KNOWN_INDICATORS) this.#knownIndicators.clear();
    for (const k of out.keys()) this.#knownIndicators.add(k);
    return [...out.values()];
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
      await this.processFindings(missed.reverse());
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

function linkedOf(f: Finding): LinkedFinding {
  return {
    fingerprint: f.fingerprint,
    ruleId: f.rule.id,
    ruleName: f.rule.name,
    severity: f.severity,
    message: f.message,
    at: f['@timestamp'],
  };
}
