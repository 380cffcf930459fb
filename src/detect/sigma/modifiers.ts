import ipaddr from 'ipaddr.js';
import RE2 from 're2';
import type { FieldView } from './field-view.ts';
import { scalarText } from './field-view.ts';
import { LIMITS } from './limits.ts';
import type { Piece } from './sigma-string.ts';
import { compilePieces, literal, parseSigmaString } from './sigma-string.ts';

/** Value modifiers of the Sigma specification (v2), in the order they may be chained. */
export const MODIFIERS = new Set([
  'contains',
  'startswith',
  'endswith',
  'all',
  'exists',
  'cased',
  're',
  'i',
  'm',
  's',
  'windash',
  'base64',
  'base64offset',
  'utf16le',
  'utf16be',
  'utf16',
  'wide',
  'cidr',
  'lt',
  'lte',
  'gt',
  'gte',
  'neq',
  'fieldref',
  'expand',
]);

export class ModifierError extends Error {
  constructor(
    message: string,
    /** The problem's code when it is not a plain bad detection. */
    readonly code = 'SIGMA_BAD_DETECTION',
  ) {
    super(message);
  }
}

/** A test on one field (or on every field for keywords, `field === null`). */
export type FieldTest = (view: FieldView) => boolean;

/**
 * A literal the field's lower-cased value must hold for the test to pass
 * (a necessary condition, not always a sufficient one). The engine finds
 * them with one multi-pattern scan per field to skip rules that cannot match.
 */
export interface Atom {
  op: 'exact' | 'prefix' | 'suffix' | 'contains';
  text: string;
}

export interface CompiledLeaf {
  test: FieldTest;
  /** When defined: if no atom holds, the test is false. */
  atoms?: Atom[];
  /**
   * The atoms are also sufficient: the test holds exactly when the field's
   * lower-cased value holds one of them (plain case-insensitive contains,
   * startswith, endswith or equals of wildcard-free strings), so the engine's
   * scan decides it without running the test.
   */
  exact?: boolean;
}

/** Whether a value's pieces are [*]text[*]: its atom then says all there is to say. */
function plainPieces(ps: readonly Piece[]): boolean {
  let texts = 0;
  for (let i = 0; i < ps.length; i++) {
    const p = ps[i]!;
    if (p.kind === 'one') return false;
    if (p.kind === 'text') {
      if (p.text === '') return false;
      texts++;
    } else if (i !== 0 && i !== ps.length - 1) return false;
  }
  return texts === 1;
}

function atomOf(ps: readonly Piece[]): Atom | null {
  const texts = ps.filter((p): p is Extract<Piece, { kind: 'text' }> => p.kind === 'text');
  if (texts.length === 0) return null;
  const longest = texts.reduce((a, b) => (b.text.length > a.text.length ? b : a)).text.toLowerCase();
  if (ps.some((p) => p.kind === 'one') || texts.length > 1) return { op: 'contains', text: longest };
  const lead = ps[0]?.kind === 'star';
  const trail = ps.at(-1)?.kind === 'star';
  return { op: lead && trail ? 'contains' : lead ? 'suffix' : trail ? 'prefix' : 'exact', text: longest };
}

export interface CompileOptions {
  /** Values for `expand` placeholders (`%name%`); unresolved placeholders never match. */
  placeholders?: ReadonlyMap<string, readonly string[]>;
  /**
   * Characters of patterns still allowed (see LIMITS.patternCharsPerRule),
   * spent as values are expanded: windash and base64offset multiply a value,
   * so the bound is on what is built, not on what the rule says.
   */
  budget?: { chars: number };
}

function spend(opts: CompileOptions, strings: readonly { length: number }[]): void {
  if (!opts.budget) return;
  for (const s of strings) opts.budget.chars -= s.length;
  if (opts.budget.chars < 0)
    throw new ModifierError(
      `the rule expands to more than ${LIMITS.patternCharsPerRule} characters of patterns; split the rule`,
      'SIGMA_TOO_LARGE',
    );
}

type ValueTest = (raw: string, lower: string, view: FieldView) => boolean;

