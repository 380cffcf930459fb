import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The shared development corpora beside the checkout (see its README). */
export const CORPORA = fileURLToPath(new URL('../../../shared/corpora/', import.meta.url));
export const BLOCKLISTS = `${CORPORA}blocklists/`;
export const HAVE_CORPORA = existsSync(BLOCKLISTS);
export const SKIP_REASON = `corpora not found at ${'../shared/corpora'} (beside the checkout); intel corpus tests skipped`;

export function fixture(name: string): string {
  return readFileSync(fileURLToPath(new URL(`../fixtures/intel/${name}`, import.meta.url)), 'utf8');
}
