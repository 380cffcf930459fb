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

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/**
 * Compiles pieces into the cheapest test: equality, prefix, suffix,
 * substring, or an anchored regular expression as a last resort. Without
 * `cased` both sides are compared in lower case (the caller passes the
 * lower-cased field value).
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
  const src = ps.map((p) => (p.kind === 'star' ? '.*' : p.kind === 'one' ? '.' : escapeRe(p.text))).join('');
  const re = new RegExp(`^${src}$`, 's');
  return (v) => re.test(v);
}
