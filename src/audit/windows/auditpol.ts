import { splitCsvLine } from '../csv.ts';
import { linesOf, MAX_LINE } from '../decode.ts';
import type { WindowsFacts } from './facts.ts';

/** `{0cce922b-69ae-11d9-bed3-505054503030}`: audit subcategories are matched by GUID, never by their localised name. */
export function isGuid(s: string): boolean {
  const t = s.trim();
  if (t.length !== 38 || t[0] !== '{' || t[37] !== '}') return false;
  for (let i = 1; i < 37; i++) {
    const c = t[i]!;
    if (i === 9 || i === 14 || i === 19 || i === 24) {
      if (c !== '-') return false;
    } else if (!/[0-9a-fA-F]/.test(c)) return false;
  }
  return true;
}

/**
 * The words `auditpol /get /r` writes for an inclusion setting, in the
 * languages we have seen; `/backup` and a GPO's audit.csv also carry the
 * number (Setting Value: 1 success, 2 failure, 3 both), which is preferred.
 */
const SETTING_WORDS: Readonly<Record<string, number>> = {
  'no auditing': 0,
  success: 1,
  failure: 2,
  'success and failure': 3,
  'keine überwachung': 0,
  erfolg: 1,
  fehler: 2,
  'erfolg und fehler': 3,
  "pas d'audit": 0,
  'pas d’audit': 0,
  succès: 1,
  échec: 2,
  'succès et échec': 3,
  'sin auditoría': 0,
  correcto: 1,
  error: 2,
  'correcto y error': 3,
};

/** Whether the text is an auditpol CSV (`/backup`, `/get /r`) or a GPO's audit.csv: a CSV line with a subcategory GUID. */
export function looksLikeAuditCsv(head: string): boolean {
  for (const line of linesOf(head.slice(0, 8192)).slice(0, 20)) {
    if (!line.includes(',')) continue;
    if (splitCsvLine(line).some(isGuid)) return true;
  }
  return false;
}

/** Subcategory settings → `audit_subcategory` facts keyed by GUID (lower case). */
export function parseAuditCsv(text: string, file: string, facts: WindowsFacts): number {
  let n = 0;
  const lines = linesOf(text);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const at = `${file}:${i + 1}`;
    if (line.trim() === '') continue;
    if (line.length > MAX_LINE) {
      facts.issue({ code: 'AUDIT_LINE_TOO_LONG', message: 'line skipped', location: at });
      continue;
    }
    const f = splitCsvLine(line);
    const g = f.findIndex(isGuid);
    if (g < 0) continue; // header, options (Option:CrashOnAuditFail), global SACLs
    const guid = f[g]!.trim().toLowerCase();
    const last = f[f.length - 1]!.trim();
    let bits: number | undefined;
    if (f.length >= g + 4 && /^[0-3]$/.test(last)) bits = Number(last);
    else bits = SETTING_WORDS[(f[g + 1] ?? '').trim().toLowerCase()];
    if (bits === undefined) {
      facts.issue({
        code: 'AUDIT_CSV_BAD_SETTING',
        message: `no setting value (0-3) or known inclusion setting for ${guid}`,
        location: at,
      });
      continue;
    }
    facts.set('audit_subcategory', guid, bits, at);
    n++;
  }
  return n;
}
