import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The shared development corpora beside the checkout; posture/ holds real exports and baselines. */
export const CORPORA = fileURLToPath(new URL('../../../shared/corpora/', import.meta.url));
export const POSTURE = `${CORPORA}posture/`;
/** A real GPO backup: no licence, so it is read from the corpora at test time and never copied here. */
export const GPO = `${POSTURE}gpo-backup-t0x01/`;
export const EXCHANGE = `${POSTURE}exchange-builds/`;
export const HAVE_POSTURE = existsSync(GPO) && existsSync(EXCHANGE);
export const SKIP_REASON =
  'corpora not found at ../shared/corpora/posture (beside the checkout); real-export tests skipped';

/** Marks a test skipped with its reason printed, the way the other corpus tests do. */
export function skipUnlessCorpora(): string | false {
  if (HAVE_POSTURE) return false;
  process.stdout.write(`# skip: ${SKIP_REASON}\n`);
  return SKIP_REASON;
}
