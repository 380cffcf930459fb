import { isEmptyValue, partText, walkContent } from './content.ts';
import { type Fragment, N_SUBST, type SubValue, type XElement } from './types.ts';

/*
 * XML as Windows renders an event (Event Viewer's XML view, evtxexport -f xml):
 * two-space indentation, double-quoted attributes, `<X/>` for empty elements,
 * attributes whose optional substitution is empty left out, GUIDs as `{…}`.
 */

export function fragmentToXml(frag: Fragment): string {
  const out: string[] = [];
  walkContent(
    frag.nodes,
    frag.values,
    (el, vals) => element(el, vals, '', out),
    (p) => out.push(escapeText(partText(p, false))),
  );
  return out.join('\n');
}

function element(el: XElement, vals: SubValue[], indent: string, out: string[]): void {
  let open = `${indent}<${el.name}`;
  for (const a of el.attrs) {
    let text = '';
    let any = false;
    walkContent(
      a.value,
      vals,
      () => {},
      (p) => {
        any = true;
        text += partText(p, false);
      },
    );
    if (!any && a.value.some((n) => n.k === N_SUBST && isEmptyValue(vals[n.index]))) continue;
    open += ` ${a.name}="${escapeAttr(text)}"`;
  }
  const items: (string | [XElement, SubValue[]])[] = [];
  let hasElements = false;
  walkContent(
    el.children,
    vals,
    (child, childVals) => {
      hasElements = true;
      items.push([child, childVals]);
    },
    (p) => {
      const s = partText(p, false);
      const last = items.length - 1;
      if (last >= 0 && typeof items[last] === 'string') items[last] += s;
      else items.push(s);
    },
  );
  if (items.length === 0) {
    out.push(`${open}/>`);
    return;
  }
  if (!hasElements) {
    out.push(`${open}>${escapeText(items[0] as string)}</${el.name}>`);
    return;
  }
  out.push(`${open}>`);
  const inner = `${indent}  `;
  for (const item of items) {
    if (typeof item === 'string') out.push(inner + escapeText(item));
    else element(item[0], item[1], inner, out);
  }
  out.push(`${indent}</${el.name}>`);
}

const TEXT_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };

function escapeText(s: string): string {
  return /[&<>]/.test(s) ? s.replace(/[&<>]/g, (c) => TEXT_ESCAPES[c]!) : s;
}

function escapeAttr(s: string): string {
  return /[&<>"]/.test(s) ? s.replace(/[&<>"]/g, (c) => TEXT_ESCAPES[c]!) : s;
}
