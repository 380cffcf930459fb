import { getDomainWithoutSuffix } from 'tldts';

/**
 * How random a DNS/TLS name looks, 0..1 (higher is more DGA-like). Until the
 * project's DGA classifier is available this is Shannon entropy of the
 * registrable label (the part a DGA generates), scaled so that the
 * baseline entropy 3.8 bits lands near 0.85; short labels cannot reach it.
 */
export function nameRandomness(name: string): number {
  const label = registrableLabel(name);
  if (label.length < 8) return 0;
  const h = shannonEntropy(label);
  const digits = countDigits(label) / label.length;
  // Digits mixed into letters are a DGA trait that entropy alone underweights.
  const score = h / 4.5 + (digits > 0.15 && digits < 0.85 ? 0.1 : 0);
  return Math.min(1, Math.max(0, score));
}

/** At or above this a name is reported as random-looking. */
export const RANDOM_NAME_THRESHOLD = 0.8;

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
