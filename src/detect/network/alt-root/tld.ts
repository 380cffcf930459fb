import { readFileSync } from 'node:fs';
import { domainToASCII } from 'node:url';
import { dataPath } from '../../../core/paths.ts';

/**
 * Where a name's top-level domain is delegated from:
 * - `icann`: ICANN's root (the Public Suffix List's ICANN section);
 * - `alternative`: a known alternative root (EmerDNS, Namecoin, OpenNIC);
 * - `private`: private or special-use by standard (`.local`, `.lan`, `.test`, …);
 * - `unknown`: none of these, so not delegated by ICANN's root.
 */
export type TldKind = 'icann' | 'alternative' | 'private' | 'unknown';

export interface TldFacts {
  kind: TldKind;
  /** The TLD, lower-case ASCII (punycode for IDN TLDs). */
  tld: string;
  /** The alternative root serving it (`EmerDNS`, `Namecoin`, `OpenNIC`). */
  root?: string;
  /** The TLD and the label below it (`pool.bazar`), or the TLD alone for a two-part name's parent. */
  domain: string;
}

export interface TldTables {
  icann: ReadonlySet<string>;
  /** TLD → the root serving it; never holds an ICANN TLD. */
  alternative: ReadonlyMap<string, string>;
  private: ReadonlySet<string>;
}

/** Lines of a shipped list without `//` and `#` comments, split at tabs; the first field (the TLD) lower-cased. */
function rows(text: string): string[][] {
  const out: string[][] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.length === 0 || line.startsWith('#') || line.startsWith('//')) continue;
    const fields = line.split('\t').map((f) => f.trim());
    fields[0] = fields[0]!.toLowerCase();
    out.push(fields);
  }
  return out;
}

/** Builds the tables from the texts of the three shipped lists (see data/dns/PROVENANCE.md). */
export function buildTldTables(icannText: string, alternativeText: string, privateText: string): TldTables {
  const icann = new Set(rows(icannText).map((r) => r[0]!));
  const alternative = new Map<string, string>();
  for (const [tld, root] of rows(alternativeText)) {
    // A TLD that ICANN has since delegated (`.free`) is ICANN's: its names resolve for everyone.
    if (tld !== undefined && !icann.has(tld)) alternative.set(tld, root ?? 'alternative root');
  }
  const privateUse = new Set(rows(privateText).map((r) => r[0]!));
  return { icann, alternative, private: privateUse };
}

let shipped: TldTables | undefined;

/** The shipped tables, read from data/dns/ on first use (about 1,500 short strings). */
export function shippedTldTables(): TldTables {
  shipped ??= buildTldTables(
    readFileSync(dataPath('dns', 'icann-tlds.txt'), 'utf8'),
    readFileSync(dataPath('dns', 'alt-roots.txt'), 'utf8'),
    readFileSync(dataPath('dns', 'private-use.txt'), 'utf8'),
  );
  return shipped;
}

const MAX_LABEL = 63;

/** A TLD as DNS can carry it: letters, digits and inner hyphens, not all digits (then it is an address). */
function validTld(tld: string): boolean {
  if (tld.length === 0 || tld.length > MAX_LABEL) return false;
  let letters = 0;
  for (let i = 0; i < tld.length; i++) {
    const c = tld.charCodeAt(i);
    if (c >= 97 && c <= 122) letters++;
    else if (c === 45) {
      if (i === 0 || i === tld.length - 1) return false;
    } else if (c < 48 || c > 57) return false;
  }
  return letters > 0;
}

/**
 * The TLD facts of a DNS name, or undefined for a name with no TLD to judge
 * (one label, an address, characters DNS names do not hold). Linear in the
 * name's length; no regular expression.
 */
export function classifyTld(name: string, tables: TldTables = shippedTldTables()): TldFacts | undefined {
  let end = name.length;
  while (end > 0 && name.charCodeAt(end - 1) === 46) end--;
  const last = name.lastIndexOf('.', end - 1);
  if (last <= 0) return undefined;
  let tld = name.slice(last + 1, end).toLowerCase();
  if (tld.length > MAX_LABEL * 4) return undefined;
  for (let i = 0; i < tld.length; i++) {
    if (tld.charCodeAt(i) > 127) {
      tld = domainToASCII(tld);
      break;
    }
  }
  if (!validTld(tld)) return undefined;
  const prev = name.lastIndexOf('.', last - 1);
  const below = name.slice(prev + 1, last).toLowerCase();
  const domain = below.length > 0 ? `${below}.${tld}` : tld;
  if (tables.icann.has(tld)) return { kind: 'icann', tld, domain };
  const root = tables.alternative.get(tld);
  if (root !== undefined) return { kind: 'alternative', tld, root, domain };
  if (tables.private.has(tld)) return { kind: 'private', tld, domain };
  return { kind: 'unknown', tld, domain };
}

/** `pool.bazar` for a name under a known alternative root, else undefined. */
export function alternativeRootDomain(name: string, tables?: TldTables): string | undefined {
  const f = classifyTld(name, tables);
  return f?.kind === 'alternative' ? f.domain : undefined;
}
