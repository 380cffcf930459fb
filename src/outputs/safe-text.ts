/**
 * Text an attacker wrote (command lines, file names, DNS names, feed lines)
 * must not drive the terminal of the person reading our output: an ESC starts
 * CSI/OSC sequences (clear the screen, set the title, hide text), CR and LF
 * rewrite or split lines, bidi overrides reorder what is shown. Human formats
 * pass every such string through `escapeControls`, which makes those
 * characters visible instead of acting on them.
 *
 * Backslashes are left alone on purpose: Windows paths are full of them, and
 * the escaped form only has to be harmless and readable, not reversible (the
 * JSON formats carry the exact value).
 */

/** Whether the terminal (or a text renderer) would act on this UTF-16 code unit instead of showing it. */
function isControl(c: number): boolean {
  return (
    c < 0x20 || // C0: ESC, BEL, CR, LF, TAB, BS, …
    (c >= 0x7f && c <= 0x9f) || // DEL and C1 (0x9b is a one-byte CSI, 0x9d a one-byte OSC)
    c === 0x061c || // Arabic letter mark
    c === 0x200e ||
    c === 0x200f || // left-to-right and right-to-left marks
    (c >= 0x2028 && c <= 0x202e) || // line and paragraph separators, bidi embeddings and overrides
    (c >= 0x2066 && c <= 0x2069) // bidi isolates
  );
}

const NAMED: Readonly<Record<number, string>> = { 9: '\\t', 10: '\\n', 13: '\\r' };

function escapeOne(c: number): string {
  const named = NAMED[c];
  if (named !== undefined) return named;
  return c <= 0xff ? `\\x${c.toString(16).padStart(2, '0')}` : `\\u${c.toString(16).padStart(4, '0')}`;
}

/** `s` with every control character written as a visible backslash escape; one pass, no regex. */
export function escapeControls(s: string): string {
  let first = -1;
  for (let i = 0; i < s.length; i++) {
    if (isControl(s.charCodeAt(i))) {
      first = i;
      break;
    }
  }
  if (first < 0) return s;
  const parts: string[] = [s.slice(0, first)];
  let start = first;
  for (let i = first; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!isControl(c)) continue;
    if (i > start) parts.push(s.slice(start, i));
    parts.push(escapeOne(c));
    start = i + 1;
  }
  if (start < s.length) parts.push(s.slice(start));
  return parts.join('');
}
