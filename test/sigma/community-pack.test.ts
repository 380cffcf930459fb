import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildPack, PACK_FOLDERS } from '../../scripts/community-rules.ts';
import { COMMUNITY_DIR, COMMUNITY_FILE, readCommunityPack } from '../../src/detect/sigma/community.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const sigma = join(root, '../shared/corpora/sigma');

function countYml(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) n += countYml(p);
    else if (/\.ya?ml$/i.test(e)) n++;
  }
  return n;
}

test('the shipped pack is small, licensed and says where it came from', () => {
  const size = statSync(COMMUNITY_FILE).size;
  assert.ok(size < 5 * 1024 * 1024, `rules.json.gz is ${size} bytes, over 5 MB`);
  assert.match(readFileSync(join(COMMUNITY_DIR, 'LICENSE'), 'utf8'), /Detection Rule License \(DRL\) 1\.1/);
  const pack = readCommunityPack();
  const provenance = readFileSync(join(COMMUNITY_DIR, 'PROVENANCE.md'), 'utf8');
  assert.ok(provenance.includes(pack.commit), 'PROVENANCE.md names the commit of the pack');
  assert.ok(provenance.includes(`Rule files: ${pack.rules.length}`), 'PROVENANCE.md gives the count');
  assert.match(provenance, /attribution/i);
});

test('the shipped pack equals what scripts/community-rules.ts makes of the SigmaHQ snapshot', (t) => {
  if (!existsSync(join(sigma, 'rules'))) {
    t.skip(`SigmaHQ snapshot not found at ${sigma} (../shared/corpora beside the repository)`);
    return;
  }
  const shipped = readCommunityPack();
  const sources = readFileSync(join(sigma, 'SOURCES.txt'), 'utf8');
  assert.ok(sources.includes(shipped.commit), 'the pack is of the snapshot commit');
  const fresh = buildPack(sigma, shipped.commit, shipped.date);
  assert.equal(shipped.rules.length, fresh.rules.length);
  assert.deepEqual(shipped, fresh);
  const onDisk = PACK_FOLDERS.reduce((n, f) => n + countYml(join(sigma, f)), 0);
  assert.equal(shipped.rules.length, onDisk, 'every .yml of the three folders is packed');
});
