import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { SourceItem } from '../../core/stages.ts';
import { parseSysmonEventXml, sysmonLinuxSource, sysmonXmlOfLine } from './source.ts';

const syslog = fileURLToPath(new URL('../../../test/fixtures/linux/campaign/syslog', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'deminer-sysmon-linux-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

async function items(path: string): Promise<SourceItem[]> {
  const out: SourceItem[] = [];
  for await (const b of sysmonLinuxSource.read(path, {})) out.push(...b);
  return out;
}

const EVENT =
  '<Event><System><Provider Name="Linux-Sysmon" Guid="{ff032593-a8d3-4f13-b0d6-01fc615a0f97}"/><EventID>1</EventID><Version>5</Version><Level>4</Level><Task>1</Task><Opcode>0</Opcode><Keywords>0x8000000000000000</Keywords><TimeCreated SystemTime="2022-11-24T08:30:01.467399000Z"/><EventRecordID>75097</EventRecordID><Correlation/><Execution ProcessID="1109" ThreadID="1109"/><Channel>Linux-Sysmon/Operational</Channel><Computer>ip-172-31-60-25</Computer><Security UserId="0"/></System><EventData><Data Name="RuleName">-</Data><Data Name="ProcessId">3372</Data><Data Name="Image">/usr/bin/wget</Data><Data Name="CommandLine">sh -c &quot;echo a &gt;&gt; /etc/crontab&quot; &amp;&amp; true</Data><Data Name="Hashes"/></EventData></Event>';

test('one event: System fields, EventData, XML entities; the same winlog shape as Windows Sysmon', () => {
  const e = parseSysmonEventXml(EVENT);
  assert.ok(typeof e !== 'string');
  assert.equal(e.winlog.channel, 'Linux-Sysmon/Operational');
  assert.equal(e.winlog.provider_name, 'Linux-Sysmon');
  assert.equal(e.winlog.event_id, '1');
  assert.equal(e.winlog.record_id, 75097);
  assert.equal(e.winlog.computer_name, 'ip-172-31-60-25');
  assert.equal(e['@timestamp'], '2022-11-24T08:30:01.467Z');
  assert.deepEqual(e.event, { code: '1' });
  assert.equal(e.winlog.event_data?.['CommandLine'], 'sh -c "echo a >> /etc/crontab" && true');
  assert.equal(e.winlog.event_data?.['Image'], '/usr/bin/wget');
  assert.equal(e.winlog.event_data?.['Hashes'], '');
  assert.equal(typeof parseSysmonEventXml('<Event><System></System></Event>'), 'string');
});

test('syslog lines: the event found after any syslog header; other programs skipped; cut events reported', () => {
  assert.equal(sysmonXmlOfLine(`Nov 24 08:30:01 ip-172-31-60-25 sysmon: ${EVENT}`), EVENT);
  assert.equal(sysmonXmlOfLine(`<134>1 2022-11-24T08:30:01Z host sysmon - - - ${EVENT}`), EVENT);
  assert.equal(sysmonXmlOfLine('Nov 24 08:30:01 host CRON[1]: (root) CMD (x)'), undefined);
  const cut = sysmonXmlOfLine(`Nov 24 08:30:01 host sysmon: ${EVENT.slice(0, 300)}`);
  assert.ok(typeof cut === 'object' && cut !== undefined && 'error' in cut);
});

test('the campaign syslog: five Sysmon events, the other lines counted, no issue', async () => {
  const xs = await items(syslog);
  assert.deepEqual(
    xs.filter((i) => i.kind === 'issue'),
    [],
  );
  const evs = xs.flatMap((i) => (i.kind === 'event' ? [i.event] : []));
  assert.deepEqual(
    evs.map((e) => [e.winlog?.event_id, e.log?.line]),
    [
      ['1', 2],
      ['11', 3],
      ['1', 4],
      ['3', 5],
      ['1', 6],
    ],
  );
  const stats = xs.find((i) => i.kind === 'stats');
  assert.deepEqual(stats?.kind === 'stats' && stats.stats, { sysmonOtherLines: 2 });
});

test('a cut event and a broken one are issues with file:line', async () => {
  const p = join(tmp, 'syslog');
  writeFileSync(
    p,
    [
      `Nov 24 08:30:01 h sysmon: ${EVENT}`,
      `Nov 24 08:30:02 h sysmon: ${EVENT.slice(0, 500)}`,
      'Nov 24 08:30:03 h sysmon: <Event><Foo/></Event>',
    ].join('\n'),
  );
  const xs = await items(p);
  assert.deepEqual(
    xs.flatMap((i) => (i.kind === 'issue' ? [[i.issue.code, i.issue.location]] : [])),
    [
      ['SYSMON_TRUNCATED', `${p}:2`],
      ['SYSMON_BAD_EVENT', `${p}:3`],
    ],
  );
});
