/** Seeded mutations of real /proc text and allow-lists: parsers return values or clean errors, never throw otherwise. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { UsageError } from '../../core/errors.ts';
import { mutateBytes, seededRandom } from '../../core/random.ts';
import { parseAllowlist } from '../../detect/host/allowlist/parse.ts';
import { lineSignals } from '../../detect/host/miner-text/index.ts';
import { parseCgroup, parseCmdline, parseNetTable, parseStat, parseStatusUid } from './proc-parse.ts';

const ITERATIONS = 800;

function read(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

test('proc parsers survive mutated input', () => {
  const seeds = {
    stat: read(
      '/proc/self/stat',
      '1 (init) S 0 1 1 0 -1 4194560 1 0 0 0 1 1 0 0 20 0 1 0 5 100 10 1 1 1 1 1 1 0 0 0 0 0 0 0 17 0 0 0 0 0 0',
    ),
    tcp: read(
      '/proc/self/net/tcp',
      '  sl  local_address rem_address st\n   0: 0100007F:0CEA 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1 1\n',
    ),
    tcp6: read('/proc/self/net/tcp6', ''),
    cgroup: read('/proc/self/cgroup', '0::/\n'),
    status: read('/proc/self/status', 'Uid:\t0\t0\t0\t0\n'),
  };
  const random = seededRandom(20261129);
  for (let i = 0; i < ITERATIONS; i++) {
    for (const [kind, text] of Object.entries(seeds)) {
      const m = Buffer.from(mutateBytes(Buffer.from(text), random)).toString('utf8');
      if (kind === 'stat') {
        const s = parseStat(m);
        if (s) assert.equal(typeof s.comm, 'string');
      } else if (kind === 'tcp' || kind === 'tcp6') {
        for (const s of parseNetTable(m, 'tcp', kind === 'tcp' ? 4 : 6, 'net:[1]'))
          assert.equal(typeof s.localIp, 'string');
      } else if (kind === 'cgroup') parseCgroup(m);
      else parseStatusUid(m);
      parseCmdline(Buffer.from(m));
      lineSignals(m.slice(0, 400));
    }
  }
});

test('allow-list parser: mutated XML gives entries or a UsageError with a line, nothing else', () => {
  const xml = `<ApplicationControl>\n<AllowedProcesses>\n<Process name="sshd" path="/usr/sbin/sshd"/>\n<Process><Name>x</Name><Hash>${'a'.repeat(64)}</Hash></Process>\n</AllowedProcesses>\n</ApplicationControl>\n`;
  const random = seededRandom(7);
  let errors = 0;
  for (let i = 0; i < 1500; i++) {
    const m = Buffer.from(mutateBytes(Buffer.from(xml), random)).toString('utf8');
    try {
      for (const e of parseAllowlist(m, 'fuzz.xml')) assert.ok(e.name || e.path || e.hash);
    } catch (e) {
      assert.ok(e instanceof UsageError, String(e));
      assert.match(e.location ?? '', /^fuzz\.xml:\d+$/);
      errors++;
    }
  }
  assert.ok(errors > 0, 'some mutations are rejected');
});
