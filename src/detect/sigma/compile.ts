import type { Cond } from './condition.ts';
import { ConditionError, identifiersOf, parseCondition } from './condition.ts';
import type { FieldView } from './field-view.ts';
import { LIMITS } from './limits.ts';
import type { Atom, CompiledLeaf, CompileOptions, FieldTest } from './modifiers.ts';
import { compileFieldTest, ModifierError } from './modifiers.ts';
import type { DetectionRule } from './rule.ts';

/**
 * Field tests shared by every compiled rule: the same field, modifiers and
 * values compile once, and each is evaluated at most once per event (many
 * SigmaHQ rules test the same `Image|endswith` values).
 */
export class LeafTable {
  readonly #tests: FieldTest[] = [];
  readonly #atoms: (Atom[] | undefined)[] = [];
  readonly #fields: (string | null)[] = [];
  readonly #exact: boolean[] = [];
  readonly #ids = new Map<string, number>();
  #stamp = new Uint32Array(64);
  #result = new Uint8Array(64);
  #gen = 0;
  #view: FieldView | undefined;
  #decided: Uint8Array | undefined;

  intern(key: string, field: string | null, make: () => CompiledLeaf): number {
    let id = this.#ids.get(key);
    if (id === undefined) {
      id = this.#tests.length;
      const leaf = make();
      this.#tests.push(leaf.test);
      this.#atoms.push(leaf.atoms);
      this.#fields.push(field?.toLowerCase() ?? null);
      this.#exact.push(leaf.exact === true && field !== null);
      this.#ids.set(key, id);
      if (id >= this.#stamp.length) {
        const s = new Uint32Array(this.#stamp.length * 2);
        s.set(this.#stamp);
        this.#stamp = s;
        const r = new Uint8Array(this.#result.length * 2);
        r.set(this.#result);
        this.#result = r;
      }
    }
    return id;
  }

  /** The necessary literals of a leaf (see Atom), if it has them. */
  atomsOf(id: number): Atom[] | undefined {
    return this.#atoms[id];
  }
  fieldOf(id: number): string | null {
    return this.#fields[id] ?? null;
  }
  /** Whether the leaf holds exactly when one of its atoms is in its field (see CompiledLeaf.exact). */
  isExact(id: number): boolean {
    return this.#exact[id] === true;
  }

  get size(): number {
    return this.#tests.length;
  }

  /**
   * Starts an event. `decided` marks the exact leaves whose atoms the caller
   * scans for: each is false unless `hit` is called for it before it is tested.
   */
  begin(view: FieldView, decided?: Uint8Array): void {
    this.#view = view;
    this.#decided = decided;
    this.#gen = (this.#gen + 1) >>> 0;
    if (this.#gen === 0) {
      this.#stamp.fill(0);
      this.#gen = 1;
    }
  }

  /** One of the atoms of an exact leaf is in its field. */
  hit(id: number): void {
    this.#stamp[id] = this.#gen;
    this.#result[id] = 1;
  }

  test(id: number): boolean {
    if (this.#stamp[id] === this.#gen) return this.#result[id] === 1;
    if (this.#decided !== undefined && this.#decided[id] === 1) return false;
    const r = this.#tests[id]!(this.#view!);
    this.#stamp[id] = this.#gen;
    this.#result[id] = r ? 1 : 0;
    return r;
  }
}

export class CompileError extends Error {
  constructor(
    message: string,
    readonly identifier?: string,
    readonly code = 'SIGMA_BAD_DETECTION',
  ) {
    super(message);
  }
}

type Pred = () => boolean;

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Leaf ids at least one of which must hold for the detection to match (see Atom); null if unknown. */
export type Cover = number[] | null;

export interface CompiledDetection {
  test: Pred;
  cover: Cover;
  /** Rule field names read (as written in the rule), to check a source has them. */
  fields: Set<string>;
  /** Ids of every leaf the detection may test. */
  leaves: number[];
}

function anyOf(ps: Pred[]): Pred {
  if (ps.length === 1) return ps[0]!;
  if (ps.length === 0) return () => false;
  return () => {
    for (const p of ps) if (p()) return true;
    return false;
  };
}
function allOf(ps: Pred[]): Pred {
  if (ps.length === 1) return ps[0]!;
  return () => {
    for (const p of ps) if (!p()) return false;
    return true;
  };
}

/**
 * Compiles a rule's detection for one event source: `rename` maps rule field
 * names (lower case) to the source's own field names.
 */
export function compileDetection(
  rule: DetectionRule,
  leaves: LeafTable,
  rename: ReadonlyMap<string, string>,
  opts: CompileOptions,
): CompiledDetection {
  const fields = new Set<string>();
  const conds: Cond[] = [];
  const names = Object.keys(rule.detection);
  const budgeted: CompileOptions = { ...opts, budget: { chars: LIMITS.patternCharsPerRule } };
  for (const c of rule.conditions) {
    try {
      conds.push(parseCondition(c, names));
    } catch (e) {
      if (e instanceof ConditionError) throw new CompileError(e.message, 'condition');
      // Below the depth limit the parser cannot overflow; this is the last guard if it ever does.
      if (e instanceof RangeError) throw new CompileError('condition is too deeply nested', 'condition');
      throw e;
    }
  }
  const used = new Set<string>();
  for (const c of conds) identifiersOf(c, used);
  const leafIds = new Set<number>();
  const preds = new Map<string, Pred>();
  const covers = new Map<string, Cover>();
  const size = (c: Cover): number =>
    c === null ? Number.POSITIVE_INFINITY : c.reduce((n, id) => n + (leaves.atomsOf(id)?.length ?? 0), 0);
  const best = (cs: Cover[]): Cover => {
    let b: Cover = null;
    for (const c of cs) if (c !== null && size(c) < size(b)) b = c;
    return b;
  };
  const union = (cs: Cover[]): Cover =>
    cs.some((c) => c === null) ? null : [...new Set(cs.flat() as number[])];
  for (const name of used) {
    try {
      const searched = compileSearch(
        rule.detection[name],
        leaves,
        rename,
        budgeted,
        fields,
        best,
        union,
        leafIds,
      );
      preds.set(name, searched.pred);
      covers.set(name, searched.cover);
    } catch (e) {
      if (e instanceof ModifierError || e instanceof CompileError)
        throw new CompileError(`${name}: ${e.message}`, name, e.code);
      throw e;
    }
  }
  const build = (c: Cond): Pred => {
    switch (c.op) {
      case 'id':
        return preds.get(c.name)!;
      case 'not': {
        const a = build(c.arg);
        return () => !a();
      }
      case 'and':
        return allOf(c.args.map(build));
      case 'or':
        return anyOf(c.args.map(build));
      case 'of': {
        const ps = c.names.map((n) => preds.get(n)!);
        return c.quantifier === 'all' ? allOf(ps) : anyOf(ps);
      }
    }
  };
  const coverOf = (c: Cond): Cover => {
    switch (c.op) {
      case 'id':
        return covers.get(c.name) ?? null;
      case 'not':
        return null;
      case 'and':
        return best(c.args.map(coverOf));
      case 'or':
        return union(c.args.map(coverOf));
      case 'of': {
        const cs = c.names.map((n) => covers.get(n) ?? null);
        return c.quantifier === 'all' ? best(cs) : union(cs);
      }
    }
  };
  return {
    test: anyOf(conds.map(build)),
    cover: union(conds.map(coverOf)),
    fields,
    leaves: [...leafIds],
  };
}

function compileSearch(
  value: unknown,
  leaves: LeafTable,
  rename: ReadonlyMap<string, string>,
  opts: CompileOptions,
  fields: Set<string>,
  best: (cs: Cover[]) => Cover,
  union: (cs: Cover[]) => Cover,
  leafIds: Set<number>,
): { pred: Pred; cover: Cover } {
  type Searched = { pred: Pred; cover: Cover };
  const leaf = (field: string | null, mods: string[], values: unknown[]): Searched => {
    const key = JSON.stringify([field, mods, values]);
    const id = leaves.intern(key, field, () => compileFieldTest(field, mods, values, opts));
    leafIds.add(id);
    return { pred: () => leaves.test(id), cover: leaves.atomsOf(id) ? [id] : null };
  };
  const mapPred = (m: Record<string, unknown>): Searched => {
    const parts: Searched[] = [];
    for (const [k, v] of Object.entries(m)) {
      const [rawField, ...mods] = k.split('|');
      const f = rawField!.trim();
      let field: string | null = null;
      if (f !== '') {
        fields.add(f);
        field = rename.get(f.toLowerCase()) ?? f;
      }
      const values = Array.isArray(v) ? v : [v];
      // Field-less items are keyword searches, which look for the value anywhere in a field.
      if (field === null && !mods.some((x) => ['contains', 'startswith', 'endswith', 're'].includes(x)))
        mods.push('contains');
      if (values.some((x) => isRecord(x) || Array.isArray(x)))
        throw new CompileError(
          `field "${k}" has a nested value; Sigma values are scalars or lists of scalars`,
        );
      parts.push(leaf(field, mods, values));
    }
    if (parts.length === 0) throw new CompileError('empty search identifier');
    return { pred: allOf(parts.map((p) => p.pred)), cover: best(parts.map((p) => p.cover)) };
  };
  if (isRecord(value)) return mapPred(value);
  if (Array.isArray(value)) {
    if (value.length === 0) throw new CompileError('empty search identifier');
    if (value.every((x) => !isRecord(x) && !Array.isArray(x))) return leaf(null, ['contains'], value);
    const alts = value.map((x) => {
      if (isRecord(x)) return mapPred(x);
      if (Array.isArray(x)) throw new CompileError('nested lists are not Sigma');
      return leaf(null, ['contains'], [x]);
    });
    return { pred: anyOf(alts.map((a) => a.pred)), cover: union(alts.map((a) => a.cover)) };
  }
  if (value === null || value === undefined) throw new CompileError('empty search identifier');
  return leaf(null, ['contains'], [value]);
}
