import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { EcsEvent } from '../../core/event.ts';
import type { SourceItem } from '../../core/stages.ts';
import { fieldText, isoOfMicros, journaldSource, sniffJournald } from './source.ts';

const journal = fileURLToPath(new URL('../../../test/fixtures/linux/campaign/journal.json', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'deminer-journald-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

async function items(path: string): Promise<SourceItem[]> {
  const out: SourceItem[] = [];
  for await (const b of journaldSource.read(path, {})) out.push(...b);
  return out;
}
const data = (e: EcsEvent): Record<string, unknown> => e.winlog?.event_data ?? {};

test('field values: strings, byte arrays, repeated fields, left-out values; microsecond times', () => {
  assert.equal(fieldText('x'), 'x');
  assert.equal(fieldText([104, 105]), 'hi');
  assert.equal(fieldText(['a', [98]]), 'a\nb');
  assert.equal(fieldText(null), undefined);
  assert.equal(isoOfMicros('1793592855123456'), '2026-11-02T04:14:15.123Z');
  assert.equal(isoOfMicros('x'), undefined);
  const enc = (s: string) => new TextEncoder().encode(s);
  assert.equal(sniffJournald(enc('{"__CURSOR":"s=1","MESSAGE":"x"}\n')), true);
  assert.equal(sniffJournald(enc('\u001e{"__REALTIME_TIMESTAMP":"1"}\n')), true);
  assert.equal(sniffJournald(enc('{"Event":{"System":{}}}')), false);
});

test('the campaign journal: entries, a Sysmon event in MESSAGE, kernel audit records joined', async () => {
  const xs = await items(journal);
  assert.deepEqual(
    xs.filter((i) => i.kind === 'issue'),
    [],
  );
  const evs = xs.flatMap((i) => (i.kind === 'event' ? [i.event] : []));
  assert.deepEqual(
    evs.map((e) => [e.winlog?.channel, e.winlog?.event_id ?? null]),
    [
      ['journald', null],
      ['journald', null],
      ['Linux-Sysmon/Operational', '1'],
      ['journald', null],
      ['auditd', 'SYSCALL'],
      ['auditd', 'EXECVE'],
      ['auditd', 'CWD'],
      ['auditd', 'PROCTITLE'],
    ],
  );
  const [crontab, sshd, sysmon, systemd] = evs;
  assert.equal(data(crontab!)['MESSAGE'], '(root) REPLACE (root)');
  assert.equal(data(crontab!)['SYSLOG_IDENTIFIER'], 'crontab');
  assert.equal(data(crontab!)['Image'], '/usr/bin/crontab');
  assert.equal(data(crontab!)['__CURSOR'], undefined);
  assert.equal(crontab!.winlog?.record_id, 100);
  assert.equal(crontab!.host?.name, 'db-03');
  assert.equal(crontab!['@timestamp'], '2026-11-02T04:14:15.000Z');
  assert.equal(crontab!.log?.line, 1);
  assert.match(String(data(sshd!)['MESSAGE']), /^Accepted publickey for root/);
  assert.equal(sysmon!.winlog?.computer_name, 'db-03');
  assert.match(String(data(sysmon!)['CommandLine']), /--url=stratum\+ssl/);
  assert.equal(data(systemd!)['MESSAGE'], 'Started session.');
  const execve = evs.find((e) => e.winlog?.event_id === 'EXECVE')!;
  assert.equal(data(execve)['CommandLine'], 'chattr +i /root/.ssh/authorized_keys');
  assert.equal(data(execve)['Image'], '/usr/bin/chattr');
  assert.equal(execve.winlog?.record_id, 77123);
  assert.equal(execve['@timestamp'], '2026-11-02T04:14:18.250Z');
});

test('lines that are not JSON objects are issues with file:line', async () => {
  const p = join(tmp, 'j.json');
  writeFileSync(
    p,
    ['{"__CURSOR":"a","MESSAGE":"ok"}', '{"MESSAGE": ', '[1,2]', '', '{"MESSAGE":"x"}'].join('\n'),
  );
  const xs = await items(p);
  assert.deepEqual(
    xs.flatMap((i) => (i.kind === 'issue' ? [[i.issue.code, i.issue.location]] : [])),
    [
      ['JOURNALD_BAD_LINE', `${p}:2`],
      ['JOURNALD_BAD_LINE', `${p}:3`],
    ],
  );
  assert.equal(xs.filter((i) => i.kind === 'event').length, 2);
});
