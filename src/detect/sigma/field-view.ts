/**
 * What a compiled rule sees of an event: field name (any case) → string
 * value. Lower-cased values are computed once per field and event, because
 * most Sigma comparisons are case-insensitive.
 */
export interface FieldView {
  /** `key` is the lower-cased field name. */
  get(key: string): string | undefined;
  lower(key: string): string | undefined;
  /** Every value, for keyword searches. */
  entries(): Iterable<[key: string, value: string]>;
  /** Every value lower-cased, joined by NUL: one string that plain keyword searches look through at once. */
  joinedLower(): string;
}

export class MapFieldView implements FieldView {
  readonly #fields: Map<string, string>;
  readonly #lower = new Map<string, string>();
  #joined: string | undefined;
  constructor(fields: Map<string, string>) {
    this.#fields = fields;
  }
  get(key: string): string | undefined {
    return this.#fields.get(key);
  }
  lower(key: string): string | undefined {
    let l = this.#lower.get(key);
    if (l === undefined) {
      const v = this.#fields.get(key);
      if (v === undefined) return undefined;
      l = v.toLowerCase();
      this.#lower.set(key, l);
    }
    return l;
  }
  entries(): Iterable<[string, string]> {
    return this.#fields.entries();
  }
  joinedLower(): string {
    // NUL is neither cased nor case-ignorable, so lower-casing the joined text equals joining the lower-cased values.
    this.#joined ??= [...this.#fields.values()].join('\u0000').toLowerCase();
    return this.#joined;
  }
}

/** Scalars as Sigma compares them: numbers and booleans by their text. */
export function scalarText(v: unknown): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return undefined;
}

/**
 * Flattens a nested record into lower-cased keys: each leaf under its own
 * name (what Sigma rules use for EventData/UserData) and its dotted path
 * (what ECS-style rules use). The first value of a name wins.
 */
/** Field names repeat across events: lower-case each once (bounded, as names come from the input). */
const lowerNames = new Map<string, string>();
function lowerName(k: string): string {
  let l = lowerNames.get(k);
  if (l === undefined) {
    l = k.toLowerCase();
    if (lowerNames.size < 20000) lowerNames.set(k, l);
  }
  return l;
}

export function flattenInto(
  out: Map<string, string>,
  obj: unknown,
  prefix: string,
  leafNames: boolean,
): void {
  if (obj === null || obj === undefined || typeof obj !== 'object') return;
  if (Array.isArray(obj)) {
    const texts = obj.map(scalarText).filter((x): x is string => x !== undefined);
    if (prefix && texts.length > 0 && !out.has(prefix)) out.set(prefix, texts.join(' '));
    return;
  }
  const rec = obj as Record<string, unknown>;
  for (const k of Object.keys(rec)) {
    if (k === '#attributes') continue;
    const v = rec[k];
    const leaf = lowerName(k);
    const path = prefix ? `${prefix}.${leaf}` : leaf;
    const text = scalarText(v);
    if (text !== undefined) {
      if (!out.has(path)) out.set(path, text);
      if (leafNames) {
        if (leaf !== path && !out.has(leaf)) out.set(leaf, text);
        // Defender and other classic providers name fields "Source Name"; rules write SourceName.
        if (leaf.includes(' ')) {
          const joined = leaf.replaceAll(' ', '');
          if (!out.has(joined)) out.set(joined, text);
        }
      }
    } else if (v && typeof v === 'object' && !Array.isArray(v) && '#text' in v) {
      const t = scalarText((v as Record<string, unknown>)['#text']);
      if (t !== undefined) {
        if (!out.has(path)) out.set(path, t);
        if (leafNames && !out.has(leaf)) out.set(leaf, t);
      }
    } else flattenInto(out, v, path, leafNames);
  }
}
