/**
 * Sigma string values: `*` and `?` are wildcards, a backslash escapes a
 * wildcard or another backslash and is literal before anything else (the
 * specification's rule, so `C:\Windows\` needs no doubling).
 */
export type Piece = { kind: 'text'; text: string } | { kind: 'star' } | { kind: 'one' };

export function parseSigmaString(value: string): Piece[] {
  const out: Piece[] = [];
  let text = '';
  const flush = (): void => {
    if (text) out.push({ kind: 'text', text });
    text = '';
  };
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '\\') {
      const n = value[i + 1];
      if (n === '*' || n === '?' || n === '\\') {
        text += n;
        i++;
      } else text += c;
    } else if (c === '*') {
      flush();
      if (out.at(-1)?.kind !== 'star') out.push({ kind: 'star' });
    } else if (c === '?') {
      flush();
      out.push({ kind: 'one' });
    } else text += c;
  }
  flush();
  return out;
}

/** A literal string as pieces (no wildcard interpretation), e.g. after base64 encoding. */
export function literal(text: string): Piece[] {
  return text ? [{ kind: 'text', text }] : [];
}

export function piecesToString(pieces: readonly Piece[]): string {
  return pieces
    .map((p) =>
      p.kind === 'star' ? '*' : p.kind === 'one' ? '?' : p.text.replace(/[\\*?]/g, (c) => `\\${c}`),
    )
    .join('');
}

/**
 * A star-free run of pieces: literal text with `?` positions. `lit` is the
 * text with `?` as a placeholder code unit and `any[k]` marks the `?`s.
 */
interface Segment {
  lit: string;
  any: boolean[] | null;
  /** The longest literal chunk of the segment and its offset, to find candidates with indexOf. */
  chunk: string;
  chunkAt: number;
}

function segmentOf(ps: readonly Piece[]): Segment {
  let lit = '';
  const any: boolean[] = [];
  let hasAny = false;
  let chunk = '';
  let chunkAt = 0;
  let run = '';
  let runAt = 0;
  for (const p of ps) {
    if (p.kind === 'one') {
      if (run.length > chunk.length) [chunk, chunkAt] = [run, runAt];
      lit += '?';
      any.push(true);
      hasAny = true;
      run = '';
      runAt = lit.length;
    } else if (p.kind === 'text') {
      lit += p.text;
      run += p.text;
      for (let k = 0; k < p.text.length; k++) any.push(false);
    }
  }
  if (run.length > chunk.length) [chunk, chunkAt] = [run, runAt];
  return { lit, any: hasAny ? any : null, chunk, chunkAt };
}

/** Whether `seg` matches `v` at `at` (the caller checks that it fits). */
function segmentAt(seg: Segment, v: string, at: number): boolean {
  const { lit, any } = seg;
  if (any === null) return v.startsWith(lit, at);
  for (let k = 0; k < lit.length; k++)
    if (!any[k] && v.charCodeAt(at + k) !== lit.charCodeAt(k)) return false;
  return true;
}

/** The leftmost position >= from where `seg` matches in `v`, or -1. */
function findSegment(seg: Segment, v: string, from: number): number {
  const last = v.length - seg.lit.length;
  if (seg.any === null) return v.indexOf(seg.lit, from);
  if (seg.chunk === '') return from <= last ? from : -1;
  // Candidates come from the segment's longest literal chunk, each verified in place.
  let c = v.indexOf(seg.chunk, from + seg.chunkAt);
  while (c >= 0) {
    const at = c - seg.chunkAt;
    if (at > last) return -1;
    if (segmentAt(seg, v, at)) return at;
    c = v.indexOf(seg.chunk, c + 1);
  }
  return -1;
}

/**
 * Wildcard matching without backtracking: the value is split on `*` into
 * segments; the first is anchored at the start, the last at the end, and
 * each middle one is taken at its leftmost place after the previous one.
 * The leftmost place always leaves the most room for what follows, so this
 * is exact, and each step only moves forward (a regular expression such as
 * `^.*a.*a.*b$` backtracks polynomially on attacker-chosen input).
 */
export function wildcardMatcher(pieces: readonly Piece[]): (value: string) => boolean {
  const groups: Piece[][] = [[]];
  for (const p of pieces) {
    if (p.kind === 'star') groups.push([]);
    else groups.at(-1)!.push(p);
  }
  const segs = groups.map(segmentOf);
  if (segs.length === 1) {
    const only = segs[0]!;
    return (v) => v.length === only.lit.length && segmentAt(only, v, 0);
  }
  const head = segs[0]!;
  const tail = segs.at(-1)!;
  const middle = segs.slice(1, -1).filter((s) => s.lit !== '');
  const minLength = segs.reduce((n, s) => n + s.lit.length, 0);
  return (v) => {
    if (v.length < minLength) return false;
    if (!segmentAt(head, v, 0)) return false;
    const end = v.length - tail.lit.length;
    if (!segmentAt(tail, v, end)) return false;
    let at = head.lit.length;
    for (const s of middle) {
      const found = findSegment(s, v, at);
      if (found < 0 || found + s.lit.length > end) return false;
      at = found + s.lit.length;
    }
    return true;
  };
}

/**
 * Compiles pieces into the cheapest test: equality, prefix, suffix,
 * substring, or the linear wildcard matcher above. Without `cased` both
 * sides are compared in lower case (the caller passes the lower-cased field
 * value).
 */
export function compilePieces(pieces: readonly Piece[], cased: boolean): (value: string) => boolean {
  const ps = cased
    ? pieces
    : pieces.map((p): Piece => (p.kind === 'text' ? { kind: 'text', text: p.text.toLowerCase() } : p));
  const texts = ps.filter((p) => p.kind === 'text');
  const hasOne = ps.some((p) => p.kind === 'one');
  if (!hasOne) {
    const lead = ps[0]?.kind === 'star';
    const trail = ps.length > 0 && ps[ps.length - 1]!.kind === 'star';
    const inner = ps.slice(lead ? 1 : 0, trail ? ps.length - 1 : ps.length);
    if (inner.every((p) => p.kind === 'text') && inner.length <= 1) {
      const t = texts[0]?.text ?? '';
      if (inner.length === 0) return lead || trail ? () => true : (v) => v === '';
      if (lead && trail) return (v) => v.includes(t);
      if (lead) return (v) => v.endsWith(t);
      if (trail) return (v) => v.startsWith(t);
      return (v) => v === t;
    }
  }
  return wildcardMatcher(ps);
}
