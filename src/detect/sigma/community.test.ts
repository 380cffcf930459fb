import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  COMMUNITY_SETS,
  type CommunityPack,
  isCommunitySet,
  loadCommunityRules,
  parseCommunityPack,
  summariseCommunityIssues,
} from './community.ts';

const RULE = (title: string): string =>
  `title: ${title}\nid: ${title}\nlogsource: { product: windows, category: process_creation }\ndetection:\n  sel: { Image|endswith: '\\\\x.exe' }\n  condition: sel\n`;

const pack: CommunityPack = {
  format: 1,
  repository: 'https://github.com/SigmaHQ/sigma',
  commit: '0'.repeat(40),
  rules: [
    { path: 'rules/windows/a.yml', text: RULE('a') },
    { path: 'rules/windows/bad.yml', text: 'title: no logsource\n' },
    { path: 'rules-emerging-threats/2025/b.yml', text: RULE('b') },
    { path: 'rules-threat-hunting/windows/c.yml', text: RULE('c') },
  ],
};

test('each community set loads its folders through the ordinary loader, problems named by pack path', () => {
  const all = loadCommunityRules('community', pack);
  assert.deepEqual(
    all.rules.map((r) => r.id),
    ['a', 'b', 'c'],
  );
  assert.equal(all.files, 4);
  assert.equal(all.issues.length, 1);
  assert.match(all.issues[0]!.location, /^community:rules\/windows\/bad\.yml:\d+$/);
  assert.equal(all.rules[0]!.file, 'community:rules/windows/a.yml');
  assert.deepEqual(
    loadCommunityRules('community:emerging-threats', pack).rules.map((r) => r.id),
    ['b'],
  );
  assert.deepEqual(
    loadCommunityRules('community:threat-hunting', pack).rules.map((r) => r.id),
    ['c'],
  );
  assert.deepEqual(
    loadCommunityRules('community:rules', pack).rules.map((r) => r.id),
    ['a'],
  );
  for (const name of Object.keys(COMMUNITY_SETS)) assert.ok(isCommunitySet(name));
  assert.equal(isCommunitySet('./community'), false);
  assert.equal(isCommunitySet('community/'), false);
});

test('a damaged pack is refused as a whole', () => {
  assert.throws(() => parseCommunityPack({ format: 2, rules: [] }), /not a community rule pack/);
  assert.throws(
    () => parseCommunityPack({ ...pack, rules: [{ path: 'rules/x.yml', text: 1 }] }),
    /not a community rule pack/,
  );
  assert.equal(parseCommunityPack(JSON.parse(JSON.stringify(pack))).rules.length, 4);
});

test('community problems fold into one line per code; the user own problems stay as they are', () => {
  const issues = [
    { code: 'SIGMA_BAD_DETECTION', message: 'one', location: 'community:rules/a.yml:3' },
    { code: 'SIGMA_BAD_DETECTION', message: 'two', location: 'community:rules/b.yml:4' },
    { code: 'SIGMA_UNSUPPORTED', message: 'three', location: 'community:rules/c.yml:5' },
    { code: 'SIGMA_BAD_YAML', message: 'mine', location: '/home/me/rules/x.yml:1' },
  ];
  const out = summariseCommunityIssues(issues);
  assert.equal(out.length, 3);
  assert.deepEqual(out[0], issues[3]);
  assert.equal(out[1]!.code, 'SIGMA_BAD_DETECTION');
  assert.match(out[1]!.message, /^2 community rule problem\(s\).*community:rules\/a\.yml:3: one/);
  assert.equal(out[2]!.code, 'SIGMA_UNSUPPORTED');
  assert.equal(out[2]!.location, 'community');
});