/** The characters Windows accepts in place of a leading `-` of an option (pySigma's list). */
const WINDASH = ['-', '/', '\u2013', '\u2014', '\u2015'];
const WINDASH_RE = /\B[-/]\b/g;

function windash(s: string): string[] {
  const spots: number[] = [];
  for (const m of s.matchAll(WINDASH_RE)) spots.push(m.index);
  if (spots.length === 0) return [s];
  // Every spot varies on its own; 5^n grows fast, so very long option lists are capped.
  if (spots.length > 4) return WINDASH.map((c) => s.replace(WINDASH_RE, c));
  let out = [''];
  let last = 0;
  for (const at of spots) {
    const mid = s.slice(last, at);
    out = out.flatMap((p) => WINDASH.map((c) => p + mid + c));
    last = at + 1;
  }
  return out.map((p) => p + s.slice(last));
}

function utf16(s: string, be: boolean): Uint8Array {
  const out = new Uint8Array(s.length * 2);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out[i * 2 + (be ? 1 : 0)] = c & 0xff;
    out[i * 2 + (be ? 0 : 1)] = c >> 8;
  }
  return out;
}

type Enc = string | Uint8Array;
const bytesOf = (v: Enc): Uint8Array => (typeof v === 'string' ? new TextEncoder().encode(v) : v);
const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');

/** base64offset: the three encodings of the value at each alignment, trimmed of the bytes that depend on neighbours. */
function base64Offsets(b: Uint8Array): string[] {
  const starts = [0, 2, 3];
  const ends = [0, -3, -2];
  const out: string[] = [];
  for (let i = 0; i < 3; i++) {
    const padded = new Uint8Array(i + b.length);
    padded.fill(0x20, 0, i);
    padded.set(b, i);
    const enc = b64(padded);
    const end = ends[(b.length + i) % 3]!;
    out.push(enc.slice(starts[i]!, end === 0 ? undefined : end));
  }
  return out;
}

function expandPlaceholders(s: string, opts: CompileOptions): string[] | null {
  const names = [...s.matchAll(/%([A-Za-z0-9_.-]+)%/g)].map((m) => m[1]!);
  if (names.length === 0) return [s];
  let out = [s];
  for (const name of names) {
    const vals = opts.placeholders?.get(name);
    if (!vals || vals.length === 0) return null;
    out = out.flatMap((o) => vals.map((v) => o.replace(`%${name}%`, v)));
  }
  return out;
}

