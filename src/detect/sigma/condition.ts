import { LIMITS } from './limits.ts';

/**
 * Sigma condition expressions: `and`, `or`, `not`, parentheses,
 * `1 of X` / `all of X` / `any of X` with name patterns (`sel*`) and `them`.
 * Identifiers starting with `_` are left out of `them`, as the specification says.
 */
export type Cond =
  | { op: 'id'; name: string }
  | { op: 'and' | 'or'; args: Cond[] }
  | { op: 'not'; arg: Cond }
  | { op: 'of'; quantifier: 'one' | 'all'; names: string[] };

export class ConditionError extends Error {}

const TOKEN = /\s*(\(|\)|[^\s()]+)/y;

function tokenize(text: string): string[] {
  const out: string[] = [];
  const end = text.trimEnd().length;
  let at = 0;
  while (at < end) {
    TOKEN.lastIndex = at;
    const m = TOKEN.exec(text);
    if (!m) throw new ConditionError(`cannot read condition "${text.slice(0, 200)}"`);
    out.push(m[1]!);
    at = TOKEN.lastIndex;
  }
  return out;
}

function patternRe(p: string): RegExp {
  return new RegExp(
    `^${p
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
}

/** Parses `text` against the detection's identifiers; unknown names are errors. */
export function parseCondition(condition: string, identifiers: readonly string[]): Cond {
  // Messages quote the condition; a hostile one may be megabytes long.
  const text = condition.length > 200 ? `${condition.slice(0, 200)}…` : condition;
  const toks = tokenize(condition);
  let i = 0;
  const peek = (): string | undefined => toks[i];
  const lower = (t: string | undefined): string | undefined => t?.toLowerCase();
  const known = new Set(identifiers);
  // Parentheses and `not` recurse; an attacker's rule nesting 10,000 deep would overflow the stack.
  let depth = 0;
  const deeper = (): void => {
    if (++depth > LIMITS.conditionDepth)
      throw new ConditionError(
        `condition nests parentheses or "not" more than ${LIMITS.conditionDepth} deep`,
      );
  };

  const parseOr = (): Cond => {
    const args = [parseAnd()];
    while (lower(peek()) === 'or') {
      i++;
      args.push(parseAnd());
    }
    return args.length === 1 ? args[0]! : { op: 'or', args };
  };
  const parseAnd = (): Cond => {
    const args = [parseNot()];
    while (lower(peek()) === 'and') {
      i++;
      args.push(parseNot());
    }
    return args.length === 1 ? args[0]! : { op: 'and', args };
  };
  const parseNot = (): Cond => {
    if (lower(peek()) === 'not') {
      i++;
      deeper();
      const arg = parseNot();
      depth--;
      return { op: 'not', arg };
    }
    return parsePrimary();
  };
  const parsePrimary = (): Cond => {
    const t = toks[i++];
    if (t === undefined) throw new ConditionError(`condition "${text}" ends too early`);
    if (t === '(') {
      deeper();
      const inner = parseOr();
      depth--;
      if (toks[i++] !== ')') throw new ConditionError(`missing ")" in condition "${text}"`);
      return inner;
    }
    const lt = t.toLowerCase();
    if ((lt === '1' || lt === 'all' || lt === 'any') && lower(peek()) === 'of') {
      i++;
      const target = toks[i++];
      if (target === undefined || target === '(' || target === ')')
        throw new ConditionError(`"${t} of" needs a name pattern or "them" in "${text}"`);
      const names =
        target.toLowerCase() === 'them'
          ? identifiers.filter((n) => !n.startsWith('_'))
          : identifiers.filter((n) => patternRe(target).test(n));
      if (names.length === 0) throw new ConditionError(`"${target}" names no search identifier in "${text}"`);
      return { op: 'of', quantifier: lt === 'all' ? 'all' : 'one', names };
    }
    if (['and', 'or', 'not', ')'].includes(lt)) throw new ConditionError(`unexpected "${t}" in "${text}"`);
    if (!known.has(t))
      throw new ConditionError(`condition names "${t}", which the detection does not define`);
    return { op: 'id', name: t };
  };
  const cond = parseOr();
  if (i < toks.length) throw new ConditionError(`unexpected "${toks[i]}" in condition "${text}"`);
  return cond;
}

/** Identifiers a condition reads, so that unused ones need not be compiled. */
export function identifiersOf(c: Cond, out = new Set<string>()): Set<string> {
  if (c.op === 'id') out.add(c.name);
  else if (c.op === 'not') identifiersOf(c.arg, out);
  else if (c.op === 'of') for (const n of c.names) out.add(n);
  else for (const a of c.args) identifiersOf(a, out);
  return out;
}

export function evaluate(c: Cond, test: (name: string) => boolean): boolean {
  switch (c.op) {
    case 'id':
      return test(c.name);
    case 'not':
      return !evaluate(c.arg, test);
    case 'and':
      for (const a of c.args) if (!evaluate(a, test)) return false;
      return true;
    case 'or':
      for (const a of c.args) if (evaluate(a, test)) return true;
      return false;
    case 'of':
      if (c.quantifier === 'all') {
        for (const n of c.names) if (!test(n)) return false;
        return true;
      }
      for (const n of c.names) if (test(n)) return true;
      return false;
  }
}
