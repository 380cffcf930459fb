import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { findPackageOwners } from './packages.ts';

const root = mkdtempSync(join(tmpdir(), 'deminer-dpkg-'));
after(() => rmSync(root, { recursive: true, force: true }));
const info = join(root, 'var/lib/dpkg/info');
mkdirSync(info, { recursive: true });

/** What the index must answer: the first list in directory order holding the path (or its merged-/usr twin) as a whole line. */
function reference(dir: string): (path: string) => string | null {
  const lists = readdirSync(dir)
    .filter((name) => name.endsWith('.list'))
    .map((name) => ({
      pkg: name.slice(0, -5).split(':')[0]!,
      // The first line has no newline before it: never a match (lists start with "/.").
      lines: new Set(readFileSync(join(dir, name), 'latin1').split('\n').slice(1)),
    }));
  return (path) => {
    const alias = path.startsWith('/usr/') ? path.slice(4) : `/usr${path}`;
    return lists.find((l) => l.lines.has(path) || l.lines.has(alias))?.pkg ?? null;
  };
}

test('package owners: whole lines only, merged-/usr twins, architecture suffixes, a list without its last newline', () => {
  writeFileSync(join(info, 'coreutils.list'), '/.\n/usr\n/usr/bin\n/usr/bin/sleep\n/usr/bin/sleeper-not\n');
  writeFileSync(join(info, 'libfoo:amd64.list'), '/.\n/lib\n/lib/x86_64-linux-gnu/libfoo.so.1');
  writeFileSync(join(info, 'notes.txt'), '/usr/bin/xmrig\n');
  const owners = findPackageOwners(
    [
      '/usr/bin/sleep',
      '/bin/sleep',
      '/usr/lib/x86_64-linux-gnu/libfoo.so.1',
      '/usr/bin/slee',
      '/tmp/xmrig',
      '/usr/bin/xmrig',
    ],
    root,
  );
  assert.equal(owners.get('/usr/bin/sleep'), 'coreutils');
  assert.equal(owners.get('/bin/sleep'), 'coreutils');
  assert.equal(owners.get('/usr/lib/x86_64-linux-gnu/libfoo.so.1'), 'libfoo');
  assert.equal(owners.get('/usr/bin/slee'), null, 'a prefix of a listed path is not listed');
  assert.equal(owners.get('/tmp/xmrig'), null);
  assert.equal(owners.get('/usr/bin/xmrig'), null, 'only *.list files count');
  assert.equal(findPackageOwners(['/x'], join(root, 'nowhere')).get('/x'), undefined, 'no dpkg: unknown');
});

test('package owners: a package installed later is seen (the list folder changed)', () => {
  assert.equal(findPackageOwners(['/opt/miner/xmrig'], root).get('/opt/miner/xmrig'), null);
  writeFileSync(join(info, 'xmrig.list'), '/.\n/opt\n/opt/miner\n/opt/miner/xmrig\n');
  // Same second as the earlier writes on coarse file systems: move the folder's mtime on explicitly.
  const later = new Date(Date.now() + 5000);
  utimesSync(info, later, later);
  assert.equal(findPackageOwners(['/opt/miner/xmrig'], root).get('/opt/miner/xmrig'), 'xmrig');
});

test(
  'package owners agree with a search of every list on this machine',
  { skip: !existsSync('/var/lib/dpkg/info') },
  () => {
    const paths = new Set<string>([
      '/usr/bin/definitely-not-packaged',
      '/bin/sh',
      '/usr/bin/env',
      '/sbin/init',
    ]);
    for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      try {
        paths.add(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]!);
      } catch {
        // Gone or not ours.
      }
    }
    for (const name of readdirSync('/usr/bin')) paths.add(`/usr/bin/${name}`);
    const wanted = [...paths].filter((p) => p.startsWith('/'));
    const owners = findPackageOwners(wanted, '/');
    const expected = reference('/var/lib/dpkg/info');
    for (const p of wanted) assert.equal(owners.get(p), expected(p), p);
  },
);
