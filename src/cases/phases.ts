/**
 * The response process of DESIGN.md §1 as a state machine: discovery →
 * isolation → forensics → eradication → recovery → review → closed. Moves go
 * forward (skipping phases is allowed: a false positive closes from
 * discovery), and a closed incident may be reopened to discovery; nothing
 * else goes back. Each move also settles the SLA clocks (sla.ts).
 */
export const PHASES = [
  'discovery',
  'isolation',
  'forensics',
  'eradication',
  'recovery',
  'review',
  'closed',
] as const;
export type Phase = (typeof PHASES)[number];

export function isPhase(v: unknown): v is Phase {
  return typeof v === 'string' && (PHASES as readonly string[]).includes(v);
}

export function phaseRank(p: Phase): number {
  return PHASES.indexOf(p);
}

export type MoveCheck = { ok: true; reopen: boolean } | { ok: false; reason: string };

/** Whether `from → to` is allowed, and why not when it is not. */
export function checkMove(from: Phase, to: Phase): MoveCheck {
  if (from === to) return { ok: false, reason: `the incident is already in ${to}` };
  if (from === 'closed') {
    return to === 'discovery'
      ? { ok: true, reopen: true }
      : { ok: false, reason: `a closed incident can only be reopened to discovery, not moved to ${to}` };
  }
  if (phaseRank(to) < phaseRank(from))
    return {
      ok: false,
      reason: `${from} → ${to} goes backwards; phases only move forward (or reopen from closed)`,
    };
  return { ok: true, reopen: false };
}

/** When each SLA-relevant step happened in the current cycle (since the last open or reopen). */
export interface Clocks {
  /** The discovery of this cycle: opened, or reopened. */
  discoveryAt: string;
  /** First move past isolation (to forensics or later). */
  isolationMetAt: string | null;
  /** First move to recovery or later. */
  recoveryAt: string | null;
  /** First move past review (closed) after recovery. */
  reviewMetAt: string | null;
  closedAt: string | null;
}

/** The clocks after a move made at `at` (the move is assumed allowed). */
export function clocksAfterMove(before: Clocks, to: Phase, at: string): Clocks {
  if (to === 'discovery')
    return { discoveryAt: at, isolationMetAt: null, recoveryAt: null, reviewMetAt: null, closedAt: null };
  const r = phaseRank(to);
  const next: Clocks = { ...before };
  if (r > phaseRank('isolation') && next.isolationMetAt === null) next.isolationMetAt = at;
  if (r >= phaseRank('recovery') && next.recoveryAt === null) next.recoveryAt = at;
  if (r > phaseRank('review') && next.reviewMetAt === null) next.reviewMetAt = at;
  if (to === 'closed') next.closedAt = at;
  return next;
}
