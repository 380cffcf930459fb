import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Finding } from '../../src/core/finding.ts';
import { loadSigmaRules } from '../../src/detect/sigma/index.ts';
import { hunt } from '../../src/pipeline/hunt.ts';

/**
 * `deminer hunt` reports checksum-valid wallet addresses in what a host starts
 * (issue 18), beside the Sigma rules, the same on one thread and on worker lanes.
 */
const tmp = mkdtempSync(join(tmpdir(), 'deminer-wallet-hunt-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const GENERAL_FUND =
  '44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A';
const SUBADDRESS =
  '888tNkZrPN6JsEgekjMnABU4TBzc2Dt29EPAvkRxbANsAnjyPbb3iQ1YBRk1UXcdRsiKc9dhwMVgN5S9cQUiyoogDavup3H';
const CORRUPTED = `${GENERAL_FUND.slice(0, 20)}${GENERAL_FUND[20] === 'Q' ? 'R' : 'Q'}${GENERAL_FUND.slice(21)}`;

function record(
  host: string,
  channel: string,
  eventId: number,
  recordId: number,
  data: Record<string, unknown>,
) {
  return JSON.stringify({
    '@timestamp': `2026-11-30T09:00:${String(recordId % 60).padStart(2, '0')}.000Z`,
    host: { name: host },
    winlog: { channel, event_id: eventId, record_id: recordId, computer_name: host, event_data: data },
  });
}

test('hunt: a wallet alone in a service, a Run key or a WMI consumer is a high T1496 finding, once per host and wallet', async () => {
  const a = join(tmp, 'a.jsonl');
  const b = join(tmp, 'b.jsonl');
  writeFileSync(
    a,
    [
      // No miner name, no stratum, no XMRig option: only the wallet says what it is.
      record('WS-01', 'System', 7045, 1, {
        ServiceName: 'WinHlp',
        ImagePath: `C:\\ProgramData\\h\\h.exe ${GENERAL_FUND}`,
      }),
      record('WS-01', 'Microsoft-Windows-Sysmon/Operational', 13, 2, {
        Image: 'C:\\Windows\\System32\\reg.exe',
        TargetObject: 'HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run\\h',
        Details: `C:\\ProgramData\\h\\h.exe ${GENERAL_FUND}`,
      }),
      record('WS-01', 'System', 7045, 3, {
        ServiceName: 'Bad',
        ImagePath: `C:\\ProgramData\\b.exe ${CORRUPTED}`,
      }),
    ].join('\n'),
  );
  writeFileSync(
    b,
    [
      record('WS-02', 'Microsoft-Windows-Sysmon/Operational', 20, 4, {
        Operation: 'Created',
        Type: 'Command Line',
        Destination: ` "C:\\\\Windows\\\\Temp\\\\u.exe --user=${SUBADDRESS}"`,
      }),
    ].join('\n'),
  );
  const { rules } = loadSigmaRules({ builtin: true });
  const one = await hunt({ paths: [a, b], rules, threads: 1 });
  const two = await hunt({ paths: [a, b], rules, threads: 2 });
  const wallets = (fs: Finding[]) => fs.filter((f) => f.rule.id === 'deminer.wallet_in_command_line');
  const found = wallets(one.findings);
  assert.deepEqual(
    found.map((f) => [f.host.name, (f.evidence['wallet'] as { address: string }).address, f.severity]).sort(),
    [
      ['ws-01', GENERAL_FUND, 'high'],
      ['ws-02', SUBADDRESS, 'high'],
    ],
  );
  for (const f of found) {
    assert.deepEqual(f.threat.technique, ['T1496']);
    assert.equal(f.rule.ruleset, 'builtin');
  }
  const key = (f: Finding) => `${f.rule.id} ${f.fingerprint} ${f['@timestamp']}`;
  assert.deepEqual(
    wallets(two.findings).map(key).sort(),
    found.map(key).sort(),
    'worker lanes find the same',
  );
});
