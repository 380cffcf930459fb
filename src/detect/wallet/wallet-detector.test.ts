import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EcsEvent } from '../../core/event.ts';
import { FindingSchema } from '../../core/finding.ts';
import { declarationProblems } from '../catalog.ts';
import { WALLET_IN_COMMAND_LINE, WalletDetector } from './wallet-detector.ts';

const GENERAL_FUND =
  '44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A';
const SUBADDRESS =
  '888tNkZrPN6JsEgekjMnABU4TBzc2Dt29EPAvkRxbANsAnjyPbb3iQ1YBRk1UXcdRsiKc9dhwMVgN5S9cQUiyoogDavup3H';
/** The general fund's address with one character changed: its checksum no longer holds. */
const CORRUPTED = `${GENERAL_FUND.slice(0, 40)}${GENERAL_FUND[40] === 'a' ? 'b' : 'a'}${GENERAL_FUND.slice(41)}`;

function winlog(channel: string, eventId: number, data: Record<string, unknown>, record = 1): EcsEvent {
  return {
    '@timestamp': '2026-11-30T09:00:00.000Z',
    winlog: {
      channel,
      event_id: eventId,
      record_id: record,
      computer_name: 'WS-FIN-07.corp.example',
      event_data: data,
    },
  };
}

const SYSMON = 'Microsoft-Windows-Sysmon/Operational';

test('wallets are found where a host starts programs: processes, services, tasks, Run keys, WMI, scripts', () => {
  const d = new WalletDetector();
  const events: [EcsEvent, string][] = [
    [
      winlog(SYSMON, 1, {
        Image: 'C:\\Users\\Public\\w.exe',
        ProcessId: 4242,
        CommandLine: `w.exe -o 198.51.100.7:3333 -u ${GENERAL_FUND} -p x`,
      }),
      'CommandLine',
    ],
    [
      winlog('Security', 4688, {
        NewProcessName: 'C:\\ProgramData\\c.exe',
        NewProcessId: '0x1980',
        ProcessId: '0x24c',
        CommandLine: `c.exe -u ${GENERAL_FUND}`,
      }),
      'CommandLine',
    ],
    [
      winlog('System', 7045, { ServiceName: 'x', ImagePath: `C:\\ProgramData\\x.exe -u ${GENERAL_FUND}` }),
      'ImagePath',
    ],
    [
      winlog('Security', 4697, { ServiceName: 'x', ServiceFileName: `x.exe --user=${SUBADDRESS}` }),
      'ServiceFileName',
    ],
    [
      winlog('Security', 4698, {
        TaskName: '\\t',
        TaskContent: `<Task><Actions><Exec><Command>a.exe</Command><Arguments>-u ${GENERAL_FUND}</Arguments></Exec></Actions></Task>`,
      }),
      'TaskContent',
    ],
    [
      winlog(SYSMON, 13, {
        Image: 'C:\\Windows\\System32\\reg.exe',
        TargetObject: 'HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run\\u',
        Details: `C:\\ProgramData\\u.exe ${GENERAL_FUND}`,
      }),
      'Details',
    ],
    [
      winlog(SYSMON, 20, { Type: 'Command Line', Destination: ` "C:\\\\u.exe -u ${GENERAL_FUND}"` }),
      'Destination',
    ],
    [
      winlog('Microsoft-Windows-PowerShell/Operational', 4104, {
        ScriptBlockText: `$wallet = "${GENERAL_FUND}"`,
      }),
      'ScriptBlockText',
    ],
    [
      {
        '@timestamp': '2026-11-30T09:00:00.000Z',
        host: { name: 'web-01' },
        process: { pid: 7, executable: '/tmp/k', command_line: `/tmp/k -u ${GENERAL_FUND}` },
      },
      'process.command_line',
    ],
  ];
  const all = [];
  for (const [e, field] of events) {
    const fs = d.observe(e);
    assert.equal(fs.length, 1, `${field}: ${fs.length} findings`);
    const f = fs[0]!;
    assert.equal(f.rule.id, 'deminer.wallet_in_command_line');
    assert.equal(f.severity, 'high');
    assert.deepEqual(f.threat.technique, ['T1496']);
    assert.equal(f.evidence['field'], field);
    assert.ok(FindingSchema.safeParse(f).success, JSON.stringify(FindingSchema.safeParse(f).error));
    all.push(f);
  }
  assert.deepEqual(declarationProblems(all, d.rules), []);
  const p = all[0]!;
  assert.equal(p.host.name, 'ws-fin-07');
  assert.equal(p.process?.pid, 4242);
  assert.equal(p.event?.code, '1');
  assert.deepEqual(p.winlog, { channel: SYSMON, record_id: 1 });
  assert.deepEqual(p.evidence['wallet'], {
    address: GENERAL_FUND,
    coin: 'monero',
    network: 'mainnet',
    kind: 'standard',
  });
  assert.equal(all[1]!.process?.pid, 0x1980, '4688: the new process, not its parent');
  assert.equal(all[2]!.process, undefined, 'a service install names no running process');
  // The same wallet on the same host is one subject: pipelines de-duplicate on the fingerprint.
  assert.equal(all[0]!.fingerprint, all[2]!.fingerprint);
  assert.notEqual(all[3]!.fingerprint, all[0]!.fingerprint);
});

test('no finding for corrupted or absent wallets, for fields that start nothing, or for look-alike base58', () => {
  const d = new WalletDetector();
  const quiet: EcsEvent[] = [
    winlog(SYSMON, 1, { Image: 'C:\\w.exe', CommandLine: `w.exe -o 198.51.100.7:3333 -u ${CORRUPTED}` }),
    winlog(SYSMON, 1, {
      Image: 'C:\\w.exe',
      CommandLine: `w.exe -o 198.51.100.7:3333 -u 4${'A'.repeat(94)}`,
    }),
    winlog(SYSMON, 1, {
      Image: 'C:\\w.exe',
      CommandLine: 'svchost.exe -o 198.51.100.20:443 -u worker --donate-level=1',
    }),
    winlog('Security', 4624, { TargetUserName: GENERAL_FUND }),
    winlog(SYSMON, 22, { QueryName: `${GENERAL_FUND}.example` }),
    winlog('System', 7045, { ServiceName: 'x', ImagePath: `powershell -enc ${'SQBFAFgA'.repeat(40)}` }),
  ];
  for (const e of quiet) assert.deepEqual(d.observe(e), []);
  assert.deepEqual(d.finalize(), []);
  assert.equal(WALLET_IN_COMMAND_LINE.severity.min, 'high');
});
