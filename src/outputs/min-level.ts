import { UsageError } from '../core/errors.ts';
import type { Finding } from '../core/finding.ts';
import { atLeast, isSeverity, SEVERITIES, type Severity } from '../core/severity.ts';
import { escapeControls } from './safe-text.ts';

/**
 * `--min-level` (or a config key standing in for it, named by `option`):
 * the lowest severity that is reported and sets exit code 1.
 */
export function parseMinLevel(value: string, option = '--min-level'): Severity {
  if (isSeverity(value)) return value;
  throw new UsageError(
    'BAD_OPTION',
    `${option} must be one of ${SEVERITIES.join(', ')} (got "${escapeControls(value)}")`,
  );
}

/** The findings at or above `min`, in their order. */
export function filterMinLevel(findings: readonly Finding[], min: Severity): Finding[] {
  return findings.filter((f) => atLeast(f.severity, min));
}
