import RE2 from 're2';
import { UsageError } from '../core/errors.ts';

/** Where a pattern matched inside one value (UTF-16 offsets, as JavaScript strings count). */
export interface Match {
  index: number;
  length: number;
}

/** Tests one field value; any of the patterns may match. */
export interface Matcher {
  find(value: string): Match | undefined;
}

export interface SearchPatterns {
  /** Plain texts, any of which may occur in a field (`-e`). */
  texts: readonly string[];
  /** Regular expressions, any of which may match a field (`--regex`). */
  regexes: readonly string[];
  ignoreCase?: boolean;
}

/** Characters with a meaning in a regular expression, escaped to search a text case-insensitively. */
const REGEX_SPECIAL = /[\\^$.*+?()[\]{}|]/g;

/**
 * Patterns come from an analyst but are run over text an attacker wrote, and
 * a regular expression may come from a shared hunting list: every regex runs
 * on RE2, whose time is linear in the input, so no pattern can stall a search
 * by backtracking (`^(a+)+$` over a long command line). RE2 refuses what needs
 * backtracking (backreferences, lookaround): that is a usage error, as is an
 * invalid pattern or an empty text. A leading `(?i)` (Sigma, chainsaw and
 * grep -P habits) is taken as the ignore-case flag.
 */
export function compileMatcher(p: SearchPatterns): Matcher {
  if (p.texts.length === 0 && p.regexes.length === 0)
    throw new UsageError('SEARCH_NO_PATTERN', 'give at least one -e TEXT or --regex PATTERN');
  const tests: ((s: string) => Match | undefined)[] = [];
  for (const t of p.texts) {
    if (t === '') throw new UsageError('SEARCH_BAD_PATTERN', '-e needs a non-empty text');
    if (p.ignoreCase) {
      const re = compileRegex(t.replace(REGEX_SPECIAL, '\\$&'), 'i', t);
      tests.push((s) => execOne(re, s));
    } else {
      tests.push((s) => {
        const i = s.indexOf(t);
        return i < 0 ? undefined : { index: i, length: t.length };
      });
    }
  }
  for (const r of p.regexes) {
    let body = r;
    let flags = p.ignoreCase ? 'i' : '';
    const inline = /^\(\?([ims]+)\)/.exec(body);
    if (inline) {
      for (const f of inline[1]!) if (!flags.includes(f)) flags += f;
      body = body.slice(inline[0].length);
    }
    const re = compileRegex(body, flags, r);
    tests.push((s) => execOne(re, s));
  }
  if (tests.length === 1) {
    const only = tests[0]!;
    return { find: only };
  }
  return {
    find(s) {
      for (const t of tests) {
        const m = t(s);
        if (m) return m;
      }
      return undefined;
    },
  };
}

function compileRegex(body: string, flags: string, shown: string): RE2 {
  try {
    // JavaScript's parser says whether the pattern is valid at all, so that RE2's refusals read as "unsupported".
    new RegExp(body, flags);
  } catch (e) {
    throw new UsageError(
      'SEARCH_BAD_REGEX',
      `invalid regular expression ${JSON.stringify(shown)}: ${(e as Error).message}`,
    );
  }
  try {
    return new RE2(body, flags);
  } catch (e) {
    throw new UsageError(
      'SEARCH_UNSUPPORTED_REGEX',
      `regular expression ${JSON.stringify(shown)} needs backtracking (backreferences or lookaround), which the linear-time engine refuses: ${(e as Error).message}`,
    );
  }
}

function execOne(re: RE2, s: string): Match | undefined {
  const m = re.exec(s);
  return m ? { index: m.index, length: m[0].length } : undefined;
}
