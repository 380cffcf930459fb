import { DGA_THRESHOLD, scoreDomain } from '../../ml/dga/index.ts';

/** How random a DNS/TLS name looks, 0..1 (higher is more DGA-like): the project's DGA classifier. */
export function nameRandomness(name: string): number {
  if (name === '') return 0;
  try {
    return scoreDomain(name);
  } catch {
    // Names the classifier cannot read (escaped bytes, empty labels) are not scored rather than fatal.
    return 0;
  }
}

/** At or above this a name is reported as random-looking. */
export const RANDOM_NAME_THRESHOLD = DGA_THRESHOLD;
