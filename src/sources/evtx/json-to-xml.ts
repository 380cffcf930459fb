/*
 * XML from the JSON layout, for records that no longer carry their parsed
 * binary XML (e.g. read back from JSON lines). Value types are gone by then,
 * so this is close to, not exactly, Windows' rendering.
 */

export function jsonToXml(event: Record<string, unknown>): string {
  const out: string[] = [];
  for (const [name, value] of Object.entries(event)) element(name, value, '', out);
  return out.join('\n');
}

function element(name: string, value: unknown, indent: string, out: string[]): void {
  if (Array.isArray(value)) {
    for (const v of value) element(name, v, indent, out);
    return;
  }
  if (value === null || value === undefined || value === '') {
    out.push(`${indent}<${name}/>`);
    return;
  }
  if (typeof value !== 'object') {
    out.push(`${indent}<${name}>${escapeXml(String(value))}</${name}>`);
    return;
  }
  const obj = value as Record<string, unknown>;
  let open = `${indent}<${name}`;
  const attrs = obj['#attributes'];
  if (attrs && typeof attrs === 'object')
    for (const [k, v] of Object.entries(attrs)) open += ` ${k}="${escapeXml(String(v))}"`;
  const children = Object.entries(obj).filter(([k]) => k !== '#attributes' && k !== '#text');
  const text = obj['#text'];
  const isData = name === 'EventData';
  if (children.length === 0) {
    out.push(text === undefined ? `${open}/>` : `${open}>${escapeXml(String(text))}</${name}>`);
    return;
  }
  out.push(`${open}>`);
  const inner = `${indent}  `;
  if (text !== undefined) out.push(inner + escapeXml(String(text)));
  for (const [k, v] of children) {
    if (isData && k === 'Data' && v && typeof v === 'object' && '#text' in v) {
      const t = (v as Record<string, unknown>)['#text'];
      for (const item of Array.isArray(t) ? t : [t]) element('Data', item, inner, out);
    } else if (isData && !/^(Data|Binary)$/.test(k) && (v === null || typeof v !== 'object')) {
      out.push(`${inner}<Data Name="${escapeXml(k)}">${escapeXml(v === null ? '' : String(v))}</Data>`);
    } else element(k.replace(/_\d+$/, ''), v, inner, out);
  }
  out.push(`${indent}</${name}>`);
}

function escapeXml(s: string): string {
  return s.replace(/[&<>"]/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&quot;',
  );
}
