import {
  type Fragment,
  N_CDATA,
  N_CHARREF,
  N_ELEMENT,
  N_ENTITY,
  N_INSTANCE,
  N_SUBST,
  N_TEXT,
  type SubValue,
  type XElement,
  type XNode,
} from './types.ts';
import { T } from './values.ts';

/** An element together with the substitution values its template instance supplies. */
export interface BoundElement {
  el: XElement;
  vals: SubValue[];
}

/** Text of an element or attribute: literal text, or a typed value kept for the JSON renderer. */
export type Part = string | SubValue;

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function entityText(name: string): string {
  return ENTITIES[name] ?? `&${name};`;
}

/** An absent optional value (NULL type, or an empty string) renders as nothing at all. */
export function isEmptyValue(sv: SubValue | undefined): boolean {
  return sv === undefined || sv.v === null || sv.v === '' || (Array.isArray(sv.v) && sv.v.length === 0);
}

/**
 * Walks content nodes in document order, resolving substitutions (an
 * embedded BinXml value contributes its elements), and reports each element
 * and each non-empty piece of text.
 */
export function walkContent(
  nodes: readonly XNode[],
  vals: SubValue[],
  onElement: (el: XElement, vals: SubValue[]) => void,
  onPart: (p: Part) => void,
): void {
  for (const n of nodes) {
    switch (n.k) {
      case N_ELEMENT:
        element(n, vals, onElement);
        break;
      case N_TEXT:
      case N_CDATA:
        if (n.text !== '') onPart(n.text);
        break;
      case N_SUBST: {
        const sv = vals[n.index];
        if (sv === undefined || isEmptyValue(sv)) break;
        if (sv.t === T.BINXML) {
          const frag = sv.v as Fragment;
          walkContent(frag.nodes, frag.values, onElement, onPart);
        } else onPart(sv);
        break;
      }
      case N_CHARREF:
        onPart(String.fromCharCode(n.code));
        break;
      case N_ENTITY:
        onPart(entityText(n.name));
        break;
      case N_INSTANCE:
        walkContent(n.frag.nodes, n.frag.values, onElement, onPart);
        break;
      default:
        // Processing instructions carry no event data.
        break;
    }
  }
}

/**
 * Two rules of Windows' rendering that depend on the value an element holds:
 * an element whose only content is an optional substitution of type NULL is
 * left out, and one whose only content is an array value is repeated per item.
 */
function element(el: XElement, vals: SubValue[], onElement: (el: XElement, vals: SubValue[]) => void): void {
  const only = el.children.length === 1 ? el.children[0]! : undefined;
  if (only?.k === N_SUBST) {
    const sv = vals[only.index];
    if (only.optional && (sv === undefined || sv.t === T.NULL)) return;
    if (sv !== undefined && sv.t & T.ARRAY && Array.isArray(sv.v)) {
      for (const item of sv.v) {
        const itemVals = vals.slice();
        itemVals[only.index] = { t: sv.t & 0x7f, v: item };
        onElement(el, itemVals);
      }
      return;
    }
  }
  onElement(el, vals);
}

/** The first element of a fragment: the root of the event (normally `<Event>`). */
export function rootElement(frag: Fragment): BoundElement | undefined {
  let found: BoundElement | undefined;
  walkContent(
    frag.nodes,
    frag.values,
    (el, vals) => {
      found ??= { el, vals };
    },
    () => {},
  );
  return found;
}

/** Value text as Windows renders it in XML, or (`json`) as the dumpers write it. */
export function valueText(sv: SubValue, json: boolean): string {
  const v = sv.v;
  if (v === null) return '';
  if (Array.isArray(v)) return v.map((x) => scalarText(sv.t & 0x7f, x, json)).join(',');
  if (typeof v === 'object') return '';
  return scalarText(sv.t, v, json);
}

/**
 * XML differs from the dumpers' JSON in two renderings: GUIDs in braces (as
 * StringFromGUID2 writes them) and FILETIMEs with nanosecond digits (as Event Viewer shows them).
 */
function scalarText(t: number, v: string | number | boolean, json: boolean): string {
  if (typeof v !== 'string') return String(v);
  if (json) return v;
  if (t === T.GUID) return `{${v}}`;
  if (t === T.FILETIME && v.endsWith('Z') && v.length === 28) return `${v.slice(0, -1)}00Z`;
  return v;
}

export function partText(p: Part, json: boolean): string {
  return typeof p === 'string' ? p : valueText(p, json);
}
