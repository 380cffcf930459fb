/**
 * What the store keeps of work handed to agents and the evidence they bring
 * back (migration 0008, ./tasks.ts). Plain data: what a task does is the
 * agent's (src/agent/forensics.ts, src/agent/eradicate.ts), what it means
 * for an incident is the cases layer's (src/cases/response.ts).
 */

export const TASK_KINDS = ['collect', 'eradicate'] as const;
export type TaskKind = (typeof TASK_KINDS)[number];
/** queued → running (handed to the agent) → done | failed; queued → cancelled. */
export const TASK_STATES = ['queued', 'running', 'done', 'failed', 'cancelled'] as const;
export type TaskState = (typeof TASK_STATES)[number];

export interface TaskRecord {
  /** `task_` and 16 hex digits. */
  id: string;
  hostId: string;
  hostName: string;
  incidentId: string | null;
  kind: TaskKind;
  state: TaskState;
  params: Record<string, unknown>;
  requestedBy: string;
  requestedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  result: Record<string, unknown> | null;
  /** The watch after a verified eradication, when one was started. */
  watch: TaskWatch | null;
}

export interface TaskWatch {
  /** When the clean-up ended: only what is observed after it counts as a return. */
  since: string;
  until: string;
  /** Pids the clean-up killed (a scan that overlapped it may still report them). */
  killed: number[];
  endedAt: string | null;
  /** `returned`: the miner or its persistence came back; `quiet`: the watch ran out. */
  outcome: 'returned' | 'quiet' | null;
}

export interface NewTask {
  hostId: string;
  hostName: string;
  incidentId?: string | null;
  kind: TaskKind;
  params: Record<string, unknown>;
  requestedBy: string;
}

export const EVIDENCE_KINDS = [
  'memory',
  'memory-map',
  'executable',
  'process',
  'persistence',
  'config',
] as const;
export type EvidenceKind = (typeof EVIDENCE_KINDS)[number];

export interface EvidenceRecord {
  /** `ev_` and 16 hex digits. */
  id: string;
  taskId: string;
  incidentId: string | null;
  hostId: string;
  hostName: string;
  kind: EvidenceKind;
  /** What it is on the host (`/proc/4242/exe → /usr/local/bin/kworker`, `memory of pid 4242`). */
  name: string;
  bytes: number;
  sha256: string;
  /** Relative to the server's evidence folder. */
  path: string;
  meta: Record<string, unknown>;
  collectedAt: string;
  storedAt: string;
}

export type NewEvidence = Omit<EvidenceRecord, 'storedAt'>;

export const CUSTODY_ACTIONS = ['collected', 'stored', 'downloaded', 'verified', 'hash_mismatch'] as const;
export type CustodyAction = (typeof CUSTODY_ACTIONS)[number];

export interface CustodyEntry {
  seq: number;
  at: string;
  actor: string;
  action: CustodyAction;
  detail: Record<string, unknown>;
}

export interface TaskStore {
  create(t: NewTask): Promise<TaskRecord>;
  get(id: string): Promise<TaskRecord | undefined>;
  /** Newest first, at most `limit` (≤ 500). */
  list(q: { incidentId?: string; hostId?: string; limit?: number }): Promise<TaskRecord[]>;
  /**
   * The host's queued tasks, moved to `running` (at most `limit`); also
   * hands out again tasks `running` since before `staleBefore` (an agent
   * that restarted in the middle of one).
   */
  claim(hostId: string, opts: { limit: number; staleBefore: string }): Promise<TaskRecord[]>;
  /** Ends a running task; undefined when the host has no such running task. */
  finish(
    id: string,
    hostId: string,
    end: { state: 'done' | 'failed'; result: Record<string, unknown> },
  ): Promise<TaskRecord | undefined>;
  /** Adds evidence and its first custody entries (`collected` by the agent, `stored` by the server). */
  /** Starts the watch of a finished eradication. */
  startWatch(id: string, w: { since: string; until: string; killed: readonly number[] }): Promise<void>;
  /** The incident's watch in force at `now` (not ended, not run out), if any. */
  activeWatch(incidentId: string, now: string): Promise<TaskRecord | undefined>;
  /** Watches that ran out by `now` and are not ended yet (at most `limit`). */
  dueWatches(now: string, limit: number): Promise<TaskRecord[]>;
  /** Ends a watch once (compare-and-set: false when another server or call ended it first). */
  endWatch(id: string, at: string, outcome: 'returned' | 'quiet'): Promise<boolean>;
  addEvidence(e: NewEvidence, custody: { agent: string; server: string }): Promise<EvidenceRecord>;
  getEvidence(id: string): Promise<EvidenceRecord | undefined>;
  /** Oldest first, at most `limit` (≤ 1000). */
  listEvidence(q: { incidentId?: string; taskId?: string; limit?: number }): Promise<EvidenceRecord[]>;
  addCustody(
    evidenceId: string,
    e: { actor: string; action: CustodyAction; detail?: Record<string, unknown> },
  ): Promise<void>;
  /** Oldest first, at most 10,000 entries. */
  custody(evidenceId: string): Promise<CustodyEntry[]>;
}
