import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parseYamlStrict } from '../core/config.ts';
import { UsageError } from '../core/errors.ts';
import { packagePath } from '../core/paths.ts';

const VERSION = /^\d{1,3}\.\d{1,3}\.\d{1,5}\.\d{1,5}$/;
const version = z.string().regex(VERSION);

const tableSchema = z.strictObject({
  source: z.string().min(1),
  cves: z.array(z.string()).min(1),
  products: z
    .array(
      z.strictObject({
        product: z.string().min(1),
        prefix: z.string().regex(/^\d+\.\d+$/),
        not_affected: z.boolean().optional(),
      }),
    )
    .min(1),
  builds: z
    .array(
      z.strictObject({
        product: z.string().min(1),
        cu: z.string().min(1),
        build: version,
        fixed: version.optional(),
        disputed: version.optional(),
      }),
    )
    .min(1)
    .max(2000),
});
export type FixedBuildTable = z.infer<typeof tableSchema>;

/** A fixed-build table of data/posture (by name, e.g. `exchange-cve-2021-26855`). */
export function loadFixedBuildTable(name: string): FixedBuildTable {
  if (!/^[a-z0-9-]+$/.test(name))
    throw new UsageError('AUDIT_BAD_TABLE', `fixed-build table name "${name}" is not a plain name`);
  const file = packagePath('data', 'posture', `${name}.yaml`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new UsageError('AUDIT_TABLE_UNREADABLE', 'cannot read the fixed-build table', {
      location: file,
      cause,
    });
  }
  return parseYamlStrict(text, tableSchema, file);
}

/** `15.02.0986.005` → [15, 2, 986, 5]; undefined for anything else. */
export function parseBuild(text: string): number[] | undefined {
  const t = text.trim();
  if (!VERSION.test(t)) return undefined;
  return t.split('.').map(Number);
}

export function compareBuilds(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < 4; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
}

export interface BuildVerdict {
  status: 'pass' | 'fail' | 'unknown' | 'not_applicable';
  /** The product and CU the build belongs to, when known. */
  release?: string;
  /** The build that fixes it within that CU, when there is one. */
  fixedBuild?: string;
  reason: string;
}

/**
 * Whether `build` is fixed per the table: its CU is the row whose build
 * number (third part) matches, within the product of its major.minor; fixed
 * when at or after that row's fixed build. A build the table does not know is
 * unknown (never assumed fixed), except one newer than the newest CU listed
 * for its product, which includes every earlier fix.
 */
export function judgeBuild(table: FixedBuildTable, buildText: string, cuOnly = false): BuildVerdict {
  const b = parseBuild(buildText);
  if (!b) return { status: 'unknown', reason: `"${buildText}" is not a build number` };
  const prefix = `${b[0]}.${b[1]}`;
  const product = table.products.find((p) => p.prefix === prefix);
  if (!product) return { status: 'unknown', reason: `no product with version ${prefix} in the table` };
  if (product.not_affected)
    return {
      status: 'not_applicable',
      release: product.product,
      reason: `${product.product} is not affected`,
    };
  const rows = table.builds.filter((r) => r.build.startsWith(`${prefix}.`));
  const row = rows.find((r) => parseBuild(r.build)![2] === b[2]);
  if (!row) {
    const newest = rows
      .map((r) => parseBuild(r.build)!)
      .sort(compareBuilds)
      .at(-1);
    if (newest && b[2]! > newest[2]!)
      return { status: 'pass', release: product.product, reason: 'newer than every CU in the table' };
    return { status: 'unknown', release: product.product, reason: `build ${buildText} is not a known CU` };
  }
  const release = `${row.product} ${row.cu}`;
  if (!row.fixed)
    return { status: 'fail', release, reason: `${release} has no security update for it: upgrade the CU` };
  const fixed = parseBuild(row.fixed)!;
  if (cuOnly && compareBuilds(b, fixed) < 0)
    return {
      status: 'unknown',
      release,
      fixedBuild: row.fixed,
      reason: `AdminDisplayVersion shows the CU, not its security updates: read ExSetup.exe's file version (fixed from ${row.fixed})`,
    };
  if (compareBuilds(b, fixed) < 0)
    return { status: 'fail', release, fixedBuild: row.fixed, reason: `before ${row.fixed}` };
  if (row.disputed && compareBuilds(b, parseBuild(row.disputed)!) < 0)
    return {
      status: 'unknown',
      release,
      fixedBuild: row.disputed,
      reason: `Microsoft's tables disagree on the fixed build of ${release} (${row.fixed} or ${row.disputed})`,
    };
  return {
    status: 'pass',
    release,
    fixedBuild: row.disputed ?? row.fixed,
    reason: `at or after ${row.disputed ?? row.fixed}`,
  };
}
