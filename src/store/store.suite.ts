/**
 * One behaviour suite for every Store implementation: sqlite.test.ts and
 * postgres.test.ts run it against a real database each. Every test opens
 * its own empty store, so tests do not see each other's rows.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { type Finding, makeFinding } from '../core/finding.ts';
import type { Severity } from '../core/severity.ts';
import { StoreInputError } from './errors.ts';
import { KyselyStore } from './kysely-store.ts';
import type { MetricSample, Store, StoredFinding } from './types.ts';

export interface SuiteHooks {
  /** A store on a new, empty database that has not been migrated yet. */
  unmigrated: () => Promise<KyselyStore>;
}

const BASE = Date.parse('2025-03-01T00:00:00.000Z');
const iso = (ms: number): string => new Date(ms).toISOString();
const NOW = (): string => new Date().toISOString();

interface F {
  rule?: string;
  ruleName?: string;
  host?: string;
  severity?: Severity;
  techniques?: string[];
  subject?: string;
  message?: string;
  at?: number | string;
}

function finding(o: F = {}): Finding {
  return makeFinding({
    rule: { id: o.rule ?? 'deminer.test.rule', name: o.ruleName ?? 'Test rule', ruleset: 'builtin' },
    severity: o.severity ?? 'medium',
    techniques: o.techniques ?? ['T1496'],
    host: o.host ?? 'web01',
    subject: [o.subject ?? 'subject'],
    message: o.message ?? 'A test finding',
    timestamp: typeof o.at === 'string' ? o.at : iso(o.at ?? BASE),
  });
}

function raw(store: Store): KyselyStore {
  assert.ok(store instanceof KyselyStore, 'the suite reads tables through a KyselyStore');
  return store;
}

async function rejects(p: Promise<unknown>, code: string, location?: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof StoreInputError, `expected a StoreInputError, got ${String(e)}`);
    assert.equal(e.code, code);
    if (location !== undefined) assert.equal(e.location, location);
    return true;
  });
}

/** Every page of a listing, asserting that no page is over the limit. */
async function allPages(
  list: (cursor: string | undefined) => Promise<{ items: StoredFinding[]; next: string | null }>,
  limit: number,
  between?: (pageNo: number) => Promise<void>,
): Promise<StoredFinding[]> {
  const out: StoredFinding[] = [];
  let cursor: string | undefined;
  for (let pageNo = 0; pageNo < 100; pageNo++) {
    const page = await list(cursor);
    assert.ok(page.items.length <= limit);
    out.push(...page.items);
    if (page.next === null) return out;
    cursor = page.next;
    await between?.(pageNo);
  }
  assert.fail('paging did not end');
}

