/**
 * SigmaHQ's Linux rules (../shared/corpora/sigma, DRL 1.1) over the Linux
 * sources: every rule of the log sources the sources feed is mapped, and
 * the community rules fire on the campaign fixtures the way their authors
 * meant. Skips when the corpus is absent.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { SourceItem } from '../../src/core/stages.ts';
import { HEAD_BYTES } from '../../src/core/stages.ts';
import { SigmaEngine } from '../../src/detect/sigma/engine.ts';
import { loadLogsourceMap, loadRules } from '../../src/detect/sigma/index.ts';
import { sourcesFor } from '../../src/detect/sigma/logsource-map.ts';
import { sourceFor } from '../../src/sources/registry.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const sigmaLinux = join(root, '../shared/corpora/sigma/rules/linux');
const fixtures = join(root, 'test/fixtures/linux');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

test('SigmaHQ Linux rules: auditd, Sysmon-for-Linux categories and journald services are mapped; they fire on the campaign', async (t) => {
  if (!existsSync(sigmaLinux)) {
    t.skip(`no SigmaHQ corpus at ${sigmaLinux}`);
    return;
  }
  const loaded = loadRules([sigmaLinux]);
  const logsources = loadLogsourceMap();
  const unmapped = new Set<string>();
  for (const r of loaded.rules) {
    if (r.kind !== 'detection') continue;
    const ls = r.logsource;
    const fed =
      ls.service === 'auditd' ||
      ['process_creation', 'file_event', 'network_connection', 'file_delete'].includes(ls.category ?? '') ||
      ['syslog', 'cron', 'sshd', 'sudo', 'auth'].includes(ls.service ?? '') ||
      (!ls.category && !ls.service);
    if (fed && !sourcesFor(logsources, ls)) unmapped.add(`${r.file}: ${JSON.stringify(ls)}`);
  }
  assert.deepEqual([...unmapped], []);

  const engine = new SigmaEngine(loaded.rules, { logsources });
  const fired = new Map<string, Set<string>>();
  for (const f of files(fixtures)) {
    const source = sourceFor(new Uint8Array(readFileSync(f)).subarray(0, HEAD_BYTES), f);
    if (!source) continue;
    const items: SourceItem[] = [];
    for await (const b of source.read(f, {})) items.push(...b);
    for (const i of items) {
      if (i.kind !== 'event') continue;
      for (const finding of engine.observe(i.event)) {
        const key = f.slice(fixtures.length + 1);
        let s = fired.get(key);
        if (!s) {
          s = new Set();
          fired.set(key, s);
        }
        s.add(finding.rule.name);
      }
    }
  }
  const summary = Object.fromEntries([...fired].map(([k, v]) => [k, [...v].sort()]));
  t.diagnostic(JSON.stringify(summary));
  assert.deepEqual(summary, EXPECTED_SIGMAHQ);
});

/**
 * What the community rules say about the fixtures: the campaign's miner, `| sh`,
 * /tmp, /dev/shm and hidden paths, the crontab REPLACE of the journal (service
 * cron), the cron file of Sysmon 11; on the real log only `uname -a` (discovery).
 */
const EXPECTED_SIGMAHQ: Record<string, string[]> = {
  'campaign/audit.log': [
    'Linux Crypto Mining Indicators',
    'Linux Shell Pipe to Shell',
    'Local System Accounts Discovery - Linux',
    'Potentially Suspicious Execution From Tmp Folder',
    'Program Executions in Suspicious Folders',
    'System Owner or User Discovery - Linux',
    'Use Of Hidden Paths Or Files',
  ],
  'campaign/journal.json': ['Modifying Crontab', 'Process Execution From Shared Memory Directory'],
  'campaign/syslog': ['New Cron File Created'],
  'real/go-libaudit-audit.log': [
    'System Information Discovery',
    'System Information Discovery - Auditd',
    'System Owner or User Discovery - Linux',
  ],
};
