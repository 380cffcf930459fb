import { getDomainWithoutSuffix } from 'tldts';
import { DGA_THRESHOLD, scoreDomain } from '../ml/dga/index.ts';

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

/**
 * The fallback measure used before the classifier existed (and a second
 * opinion in tests): Shannon entropy of the registrable label, scaled so
 * that the baseline entropy 3.8 bits lands near 0.85; short labels score 0.
 */
export function entropyRandomness(name: string): number {
  const label = registrableLabel(name);
  if (label.length < 8) return 0;
  const h = shannonEntropy(label);
  const digits = countDigits(label) / label.length;
  // Digits mixed into letters are a DGA trait that entropy alone underweights.
  const score = h / 4.5 + (digits > 0.15 && digits < 0.85 ? 0.1 : 0);
  return Math.min(1, Math.max(0, score));
}

/** The reporting threshold that went with `entropyRandomness`. */
export const ENTROPY_THRESHOLD = 0.8;

export function registrableLabel(name: string): string {
  const n = name.toLowerCase().replace(/\.$/, '');
  return getDomainWithoutSuffix(n, { allowPrivateDomains: false }) ?? n.split('.')[0] ?? n;
}

export function shannonEntropy(s: string): number {
  const counts = new Map<string, number>();
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

function countDigits(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) n++;
  }
  return n;
}