export function storeSuite(name: string, open: () => Promise<Store>, hooks: SuiteHooks): void {
  /** Runs `fn` on a fresh store and always closes it. */
  const withStore = (fn: (s: Store) => Promise<void>) => async () => {
    const s = await open();
    try {
      await fn(s);
    } finally {
      await s.close();
    }
  };

  describe(`store: ${name}`, () => {
    test(
      'opens migrated; migrate() again is a no-op',
      withStore(async (s) => {
        await s.migrate();
        assert.deepEqual(await s.listFindings({}), { items: [], next: null });
        assert.ok((await s.sizeBytes()) > 0);
      }),
    );

    test(
      'tokens: only the hash is stored; verify, lastUsedAt, list',
      withStore(async (s) => {
        const { token, record } = await s.createToken({ role: 'analyst', name: 'alice' });
        assert.match(token, /^dm_[A-Za-z0-9_-]{43}$/);
        assert.equal(record.role, 'analyst');
        assert.equal(record.lastUsedAt, undefined);

        const rows = await raw(s).db.selectFrom('tokens').selectAll().execute();
        assert.equal(rows.length, 1);
        const dump = JSON.stringify(rows);
        assert.ok(!dump.includes(token.slice(3)), 'the token text is not in the table');
        assert.equal(rows[0]!.hash, createHash('sha256').update(token).digest('hex'));

        const v = await s.verifyToken(token);
        assert.equal(v?.id, record.id);
        assert.equal(v?.role, 'analyst');
        assert.ok(v?.lastUsedAt, 'lastUsedAt set on use');
        assert.equal((await s.listTokens())[0]?.lastUsedAt, v?.lastUsedAt);

        const other = await s.createToken({ role: 'agent', name: 'web01 agent', hostId: 'host-1' });
        assert.equal((await s.verifyToken(other.token))?.hostId, 'host-1');
        // A near miss, a foreign prefix, garbage: all refused.
        const flipped = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
        assert.equal(await s.verifyToken(flipped), undefined);
        assert.equal(await s.verifyToken('dme_' + token.slice(3)), undefined);
        assert.equal(await s.verifyToken(''), undefined);
        assert.equal(await s.verifyToken('dm_x'), undefined);
        assert.deepEqual((await s.listTokens()).map((t) => t.name).sort(), ['alice', 'web01 agent']);
        await rejects(s.createToken({ role: 'root' as 'admin', name: 'x' }), 'STORE_BAD_INPUT', 'role');
      }),
    );

    test(
      'tokens: revoke refuses the token from then on',
      withStore(async (s) => {
        const a = await s.createToken({ role: 'admin', name: 'a' });
        const b = await s.createToken({ role: 'viewer', name: 'b' });
        assert.equal(await s.revokeToken(a.record.id), true);
        assert.equal(await s.revokeToken(a.record.id), false, 'already revoked');
        assert.equal(await s.revokeToken('no-such-id'), false);
        assert.equal(await s.verifyToken(a.token), undefined);
        assert.equal((await s.verifyToken(b.token))?.id, b.record.id, 'others still valid');
        const listed = await s.listTokens();
        assert.ok(listed.find((t) => t.id === a.record.id)?.revokedAt);
        assert.equal(listed.find((t) => t.id === b.record.id)?.revokedAt, undefined);
      }),
    );

    test(
      'enrolment: secret hashed, uses counted, agent token bound to a new host',
      withStore(async (s) => {
        const { secret, record } = await s.createEnrolment({
          expiresAt: iso(Date.now() + 3_600_000),
          uses: 2,
          createdBy: 'admin-token',
        });
        assert.match(secret, /^dme_[A-Za-z0-9_-]{43}$/);
        assert.equal(record.usesLeft, 2);
        const rows = await raw(s).db.selectFrom('enrolments').selectAll().execute();
        assert.ok(!JSON.stringify(rows).includes(secret.slice(4)), 'the secret is not in the table');

        const one = await s.enrol(secret, {
          name: 'web01',
          os: 'linux',
          addresses: ['10.0.0.5'],
          agentVersion: '0.1.0',
        });
        assert.ok(one);
        assert.match(one.host.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        assert.equal(one.host.agent, true);
        assert.deepEqual(one.host.addresses, ['10.0.0.5']);
        assert.equal(one.host.status, 'reporting');
        const tok = await s.verifyToken(one.token);
        assert.equal(tok?.role, 'agent');
        assert.equal(tok?.hostId, one.host.id);
        assert.deepEqual(await s.getHost(one.host.id), one.host);

        const two = await s.enrol(secret, { name: 'web02' });
        assert.ok(two);
        assert.notEqual(two.host.id, one.host.id);
        assert.equal(await s.enrol(secret, { name: 'web03' }), undefined, 'used up');
        assert.equal((await s.listHosts({})).items.length, 2, 'no host created by a refused enrol');
        assert.equal(await s.enrol('dme_' + 'A'.repeat(43), { name: 'web04' }), undefined, 'unknown secret');
        assert.equal(await s.enrol('nonsense', { name: 'web04' }), undefined);
      }),
    );

    test(
      'enrolment: expired secrets are refused',
      withStore(async (s) => {
        const old = await s.createEnrolment({ expiresAt: iso(Date.now() - 1000), uses: 5, createdBy: 'a' });
        assert.equal(await s.enrol(old.secret, { name: 'web01' }), undefined);
        const rows = await raw(s).db.selectFrom('enrolments').select('uses_left').execute();
        assert.equal(rows[0]?.uses_left, 5, 'a refused enrol spends nothing');
        assert.equal((await s.listHosts({})).items.length, 0);
      }),
    );

    test(
      'enrolment: two concurrent enrols for the last use, exactly one wins',
      withStore(async (s) => {
        for (let round = 0; round < 5; round++) {
          const { secret } = await s.createEnrolment({
            expiresAt: iso(Date.now() + 60_000),
            uses: 1,
            createdBy: 'a',
          });
          const results = await Promise.all([
            s.enrol(secret, { name: `race-a-${round}` }),
            s.enrol(secret, { name: `race-b-${round}` }),
          ]);
          assert.equal(results.filter((r) => r !== undefined).length, 1, `round ${round}`);
        }
        const left = await raw(s).db.selectFrom('enrolments').select('uses_left').execute();
        assert.ok(left.every((r) => r.uses_left === 0));
        assert.equal((await s.listHosts({})).items.length, 5);
        assert.equal((await s.listTokens()).length, 5);
      }),
    );

    test(
      'enrolment: an agent takes over a host known by name; re-enrolling keeps the id',
      withStore(async (s) => {
        await s.ingestFindings([finding({ host: 'db01', at: BASE })], { actor: 'sensor', at: NOW() });
        const before = (await s.listHosts({})).items[0]!;
        assert.equal(before.agent, false);
        const { secret } = await s.createEnrolment({
          expiresAt: iso(Date.now() + 60_000),
          uses: 2,
          createdBy: 'a',
        });
        const e1 = await s.enrol(secret, { name: 'db01' });
        assert.ok(e1);
        assert.equal(e1.host.agent, true);
        assert.equal(e1.host.firstSeen, before.firstSeen, 'history kept');
        const e2 = await s.enrol(secret, { name: 'db01' });
        assert.equal(e2?.host.id, e1.host.id);
        assert.equal((await s.listHosts({})).items.length, 1);
        // A later finding naming the host does not turn it back into a non-agent host.
        await s.ingestFindings([finding({ host: 'db01', subject: 'x' })], { actor: 'sensor', at: NOW() });
        assert.equal((await s.getHost(e1.host.id))?.agent, true);
      }),
    );

    test(
      'ingest: a repeated idempotency key writes nothing',
      withStore(async (s) => {
        const batch = [finding({ subject: 'a' }), finding({ subject: 'b' })];
        const first = await s.ingestFindings(batch, { idempotencyKey: 'k-1', actor: 'agent-1', at: NOW() });
        assert.deepEqual(first, { stored: 2, duplicates: 0, replayed: false });
        const again = await s.ingestFindings(batch, { idempotencyKey: 'k-1', actor: 'agent-1', at: NOW() });
        assert.deepEqual(again, { stored: 0, duplicates: 0, replayed: true });
        const rows = await raw(s).db.selectFrom('findings').select(['count']).execute();
        assert.deepEqual(
          rows.map((r) => r.count),
          [1, 1],
        );
        // Keys are per actor: another writer's key of the same text is its own.
        const other = await s.ingestFindings(batch, { idempotencyKey: 'k-1', actor: 'agent-2', at: NOW() });
        assert.deepEqual(other, { stored: 0, duplicates: 2, replayed: false });
        // Without a key every call counts.
        const nokey = await s.ingestFindings(batch.slice(0, 1), { actor: 'agent-1', at: NOW() });
        assert.deepEqual(nokey, { stored: 0, duplicates: 1, replayed: false });
        assert.equal((await s.getFinding(batch[0]!.fingerprint))?.count, 3);
      }),
    );

    test(
      'ingest: de-duplicates on fingerprint; first/last seen widen; the latest finding is kept',
      withStore(async (s) => {
        const late = finding({ at: BASE + 60_000, message: 'later sighting' });
        const early = {
          ...finding({ at: BASE, message: 'earlier sighting' }),
          fingerprint: late.fingerprint,
        };
        assert.deepEqual(await s.ingestFindings([late], { actor: 'a', at: NOW() }), {
          stored: 1,
          duplicates: 0,
          replayed: false,
        });
        assert.deepEqual(await s.ingestFindings([early], { actor: 'a', at: NOW() }), {
          stored: 0,
          duplicates: 1,
          replayed: false,
        });
        const got = await s.getFinding(late.fingerprint);
        assert.ok(got);
        assert.equal(got.count, 2);
        assert.equal(got.firstSeen, iso(BASE));
        assert.equal(got.lastSeen, iso(BASE + 60_000));
        assert.equal(got.finding.message, 'later sighting', 'an older sighting does not replace a newer one');
        assert.deepEqual(got.finding, late);
        assert.equal(got.acknowledged, false);

        const newest = {
          ...finding({ at: BASE + 120_000, message: 'newest' }),
          fingerprint: late.fingerprint,
        };
        await s.ingestFindings([newest, newest], { actor: 'a', at: NOW() });
        const after = await s.getFinding(late.fingerprint);
        assert.equal(after?.count, 4, 'repeats within one batch count too');
        assert.equal(after?.finding.message, 'newest');
        assert.equal(after?.lastSeen, iso(BASE + 120_000));
        assert.equal(after?.firstSeen, iso(BASE));

        // A sender's clock ahead of ours does not date a finding in the future.
        const at = iso(BASE + 3_600_000);
        const future = finding({ subject: 'future', at: BASE + 86_400_000 });
        await s.ingestFindings([future], { actor: 'a', at });
        assert.equal((await s.getFinding(future.fingerprint))?.lastSeen, at);
        assert.equal(await s.getFinding('0123456789abcdef'), undefined);
      }),
    );

    test(
      'ingest: repeats within one batch merge; host, rule, severity and techniques follow the latest sighting',
      withStore(async (s) => {
        const base = finding({ subject: 'merge', host: 'web01', at: BASE + 1000, techniques: ['T1496'] });
        const sighting = (o: F): Finding => ({
          ...finding({ subject: 'merge', ...o }),
          fingerprint: base.fingerprint,
        });
        const techniquesOf = async (fp: string) =>
          (
            await raw(s)
              .db.selectFrom('finding_techniques')
              .select('technique')
              .where('fingerprint', '=', fp)
              .execute()
          )
            .map((r) => r.technique)
            .sort();

        // The same fingerprint three times, out of time order: one row, count 3, the latest kept.
        const first = await s.ingestFindings(
          [
            base,
            sighting({ at: BASE, message: 'older', techniques: ['T1036'] }),
            sighting({ at: BASE + 2000, message: 'latest', techniques: ['T1059', 'T1059'] }),
          ],
          { actor: 'a', at: NOW() },
        );
        assert.deepEqual(first, { stored: 1, duplicates: 2, replayed: false });
        let got = await s.getFinding(base.fingerprint);
        assert.equal(got?.count, 3);
        assert.equal(got?.firstSeen, iso(BASE));
        assert.equal(got?.lastSeen, iso(BASE + 2000));
        assert.equal(got?.finding.message, 'latest');
        assert.deepEqual(await techniquesOf(base.fingerprint), ['T1059']);

        // A newer sighting naming another host, rule and severity: every column follows it.
        const moved = sighting({
          at: BASE + 3000,
          host: 'web02',
          rule: 'r.other',
          severity: 'critical',
          techniques: ['T1496', 'T1036.005'],
        });
        assert.deepEqual(await s.ingestFindings([moved], { actor: 'a', at: NOW() }), {
          stored: 0,
          duplicates: 1,
          replayed: false,
        });
        const fps = async (q: Parameters<Store['listFindings']>[0]) =>
          (await s.listFindings(q)).items.map((i) => i.finding.fingerprint);
        assert.deepEqual(await fps({ host: 'web02' }), [base.fingerprint]);
        assert.deepEqual(await fps({ host: 'web01' }), []);
        assert.deepEqual(await fps({ rule: 'r.other' }), [base.fingerprint]);
        assert.deepEqual(await fps({ severity: ['critical'] }), [base.fingerprint]);
        assert.deepEqual(await techniquesOf(base.fingerprint), ['T1036.005', 'T1496']);

        // An older sighting from yet another host widens first_seen only.
        await s.ingestFindings([sighting({ at: BASE - 1000, host: 'web03', techniques: [] })], {
          actor: 'a',
          at: NOW(),
        });
        got = await s.getFinding(base.fingerprint);
        assert.equal(got?.count, 5);
        assert.equal(got?.firstSeen, iso(BASE - 1000));
        assert.equal(got?.lastSeen, iso(BASE + 3000));
        assert.deepEqual(got?.finding, moved);
        assert.deepEqual(await fps({ host: 'web02' }), [base.fingerprint]);
        assert.deepEqual(await techniquesOf(base.fingerprint), ['T1036.005', 'T1496']);
        const hosts = (await s.listHosts({})).items;
        assert.deepEqual(
          hosts.map((h) => h.name),
          ['web01', 'web02', 'web03'],
        );
        assert.equal(hosts[0]?.firstSeen, iso(BASE));
        assert.equal(hosts[0]?.lastSeen, iso(BASE + 2000));
      }),
    );

    test(
      'ingest: concurrent batches sharing fingerprints and hosts all succeed and add up exactly',
      withStore(async (s) => {
        const shared = Array.from({ length: 60 }, (_, i) =>
          finding({ subject: `c${i}`, host: `node${i % 9}`, at: BASE + i * 1000 }),
        );
        const batches = Array.from({ length: 8 }, (_, b) => {
          // Each batch in another order, some with repeats, so rows are met in different orders.
          const order = b % 2 === 0 ? [...shared] : [...shared].reverse();
          const rotated = [...order.slice(b * 7), ...order.slice(0, b * 7)];
          return b % 3 === 0 ? [...rotated, ...rotated.slice(0, 5)] : rotated;
        });
        const results = await Promise.all(
          batches.map((batch, b) =>
            s.ingestFindings(batch, {
              actor: 'a',
              at: NOW(),
              ...(b % 2 === 0 ? { idempotencyKey: `race-${b}` } : {}),
            }),
          ),
        );
        const total = batches.reduce((n, batch) => n + batch.length, 0);
        assert.equal(
          results.reduce((n, r) => n + r.stored, 0),
          shared.length,
          'each fingerprint stored once',
        );
        assert.equal(
          results.reduce((n, r) => n + r.stored + r.duplicates, 0),
          total,
        );
        const rows = await raw(s).db.selectFrom('findings').select(['fingerprint', 'count']).execute();
        assert.equal(rows.length, shared.length);
        const sightings = new Map<string, number>();
        for (const batch of batches)
          for (const f of batch) sightings.set(f.fingerprint, (sightings.get(f.fingerprint) ?? 0) + 1);
        for (const r of rows) assert.equal(r.count, sightings.get(r.fingerprint), r.fingerprint);
        const hosts = (await s.listHosts({ limit: 500 })).items;
        assert.equal(hosts.length, 9);
        const techniques = await raw(s).db.selectFrom('finding_techniques').selectAll().execute();
        assert.equal(techniques.length, shared.length);
      }),
    );

    test(
      'ingest: batches that arrive together (written in one transaction) are each answered as if alone, in order',
      withStore(async (s) => {
        const [f1, f2, f3, f4] = ['g1', 'g2', 'g3', 'g4'].map((subject) =>
          finding({ subject, host: 'grp01' }),
        );
        const bad = { ...finding({ subject: 'g5', host: 'grp02' }), '@timestamp': 'yesterday' };
        // Submitted in one tick, they go in together (one transaction), answered in this order.
        const settled = await Promise.allSettled([
          s.ingestFindings([finding({ subject: 'g0', host: 'grp00' })], { actor: 'a', at: NOW() }),
          s.ingestFindings([f1!, f2!], { idempotencyKey: 'k1', actor: 'a', at: NOW() }),
          s.ingestFindings([f1!, f2!], { idempotencyKey: 'k1', actor: 'a', at: NOW() }),
          s.ingestFindings([f2!, f3!], { actor: 'a', at: NOW() }),
          s.ingestFindings([f4!, bad], { idempotencyKey: 'k2', actor: 'a', at: NOW() }),
          s.ingestFindings([f4!], { idempotencyKey: 'k2', actor: 'a', at: NOW() }),
        ]);
        const value = (i: number) => {
          const r = settled[i]!;
          assert.equal(
            r.status,
            'fulfilled',
            `request ${i}: ${r.status === 'rejected' ? String(r.reason) : ''}`,
          );
          return (r as PromiseFulfilledResult<unknown>).value;
        };
        assert.deepEqual(value(1), { stored: 2, duplicates: 0, replayed: false });
        assert.deepEqual(value(2), { stored: 0, duplicates: 0, replayed: true }, 'same key: replayed');
        assert.deepEqual(value(3), { stored: 1, duplicates: 1, replayed: false });
        assert.equal(settled[4]!.status, 'rejected', 'the batch with a bad finding is refused alone');
        assert.equal(
          ((settled[4] as PromiseRejectedResult).reason as { code?: string }).code,
          'STORE_BAD_FINDING',
        );
        assert.deepEqual(
          value(5),
          { stored: 1, duplicates: 0, replayed: false },
          'the refused batch left its key',
        );
        assert.equal((await s.getFinding(f2!.fingerprint))?.count, 2);
        assert.equal((await s.getFinding(f4!.fingerprint))?.count, 1);
        assert.deepEqual(
          (await s.listHosts({})).items.map((h) => h.name).sort(),
          ['grp00', 'grp01'],
          'nothing of the refused batch',
        );
      }),
    );

    test(
      'ingest: all or nothing when a finding mid-batch is refused',
      withStore(async (s) => {
        const kept = finding({ subject: 'kept', host: 'keep01' });
        await s.ingestFindings([kept], { actor: 'a', at: NOW() });
        const a = { ...kept, message: 'raised again' };
        const b = finding({ subject: 'b', host: 'new01' });
        const bad = { ...finding({ subject: 'c', host: 'new02' }), '@timestamp': 'yesterday' };
        await rejects(
          s.ingestFindings([a, b, bad], { idempotencyKey: 'k-atomic', actor: 'a', at: NOW() }),
          'STORE_BAD_FINDING',
          'items[2].@timestamp',
        );
        const still = await s.getFinding(kept.fingerprint);
        assert.equal(still?.count, 1, 'the earlier upsert in the batch was rolled back');
        assert.equal(still?.finding.message, kept.message);
        assert.equal(await s.getFinding(b.fingerprint), undefined);
        assert.deepEqual(
          (await s.listHosts({})).items.map((h) => h.name),
          ['keep01'],
        );
        const techniques = await raw(s).db.selectFrom('finding_techniques').selectAll().execute();
        assert.equal(techniques.length, 1);
        // The key was not kept either: the corrected batch goes through under it.
        const retry = await s.ingestFindings([a, b], { idempotencyKey: 'k-atomic', actor: 'a', at: NOW() });
        assert.deepEqual(retry, { stored: 1, duplicates: 1, replayed: false });

        const noFingerprint = { ...finding({ subject: 'd' }), fingerprint: 'NOT HEX' };
        await rejects(
          s.ingestFindings([finding({ subject: 'e' }), noFingerprint], { actor: 'a', at: NOW() }),
          'STORE_BAD_FINDING',
          'items[1].fingerprint',
        );
        assert.equal((await s.listFindings({})).items.length, 2);
      }),
    );

    test(
      'ingest: batches over 1000 findings are refused whole',
      withStore(async (s) => {
        const batch = Array.from({ length: 1001 }, (_, i) => finding({ subject: `s${i}` }));
        await rejects(s.ingestFindings(batch, { actor: 'a', at: NOW() }), 'STORE_BATCH_TOO_LARGE', 'items');
        assert.equal((await s.listFindings({})).items.length, 0);
        const ok = await s.ingestFindings(batch.slice(0, 1000), { actor: 'a', at: NOW() });
        assert.equal(ok.stored, 1000);
      }),
    );

    test(
      'findings: filters',
      withStore(async (s) => {
        const fs = {
          a: finding({
            rule: 'r.alpha',
            ruleName: 'Alpha miner',
            host: 'web01',
            severity: 'critical',
            techniques: ['T1496'],
            subject: 'a',
            message: 'XMRig started',
            at: BASE,
          }),
          b: finding({
            rule: 'r.alphabet',
            ruleName: 'Alphabet',
            host: 'web02',
            severity: 'low',
            techniques: ['T1496.001'],
            subject: 'b',
            message: 'pool 100% busy',
            at: BASE + 1000,
          }),
          c: finding({
            rule: 'r.beta',
            ruleName: 'Beta',
            host: 'DB01',
            severity: 'high',
            techniques: ['T1036.005', 'T1496'],
            subject: 'c',
            message: 'masquerading kworker',
            at: BASE + 2000,
          }),
          d: finding({
            rule: 'r.beta',
            ruleName: 'Beta',
            host: 'web01',
            severity: 'medium',
            techniques: [],
            subject: 'd',
            message: 'under_score name',
            at: BASE + 3000,
          }),
        };
        await s.ingestFindings(Object.values(fs), { actor: 'a', at: NOW() });
        await s.acknowledge([fs.d.fingerprint], 'bob', NOW());
        const names = async (q: Parameters<Store['listFindings']>[0]) =>
          (await s.listFindings(q)).items.map((i) => i.finding.fingerprint).sort();
        const fp = (...k: (keyof typeof fs)[]) => k.map((x) => fs[x].fingerprint).sort();

        assert.deepEqual(await names({}), fp('a', 'b', 'c', 'd'));
        assert.deepEqual(await names({ severity: ['critical', 'high'] }), fp('a', 'c'));
        assert.deepEqual(await names({ severity: [] }), []);
        await rejects(s.listFindings({ severity: ['severe' as Severity] }), 'STORE_BAD_INPUT', 'severity');
        assert.deepEqual(await names({ rule: 'r.alpha' }), fp('a'), 'rule id is exact, not a prefix');
        assert.deepEqual(await names({ host: 'web01' }), fp('a', 'd'));
        assert.deepEqual(await names({ host: 'web0' }), []);
        assert.deepEqual(
          await names({ technique: 'T1496' }),
          fp('a', 'c'),
          'a sub-technique is not its parent',
        );
        assert.deepEqual(await names({ technique: 'T1496.001' }), fp('b'));
        assert.deepEqual(await names({ technique: 'T14' }), []);
        assert.deepEqual(await names({ text: 'xmrig' }), fp('a'), 'message, case-insensitive');
        assert.deepEqual(await names({ text: 'ALPHA' }), fp('a', 'b'), 'rule name');
        assert.deepEqual(await names({ text: 'db0' }), fp('c'), 'host name');
        assert.deepEqual(await names({ text: '100%' }), fp('b'), '% is literal');
        assert.deepEqual(await names({ text: '%' }), fp('b'));
        assert.deepEqual(await names({ text: 'pool_100' }), [], '_ is literal');
        assert.deepEqual(await names({ text: 'under_score' }), fp('d'));
        assert.deepEqual(await names({ from: iso(BASE + 1000) }), fp('b', 'c', 'd'), 'from is inclusive');
        assert.deepEqual(await names({ to: iso(BASE + 2000) }), fp('a', 'b'), 'to is exclusive');
        assert.deepEqual(
          await names({ from: '2025-03-01T00:00:01Z', to: '2025-03-01T00:00:03.000Z' }),
          fp('b', 'c'),
        );
        await rejects(s.listFindings({ from: 'last week' }), 'STORE_BAD_TIME', 'from');
        assert.deepEqual(await names({ acknowledged: true }), fp('d'));
        assert.deepEqual(await names({ acknowledged: false }), fp('a', 'b', 'c'));
        assert.deepEqual(
          await names({ host: 'web01', severity: ['medium'], acknowledged: true, technique: 'T1496' }),
          [],
        );
        assert.deepEqual(
          await names({ host: 'web01', text: 'xmr', technique: 'T1496', severity: ['critical'] }),
          fp('a'),
        );
      }),
    );

    test(
      'findings: sorting by every key, both orders',
      withStore(async (s) => {
        const sev: Severity[] = ['low', 'critical', 'medium', 'high'];
        const batch = sev.map((severity, i) =>
          finding({ severity, subject: `s${i}`, at: BASE + (i === 2 ? 0 : i) * 1000 }),
        );
        await s.ingestFindings(batch, { actor: 'a', at: NOW() });
        // Raise counts unevenly, with older sightings so last_seen stays.
        await s.ingestFindings([{ ...batch[0]!, '@timestamp': iso(BASE - 5000) }], { actor: 'a', at: NOW() });
        const order = async (q: Parameters<Store['listFindings']>[0]) =>
          (await s.listFindings(q)).items.map((i) => i.finding.severity);
        assert.deepEqual((await order({})).slice(0, 2), ['high', 'critical']);
        const byLast = (await s.listFindings({})).items.map((i) => i.lastSeen);
        assert.deepEqual(byLast, [...byLast].sort().reverse(), 'default: last_seen descending');
        assert.deepEqual(await order({ sort: 'severity' }), ['critical', 'high', 'medium', 'low']);
        assert.deepEqual(await order({ sort: 'severity', order: 'asc' }), [
          'low',
          'medium',
          'high',
          'critical',
        ]);
        assert.equal((await order({ sort: 'count' }))[0], 'low');
        assert.equal((await order({ sort: 'count', order: 'asc' }))[3], 'low');
        assert.equal((await order({ sort: 'first_seen', order: 'asc' }))[0], 'low');
        const first = (await s.listFindings({ sort: 'first_seen' })).items.map((i) => i.firstSeen);
        assert.deepEqual(first, [...first].sort().reverse());
      }),
    );

    test(
      'findings: paging 250 findings 100 at a time gives each exactly once, also across inserts',
      withStore(async (s) => {
        const sev: Severity[] = ['low', 'medium', 'high', 'critical'];
        // Groups of three share a last_seen, so the tiebreak (insertion order, migration 0010) is exercised.
        const batch = Array.from({ length: 250 }, (_, i) =>
          finding({ subject: `p${i}`, severity: sev[i % 4]!, at: BASE + Math.floor(i / 3) * 1000 }),
        );
        await s.ingestFindings(batch, { actor: 'a', at: NOW() });
        const want = batch.map((f) => f.fingerprint).sort();

        for (const sort of ['last_seen', 'first_seen', 'severity', 'count'] as const) {
          for (const order of ['desc', 'asc'] as const) {
            const got = await allPages((cursor) => s.listFindings({ sort, order, limit: 100, cursor }), 100);
            assert.equal(got.length, 250, `${sort} ${order}`);
            assert.deepEqual(
              got.map((g) => g.finding.fingerprint).sort(),
              want,
              `${sort} ${order}: each once`,
            );
          }
        }

        // New findings arriving between pages (newer, older and duplicates) do not disturb the walk.
        let n = 0;
        const seen = await allPages(
          (cursor) => s.listFindings({ limit: 100, cursor }),
          100,
          async () => {
            const extra = [
              finding({ subject: `new${n++}`, at: BASE + 10_000_000 }),
              finding({ subject: `new${n++}`, at: BASE - 10_000_000 }),
            ];
            await s.ingestFindings(extra, { actor: 'a', at: NOW() });
          },
        );
        const fps = seen.map((g) => g.finding.fingerprint);
        assert.equal(new Set(fps).size, fps.length, 'no finding twice');
        for (const f of want) assert.ok(fps.includes(f), 'every original finding once');

        const filtered = await allPages(
          (cursor) => s.listFindings({ severity: ['critical'], limit: 7, cursor }),
          7,
        );
        assert.equal(filtered.length, batch.filter((f) => f.severity === 'critical').length);

        const p1 = await s.listFindings({ limit: 100 });
        assert.ok(p1.next);
        await rejects(s.listFindings({ cursor: p1.next, sort: 'severity' }), 'STORE_BAD_CURSOR', 'cursor');
        await rejects(s.listFindings({ cursor: 'not a cursor!' }), 'STORE_BAD_CURSOR', 'cursor');
        await rejects(
          s.listFindings({ cursor: Buffer.from('{"s":1}').toString('base64url') }),
          'STORE_BAD_CURSOR',
        );
        await rejects(s.listFindings({ limit: 0 }), 'STORE_BAD_INPUT', 'limit');
        await rejects(s.listFindings({ limit: 501 }), 'STORE_BAD_INPUT', 'limit');
        assert.equal((await s.listFindings({ limit: 500 })).items.length, 250 + n);
        assert.equal((await s.listFindings({})).items.length, 100, 'default limit 100');
      }),
    );

    test(
      'findings: acknowledge',
      withStore(async (s) => {
        const fs = [finding({ subject: '1' }), finding({ subject: '2' }), finding({ subject: '3' })];
        await s.ingestFindings(fs, { actor: 'a', at: NOW() });
        const at = iso(BASE + 5000);
        assert.equal(
          await s.acknowledge([fs[0]!.fingerprint, fs[1]!.fingerprint, 'ffffffffffffffff'], 'bob', at),
          2,
        );
        assert.equal(await s.acknowledge([fs[0]!.fingerprint], 'carol', NOW()), 0, 'already acknowledged');
        assert.equal(await s.acknowledge([], 'bob', at), 0);
        const got = await s.getFinding(fs[0]!.fingerprint);
        assert.equal(got?.acknowledged, true);
        assert.equal(got?.acknowledgedBy, 'bob');
        assert.equal(got?.acknowledgedAt, at);
        assert.equal((await s.getFinding(fs[2]!.fingerprint))?.acknowledged, false);
        // A new sighting keeps the acknowledgement.
        await s.ingestFindings([fs[0]!], { actor: 'a', at: NOW() });
        assert.equal((await s.getFinding(fs[0]!.fingerprint))?.acknowledged, true);
      }),
    );

    test(
      'hosts: status from lastSeen, filters, paging by name',
      withStore(async (s) => {
        const now = Date.now();
        const up = await s.touchHost({
          name: 'alpha',
          at: iso(now - 30_000),
          os: 'linux',
          addresses: ['10.0.0.1'],
        });
        assert.equal(up.status, 'reporting');
        assert.equal(up.agent, false);
        assert.match(up.id, /^h_[0-9a-f]{32}$/);
        const stale = await s.touchHost({ name: 'bravo', at: iso(now - 5 * 60_000) });
        assert.equal(stale.status, 'stale');
        const off = await s.touchHost({
          name: 'charlie',
          at: iso(now - 3_600_000),
          addresses: ['192.168.7.9'],
        });
        assert.equal(off.status, 'offline');
        await s.touchHost({
          name: 'delta',
          at: iso(now - 1000),
          agent: true,
          agentVersion: '1.2.3',
          id: 'agent-delta',
        });
        await s.touchHost({ name: 'echo', at: iso(now - 2000) });

        // A heartbeat never moves lastSeen back, and fields not sent are kept.
        const again = await s.touchHost({ name: 'alpha', at: iso(now - 3_600_000), kernel: '6.1' });
        assert.equal(again.id, up.id);
        assert.equal(again.lastSeen, up.lastSeen);
        assert.equal(again.firstSeen, iso(now - 3_600_000));
        assert.equal(again.os, 'linux');
        assert.equal(again.kernel, '6.1');
        assert.deepEqual(again.addresses, ['10.0.0.1']);

        const delta = await s.getHost('agent-delta');
        assert.equal(delta?.agent, true);
        assert.equal(delta?.agentVersion, '1.2.3');
        assert.equal(await s.getHost('nope'), undefined);

        const names = async (q: Parameters<Store['listHosts']>[0]) =>
          (await s.listHosts(q)).items.map((h) => h.name);
        assert.deepEqual(await names({}), ['alpha', 'bravo', 'charlie', 'delta', 'echo']);
        assert.deepEqual(await names({ status: 'reporting' }), ['alpha', 'delta', 'echo']);
        assert.deepEqual(await names({ status: 'stale' }), ['bravo']);
        assert.deepEqual(await names({ status: 'offline' }), ['charlie']);
        assert.deepEqual(await names({ text: 'ARL' }), ['charlie']);
        assert.deepEqual(await names({ text: '192.168.' }), ['charlie'], 'addresses are searched too');

        const seen: string[] = [];
        let cursor: string | undefined;
        for (;;) {
          const page = await s.listHosts({ limit: 2, cursor });
          assert.ok(page.items.length <= 2);
          seen.push(...page.items.map((h) => h.name));
          if (!page.next) break;
          cursor = page.next;
        }
        assert.deepEqual(seen, ['alpha', 'bravo', 'charlie', 'delta', 'echo']);
        await rejects(s.listHosts({ cursor: 'x' }), 'STORE_BAD_CURSOR');

        // An agent cannot take the name of another agent's host.
        await rejects(s.touchHost({ id: 'agent-other', name: 'delta', at: NOW() }), 'STORE_HOST_NAME_TAKEN');
      }),
    );

    test(
      'hosts: ingest names hosts without making them agents',
      withStore(async (s) => {
        await s.ingestFindings(
          [
            finding({ host: 'ws7', subject: '1', at: BASE }),
            finding({ host: 'ws7', subject: '2', at: BASE + 9000 }),
          ],
          { actor: 'a', at: NOW() },
        );
        const [h] = (await s.listHosts({})).items;
        assert.equal(h?.name, 'ws7');
        assert.equal(h?.agent, false);
        assert.equal(h?.firstSeen, iso(BASE));
        assert.equal(h?.lastSeen, iso(BASE + 9000));
      }),
    );

    test(
      'metrics: batched insert, time order, filters, newest within the limit',
      withStore(async (s) => {
        const sample = (at: number, subject = 'host', cpu = 0.5) => ({
          hostId: 'h1',
          at: iso(at),
          subject,
          cpu,
          memoryBytes: 6_000_000_000 + at - BASE,
          connectionsPerMinute: 3,
        });
        await s.addMetrics([
          sample(BASE + 2000),
          sample(BASE),
          sample(BASE + 1000),
          sample(BASE + 1500, 'pid:42:1'),
        ]);
        await s.addMetrics([{ hostId: 'h2', at: iso(BASE), subject: 'host' }]);
        await s.addMetrics([]);
        const all = await s.listMetrics({ hostId: 'h1' });
        assert.deepEqual(
          all.map((m) => m.at),
          [BASE, BASE + 1000, BASE + 1500, BASE + 2000].map(iso),
        );
        assert.equal(all[0]!.memoryBytes, 6_000_000_000);
        assert.equal(typeof all[0]!.memoryBytes, 'number');
        assert.equal(all[0]!.cpu, 0.5);
        assert.deepEqual(
          (await s.listMetrics({ hostId: 'h1', subject: 'host' })).map((m) => m.at),
          [BASE, BASE + 1000, BASE + 2000].map(iso),
        );
        assert.deepEqual(
          (await s.listMetrics({ hostId: 'h1', from: iso(BASE + 1000), to: iso(BASE + 2000) })).map(
            (m) => m.at,
          ),
          [BASE + 1000, BASE + 1500].map(iso),
        );
        assert.deepEqual(
          (await s.listMetrics({ hostId: 'h1', limit: 2 })).map((m) => m.at),
          [BASE + 1500, BASE + 2000].map(iso),
        );
        assert.deepEqual(await s.listMetrics({ hostId: 'h2' }), [
          { hostId: 'h2', at: iso(BASE), subject: 'host', resolutionS: 0 },
        ]);
        await rejects(
          s.addMetrics([sample(BASE), { ...sample(BASE), at: 'soon' }]),
          'STORE_BAD_TIME',
          'samples[1].at',
        );
        assert.equal((await s.listMetrics({ hostId: 'h1' })).length, 4, 'a refused batch adds nothing');
        const many = Array.from({ length: 1200 }, (_, i) => sample(BASE + 10_000 + i, 'bulk'));
        await s.addMetrics(many);
        assert.equal((await s.listMetrics({ hostId: 'h1', subject: 'bulk', limit: 10_000 })).length, 1200);
      }),
    );

    test(
      'metrics downsampling: raw for a day, 5-minute buckets to 7 days, 1-hour buckets after; idempotent; read from the finest resolution',
      withStore(async (s) => {
        const HOUR = 3_600_000;
        const DAY = 24 * HOUR;
        const T0 = Date.parse('2025-03-11T00:00:00.000Z');
        const STEP = 150_000; // two samples per 5 minutes, 24 per hour
        const N = (10 * DAY) / STEP;
        const samples = Array.from({ length: N }, (_, i) => {
          const m: MetricSample = {
            hostId: 'h1',
            at: iso(T0 - 10 * DAY + i * STEP),
            subject: 'host',
            cpu: (i % 8) * 0.25,
            memoryBytes: 1_000_000 + (i % 13) * 4096,
          };
          // Not every sample has every value: averages count only the samples that have it.
          if (i % 3 === 0) m.connectionsPerMinute = (i % 5) * 2;
          return m;
        });
        for (let i = 0; i < samples.length; i += 5000) await s.addMetrics(samples.slice(i, i + 5000));
        const proc = [10_000, 20_000, 400_000].map((d, k) => ({
          hostId: 'h1',
          at: iso(T0 - 9 * DAY + d),
          subject: 'pid:7:1',
          cpu: k + 1,
        }));
        await s.addMetrics(proc);
        await s.addMetrics([{ hostId: 'h2', at: iso(T0 - 5 * DAY), subject: 'host', cpu: 9 }]);

        // What each bucket must hold, computed here from the samples.
        const expected = new Map<string, MetricSample>();
        const bucketOf = (ms: number): [number, number] | undefined => {
          if (ms >= T0 - DAY) return undefined;
          const res = ms >= T0 - 7 * DAY ? 300_000 : HOUR;
          return [res / 1000, ms - (ms % res)];
        };
        const groups = new Map<string, MetricSample[]>();
        for (const m of samples) {
          const b = bucketOf(Date.parse(m.at));
          if (!b) continue;
          const key = `${b[0]} ${iso(b[1])}`;
          groups.set(key, [...(groups.get(key) ?? []), m]);
        }
        const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
        for (const [key, ms] of groups) {
          const [res, at] = key.split(' ') as [string, string];
          const conn = ms.flatMap((m) =>
            m.connectionsPerMinute === undefined ? [] : [m.connectionsPerMinute],
          );
          const e: MetricSample = {
            hostId: 'h1',
            at,
            subject: 'host',
            resolutionS: Number(res),
            samples: ms.length,
            cpu: avg(ms.map((m) => m.cpu!)),
            cpuMax: Math.max(...ms.map((m) => m.cpu!)),
            memoryBytes: Math.round(avg(ms.map((m) => m.memoryBytes!))),
            memoryBytesMax: Math.max(...ms.map((m) => m.memoryBytes!)),
          };
          if (conn.length > 0) {
            e.connectionsPerMinute = avg(conn);
            e.connectionsPerMinuteMax = Math.max(...conn);
          }
          expected.set(`${res} ${at}`, e);
        }

        const cuts = {
          metrics: iso(T0 - 30 * DAY),
          // Not on a bucket boundary: the store rounds each cut down to whole buckets.
          rawMetrics: iso(T0 - DAY + 60_000),
          fiveMinuteMetrics: iso(T0 - 7 * DAY + 20 * 60_000),
        };
        const first = await s.prune(cuts);
        assert.deepEqual(first, {
          findings: 0,
          metrics: 0,
          audit: 0,
          rolledUp: { raw: N - DAY / STEP + proc.length + 1, fiveMinute: 3 * 288 + 2 },
        });

        const hostPoints = await s.listMetrics({ hostId: 'h1', subject: 'host', limit: 10_000 });
        const byRes = new Map<number, MetricSample[]>();
        for (const p of hostPoints) byRes.set(p.resolutionS!, [...(byRes.get(p.resolutionS!) ?? []), p]);
        assert.equal(byRes.get(0)?.length, DAY / STEP, 'raw samples of the last day stay as sent');
        assert.equal(byRes.get(300)?.length, 6 * 288, 'one 5-minute bucket per 5 minutes of days 2 to 7');
        assert.equal(byRes.get(3600)?.length, 3 * 24, 'one 1-hour bucket per hour before that');
        for (const p of [...byRes.get(300)!, ...byRes.get(3600)!]) {
          assert.deepEqual(p, expected.get(`${p.resolutionS} ${p.at}`), `bucket ${p.resolutionS} ${p.at}`);
        }
        assert.deepEqual(
          byRes.get(0),
          samples.slice(N - DAY / STEP).map((m) => ({ ...m, resolutionS: 0 })),
        );
        for (let i = 1; i < hostPoints.length; i++) assert.ok(hostPoints[i - 1]!.at < hostPoints[i]!.at);
        assert.deepEqual(await s.listMetrics({ hostId: 'h1', subject: 'pid:7:1' }), [
          {
            hostId: 'h1',
            at: iso(T0 - 9 * DAY),
            subject: 'pid:7:1',
            resolutionS: 3600,
            samples: 3,
            cpu: 2,
            cpuMax: 3,
          },
        ]);
        assert.deepEqual(
          (await s.listMetrics({ hostId: 'h2' })).map((p) => [p.at, p.resolutionS, p.cpu]),
          [[iso(T0 - 5 * DAY), 300, 9]],
        );

        // The whole range, every subject: each resolution, in time order, oldest first.
        const all = await s.listMetrics({ hostId: 'h1', limit: 10_000 });
        assert.equal(all.length, hostPoints.length + 1);
        for (let i = 1; i < all.length; i++) assert.ok(all[i - 1]!.at <= all[i]!.at, `order at ${i}`);
        assert.deepEqual(
          [...new Set(all.map((p) => p.resolutionS))],
          [3600, 300, 0],
          'coarse to fine as the points get younger',
        );
        // A range inside the 5-minute period, and the newest points within a limit.
        const mid = await s.listMetrics({
          hostId: 'h1',
          from: iso(T0 - 3 * DAY),
          to: iso(T0 - 3 * DAY + HOUR),
        });
        assert.equal(mid.length, 12);
        assert.ok(mid.every((p) => p.resolutionS === 300));
        const newest = await s.listMetrics({ hostId: 'h1', limit: 3 });
        assert.deepEqual(
          newest.map((p) => p.at),
          [3, 2, 1].map((k) => iso(T0 - k * STEP)),
        );

        // Again with the same cuts: nothing to do, nothing changed.
        const table = () =>
          raw(s)
            .db.selectFrom('metric_rollups')
            .selectAll()
            .orderBy('host_id')
            .orderBy('subject')
            .orderBy('resolution_s')
            .orderBy('at')
            .execute();
        const before = await table();
        assert.deepEqual(await s.prune(cuts), {
          findings: 0,
          metrics: 0,
          audit: 0,
          rolledUp: { raw: 0, fiveMinute: 0 },
        });
        assert.deepEqual(await table(), before);
        assert.deepEqual(await s.listMetrics({ hostId: 'h1', subject: 'host', limit: 10_000 }), hostPoints);

        // A sample that arrives late for a bucket already written is shown on its own until the next
        // prune (the bucket it falls in is left out, never both), then merged in exactly.
        const lateAt = T0 - 2 * DAY + 10_000;
        const bucketAt = iso(T0 - 2 * DAY);
        await s.addMetrics([{ hostId: 'h1', at: iso(lateAt), subject: 'host', cpu: 10, memoryBytes: 5 }]);
        const around = await s.listMetrics({
          hostId: 'h1',
          subject: 'host',
          from: bucketAt,
          to: iso(T0 - 2 * DAY + 300_000),
        });
        assert.deepEqual(
          around.map((p) => [p.at, p.resolutionS]),
          [[iso(lateAt), 0]],
        );
        assert.deepEqual((await s.prune(cuts)).rolledUp, { raw: 1, fiveMinute: 0 });
        const bucket = (
          await s.listMetrics({ hostId: 'h1', subject: 'host', from: bucketAt, to: iso(T0 - 2 * DAY + 1) })
        )[0]!;
        const old = expected.get(`300 ${bucketAt}`)!;
        assert.equal(bucket.samples, old.samples! + 1);
        assert.equal(bucket.cpu, (old.cpu! * old.samples! + 10) / (old.samples! + 1));
        assert.equal(bucket.cpuMax, 10);
        assert.equal(bucket.memoryBytesMax, old.memoryBytesMax);
        assert.equal(bucket.connectionsPerMinute, old.connectionsPerMinute, 'the late sample had no rate');

        // Retention removes buckets by their start like samples by their time.
        const r = await s.prune({ metrics: iso(T0 - 8 * DAY) });
        assert.equal(r.metrics, 2 * 24 + 1, 'the first two days of hours, and the process bucket');
        assert.equal((await s.listMetrics({ hostId: 'h1', subject: 'pid:7:1' })).length, 0);
        await rejects(s.prune({ rawMetrics: 'yesterday' }), 'STORE_BAD_TIME', 'rawMetrics');
      }),
    );

    test(
      'metrics downsampling: two prune passes at once (two servers on one database) count every sample once',
      withStore(async (s) => {
        const T0 = Date.parse('2025-03-11T00:00:00.000Z');
        const samples = Array.from({ length: 600 }, (_, i) => ({
          hostId: 'h1',
          at: iso(T0 - 3 * 86_400_000 + i * 10_000),
          subject: i % 2 === 0 ? 'host' : 'pid:1:1',
          cpu: 1,
        }));
        await s.addMetrics(samples);
        const cuts = { rawMetrics: iso(T0 - 86_400_000), fiveMinuteMetrics: iso(T0 - 7 * 86_400_000) };
        const results = await Promise.all([s.prune(cuts), s.prune(cuts), s.prune(cuts)]);
        assert.equal(
          results.reduce((n, r) => n + r.rolledUp.raw, 0),
          600,
          'each sample was moved by one pass',
        );
        const points = await s.listMetrics({ hostId: 'h1', limit: 10_000 });
        assert.ok(points.every((p) => p.resolutionS === 300 && p.cpu === 1));
        assert.equal(
          points.reduce((n, p) => n + p.samples!, 0),
          600,
          'no sample counted twice',
        );
      }),
    );

    test(
      'agent configuration: unset until stored, replaced whole, bounded, refused input keeps the old one',
      withStore(async (s) => {
        assert.equal(await s.getAgentConfig(), undefined);
        const allowlist = '<ApplicationControl><AllowedProcesses/></ApplicationControl>';
        const set = await s.setAgentConfig(
          { intervalS: 30, allowlist, neverAlert: ['deminer.process.masquerade', 'deminer.x'] },
          'tok-admin',
        );
        assert.equal(set.updatedBy, 'tok-admin');
        assert.ok(Math.abs(Date.parse(set.updatedAt) - Date.now()) < 60_000);
        assert.deepEqual(await s.getAgentConfig(), set);
        assert.deepEqual(set.config, {
          intervalS: 30,
          allowlist,
          neverAlert: ['deminer.process.masquerade', 'deminer.x'],
        });

        const replaced = await s.setAgentConfig({ intervalS: 10 }, 'tok-2');
        assert.deepEqual((await s.getAgentConfig())?.config, { intervalS: 10 }, 'what is left out is unset');
        assert.equal((await s.getAgentConfig())?.updatedBy, 'tok-2');

        await rejects(s.setAgentConfig({ intervalS: 1 }, 'a'), 'STORE_BAD_INPUT', 'intervalS');
        await rejects(s.setAgentConfig({ intervalS: 3601 }, 'a'), 'STORE_BAD_INPUT', 'intervalS');
        await rejects(
          s.setAgentConfig(
            { intervalS: 10, neverAlert: Array.from({ length: 1001 }, (_, i) => `r${i}`) },
            'a',
          ),
          'STORE_BAD_INPUT',
          'neverAlert',
        );
        await rejects(
          s.setAgentConfig({ intervalS: 10, neverAlert: ['ok', 'x'.repeat(201)] }, 'a'),
          'STORE_BAD_INPUT',
          'neverAlert[1]',
        );
        await rejects(
          s.setAgentConfig({ intervalS: 10, allowlist: 'é'.repeat(600_000) }, 'a'),
          'STORE_BAD_INPUT',
          'allowlist',
        );
        await rejects(s.setAgentConfig({ intervalS: 10 }, ''), 'STORE_BAD_INPUT', 'actor');
        assert.deepEqual(await s.getAgentConfig(), replaced, 'refused writes changed nothing');
        const rows = await raw(s).db.selectFrom('settings').selectAll().execute();
        assert.equal(rows.length, 1, 'one row per setting, however often it is set');

        // A hand-edited row is an error, not a silent default that would re-enable muted rules.
        await raw(s).db.updateTable('settings').set({ value: '{"intervalS":"soon"}' }).execute();
        await assert.rejects(s.getAgentConfig(), (e: unknown) => {
          assert.equal((e as { code?: string }).code, 'STORE_BAD_SETTING');
          return true;
        });
      }),
    );

    test(
      'audit: append-only, newest first, cursor',
      withStore(async (s) => {
        for (let i = 0; i < 5; i++) {
          await s.audit({
            at: iso(BASE + (i < 3 ? 0 : i) * 1000),
            actor: `tok-${i}`,
            action: 'token.create',
            outcome: i === 4 ? '403' : 'ok',
            ...(i === 0 ? { target: 'tok-x', detail: { role: 'viewer', n: 1 } } : {}),
          });
        }
        const seen: string[] = [];
        let cursor: string | undefined;
        for (;;) {
          const page = await s.listAudit({ limit: 2, cursor });
          assert.ok(page.items.length <= 2);
          seen.push(...page.items.map((e) => e.actor));
          if (!page.next) break;
          cursor = page.next;
        }
        assert.deepEqual(
          seen,
          ['tok-4', 'tok-3', 'tok-2', 'tok-1', 'tok-0'],
          'newest first; same time: last written first',
        );
        const all = (await s.listAudit({})).items;
        assert.deepEqual(all[4], {
          at: iso(BASE),
          actor: 'tok-0',
          action: 'token.create',
          target: 'tok-x',
          outcome: 'ok',
          detail: { role: 'viewer', n: 1 },
        });
        assert.equal(all[0]?.outcome, '403');
        await rejects(s.listAudit({ cursor: 'bad!' }), 'STORE_BAD_CURSOR');
      }),
    );

    test(
      'prune removes what is older than each cut, and nothing else',
      withStore(async (s) => {
        const old = finding({ subject: 'old', at: BASE, techniques: ['T1496'] });
        const recent = finding({ subject: 'recent', at: BASE + 86_400_000 });
        await s.ingestFindings([old, recent], { actor: 'a', at: NOW(), idempotencyKey: 'k' });
        await s.addMetrics([
          { hostId: 'h', at: iso(BASE), subject: 'host', cpu: 1 },
          { hostId: 'h', at: iso(BASE + 86_400_000), subject: 'host', cpu: 1 },
        ]);
        await s.audit({ at: iso(BASE), actor: 'x', action: 'a', outcome: 'ok' });
        await s.audit({ at: iso(BASE + 86_400_000), actor: 'y', action: 'a', outcome: 'ok' });

        const cut = iso(BASE + 3_600_000);
        const none = { raw: 0, fiveMinute: 0 };
        assert.deepEqual(await s.prune({}), { findings: 0, metrics: 0, audit: 0, rolledUp: none });
        assert.deepEqual(await s.prune({ findings: cut, metrics: cut, audit: cut }), {
          findings: 1,
          metrics: 1,
          audit: 1,
          rolledUp: none,
        });
        assert.equal(await s.getFinding(old.fingerprint), undefined);
        assert.ok(await s.getFinding(recent.fingerprint));
        const techniques = await raw(s).db.selectFrom('finding_techniques').select('fingerprint').execute();
        assert.deepEqual(
          techniques.map((t) => t.fingerprint),
          [recent.fingerprint],
        );
        assert.equal((await s.listMetrics({ hostId: 'h' })).length, 1);
        assert.deepEqual(
          (await s.listAudit({})).items.map((e) => e.actor),
          ['y'],
        );
        assert.deepEqual(await s.prune({ findings: cut, metrics: cut, audit: cut }), {
          findings: 0,
          metrics: 0,
          audit: 0,
          rolledUp: none,
        });
        assert.ok((await s.sizeBytes()) > 0);
      }),
    );

    test('migrates an existing database from the previous schema, keeping its rows', async () => {
      const s = await hooks.unmigrated();
      try {
        await s.migrate('0001-initial');
        await s.db
          .insertInto('findings')
          // The 0001 columns only: search_text did not exist yet.
          .values({
            fingerprint: 'aaaaaaaaaaaaaaaa',
            finding_id: 'f-1',
            finding: JSON.stringify({
              ...finding({ message: 'XMRig from before' }),
              fingerprint: 'aaaaaaaaaaaaaaaa',
            }),
            severity: 'high',
            severity_rank: 3,
            rule_id: 'deminer.test.rule',
            rule_name: 'Test rule',
            host_name: 'old01',
            message: 'XMRig from before',
            first_seen: iso(BASE),
            last_seen: iso(BASE),
            count: 7,
            acknowledged: 0,
            acknowledged_by: null,
            acknowledged_at: null,
          } as never)
          .execute();
        await s.db
          .insertInto('finding_techniques')
          .values({ fingerprint: 'aaaaaaaaaaaaaaaa', technique: 'T1496' })
          .execute();
        await assert.rejects(s.listMetrics({ hostId: 'h' }), 'no metrics table before 0002');

        await s.migrate();
        const got = await s.listFindings({ text: 'xmrig', technique: 'T1496' });
        assert.equal(got.items.length, 1, 'the old row is found through the column 0002 added');
        assert.equal(got.items[0]?.count, 7);
        assert.equal(got.items[0]?.finding.message, 'XMRig from before');
        await s.addMetrics([{ hostId: 'h', at: iso(BASE), subject: 'host', cpu: 0.1 }]);
        assert.equal((await s.listMetrics({ hostId: 'h' })).length, 1);
        // And the upgraded database takes new writes like a fresh one.
        const dup = { ...finding({ at: BASE + 1000 }), fingerprint: 'aaaaaaaaaaaaaaaa' };
        await s.ingestFindings([dup], { actor: 'a', at: NOW() });
        assert.equal((await s.getFinding('aaaaaaaaaaaaaaaa'))?.count, 8);
        await s.migrate();
      } finally {
        await s.close();
      }
    });

    test('0004 fills the console counters from the findings already stored', async () => {
      const s = await hooks.unmigrated();
      try {
        await s.migrate('0003-settings-and-rollups');
        const row = (
          fp: string,
          host: string,
          severity: Severity,
          ack: number,
          first: number,
          last: number,
          count: number,
        ) => ({
          fingerprint: fp,
          finding_id: `f-${fp}`,
          finding: JSON.stringify({ ...finding({ host, severity }), fingerprint: fp }),
          severity,
          severity_rank: { low: 1, medium: 2, high: 3, critical: 4 }[severity],
          rule_id: 'deminer.test.rule',
          rule_name: 'Test rule',
          host_name: host,
          message: 'm',
          first_seen: iso(first),
          last_seen: iso(last),
          count,
          acknowledged: ack,
          acknowledged_by: null,
          acknowledged_at: null,
          search_text: 'm',
        });
        const H = 3_600_000;
        await s.db
          .insertInto('findings')
          .values([
            row('a000000000000001', 'web01', 'high', 0, BASE, BASE + 2 * H, 3),
            row('a000000000000002', 'web01', 'low', 0, BASE, BASE, 1),
            row('a000000000000003', 'web01', 'high', 1, BASE, BASE, 1),
            row('a000000000000004', 'db01', 'critical', 0, BASE + H, BASE + H, 1),
          ])
          .execute();
        await s.migrate();
        assert.deepEqual(await s.openFindings(), { low: 1, medium: 0, high: 1, critical: 1 });
        const byHost = await s.openFindingsByHost(['web01', 'db01', 'nobody']);
        assert.deepEqual(byHost.get('web01'), { low: 1, medium: 0, high: 1, critical: 0 });
        assert.deepEqual(byHost.get('db01'), { low: 0, medium: 0, high: 0, critical: 1 });
        assert.deepEqual(byHost.get('nobody'), { low: 0, medium: 0, high: 0, critical: 0 });
        assert.deepEqual(await s.listSightings({ from: iso(BASE - H), to: iso(BASE + 10 * H) }), [
          { hour: iso(BASE), severity: 'high', count: 2 },
          { hour: iso(BASE), severity: 'low', count: 1 },
          { hour: iso(BASE + H), severity: 'critical', count: 1 },
          { hour: iso(BASE + 2 * H), severity: 'high', count: 2 },
        ]);
        const rules = await s.ruleActivity({});
        assert.equal(rules.length, 1);
        assert.equal(rules[0]!.findings, 4);
        assert.equal(rules[0]!.lastSeen, iso(BASE + 2 * H));
        // And the counters move with the next writes.
        await s.acknowledge(['a000000000000004'], 'analyst', NOW());
        assert.deepEqual(await s.openFindings(), { low: 1, medium: 0, high: 1, critical: 0 });
      } finally {
        await s.close();
      }
    });

    test(
      'console reads: hosts by status, recent host CPU, rule activity since a time, enrolments listed and deleted',
      withStore(async (s) => {
        const now = Date.now();
        await s.touchHost({ name: 'fresh', at: iso(now - 1000) });
        await s.touchHost({ name: 'quiet', at: iso(now - 5 * 60_000) });
        await s.touchHost({ name: 'gone', at: iso(now - 3600_000) });
        assert.deepEqual(await s.countHosts(), { reporting: 1, stale: 1, offline: 1, total: 3 });
        const fresh = (await s.listHosts({ text: 'fresh' })).items[0]!;
        await s.addMetrics(
          Array.from({ length: 5 }, (_, i) => ({
            hostId: fresh.id,
            at: iso(now - 10_000 + i),
            subject: 'host',
            cpu: i,
          })),
        );
        await s.addMetrics([{ hostId: fresh.id, at: iso(now), subject: 'pid:1:1', cpu: 50 }]);
        const cpu = await s.recentHostCpu([fresh.id, 'nobody'], 3);
        assert.deepEqual(cpu.get(fresh.id), [2, 3, 4]);
        assert.deepEqual(cpu.get('nobody'), []);

        await s.ingestFindings(
          [
            finding({ rule: 'r.a', subject: '1', at: now - 10 * 86_400_000 }),
            finding({ rule: 'r.a', subject: '2', at: now - 60_000, techniques: ['T1059'] }),
            finding({ rule: 'r.b', ruleName: 'B', subject: '3', at: now - 20 * 86_400_000 }),
          ],
          { actor: 'a', at: NOW() },
        );
        const all = await s.ruleActivity({});
        assert.deepEqual(
          all.map((r) => [r.ruleId, r.findings, r.ruleName, r.techniques]),
          [
            ['r.a', 2, 'Test rule', ['T1059']],
            ['r.b', 1, 'B', ['T1496']],
          ],
        );
        const week = await s.ruleActivity({ since: iso(now - 7 * 86_400_000) });
        assert.deepEqual(
          week.map((r) => [r.ruleId, r.findings]),
          [['r.a', 1]],
        );
        assert.deepEqual(await s.ruleActivity({ ruleId: 'r.none' }), []);
        assert.equal((await s.ruleActivity({ ruleId: 'r.b' }))[0]?.ruleset, 'builtin');

        const e1 = await s.createEnrolment({ expiresAt: iso(now + 60_000), uses: 2, createdBy: 'admin-1' });
        const e2 = await s.createEnrolment({ expiresAt: iso(now + 60_000), uses: 1, createdBy: 'admin-1' });
        assert.deepEqual(
          (await s.listEnrolments()).map((e) => e.id).sort(),
          [e1.record.id, e2.record.id].sort(),
        );
        assert.equal(await s.deleteEnrolment(e1.record.id), true);
        assert.equal(await s.deleteEnrolment(e1.record.id), false);
        assert.equal(await s.enrol(e1.secret, { name: 'x' }), undefined, 'a deleted secret no longer enrols');
        assert.deepEqual(
          (await s.listEnrolments()).map((e) => e.id),
          [e2.record.id],
        );
      }),
    );

    test(
      'isolations: one active per host, compare-and-set changes, action log copied to the audit log',
      withStore(async (s) => {
        const now = Date.now();
        const host = await s.touchHost({ id: 'agent-iso-1', name: 'iso-host', agent: true, at: iso(now) });
        assert.equal((await s.getHostByName('iso-host'))?.id, host.id);
        assert.equal(await s.getHostByName('nobody'), undefined);

        const a = await s.createIsolation({
          hostId: host.id,
          hostName: host.name,
          backend: 'ovs',
          target: '192.0.2.10',
          requestedBy: 'alice',
          requestedById: 'tok-1',
          reason: 'f'.repeat(32),
          approval: 'pending',
          ttlS: 60,
          expiresAt: iso(now + 60_000),
          at: iso(now),
        });
        assert.equal(a.state, 'requested');
        assert.equal(a.attempts, 0);
        assert.equal(a.approval, 'pending');
        assert.equal(a.ttlS, 60);
        await rejects(
          s.createIsolation({
            hostId: host.id,
            hostName: host.name,
            backend: 'ovs',
            requestedBy: 'policy:r',
            approval: 'not_required',
            at: iso(now),
          }),
          'STORE_ISOLATION_ACTIVE',
          'hostId',
        );

        // Compare-and-set: only from the states named.
        assert.equal(
          await s.updateIsolation(a.id, { state: 'isolated', at: iso(now + 1) }, ['applying']),
          undefined,
        );
        const applying = await s.updateIsolation(
          a.id,
          {
            state: 'applying',
            approval: 'approved',
            approvedBy: 'bob',
            approvedAt: iso(now + 1),
            at: iso(now + 1),
          },
          ['requested'],
        );
        assert.equal(applying?.state, 'applying');
        assert.equal(applying?.approvedBy, 'bob');
        const failed = await s.updateIsolation(
          a.id,
          {
            state: 'failed',
            addAttempts: 3,
            lastError: { code: 'CONTROLLER_ERROR', message: 'answered 500' },
            failedAction: 'isolate',
            at: iso(now + 2),
          },
          ['applying'],
        );
        assert.equal(failed?.attempts, 3);
        assert.deepEqual(failed?.lastError, { code: 'CONTROLLER_ERROR', message: 'answered 500' });
        const done = await s.updateIsolation(
          a.id,
          {
            state: 'isolated',
            addAttempts: 1,
            lastError: null,
            failedAction: null,
            verification: { state: 'isolated', present: ['x'] },
            isolatedAt: iso(now + 3),
            at: iso(now + 3),
          },
          ['failed'],
        );
        assert.equal(done?.attempts, 4);
        assert.equal(done?.lastError, undefined);
        assert.deepEqual(done?.verification, { state: 'isolated', present: ['x'] });
        assert.equal((await s.currentIsolation(host.id))?.id, a.id);
        assert.deepEqual(
          (await s.listIsolations({ expiresBefore: iso(now + 60_000), state: ['isolated'] })).items.map(
            (i) => i.id,
          ),
          [a.id],
        );
        assert.deepEqual((await s.listIsolations({ expiresBefore: iso(now + 59_000) })).items, []);

        // Concurrent requests for another host: exactly one wins.
        const other = await s.touchHost({ name: 'iso-other', at: iso(now) });
        const tries = await Promise.allSettled(
          [1, 2, 3, 4].map((n) =>
            s.createIsolation({
              hostId: other.id,
              hostName: other.name,
              backend: 'ryu',
              requestedBy: `user${n}`,
              approval: 'not_required',
              at: iso(now + n),
            }),
          ),
        );
        assert.equal(tries.filter((t) => t.status === 'fulfilled').length, 1);

        // Released: the host may be isolated again, and the newest is its current one.
        await s.updateIsolation(a.id, {
          state: 'released',
          releasedAt: iso(now + 4),
          releasedBy: 'ttl',
          at: iso(now + 4),
        });
        assert.equal((await s.currentIsolation(host.id))?.state, 'released');
        const b = await s.createIsolation({
          hostId: host.id,
          hostName: host.name,
          backend: 'agent-nftables',
          requestedBy: 'policy:deminer.process.miner',
          approval: 'not_required',
          at: iso(now + 5),
        });
        assert.equal((await s.currentIsolation(host.id))?.id, b.id);
        const page1 = await s.listIsolations({ limit: 2 });
        assert.equal(page1.items.length, 2);
        assert.ok(page1.next);
        const page2 = await s.listIsolations({ limit: 2, cursor: page1.next });
        assert.equal(page2.items.length, 1);
        assert.equal(page2.next, null);
        assert.deepEqual(
          (await s.listIsolations({ hostId: host.id, reason: 'f'.repeat(32) })).items.map((i) => i.id),
          [a.id],
        );
        assert.deepEqual(
          (await s.listIsolations({ state: ['released'] })).items.map((i) => i.id),
          [a.id],
        );

        await s.addIsolationAction({
          isolationId: a.id,
          hostId: host.id,
          at: iso(now + 1),
          kind: 'request',
          actor: 'alice',
          outcome: 'ok',
          detail: { backend: 'ovs' },
        });
        await s.addIsolationAction({
          isolationId: a.id,
          hostId: host.id,
          at: iso(now + 2),
          kind: 'exchange',
          actor: 'server',
          outcome: 'CONTROLLER_ERROR',
          detail: { answer: 'x'.repeat(100_000) },
        });
        const log = await s.listIsolationActions(a.id);
        assert.deepEqual(
          log.map((x) => [x.kind, x.outcome]),
          [
            ['request', 'ok'],
            ['exchange', 'CONTROLLER_ERROR'],
          ],
        );
        assert.ok(log[0]!.seq < log[1]!.seq);
        assert.equal(log[1]!.detail?.truncated, true, 'a huge detail is cut, not refused');
        const audit = (await s.listAudit({})).items.filter((e) => e.action.startsWith('isolation.'));
        assert.deepEqual(
          audit.map((e) => [e.action, e.target, e.outcome, e.detail?.isolation_id]),
          [
            ['isolation.exchange', host.id, 'CONTROLLER_ERROR', a.id],
            ['isolation.request', host.id, 'ok', a.id],
          ],
        );
        await rejects(s.listIsolations({ state: ['gone' as 'released'] }), 'STORE_BAD_INPUT', 'state');
        await rejects(s.listIsolations({ cursor: 'bad!' }), 'STORE_BAD_CURSOR', 'cursor');
      }),
    );

    test(
      'refuses malformed input with the field named',
      withStore(async (s) => {
        await rejects(s.ingestFindings([], { actor: 'a', at: 'now' }), 'STORE_BAD_TIME', 'at');
        await rejects(
          s.createEnrolment({ expiresAt: iso(Date.now()), uses: 0, createdBy: 'a' }),
          'STORE_BAD_INPUT',
          'uses',
        );
        await rejects(
          s.createEnrolment({ expiresAt: 'tomorrow', uses: 1, createdBy: 'a' }),
          'STORE_BAD_TIME',
          'expiresAt',
        );
        await rejects(s.touchHost({ name: '', at: NOW() }), 'STORE_BAD_INPUT', 'host.name');
        await rejects(
          s.audit({ at: NOW(), actor: '', action: 'x', outcome: 'ok' }),
          'STORE_BAD_INPUT',
          'actor',
        );
        await rejects(s.prune({ findings: 'old' }), 'STORE_BAD_TIME', 'findings');
      }),
    );

    test(
      'incidents: one open per host under concurrent opens, findings linked once, campaigns merge, breaches once',
      withStore(async (s) => {
        const inc = s.incidents;
        const link = (fp: string) => ({
          fingerprint: fp,
          ruleId: 'deminer.test.rule',
          ruleName: 'Test rule',
          severity: 'high' as const,
          message: 'm',
          at: iso(BASE),
        });
        // Several openers at once (as several servers would): one incident, every finding joined to it.
        const opened = await Promise.all(
          ['a', 'b', 'c', 'd'].map((x) =>
            inc.open({
              title: 't',
              hostName: 'web01',
              severity: 'high',
              openedBy: 'auto:r',
              at: iso(BASE),
              finding: link(`${x}${'0'.repeat(15)}`),
            }),
          ),
        );
        assert.equal(opened.filter((o) => o.created).length, 1);
        assert.equal(new Set(opened.map((o) => o.incident.id)).size, 1);
        const id = opened[0]!.incident.id;
        assert.equal((await inc.get(id))?.findings, 4);
        assert.equal(await inc.linkFinding(id, link(`a${'0'.repeat(15)}`), iso(BASE)), false, 'linked once');
        assert.equal(
          await inc.linkFinding(id, { ...link('e'.repeat(16)), severity: 'critical' }, iso(BASE)),
          true,
        );
        assert.equal((await inc.get(id))?.severity, 'critical');
        assert.equal((await inc.openFor('web01'))?.id, id);

        // Campaigns: two incidents apart, then an indicator in common merges them into the older.
        const other = (
          await inc.open({ title: 'u', hostName: 'web02', severity: 'high', openedBy: 'x', at: iso(BASE) })
        ).incident.id;
        const c1 = await inc.addIndicators(id, [{ kind: 'pool', value: 'p1.example' }], iso(BASE));
        const c2 = await inc.addIndicators(other, [{ kind: 'pool', value: 'p2.example' }], iso(BASE + 1000));
        assert.ok(c1.campaignId && c2.campaignId && c1.campaignId !== c2.campaignId);
        const c3 = await inc.addIndicators(
          other,
          [
            { kind: 'wallet', value: 'w', coin: 'monero' },
            { kind: 'pool', value: 'p1.example' },
          ],
          iso(BASE + 2000),
        );
        assert.equal(c3.campaignId, c1.campaignId);
        assert.equal((await inc.get(id))?.campaignId, c1.campaignId);
        const merged = await inc.campaign(c2.campaignId!);
        assert.equal(merged?.id, c1.campaignId, 'a merged campaign answers as the one it joined');
        assert.deepEqual(merged?.incidents.map((i) => i.hostName).sort(), ['web01', 'web02']);
        assert.equal((await inc.campaigns()).length, 1);

        // Phase moves are compare-and-set; closing frees the host.
        const clocks = {
          discoveryAt: iso(BASE),
          isolationMetAt: iso(BASE),
          recoveryAt: iso(BASE),
          reviewMetAt: iso(BASE),
          closedAt: iso(BASE),
        };
        assert.equal(
          await inc.move(id, { from: 'isolation', to: 'closed', at: iso(BASE), actor: 'a', clocks }),
          'phase_changed',
        );
        assert.equal(
          await inc.move(id, { from: 'discovery', to: 'closed', at: iso(BASE), actor: 'a', clocks }),
          'moved',
        );
        assert.equal(await inc.openFor('web01'), undefined);
        assert.equal(await inc.closedWith(`a${'0'.repeat(15)}`), iso(BASE));

        // A breach is recorded once, however often it is seen.
        const raised = await Promise.all(
          [1, 2, 3].map(() => inc.recordBreach(other, 'isolation', iso(BASE), iso(BASE))),
        );
        assert.equal(raised.filter(Boolean).length, 1);
        assert.equal((await inc.events(other)).filter((e) => e.kind === 'sla_breached').length, 1);
        const page = await inc.list({ limit: 1 });
        assert.equal(page.items.length, 1);
        assert.ok(page.next);
        assert.equal((await inc.list({ limit: 1, cursor: page.next })).items.length, 1);
      }),
    );
  });
}
