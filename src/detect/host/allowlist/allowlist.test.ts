import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../../../core/errors.ts';
import { analyzeHost } from '../registry.ts';
import { processInfo, snapshot } from '../snapshot-fixture.ts';
import { parseAllowlist } from './parse.ts';

const XML = `<?xml version="1.0"?>
<ApplicationControl mode="audit">
  <AllowedProcesses>
    <Process name="sshd" path="/usr/sbin/sshd"/>
    <Process>
      <Name>postgres</Name>
      <Path>/usr/lib/postgresql/*/bin/postgres</Path>
    </Process>
    <Process hash="SHA256:${'ab'.repeat(32)}"/>
  </AllowedProcesses>
</ApplicationControl>
`;

test('parses attributes and child elements, with lines', () => {
  const e = parseAllowlist(XML, 'allow.xml');
  assert.equal(e.length, 3);
  assert.deepEqual(e[0], { name: 'sshd', path: '/usr/sbin/sshd', line: 4 });
  assert.equal(e[1]!.path, '/usr/lib/postgresql/*/bin/postgres');
  assert.equal(e[1]!.line, 5);
  assert.equal(e[2]!.hash, 'ab'.repeat(32));
});

test('malformed files are errors naming file and line', () => {
  assert.throws(
    () =>
      parseAllowlist(
        '<ApplicationControl>\n<AllowedProcesses>\n<Process name="x">\n</AllowedProcesses>',
        'bad.xml',
      ),
    (e: unknown) =>
      e instanceof UsageError && e.code === 'ALLOWLIST_BAD_XML' && /^bad\.xml:\d+$/.test(e.location ?? ''),
  );
  assert.throws(
    () =>
      parseAllowlist(
        '<ApplicationControl><AllowedProcesses>\n<Process hash="123"/></AllowedProcesses></ApplicationControl>',
        'h.xml',
      ),
    (e: unknown) => e instanceof UsageError && e.code === 'ALLOWLIST_BAD_HASH' && e.location === 'h.xml:2',
  );
  assert.throws(
    () => parseAllowlist('<Other/>', 'o.xml'),
    (e: unknown) => e instanceof UsageError && e.code === 'ALLOWLIST_NO_ROOT',
  );
  assert.throws(
    () =>
      parseAllowlist(
        '<ApplicationControl><AllowedProcesses><Process/></AllowedProcesses></ApplicationControl>',
        'e.xml',
      ),
    (e: unknown) => e instanceof UsageError && e.code === 'ALLOWLIST_EMPTY_ENTRY',
  );
});

test('audit mode reports every user process no entry allows, and nothing else', () => {
  const allow = parseAllowlist(XML, 'allow.xml');
  const s = snapshot({
    processes: [
      processInfo({ pid: 1, name: 'sshd', exe: '/usr/sbin/sshd' }),
      processInfo({ pid: 2, name: 'postgres', exe: '/usr/lib/postgresql/15/bin/postgres' }),
      processInfo({ pid: 3, name: 'tool', exe: '/opt/tool', sha256: 'ab'.repeat(32) }),
      processInfo({ pid: 4, name: 'nc', exe: '/usr/bin/nc' }),
      processInfo({ pid: 5, name: 'sshd', exe: '/tmp/sshd' }),
      processInfo({ pid: 6, name: 'kworker/0:0', kernelThread: true }),
    ],
  });
  const f = analyzeHost(s, { allowlist: allow }).filter(
    (x) => x.rule.id === 'deminer.process.not_allowlisted',
  );
  assert.deepEqual(f.map((x) => x.process?.pid).sort(), [4]);
  assert.equal(f[0]!.severity, 'low');
  const all = analyzeHost(s, { allowlist: allow });
  assert.ok(
    all.some((x) => x.process?.pid === 5),
    'sshd from /tmp is not allowed by the sshd entry (path differs)',
  );
});
