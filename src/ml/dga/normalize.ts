import { domainToUnicode } from 'node:url';
import { getDomainWithoutSuffix } from 'tldts';
import { DeminerError } from '../../core/errors.ts';

/**
 * What the classifier looks at for one DNS name. DGAs pick the label they
 * register, so the model scores the registrable label (public suffix removed,
 * subdomains dropped) rather than the whole name: `cdn1.img.example.co.uk`
 * is judged on `example`. Under a dynamic-DNS provider the label left of the
 * provider domain is the one the attacker chose (`x7f3k.ddns.net` → `x7f3k`).
 */
export type NormalizedName =
  | { kind: 'label'; name: string; label: string }
  /** IPv4/IPv6 literals and reverse-DNS names are not generated names. */
  | { kind: 'ip' | 'reverse'; name: string }
  /** The registrable label is in a non-Latin script (after punycode decoding). */
  | { kind: 'non-latin'; name: string; label: string };

const TLDTS_OPTIONS = {
  allowPrivateDomains: false,
  extractHostname: false,
  validateHostname: false,
} as const;
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;
const COMBINING_MARKS = /[\u0300-\u036f]/g;
const NON_ASCII = /[^\x00-\x7f]/;

export type SuffixSet = ReadonlySet<string>;

/**
 * Lower-cases, strips a trailing dot and brackets, decodes punycode and picks
 * the label to score. Throws `DGA_EMPTY_NAME` for an empty or dot-only name.
 */
export function normalizeName(input: string, dynamicDns: SuffixSet): NormalizedName {
  let name = input.trim().toLowerCase();
  while (name.endsWith('.')) name = name.slice(0, -1);
  if (name.startsWith('*.')) name = name.slice(2);
  if (name.length === 0) {
    throw new DeminerError(
      'DGA_EMPTY_NAME',
      `cannot score an empty domain name (got ${JSON.stringify(input)})`,
    );
  }
  if (name.startsWith('[') || name.includes(':') || IPV4.test(name)) return { kind: 'ip', name };
  if (
    name === 'in-addr.arpa' ||
    name === 'ip6.arpa' ||
    name.endsWith('.in-addr.arpa') ||
    name.endsWith('.ip6.arpa')
  ) {
    return { kind: 'reverse', name };
  }
  const label = registrableLabel(name, dynamicDns);
  if (!label.startsWith('xn--') && !NON_ASCII.test(label)) return { kind: 'label', name, label };
  return idnLabel(name, label);
}

function registrableLabel(name: string, dynamicDns: SuffixSet): string {
  const last = name.lastIndexOf('.');
  if (last < 0) return name;
  const prev = name.lastIndexOf('.', last - 1);
  // Two labels: the first one is the answer whether or not the whole name is a
  // public suffix (`co.uk` falls back to `co` below), so the suffix lookup is skipped.
  if (prev < 0) return name.slice(0, last);
  {
    // Dynamic-DNS providers are two or three labels deep (`ddns.net`, `dyn.example.co.uk` is rare).
    const prev2 = name.lastIndexOf('.', prev - 1);
    if (dynamicDns.has(name.slice(prev + 1))) return labelBefore(name, prev);
    if (prev2 >= 0 && dynamicDns.has(name.slice(prev2 + 1))) return labelBefore(name, prev2);
  }
  const label = getDomainWithoutSuffix(name, TLDTS_OPTIONS);
  // A name that is itself a public suffix (`co.uk`) has no registrable label.
  if (label === null || label.length === 0) return name.slice(0, name.indexOf('.'));
  return label;
}

function labelBefore(name: string, dot: number): string {
  return name.slice(name.lastIndexOf('.', dot - 1) + 1, dot);
}

/**
 * Latin-script IDNs (`münchen`) are folded to ASCII so the character model
 * applies. Labels in other scripts are reported as such: the model has never
 * seen them and none of the DGA families we know generate them.
 * Invalid punycode (`xn--` that does not decode) is scored as typed.
 */
function idnLabel(name: string, label: string): NormalizedName {
  const unicode = label.startsWith('xn--') ? domainToUnicode(label) : label;
  if (unicode.length === 0 || (unicode === label && label.startsWith('xn--')))
    return { kind: 'label', name, label };
  const folded = unicode.normalize('NFKD').replace(COMBINING_MARKS, '');
  if (!NON_ASCII.test(folded)) return { kind: 'label', name, label: folded };
  return { kind: 'non-latin', name, label: unicode };
}

/** Parses the shipped dynamic-DNS list: one domain a line, `#` comments. */
export function parseSuffixList(text: string): Set<string> {
  const out = new Set<string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim().toLowerCase();
    if (line.length === 0 || line.startsWith('#')) continue;
    out.add(line.startsWith('.') ? line.slice(1) : line);
  }
  return out;
}
