import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { judgeBuild, loadFixedBuildTable, parseBuild } from '../../src/audit/exchange-table.ts';
import { EXCHANGE, skipUnlessCorpora } from './corpus.ts';

const table = loadFixedBuildTable('exchange-cve-2021-26855');

/** The build `delta` revisions from `v` (15.2.792.10, -1 → 15.2.792.9). */
function rev(v: string, delta: number): string {
  const p = parseBuild(v)!;
  return `${p[0]}.${p[1]}.${p[2]}.${p[3]! + delta}`;
}

test('the table cites Microsoft and covers Exchange 2013, 2016, 2019 and SE', () => {
  assert.match(table.source, /Microsoft/);
  assert.ok(table.cves.includes('CVE-2021-26855'));
  for (const p of ['Exchange 2013', 'Exchange 2016', 'Exchange 2019', 'Exchange SE'])
    assert.ok(
      table.builds.some((b) => b.product === p),
      p,
    );
});

test('every CU with a fix: the CU build and the build just before the fix fail; the fix and the next build pass', () => {
  let rows = 0;
  for (const b of table.builds) {
    if (!b.fixed) continue;
    rows++;
    const at = judgeBuild(table, b.fixed);
    const after = judgeBuild(table, rev(b.fixed, 1));
    if (b.disputed) {
      // Between Microsoft's two published fixed builds: never claimed fixed.
      assert.equal(at.status, 'unknown', `${b.cu} ${b.fixed}`);
      assert.equal(judgeBuild(table, b.disputed).status, 'pass', `${b.cu} ${b.disputed}`);
      assert.equal(judgeBuild(table, rev(b.disputed, -1)).status, 'unknown');
    } else {
      assert.equal(at.status, 'pass', `${b.product} ${b.cu} at ${b.fixed}: ${at.reason}`);
      assert.equal(after.status, 'pass', `${b.product} ${b.cu} after ${b.fixed}`);
    }
    if (b.fixed !== b.build) {
      assert.equal(judgeBuild(table, b.build).status, 'fail', `${b.product} ${b.cu} CU build ${b.build}`);
      assert.equal(
        judgeBuild(table, rev(b.fixed, -1)).status,
        'fail',
        `${b.product} ${b.cu} just before ${b.fixed}`,
      );
    }
  }
  assert.equal(rows, 37, `${rows} CUs with a fix`);
});

test('a CU without a security update fails whatever its revision; Exchange 2010 is not affected', () => {
  const e2016cu7 = table.builds.find((b) => b.product === 'Exchange 2016' && b.cu === 'CU7')!;
  assert.equal(judgeBuild(table, e2016cu7.build).status, 'fail');
  assert.equal(judgeBuild(table, rev(e2016cu7.build, 50)).status, 'fail');
  assert.match(judgeBuild(table, '15.0.1367.3').reason, /upgrade the CU/);
  assert.equal(judgeBuild(table, '14.3.513.0').status, 'not_applicable');
});

test('builds the table does not know: newer than every CU passes, an unknown one is unknown, garbage is unknown', () => {
  assert.equal(judgeBuild(table, '15.2.9999.1').status, 'pass');
  assert.equal(judgeBuild(table, '15.2.800.1').status, 'unknown');
  assert.equal(judgeBuild(table, '16.0.1.1').status, 'unknown');
  assert.equal(judgeBuild(table, '15.2.792').status, 'unknown');
  assert.equal(judgeBuild(table, 'x'.repeat(10_000)).status, 'unknown');
});

test('AdminDisplayVersion (CU only): fixed-at-CU passes, a CU that needs the SU is unknown, a CU with no fix fails', () => {
  assert.equal(judgeBuild(table, '15.2.858.5', true).status, 'pass');
  assert.equal(judgeBuild(table, '15.2.792.3', true).status, 'unknown');
  assert.equal(judgeBuild(table, '15.1.1261.35', true).status, 'fail');
});

function csvRows(file: string): Record<string, string>[] {
  const [head, ...lines] = readFileSync(file, 'utf8').trim().split(/\r?\n/);
  const cols = head!.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i]!, v])));
}

test(
  'agrees with the published build list (CSS-Exchange, MIT) row by row',
  { skip: skipUnlessCorpora() },
  () => {
    const fixedRows = csvRows(join(EXCHANGE, 'proxylogon_cve-2021-26855_fixed_builds.csv'));
    let checked = 0;
    for (const r of fixedRows) {
      const status = r['status']!;
      if (status.startsWith('defense_in_depth')) {
        assert.equal(judgeBuild(table, r['cu_build']!).status, 'not_applicable');
        continue;
      }
      const cu = judgeBuild(table, r['cu_build']!);
      if (status === 'no_fix_for_this_cu_upgrade_required') assert.equal(cu.status, 'fail', r['cu_build']);
      else if (status === 'fixed_at_cu') assert.equal(cu.status, 'pass', r['cu_build']);
      else {
        assert.equal(cu.status, 'fail', `${r['cu_build']} (CU before its SU)`);
        const fixed = judgeBuild(table, r['first_fixed_build']!);
        // CU8/CU9 of 2016: the two Microsoft tables disagree, so the lower one is unknown.
        assert.ok(
          fixed.status === 'pass' || (fixed.status === 'unknown' && /disagree/.test(fixed.reason)),
          `${r['first_fixed_build']}: ${fixed.reason}`,
        );
      }
      checked++;
    }
    assert.ok(checked >= 60, `${checked} rows`);
    // Every release build in the full list is known to the table (no "not a known CU").
    const all = csvRows(join(EXCHANGE, 'css_exchange_build_table.csv')).filter((r) =>
      /^15\.[012]\./.test(r['build'] ?? ''),
    );
    for (const r of all)
      assert.doesNotMatch(
        judgeBuild(table, r['build']!).reason,
        /not a known CU/,
        `${r['product']} ${r['release_label']} ${r['build']}`,
      );
    assert.ok(all.length > 200, `${all.length} published builds`);
  },
);
