import { linesOf, MAX_LINE } from '../decode.ts';
import type { WindowsFacts } from './facts.ts';
import { normalizePrincipal } from './sids.ts';

/** Sections of a security template this reads; others ([Unicode], [Version], [Service General Setting]) are skipped. */
const SECTIONS = ['privilege rights', 'registry values', 'system access', 'event audit'] as const;

/** Whether `text` is a security template: `secedit /export /cfg` or a GPO's GptTmpl.inf. */
export function looksLikeInf(head: string): boolean {
  const h = head.toLowerCase();
  return (
    h.includes('[privilege rights]') ||
    h.includes('[system access]') ||
    h.includes('[registry values]') ||
    h.includes('[event audit]') ||
    (h.includes('[version]') && h.includes('$chicago$'))
  );
}

function unquote(s: string): string {
  const t = s.trim();
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1) : t;
}

/**
 * `[Privilege Rights]` → privilege facts (principals as SIDs; an empty value
 * is nobody); `[Registry Values]` `KEY=TYPE,VALUE` → registry facts;
 * `[System Access]` and `[Event Audit]` → their values. A malformed line is an
 * issue naming its line; the rest is read.
 */
export function parseInf(text: string, file: string, facts: WindowsFacts): number {
  let section = '';
  let n = 0;
  const lines = linesOf(text);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const at = `${file}:${i + 1}`;
    if (raw.length > MAX_LINE) {
      facts.issue({
        code: 'AUDIT_LINE_TOO_LONG',
        message: `line of ${raw.length} characters skipped`,
        location: at,
      });
      continue;
    }
    const line = raw.trim();
    if (line === '' || line.startsWith(';')) continue;
    if (line.startsWith('[')) {
      const end = line.indexOf(']');
      section = end > 0 ? line.slice(1, end).trim().toLowerCase() : '';
      continue;
    }
    if (!(SECTIONS as readonly string[]).includes(section)) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) {
      facts.issue({
        code: 'AUDIT_INF_BAD_LINE',
        message: `no "name = value" in [${section}]`,
        location: at,
      });
      continue;
    }
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    switch (section) {
      case 'privilege rights': {
        const who =
          value === ''
            ? []
            : value
                .split(',')
                .map(normalizePrincipal)
                .filter((s) => s !== '');
        facts.set('privilege', key, who, at);
        break;
      }
      case 'registry values': {
        const comma = value.indexOf(',');
        if (comma < 0 || !/^\d+$/.test(value.slice(0, comma).trim())) {
          facts.issue({
            code: 'AUDIT_INF_BAD_LINE',
            message: 'registry value is not "TYPE,VALUE"',
            location: at,
          });
          continue;
        }
        facts.set('registry', key, unquote(value.slice(comma + 1)), at);
        break;
      }
      case 'system access':
        facts.set('system_access', key, unquote(value), at);
        break;
      case 'event audit':
        facts.set('event_audit', key, unquote(value), at);
        break;
    }
    n++;
  }
  return n;
}
