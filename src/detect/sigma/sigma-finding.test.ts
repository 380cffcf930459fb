import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EcsEvent } from '../../core/event.ts';
import { FindingSchema } from '../../core/finding.ts';
import type { WinlogEvent } from '../../core/winlog-event.ts';
import { declarationProblems } from '../catalog.ts';
import { SigmaEngine } from './engine.ts';
import { parseRuleText } from './load-rules.ts';
import { loadLogsourceMap } from './logsource-map.ts';
import { processOf } from './sigma-finding.ts';
import { fieldViewOf } from './winlog-event.ts';

const logsources = loadLogsourceMap();

function engineFor(product: string, detection: string): SigmaEngine {
  const text = `title: Miner command line\nid: ecs-1\nlevel: high\ntags: [attack.impact, attack.t1496]\nlogsource:\n  product: ${product}\n  category: process_creation\ndetection:\n${detection}\n`;
  const { rules, issues } = parseRuleText(text, 'r.yml');
  assert.deepEqual(issues, []);
  const e = new SigmaEngine(rules, { logsources });
  assert.deepEqual(e.issues, []);
  return e;
}

/** An Elastic Endpoint process event: ECS only, no `winlog`. */
function endpointProcess(over: Partial<EcsEvent> = {}): EcsEvent {
  return {
    '@timestamp': '2025-03-04T09:00:00.000Z',
    event: { kind: 'event', category: ['process'], type: ['start'], id: 'evt-1' },
    host: { name: 'WEB-01.corp.example', os: { type: 'windows' } },
    process: {
      pid: 6120,
      entity_id: 'proc-6120',
      name: 'svchost.exe',
      executable: 'C:\\Users\\jdoe\\AppData\\Local\\Temp\\svchost.exe',
      command_line: 'svchost.exe -o stratum+tcp://pool.supportxmr.com:3333 -u x',
      working_directory: 'C:\\Users\\jdoe\\AppData\\Local\\Temp\\',
      hash: { sha256: 'AB'.repeat(32) },
      parent: { pid: 3100, name: 'cmd.exe', executable: 'C:\\Windows\\System32\\cmd.exe' },
    },
    user: { name: 'jdoe' },
    ...over,
  };
}

test('a process_creation rule matches an ECS process event and the finding carries its process block', () => {
  const e = engineFor(
    'windows',
    "  sel:\n    CommandLine|contains: 'stratum+tcp://'\n    ParentImage|endswith: '\\cmd.exe'\n  condition: sel",
  );
  const [f, ...rest] = e.observe(endpointProcess());
  assert.equal(rest.length, 0);
  assert.ok(f, 'the rule fires on the ECS document');
  assert.deepEqual(f.process, {
    pid: 6120,
    ppid: 3100,
    name: 'svchost.exe',
    executable: 'C:\\Users\\jdoe\\AppData\\Local\\Temp\\svchost.exe',
    command_line: 'svchost.exe -o stratum+tcp://pool.supportxmr.com:3333 -u x',
    working_directory: 'C:\\Users\\jdoe\\AppData\\Local\\Temp\\',
    hash: { sha256: 'ab'.repeat(32) },
    parent: { pid: 3100, name: 'cmd.exe', executable: 'C:\\Windows\\System32\\cmd.exe' },
    user: { name: 'jdoe' },
  });
  assert.deepEqual(f.host, { name: 'web-01', hostname: 'WEB-01.corp.example' });
  assert.equal(f.winlog, undefined, 'no event-log identity for a document that is not a record');
  assert.ok(FindingSchema.safeParse(f).success);
  assert.deepEqual(declarationProblems([f], e.rules), []);
  // Other documents: not a process start, or a field the rule reads that ECS does not have.
  assert.deepEqual(e.observe(endpointProcess({ event: { category: ['process'], type: ['end'] } })), []);
  assert.deepEqual(e.observe(endpointProcess({ event: { category: ['network'], type: ['start'] } })), []);
  const sysmonOnly = engineFor('windows', "  sel:\n    IntegrityLevel: 'Medium'\n  condition: sel");
  assert.deepEqual(
    sysmonOnly.observe(endpointProcess()),
    [],
    'Sysmon-only fields do not run on ECS documents',
  );
});

test('linux process_creation rules run on ECS process events too', () => {
  const e = engineFor('linux', "  sel:\n    Image|endswith: '/xmrig'\n    User: root\n  condition: sel");
  const doc = endpointProcess({
    host: { name: 'db-02', os: { type: 'linux' } },
    process: { pid: 77, executable: '/tmp/.x/xmrig', command_line: '/tmp/.x/xmrig -c config.json' },
    user: { name: 'root' },
  });
  const [f] = e.observe(doc);
  assert.equal(f?.process?.name, 'xmrig');
  assert.equal(f?.process?.pid, 77);
  assert.equal(f?.host.name, 'db-02');
});

test('processOf reads Sysmon, Security 4688 and ECS names alike', () => {
  const sysmon: WinlogEvent = {
    winlog: {
      channel: 'Microsoft-Windows-Sysmon/Operational',
      event_id: '1',
      event_data: {
        ProcessId: '4242',
        ParentProcessId: '3100',
        Image: 'C:\\Temp\\svc.exe',
        CommandLine: 'svc.exe -o x',
        CurrentDirectory: 'C:\\Temp\\',
        ParentImage: 'C:\\Windows\\explorer.exe',
        User: 'CORP\\jdoe',
        Hashes: `SHA1=${'1'.repeat(40)},SHA256=${'CD'.repeat(32)},IMPHASH=${'2'.repeat(32)}`,
      },
    },
  };
  assert.deepEqual(processOf(fieldViewOf(sysmon)), {
    pid: 4242,
    ppid: 3100,
    executable: 'C:\\Temp\\svc.exe',
    name: 'svc.exe',
    command_line: 'svc.exe -o x',
    working_directory: 'C:\\Temp\\',
    hash: { sha256: 'cd'.repeat(32) },
    parent: { name: 'explorer.exe', executable: 'C:\\Windows\\explorer.exe' },
    user: { name: 'CORP\\jdoe' },
  });
  const security: WinlogEvent = {
    winlog: {
      channel: 'Security',
      event_id: '4688',
      event_data: {
        NewProcessId: '0x1a4',
        ProcessId: '0xc1c',
        NewProcessName: 'C:\\ProgramData\\sys\\conhost.exe',
        ParentProcessName: 'C:\\Windows\\explorer.exe',
        SubjectUserName: 'jdoe',
        CommandLine: '-',
      },
    },
  };
  const p = processOf(fieldViewOf(security));
  assert.equal(p?.pid, 0x1a4);
  assert.equal(p?.ppid, 0xc1c);
  assert.equal(p?.command_line, undefined, '"-" is Windows for none');
  // Documents are not validated per event: a pid written as text still reads as a number.
  const doc: EcsEvent = JSON.parse('{"process":{"pid":"12","executable":"/usr/bin/x","name":"x-worker"}}');
  assert.deepEqual(processOf(fieldViewOf(doc)), { pid: 12, executable: '/usr/bin/x', name: 'x-worker' });
  assert.equal(processOf(fieldViewOf({ event: { code: '4624' } })), undefined);
});
