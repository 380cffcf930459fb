import { readFileSync } from 'node:fs';
import { parseYamlStrict } from '../core/config.ts';
import { UsageError } from '../core/errors.ts';
import { packagePath } from '../core/paths.ts';
import type { AuditConfig } from './config.ts';
import { type Check, checkFileSchema, type Expected } from './types.ts';

export const CHECKS_FILE = 'data/posture/checks.yaml';

/** The checks of a data file (the shipped one by default), validated; duplicate ids are an error. */
export function loadChecks(file = packagePath(CHECKS_FILE)): Check[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new UsageError('AUDIT_CHECKS_UNREADABLE', 'cannot read the checks file', { location: file, cause });
  }
  const { checks } = parseYamlStrict(text, checkFileSchema, file);
  const seen = new Set<string>();
  for (const c of checks) {
    if (seen.has(c.id))
      throw new UsageError('AUDIT_CHECK_DUPLICATE', `duplicate check id ${c.id}`, { location: file });
    seen.add(c.id);
    validateExpected(c, c.expected, file);
  }
  return checks;
}

/** Whether `expected` has the shape the check's operator compares with. */
function validateExpected(c: Check, expected: Expected, where: string): void {
  const list = Array.isArray(expected);
  const num = typeof expected === 'number';
  const ok =
    c.operator === 'subset_of' || c.operator === 'in'
      ? list
      : c.operator === 'gte' || c.operator === 'lte' || c.operator === 'max_age_days'
        ? num
        : !list;
  if (!ok)
    throw new UsageError(
      'AUDIT_BAD_EXPECTED',
      `${c.id}: operator ${c.operator} needs ${c.operator === 'subset_of' || c.operator === 'in' ? 'a list' : num ? 'a value' : 'a number'} as expected value`,
      { location: where },
    );
}

/**
 * The checks with a site's config applied: `audit.expected.<id>` replaces the
 * expected value (same shape as the shipped one), `audit.skip` leaves checks out.
 */
export function applySiteConfig(checks: readonly Check[], cfg: AuditConfig, where = 'config'): Check[] {
  const ids = new Set(checks.map((c) => c.id));
  for (const id of [...Object.keys(cfg.expected ?? {}), ...(cfg.skip ?? [])])
    if (!ids.has(id))
      throw new UsageError('AUDIT_UNKNOWN_CHECK', `audit: no check has the id "${id}"`, { location: where });
  const skip = new Set(cfg.skip ?? []);
  return checks
    .filter((c) => !skip.has(c.id))
    .map((c) => {
      const over = cfg.expected?.[c.id];
      if (over === undefined) return c;
      validateExpected(c, over, `${where} (audit.expected.${c.id})`);
      return { ...c, expected: over };
    });
}
