/**
 * What the store keeps of incidents (migration 0006, ./incidents.ts). Plain
 * data: the phase machine, the SLA clocks and the indicator extraction are
 * the cases layer's (src/cases/), which decides what is written here.
 */
import type { Finding } from '../core/finding.ts';
import type { Severity } from '../core/severity.ts';

export interface IncidentLink {
  title: string;
  url: string;
}

export interface IncidentRecord {
  /** `inc_` and 12 hex digits. */
  id: string;
  title: string;
  /** The host the incident is about (null: a report that names none yet). */
  hostName: string | null;
  campaignId: string | null;
  /** The highest severity of its findings (or what the analyst opened it with). */
  severity: Severity;
  phase: string;
  phaseAt: string;
  /** Token id, or `auto:<rule id>`. */
  phaseBy: string;
  assignee: string | null;
  links: IncidentLink[];
  openedAt: string;
  /** `auto:<rule id>` or the token id of the analyst. */
  openedBy: string;
  /** The clocks of the current cycle (phases.ts Clocks). */
  discoveryAt: string;
  isolationMetAt: string | null;
  recoveryAt: string | null;
  reviewMetAt: string | null;
  closedAt: string | null;
  updatedAt: string;
  /** Findings linked. */
  findings: number;
  /** The review (migration 0007): what caused it, what was learned; null until set. */
  rootCause: string | null;
  lessons: string | null;
}

export type IncidentEventKind =
  | 'opened'
  | 'finding'
  | 'note'
  | 'phase'
  | 'assignment'
  | 'update'
  | 'action'
  | 'campaign'
  | 'sla_breached';

export interface IncidentEvent {
  /** Insertion order. */
  seq: number;
  at: string;
  actor: string;
  kind: IncidentEventKind;
  data: Record<string, unknown>;
}

export interface IndicatorRecord {
  kind: string;
  value: string;
  coin: string | null;
  firstSeen: string;
}

export interface CampaignRecord {
  id: string;
  createdAt: string;
  incidents: { id: string; hostName: string | null; phase: string; openedAt: string; title: string }[];
  indicators: IndicatorRecord[];
}

export interface IncidentQuery {
  phase?: string;
  host?: string;
  campaign?: string;
  /** 1..500, default 100. */
  limit?: number;
  cursor?: string;
}

/** A finding as the timeline records it when it joins. */
export interface LinkedFinding {
  fingerprint: string;
  ruleId: string;
  ruleName: string;
  severity: Severity;
  message: string;
  /** The finding's own time. */
  at: string;
}

export interface NewIncident {
  title: string;
  hostName: string | null;
  severity: Severity;
  openedBy: string;
  at: string;
  /** The finding that opened it (automatic opening). */
  finding?: LinkedFinding;
  /** Manual opening: the reporter's words. */
  note?: string;
}

export interface PhaseMove {
  from: string;
  to: string;
  at: string;
  actor: string;
  note?: string;
  clocks: {
    discoveryAt: string;
    isolationMetAt: string | null;
    recoveryAt: string | null;
    reviewMetAt: string | null;
    closedAt: string | null;
  };
}

export type MoveOutcome = 'moved' | 'not_found' | 'phase_changed' | 'host_has_open_incident';

export interface IncidentPatch {
  title?: string;
  assignee?: string | null;
  links?: IncidentLink[];
  /** Free text up to MAX_REVIEW_TEXT characters; null clears it. */
  rootCause?: string | null;
  lessons?: string | null;
}

/** The longest root cause or lessons text the store keeps. */
export const MAX_REVIEW_TEXT = 20_000;

export interface IncidentStore {
  /**
   * Opens an incident, or (when its host already has an open one, whoever
   * opened it, on any server) joins the finding to that one instead.
   */
  open(n: NewIncident): Promise<{ incident: IncidentRecord; created: boolean }>;
  get(id: string): Promise<IncidentRecord | undefined>;
  /** The open (not closed) incident of a host. */
  openFor(hostName: string): Promise<IncidentRecord | undefined>;
  list(q: IncidentQuery): Promise<{ items: IncidentRecord[]; next: string | null }>;
  /** The ids of the open incidents of these hosts (one query; hosts without one are absent). */
  openIdsFor(hostNames: readonly string[]): Promise<Map<string, string>>;
  /** Links a finding (once: false when it was already linked) and raises the incident's severity to it. */
  linkFinding(incidentId: string, f: LinkedFinding, at: string): Promise<boolean>;
  /**
   * Links many findings in one transaction (each once), with one timeline
   * event per new link and the severities raised; returns the new links in
   * the order given.
   */
  linkFindings(
    links: readonly { incidentId: string; finding: LinkedFinding }[],
    at: string,
  ): Promise<{ incidentId: string; fingerprint: string }[]>;
  /** The newest close of an incident that holds this finding (null: none closed holds it). */
  closedWith(fingerprint: string): Promise<string | null>;
  linkedFindings(incidentId: string): Promise<string[]>;
  /** Moves the phase if it is still `from`; the timeline records it. */
  move(id: string, m: PhaseMove): Promise<MoveOutcome>;
  update(id: string, patch: IncidentPatch, actor: string, at: string): Promise<IncidentRecord | undefined>;
  addEvent(
    id: string,
    e: { kind: IncidentEventKind; actor: string; at: string; data: Record<string, unknown> },
  ): Promise<IncidentEvent | undefined>;
  events(id: string): Promise<IncidentEvent[]>;
  /**
   * Adds indicators to an incident and links campaigns: every incident
   * sharing one of them ends in one campaign. Returns the incident's campaign
   * (null when it has no indicator) and whether it changed.
   */
  addIndicators(
    incidentId: string,
    indicators: readonly { kind: string; value: string; coin?: string }[],
    at: string,
  ): Promise<{ campaignId: string | null; changed: boolean }>;
  indicators(incidentId: string): Promise<IndicatorRecord[]>;
  campaigns(): Promise<CampaignRecord[]>;
  campaign(id: string): Promise<CampaignRecord | undefined>;
  /** Incidents whose clocks may still breach or just did: not closed, or closed since `closedSince`. */
  forSla(closedSince: string): Promise<IncidentRecord[]>;
  /** Records a breach once (true the first time) and puts it on the timeline. */
  recordBreach(incidentId: string, clock: string, due: string, at: string): Promise<boolean>;
  /** High and critical mining findings (T1496) last seen since a time that no incident holds, newest first. */
  unlinkedMiningFindings(since: string, limit: number): Promise<Finding[]>;
  /**
   * Incidents opened in [from, to), oldest first, at most `limit` (1..10,000;
   * the monthly summary asks for one more to know it was cut).
   */
  openedBetween(from: string, to: string, limit: number): Promise<IncidentRecord[]>;
  /** The earliest first_seen of the stored findings each incident holds (incidents without any are left out). */
  firstFindingSeen(incidentIds: readonly string[]): Promise<Map<string, string>>;
}
