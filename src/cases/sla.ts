import type { Clocks } from './phases.ts';

/**
 * The two clocks of the response process: isolation due 30 minutes after
 * discovery (met when the incident moves past isolation), and review due
 * 72 hours after recovery (met when the reviewed incident is closed). A
 * clock is breached when it was met late, or is unmet and its due time has
 * passed. Phase-based on purpose: the host's own isolation state (the
 * isolation backends) can stop the clock too once it is recorded here.
 */
export interface SlaConfig {
  isolationMs: number;
  reviewMs: number;
}

export const DEFAULT_SLA: SlaConfig = { isolationMs: 30 * 60_000, reviewMs: 72 * 3_600_000 };

export type SlaClockName = 'isolation' | 'review';

export interface SlaClock {
  /** null: the clock has not started (review before recovery). */
  due: string | null;
  met_at: string | null;
  breached: boolean;
}

export interface SlaState {
  isolation: SlaClock;
  review: SlaClock;
}

function clock(start: string | null, ms: number, metAt: string | null, now: number): SlaClock {
  if (start === null) return { due: null, met_at: null, breached: false };
  const dueMs = Date.parse(start) + ms;
  const due = new Date(dueMs).toISOString();
  const breached = metAt === null ? now > dueMs : Date.parse(metAt) > dueMs;
  return { due, met_at: metAt, breached };
}

export function slaState(c: Clocks, cfg: SlaConfig, now: number): SlaState {
  return {
    isolation: clock(c.discoveryAt, cfg.isolationMs, c.isolationMetAt, now),
    review: clock(c.recoveryAt, cfg.reviewMs, c.reviewMetAt, now),
  };
}

/** The clocks breached, by name (the list API's `breached`). */
export function breachedClocks(s: SlaState): SlaClockName[] {
  const out: SlaClockName[] = [];
  if (s.isolation.breached) out.push('isolation');
  if (s.review.breached) out.push('review');
  return out;
}
