import { splitCsvLine } from '../csv.ts';
import { linesOf } from '../decode.ts';
import type { WindowsFacts } from './facts.ts';
import { isoDate, msinfoItem, normalizeVersion, parseAdminDisplayVersion } from './xml.ts';

/** Whitespace-separated words of a line (no regex). */
function words(line: string): string[] {
  return line.split(/\s+/).filter((w) => w !== '');
}

function isKb(w: string): boolean {
  return w.length >= 6 && w.length <= 12 && w.slice(0, 2).toUpperCase() === 'KB' && /^\d+$/.test(w.slice(2));
}

/** `Get-HotFix` as a table: a header with HotFixID and InstalledOn, then one update per line. */
export function looksLikeHotfixTable(head: string): boolean {
  return linesOf(head.slice(0, 4096)).some((l) => l.includes('HotFixID') && l.includes('InstalledOn'));
}

export function parseHotfixTable(text: string, file: string, facts: WindowsFacts): number {
  let n = 0;
  const lines = linesOf(text);
  for (let i = 0; i < lines.length; i++) {
    const w = words(lines[i]!);
    const kb = w.find(isKb);
    if (!kb) continue;
    n++;
    if (!facts.hostName && w[0] && !isKb(w[0])) facts.hostName = w[0];
    const date = w.map((x) => isoDate(x)).find((d) => d !== undefined);
    if (date) facts.setNewest('hotfix_newest', 'InstalledOn', date, `${file}:${i + 1}`);
  }
  if (n > 0 && !facts.get('hotfix_newest', 'InstalledOn'))
    facts.issue({
      code: 'AUDIT_HOTFIX_NO_DATE',
      message: 'updates listed without an InstalledOn date this reads (M/D/YYYY or ISO)',
      location: file,
    });
  return n;
}

/** `systeminfo` (list or /fo csv, English labels): host name, BIOS date and the hotfix count. */
export function looksLikeSysteminfo(head: string): boolean {
  return (
    (head.includes('Host Name:') && head.includes('OS Name:')) ||
    (head.includes('"Host Name"') && head.includes('"Hotfix(s)"'))
  );
}

export function parseSysteminfo(text: string, file: string, facts: WindowsFacts): number {
  const lines = linesOf(text);
  const values = new Map<string, { v: string; line: number }>();
  if (lines[0]?.startsWith('"Host Name"') && lines[1] !== undefined) {
    const head = splitCsvLine(lines[0], 100);
    const row = splitCsvLine(lines[1], 100);
    head.forEach((h, i) => {
      values.set(h, { v: row[i] ?? '', line: 2 });
    });
  } else {
    for (let i = 0; i < lines.length; i++) {
      const l = lines[i]!;
      const colon = l.indexOf(':');
      if (colon <= 0 || l.startsWith(' ')) continue;
      values.set(l.slice(0, colon).trim(), { v: l.slice(colon + 1).trim(), line: i + 1 });
    }
  }
  const host = values.get('Host Name');
  if (host?.v && !facts.hostName) facts.hostName = host.v;
  const bios = values.get('BIOS Version');
  if (bios) {
    const comma = bios.v.lastIndexOf(',');
    const d = comma >= 0 ? isoDate(bios.v.slice(comma + 1)) : undefined;
    if (d) facts.set('bios_date', 'release', d, `${file}:${bios.line}`);
  }
  return values.size;
}

/** ExSetup.exe's FileVersionInfo as text, or Get-ExchangeServer's AdminDisplayVersion. */
export function looksLikeExchangeVersion(head: string): boolean {
  for (const l of linesOf(head).slice(0, 200)) {
    if (l.toLowerCase().includes('exsetup.exe') && words(l).some((w) => normalizeVersion(w) !== undefined))
      return true;
    const colon = l.indexOf(':');
    if (
      colon > 0 &&
      l.slice(0, colon).trim().toLowerCase() === 'admindisplayversion' &&
      parseAdminDisplayVersion(l.slice(colon + 1)) !== undefined
    )
      return true;
  }
  return false;
}

export function parseExchangeVersion(text: string, file: string, facts: WindowsFacts): number {
  const lines = linesOf(text);
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    const lower = l.toLowerCase();
    if (lower.includes('exsetup.exe')) {
      // FileVersion is the second version on the line (after ProductVersion) in the table form.
      const vs = words(l)
        .map(normalizeVersion)
        .filter((v) => v !== undefined);
      const v = vs[1] ?? vs[0];
      if (v) {
        facts.set('exchange_build', 'ExSetup', v, `${file}:${i + 1}`);
        facts.cuOnly = false;
        return 1;
      }
    }
  }
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    const colon = l.indexOf(':');
    if (colon < 0) continue;
    const key = l.slice(0, colon).trim().toLowerCase();
    if (key === 'name' && !facts.hostName) facts.hostName = l.slice(colon + 1).trim();
    if (key === 'admindisplayversion' && !facts.get('exchange_build', 'ExSetup')) {
      const v = parseAdminDisplayVersion(l.slice(colon + 1));
      if (v) {
        facts.set('exchange_build', 'ExSetup', v, `${file}:${i + 1} (AdminDisplayVersion: CU only)`);
        facts.cuOnly = true;
      }
    }
  }
  if (!facts.get('exchange_build', 'ExSetup')) {
    facts.issue({
      code: 'AUDIT_EXCHANGE_NO_BUILD',
      message: 'no Exchange build number found',
      location: file,
    });
    return 0;
  }
  return 1;
}

/**
 * `Confirm-SecureBootUEFI` output: True or False alone (no other export is a
 * lone boolean), after an optional prompt line naming the cmdlet; its
 * "not supported on this platform" error means legacy BIOS boot (no Secure Boot).
 */
export function looksLikeSecureBoot(text: string): boolean {
  if (text.length > 4096) return false;
  const t = text.trim().toLowerCase();
  return t === 'true' || t === 'false' || t.includes('confirm-securebootuefi');
}

export function parseSecureBoot(text: string, file: string, facts: WindowsFacts): number {
  const lines = linesOf(text);
  for (let i = lines.length - 1; i >= 0; i--) {
    const t = lines[i]!.trim().toLowerCase();
    if (t === 'true' || t === 'false') {
      facts.set('secure_boot', 'state', t === 'true', `${file}:${i + 1}`);
      return 1;
    }
    if (t.includes('not supported on this platform')) {
      facts.set('secure_boot', 'state', false, `${file}:${i + 1} (legacy BIOS boot: no Secure Boot)`);
      return 1;
    }
  }
  facts.issue({
    code: 'AUDIT_SECUREBOOT_NO_STATE',
    message: 'no True/False in Confirm-SecureBootUEFI output',
    location: file,
  });
  return 0;
}

/** `msinfo32 /report FILE` (text): "[System Summary]" then "Item<TAB>Value" lines. */
export function looksLikeMsinfoText(head: string): boolean {
  return head.includes('[System Summary]') && head.includes('Item\tValue');
}

export function parseMsinfoText(text: string, file: string, facts: WindowsFacts): number {
  let n = 0;
  let summary = false;
  const lines = linesOf(text);
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.startsWith('[')) {
      summary = l.trim() === '[System Summary]';
      continue;
    }
    if (!summary) continue;
    const tab = l.indexOf('\t');
    if (tab <= 0) continue;
    n += msinfoItem(l.slice(0, tab), l.slice(tab + 1), `${file}:${i + 1}`, facts);
  }
  return n;
}
