import { type BoundElement, type Part, partText, rootElement, walkContent } from './content.ts';
import type { Fragment, SubValue, XElement } from './types.ts';
import { T } from './values.ts';

/*
 * JSON in the layout of evtx_dump (omerbenamram/evtx), which Sigma tooling and
 * the SigmaHQ regression data use: element name -> value; attributes under
 * `#attributes`; text under `#text` when the element also has attributes or
 * children; `null` for an empty element; repeated child names get `_1`, `_2`…;
 * in EventData/UserData, `<Data Name="X">` becomes key X, and unnamed Data
 * elements become `Data: { '#text': value | [values] }`.
 */

export function fragmentToJson(frag: Fragment): Record<string, unknown> {
  const root = rootElement(frag);
  const out: Record<string, unknown> = {};
  if (root) put(out, root.el.name, elementValue(root.el, root.vals, false));
  return out;
}

interface Content {
  elems: BoundElement[];
  parts: Part[];
}

function content(el: XElement, vals: SubValue[]): Content {
  const c: Content = { elems: [], parts: [] };
  walkContent(
    el.children,
    vals,
    (child, childVals) => c.elems.push({ el: child, vals: childVals }),
    (p) => c.parts.push(p),
  );
  return c;
}

function attrParts(nodes: XElement['attrs'][number]['value'], vals: SubValue[]): Part[] {
  const parts: Part[] = [];
  walkContent(
    nodes,
    vals,
    () => {},
    (p) => parts.push(p),
  );
  return parts;
}

const NUMERIC = new Set<number>([
  T.INT8,
  T.UINT8,
  T.INT16,
  T.UINT16,
  T.INT32,
  T.UINT32,
  T.INT64,
  T.UINT64,
  T.BOOL,
]);

function valueJson(sv: SubValue): unknown {
  const v = sv.v;
  if (Array.isArray(v)) {
    const t = sv.t & 0x7f;
    return NUMERIC.has(t) ? v : v.map((x) => (typeof x === 'string' ? x : String(x)));
  }
  if (NUMERIC.has(sv.t)) return v;
  if (typeof v === 'number') return String(v);
  return v;
}

/** A lone typed value keeps its JSON type (number, bool, array); anything else is joined as text. */
function scalar(parts: Part[]): unknown {
  if (parts.length === 1) {
    const p = parts[0]!;
    return typeof p === 'string' ? p : valueJson(p);
  }
  let s = '';
  for (const p of parts) s += partText(p, true);
  return s;
}

function attributes(el: XElement, vals: SubValue[]): Record<string, unknown> | undefined {
  let attrs: Record<string, unknown> | undefined;
  for (const a of el.attrs) {
    const parts = attrParts(a.value, vals);
    if (parts.length === 0) continue;
    attrs ??= {};
    put(attrs, a.name, scalar(parts));
  }
  return attrs;
}

function elementValue(el: XElement, vals: SubValue[], dataContainer: boolean): unknown {
  const c = content(el, vals);
  const attrs = attributes(el, vals);
  if (c.elems.length === 0 && attrs === undefined) return c.parts.length === 0 ? null : scalar(c.parts);
  return elementObject(c, attrs, dataContainer);
}

function elementObject(
  c: Content,
  attrs: Record<string, unknown> | undefined,
  dataContainer: boolean,
): Record<string, unknown> {
  const obj: Record<string, unknown> = {};
  if (attrs !== undefined) obj['#attributes'] = attrs;
  if (c.parts.length > 0) obj['#text'] = scalar(c.parts);
  let named = false;
  let unnamed: BoundElement[] | undefined;
  if (dataContainer) {
    unnamed = [];
    for (const child of c.elems) {
      if (child.el.name !== 'Data') continue;
      if (dataName(child) !== undefined) named = true;
      unnamed.push(child);
    }
  }
  let counts: Map<string, number> | undefined;
  let positionalDone = false;
  for (const child of c.elems) {
    const name = child.el.name;
    if (dataContainer && name === 'Data') {
      if (named) {
        const key = dataName(child);
        if (key !== undefined) put(obj, key, dataValue(child));
      } else if (!positionalDone && unnamed) {
        positionalDone = true;
        obj.Data = { '#text': unnamed.length === 1 ? dataValue(child) : unnamed.map(dataValue) };
      }
      continue;
    }
    let key = name;
    if (Object.hasOwn(obj, name)) {
      counts ??= new Map();
      const n = counts.get(name) ?? 1;
      counts.set(name, n + 1);
      key = `${name}_${n}`;
    }
    put(obj, key, elementValue(child.el, child.vals, name === 'EventData' || name === 'UserData'));
  }
  return obj;
}

function dataName(b: BoundElement): string | undefined {
  for (const a of b.el.attrs) {
    if (a.name !== 'Name') continue;
    const parts = attrParts(a.value, b.vals);
    if (parts.length === 0) return undefined;
    let s = '';
    for (const p of parts) s += partText(p, true);
    return s;
  }
  return undefined;
}

function dataValue(b: BoundElement): unknown {
  const c = content(b.el, b.vals);
  if (c.elems.length > 0) return elementObject(c, attributes(b.el, b.vals), false);
  return c.parts.length === 0 ? '' : scalar(c.parts);
}

/** Keys come from the file: define them as own properties so a name like `__proto__` stays data. */
function put(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}
