import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Finding } from '../../src/core/finding.ts';
import { FindingSchema } from '../../src/core/finding.ts';
import { buildEngine } from '../../src/detect/sigma/index.ts';
import { readWinlogJson } from '../../src/sources/winlog-json/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'deminer-ecs-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const WALLET =
  '44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A';

test('an Elastic Endpoint process document (ECS, no winlog) read from JSON fires the built-in miner rule', async () => {
  const doc = {
    '@timestamp': '2025-03-04T09:12:41.123Z',
    agent: { type: 'endpoint' },
    event: { kind: 'event', category: ['process'], type: ['start'], dataset: 'endpoint.events.process' },
    host: { name: 'WS-FIN-07.corp.example', os: { type: 'windows' } },
    process: {
      pid: 4242,
      name: 'svchost.exe',
      executable: 'C:\\Users\\jdoe\\AppData\\Local\\Temp\\svchost.exe',
      command_line: `svchost.exe -o pool.supportxmr.com:443 -u ${WALLET} --donate-level=1`,
      parent: { pid: 3100, name: 'explorer.exe', executable: 'C:\\Windows\\explorer.exe' },
    },
    user: { name: 'jdoe' },
  };
  const file = join(dir, 'endpoint.ndjson');
  writeFileSync(file, `${JSON.stringify({ _source: doc })}\n`);
  const { engine } = buildEngine({ builtin: true });
  const findings: Finding[] = [];
  for await (const item of readWinlogJson(file)) {
    assert.equal(item.kind, 'event', item.kind === 'issue' ? item.issue.message : '');
    if (item.kind === 'event') findings.push(...engine.observe(item.event));
  }
  const f = findings.find((x) => x.rule.name === 'Cryptocurrency Miner Command Line');
  assert.ok(f, `fired: ${findings.map((x) => x.rule.name).join(', ') || 'nothing'}`);
  assert.equal(f.process?.pid, 4242);
  assert.equal(f.process?.executable, doc.process.executable);
  assert.equal(f.process?.command_line, doc.process.command_line);
  assert.deepEqual(f.process?.parent, doc.process.parent);
  assert.deepEqual(f.process?.user, { name: 'jdoe' });
  assert.deepEqual(f.host, { name: 'ws-fin-07', hostname: 'WS-FIN-07.corp.example' });
  assert.ok(FindingSchema.safeParse(f).success);
});