function numberOf(s: string | undefined): number | undefined {
  if (s === undefined || s.trim() === '') return undefined;
  const n = /^0x[0-9a-f]+$/i.test(s) ? Number.parseInt(s, 16) : Number(s);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * `re` values run on RE2, whose time is linear in the input: a backtracking
 * engine lets an attacker who picks the command line stall the hunt with a
 * pattern such as `^(a+)+$`. RE2 refuses the few constructs that need
 * backtracking (backreferences, lookaround); such a rule is reported and
 * skipped. Inline flags at the start (`(?i)`) become flags.
 */
function compileRegex(src: string, flags: Set<string>): { test(s: string): boolean } {
  let body = src;
  const m = /^\(\?([imsx]+)\)/.exec(body);
  if (m) {
    for (const f of m[1]!) if (f !== 'x') flags.add(f);
    body = body.slice(m[0].length);
  }
  const f = [...flags].join('');
  try {
    // JavaScript's parser says whether the pattern is valid at all, so that RE2's refusals read as "unsupported".
    new RegExp(body, f);
  } catch (e) {
    throw new ModifierError(`invalid regular expression ${JSON.stringify(src)}: ${(e as Error).message}`);
  }
  try {
    return new RE2(body, f);
  } catch (e) {
    throw new ModifierError(
      `regular expression ${JSON.stringify(src)} needs backtracking (backreferences or lookaround), which the linear-time engine refuses: ${(e as Error).message}`,
      'SIGMA_UNSUPPORTED_REGEX',
    );
  }
}

/**
 * Compiles one detection item — a field (or keywords), its modifier chain and
 * its values — into a test. Lists of values are OR-ed unless `all` is given.
 */
export function compileFieldTest(
  field: string | null,
  modifiers: readonly string[],
  rawValues: readonly unknown[],
  opts: CompileOptions = {},
): CompiledLeaf {
  for (const m of modifiers) if (!MODIFIERS.has(m)) throw new ModifierError(`unknown modifier "${m}"`);
  const has = (m: string): boolean => modifiers.includes(m);
  const key = field?.toLowerCase() ?? null;
  const cased = has('cased');

  if (has('exists')) {
    if (key === null) throw new ModifierError('"exists" needs a field');
    const want = rawValues[0] === true || rawValues[0] === 'true' || rawValues[0] === 'yes';
    return { test: (view) => (view.get(key) !== undefined) === want };
  }

  const tests: ValueTest[] = [];
  const atoms: (Atom | null)[] = [];
  let matchNull = false;
  let plain = true;
  for (const rv of rawValues) {
    if (rv === null || rv === undefined) {
      matchNull = true;
      continue;
    }
    const text = scalarText(rv);
    if (text === undefined) throw new ModifierError(`value ${JSON.stringify(rv)} is not a scalar`);
    const c = compileValue(text, modifiers, opts, cased);
    tests.push(...c.tests);
    atoms.push(...c.atoms);
    if (!c.plain) plain = false;
  }
  const all = has('all');
  const neq = has('neq');

  const onValue = (raw: string, lower: string, view: FieldView): boolean => {
    if (tests.length === 0) return false;
    if (all) {
      for (const t of tests) if (!t(raw, lower, view)) return false;
      return true;
    }
    for (const t of tests) if (t(raw, lower, view)) return true;
    return false;
  };
  const single = tests.length === 1 ? tests[0]! : undefined;

  if (key === null) {
    if (matchNull) throw new ModifierError('a keyword cannot be null');
    // Keywords search every value; with `all`, each keyword may be in a different field.
    const texts = atoms.map((a) => (a?.op === 'contains' && !a.text.includes('\u0000') ? a.text : null));
    if (!all && plain && !cased && tests.length > 0 && texts.every((t) => t !== null)) {
      // A NUL-free literal found in the joined values lies inside one value.
      const literals = texts as string[];
      return {
        test: (view) => {
          const joined = view.joinedLower();
          for (const t of literals) if (joined.includes(t)) return true;
          return false;
        },
      };
    }
    if (all)
      return {
        test: (view) =>
          tests.every((t) => {
            for (const [k, v] of view.entries()) if (t(v, view.lower(k)!, view)) return true;
            return false;
          }),
      };
    return {
      test: (view) => {
        for (const [k, v] of view.entries()) if (onValue(v, view.lower(k)!, view)) return true;
        return false;
      },
    };
  }
  const test: FieldTest = (view) => {
    const raw = view.get(key);
    if (raw === undefined || raw === '') {
      if (matchNull) return true;
      if (raw === undefined) return false;
    }
    const lower = cased ? raw : view.lower(key)!;
    const hit = single ? single(raw, lower, view) : onValue(raw, lower, view);
    return neq ? !hit : hit;
  };
  if (matchNull || neq || tests.length === 0) return { test };
  const known = atoms.filter((a): a is Atom => a !== null);
  if (all) {
    // Every value must hold, so any one of them is a necessary literal: take the longest.
    if (known.length === 0) return { test };
    return { test, atoms: [known.reduce((a, b) => (b.text.length > a.text.length ? b : a))] };
  }
  if (known.length !== atoms.length) return { test };
  return plain && !cased ? { test, atoms: known, exact: true } : { test, atoms: known };
}

function compileValue(
  text: string,
  modifiers: readonly string[],
  opts: CompileOptions,
  cased: boolean,
): { tests: ValueTest[]; atoms: (Atom | null)[]; plain: boolean } {
  const opaque = (tests: ValueTest[]) => ({
    tests,
    atoms: tests.map((): Atom | null => null),
    plain: false,
  });
  const has = (m: string): boolean => modifiers.includes(m);
  if (has('re')) {
    const flags = new Set<string>();
    for (const f of ['i', 'm', 's']) if (has(f)) flags.add(f);
    const re = compileRegex(text, flags);
    return opaque([(raw) => re.test(raw)]);
  }
  if (has('cidr')) {
    let range: [ipaddr.IPv4 | ipaddr.IPv6, number];
    try {
      range = ipaddr.parseCIDR(text);
    } catch {
      throw new ModifierError(`invalid CIDR ${JSON.stringify(text)}`);
    }
    return opaque([
      (raw) => {
        if (!ipaddr.isValid(raw)) return false;
        let ip = ipaddr.parse(raw);
        if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress())
          ip = (ip as ipaddr.IPv6).toIPv4Address();
        return ip.kind() === range[0].kind() && ip.match(range);
      },
    ]);
  }
  for (const cmp of ['lt', 'lte', 'gt', 'gte'] as const) {
    if (!has(cmp)) continue;
    const n = numberOf(text);
    if (n === undefined) throw new ModifierError(`"${cmp}" needs a number, got ${JSON.stringify(text)}`);
    return opaque([
      (raw) => {
        const v = numberOf(raw);
        if (v === undefined) return false;
        return cmp === 'lt' ? v < n : cmp === 'lte' ? v <= n : cmp === 'gt' ? v > n : v >= n;
      },
    ]);
  }
  if (has('fieldref')) {
    const other = text.toLowerCase();
    const mode = has('contains') ? 'c' : has('startswith') ? 's' : has('endswith') ? 'e' : '=';
    return opaque([
      (raw, lower, view) => {
        const o = cased ? view.get(other) : view.lower(other);
        if (o === undefined) return false;
        const v = cased ? raw : lower;
        return mode === 'c'
          ? v.includes(o)
          : mode === 's'
            ? v.startsWith(o)
            : mode === 'e'
              ? v.endsWith(o)
              : v === o;
      },
    ]);
  }

  // String pipeline: placeholders, dash variants, encodings, then the match type.
  let strings: string[] = [text];
  if (has('expand')) {
    const expanded = expandPlaceholders(text, opts);
    if (expanded === null) return { tests: [], atoms: [], plain: true };
    strings = expanded;
  }
  if (has('windash')) strings = strings.flatMap(windash);
  spend(opts, strings);
  let pieces: Piece[][];
  const encoders = modifiers.filter((m) =>
    ['base64', 'base64offset', 'utf16le', 'utf16be', 'utf16', 'wide'].includes(m),
  );
  if (encoders.length > 0) {
    let encs: Enc[] = strings;
    for (const e of encoders) {
      if (e === 'utf16le' || e === 'wide')
        encs = encs.map((s) => utf16(typeof s === 'string' ? s : '', false));
      else if (e === 'utf16be') encs = encs.map((s) => utf16(typeof s === 'string' ? s : '', true));
      else if (e === 'utf16')
        encs = encs.map((s) => {
          const body = utf16(typeof s === 'string' ? s : '', false);
          const out = new Uint8Array(body.length + 2);
          out.set([0xff, 0xfe]);
          out.set(body, 2);
          return out;
        });
      else if (e === 'base64') encs = encs.map((s) => b64(bytesOf(s)));
      else encs = encs.flatMap((s) => base64Offsets(bytesOf(s)));
      spend(opts, encs);
    }
    // Encoded values are literal: base64 text never holds Sigma wildcards.
    pieces = encs.map((s) => literal(typeof s === 'string' ? s : Buffer.from(s).toString('latin1')));
    // base64 output is case-sensitive by nature.
    cased = true;
  } else pieces = strings.map(parseSigmaString);

  const lead = has('contains') || has('endswith');
  const trail = has('contains') || has('startswith');
  const tests: ValueTest[] = [];
  const atoms: (Atom | null)[] = [];
  let plain = !cased;
  for (const ps of pieces) {
    const full: Piece[] = [...ps];
    if (lead && full[0]?.kind !== 'star') full.unshift({ kind: 'star' });
    if (trail && full.at(-1)?.kind !== 'star') full.push({ kind: 'star' });
    const t = compilePieces(full, cased);
    tests.push(cased ? (raw: string) => t(raw) : (_raw: string, lower: string) => t(lower));
    atoms.push(atomOf(full));
    if (!plainPieces(full)) plain = false;
  }
  return { tests, atoms, plain };
}
