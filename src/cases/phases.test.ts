import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Clocks, checkMove, clocksAfterMove, PHASES } from './phases.ts';
import { breachedClocks, DEFAULT_SLA, slaState } from './sla.ts';

test('phases move forward (skips allowed), reopen only from closed to discovery', () => {
  for (let i = 0; i < PHASES.length; i++) {
    for (let j = 0; j < PHASES.length; j++) {
      const from = PHASES[i]!;
      const to = PHASES[j]!;
      const r = checkMove(from, to);
      const want = from === 'closed' ? to === 'discovery' : j > i;
      assert.equal(r.ok, want, `${from} → ${to}`);
      if (!r.ok) assert.match(r.reason, new RegExp(to));
    }
  }
  const back = checkMove('forensics', 'isolation');
  assert.ok(!back.ok && /backwards/.test(back.reason) && /forensics → isolation/.test(back.reason));
  const reopen = checkMove('closed', 'discovery');
  assert.ok(reopen.ok && reopen.reopen);
});

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const at = (min: number): string => new Date(T0 + min * 60_000).toISOString();
const start: Clocks = {
  discoveryAt: at(0),
  isolationMetAt: null,
  recoveryAt: null,
  reviewMetAt: null,
  closedAt: null,
};

test('SLA: isolation due 30 min after discovery, met when the incident moves past isolation', () => {
  let s = slaState(start, DEFAULT_SLA, T0 + 29 * 60_000);
  assert.deepEqual(s.isolation, { due: at(30), met_at: null, breached: false });
  assert.deepEqual(s.review, { due: null, met_at: null, breached: false });
  // Moving *to* isolation does not stop the clock; moving past it does.
  const c1 = clocksAfterMove(start, 'isolation', at(10));
  assert.equal(c1.isolationMetAt, null);
  s = slaState(c1, DEFAULT_SLA, T0 + 31 * 60_000);
  assert.equal(s.isolation.breached, true);
  assert.deepEqual(breachedClocks(s), ['isolation']);
  const c2 = clocksAfterMove(c1, 'forensics', at(20));
  s = slaState(c2, DEFAULT_SLA, T0 + 600 * 60_000);
  assert.deepEqual(s.isolation, { due: at(30), met_at: at(20), breached: false });
  // Met late stays breached.
  const late = clocksAfterMove(start, 'eradication', at(45));
  assert.equal(slaState(late, DEFAULT_SLA, T0 + 50 * 60_000).isolation.breached, true);
});

test('SLA: review due 72 h after recovery, met when the reviewed incident closes; reopen restarts both', () => {
  const rec = clocksAfterMove(clocksAfterMove(start, 'forensics', at(5)), 'recovery', at(60));
  let s = slaState(rec, DEFAULT_SLA, T0 + 61 * 60_000);
  assert.equal(s.review.due, at(60 + 72 * 60));
  assert.equal(s.review.breached, false);
  s = slaState(rec, DEFAULT_SLA, T0 + (61 + 72 * 60) * 60_000);
  assert.equal(s.review.breached, true);
  const inReview = clocksAfterMove(rec, 'review', at(120));
  assert.equal(inReview.reviewMetAt, null, 'entering review is not finishing it');
  const closed = clocksAfterMove(inReview, 'closed', at(600));
  s = slaState(closed, DEFAULT_SLA, T0 + 100_000 * 60_000);
  assert.deepEqual(s.review, { due: at(60 + 72 * 60), met_at: at(600), breached: false });
  assert.equal(closed.closedAt, at(600));
  const reopened = clocksAfterMove(closed, 'discovery', at(1000));
  assert.deepEqual(reopened, {
    discoveryAt: at(1000),
    isolationMetAt: null,
    recoveryAt: null,
    reviewMetAt: null,
    closedAt: null,
  });
  // Configurable.
  const short = slaState(start, { isolationMs: 60_000, reviewMs: 1000 }, T0 + 61_000);
  assert.equal(short.isolation.breached, true);
});
