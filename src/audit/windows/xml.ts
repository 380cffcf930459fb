import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { ParseIssue } from '../../core/errors.ts';
import type { WindowsFacts } from './facts.ts';
import { normalizePrincipal } from './sids.ts';

/** Deepest element nesting accepted (the real exports stay under 20). */
const MAX_DEPTH = 200;
/** Most elements visited per document. */
const MAX_NODES = 2_000_000;

type Node = Record<string, unknown>;

/** The XML root element's local name (namespace prefix removed), or undefined for no XML. */
export function xmlRootName(head: string): string | undefined {
  let i = 0;
  while (i < head.length) {
    const lt = head.indexOf('<', i);
    if (lt < 0 || lt + 1 >= head.length) return undefined;
    const c = head[lt + 1]!;
    if (c === '?' || c === '!') {
      const end = head.indexOf('>', lt);
      if (end < 0) return undefined;
      i = end + 1;
      continue;
    }
    let j = lt + 1;
    while (j < head.length && !' \t\r\n/>'.includes(head[j]!)) j++;
    const name = head.slice(lt + 1, j);
    const colon = name.lastIndexOf(':');
    return colon >= 0 ? name.slice(colon + 1) : name;
  }
  return undefined;
}

/** Nesting depth found by scanning tags, so that no recursive parser meets a document nested a million deep. */
function maxDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let i = text.indexOf('<');
  while (i >= 0 && i < text.length) {
    const next = text[i + 1];
    const end = text.indexOf('>', i);
    if (end < 0) break;
    if (next === '/') depth--;
    else if (next !== '?' && next !== '!' && text[end - 1] !== '/') {
      depth++;
      if (depth > max) max = depth;
    }
    i = text.indexOf('<', end);
  }
  return max;
}

/** Parses an export into plain objects with namespace prefixes removed (they change from one report to the next). */
export function parseXml(text: string, file: string): Node | ParseIssue {
  if (text.includes('<!DOCTYPE') || text.includes('<!ENTITY'))
    return {
      code: 'AUDIT_XML_DTD',
      message: 'XML with a DTD is refused (no export has one)',
      location: file,
    };
  if (maxDepth(text) > MAX_DEPTH)
    return {
      code: 'AUDIT_XML_TOO_DEEP',
      message: `elements nested deeper than ${MAX_DEPTH}`,
      location: file,
    };
  const valid = XMLValidator.validate(text);
  if (valid !== true)
    return { code: 'AUDIT_BAD_XML', message: valid.err.msg, location: `${file}:${valid.err.line}` };
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@',
    removeNSPrefix: true,
    parseTagValue: false,
    parseAttributeValue: false,
    processEntities: false,
    trimValues: true,
  });
  try {
    return parser.parse(text) as Node;
  } catch (e) {
    return { code: 'AUDIT_BAD_XML', message: e instanceof Error ? e.message : String(e), location: file };
  }
}

export function isIssue(x: unknown): x is ParseIssue {
  return typeof x === 'object' && x !== null && 'code' in x && 'location' in x && 'message' in x;
}

function arr(x: unknown): unknown[] {
  return x === undefined || x === null ? [] : Array.isArray(x) ? x : [x];
}

/** Text of an element parsed with or without attributes. */
function text(x: unknown): string | undefined {
  if (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean') return String(x);
  if (x && typeof x === 'object' && '#text' in x) return text((x as Node)['#text']);
  if (x && typeof x === 'object' && !Array.isArray(x)) return '';
  return undefined;
}

function child(n: unknown, name: string): unknown {
  if (!n || typeof n !== 'object' || Array.isArray(n)) return undefined;
  const key = Object.keys(n).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : (n as Node)[key];
}

/** Calls `visit` for every element (name, node), depth first, bounded. */
function walk(root: Node, visit: (name: string, node: Node) => void): void {
  let count = 0;
  const stack: [string, unknown][] = Object.entries(root);
  while (stack.length > 0 && count < MAX_NODES) {
    const [name, value] = stack.pop()!;
    for (const v of arr(value)) {
      if (!v || typeof v !== 'object') continue;
      count++;
      visit(name, v as Node);
      for (const [k, c] of Object.entries(v as Node))
        if (!k.startsWith('@') && k !== '#text') stack.push([k, c]);
    }
  }
}

/**
 * Get-GPOReport XML (one GPO or a report of several): user rights, security
 * options (registry values), system access, advanced audit settings,
 * legacy audit categories and administrative template policies.
 */
export function readGpoReport(doc: Node, file: string, facts: WindowsFacts): number {
  let n = 0;
  walk(doc, (name, node) => {
    switch (name) {
      case 'UserRightsAssignment': {
        const right = text(child(node, 'Name'));
        if (!right) return;
        const who = arr(child(node, 'Member'))
          .map((m) => text(child(m, 'SID')) || text(child(m, 'Name')) || '')
          .filter((s) => s !== '')
          .map(normalizePrincipal);
        facts.set('privilege', right, who, file);
        n++;
        return;
      }
      case 'SecurityOptions': {
        const key = text(child(node, 'KeyName'));
        const sysName = text(child(node, 'SystemAccessPolicyName'));
        const value = text(child(node, 'SettingNumber')) ?? text(child(node, 'SettingString'));
        if (value === undefined) return;
        if (key) facts.set('registry', key, value, file);
        else if (sysName) facts.set('system_access', sysName, value, file);
        else return;
        n++;
        return;
      }
      case 'AuditSetting': {
        const guid = text(child(node, 'SubcategoryGuid'));
        const value = text(child(node, 'SettingValue'));
        if (!guid || value === undefined || !/^[0-3]$/.test(value)) return;
        facts.set('audit_subcategory', guid.toLowerCase(), Number(value), file);
        n++;
        return;
      }
      case 'Audit': {
        const cat = text(child(node, 'Name'));
        if (!cat) return;
        const ok = text(child(node, 'SuccessAttempts')) === 'true' ? 1 : 0;
        const bad = text(child(node, 'FailureAttempts')) === 'true' ? 2 : 0;
        facts.set('event_audit', cat, ok + bad, file);
        n++;
        return;
      }
      case 'Policy': {
        const pol = text(child(node, 'Name'));
        const state = text(child(node, 'State'));
        if (!pol || !state) return;
        facts.set('admin_template', pol, state, file);
        n++;
        return;
      }
    }
  });
  return n;
}

/** The enforcement a policy says of itself; the strongest of several policies wins. */
const MODE_RANK: Readonly<Record<string, number>> = {
  not_configured: 0,
  monitored: 1,
  audit: 2,
  enforced: 3,
};

function setMode(facts: WindowsFacts, mode: string, source: string): void {
  const old = facts.get('app_control', 'mode');
  if (old && (MODE_RANK[String(old.value)] ?? 0) >= (MODE_RANK[mode] ?? 0)) return;
  facts.set('app_control', 'mode', mode, source);
}

/**
 * AppLocker (`Get-AppLockerPolicy -Xml`): enforced when the executable rule
 * collection's own EnforcementMode is Enabled, audit when AuditOnly.
 */
export function readAppLocker(doc: Node, file: string, facts: WindowsFacts): number {
  const root = child(doc, 'AppLockerPolicy');
  let mode = 'not_configured';
  let n = 0;
  for (const rc of arr(child(root, 'RuleCollection'))) {
    n++;
    if (String(child(rc, '@Type') ?? '').toLowerCase() !== 'exe') continue;
    const m = String(child(rc, '@EnforcementMode') ?? '').toLowerCase();
    mode = m === 'enabled' ? 'enforced' : m === 'auditonly' ? 'audit' : 'not_configured';
  }
  setMode(facts, mode, `${file} (AppLocker Exe rules)`);
  return n;
}

/** WDAC (SiPolicy XML): enforced unless the policy carries option "Enabled:Audit Mode". */
export function readWdac(doc: Node, file: string, facts: WindowsFacts): number {
  const root = child(doc, 'SiPolicy');
  const options = arr(child(child(root, 'Rules'), 'Rule')).map((r) =>
    (text(child(r, 'Option')) ?? '').trim(),
  );
  const audit = options.some((o) => o.toLowerCase() === 'enabled:audit mode');
  setMode(facts, audit ? 'audit' : 'enforced', `${file} (WDAC policy)`);
  return options.length + 1;
}

/** The brief's <ApplicationControl> list: deminer scan reports what is not on it, the OS enforces nothing. */
export function readApplicationControl(file: string, facts: WindowsFacts): number {
  setMode(facts, 'monitored', `${file} (ApplicationControl list, not enforced by Windows)`);
  return 1;
}

/** `15.02.0986.005` → `15.2.986.5`. */
export function normalizeVersion(v: string): string | undefined {
  const parts = v.trim().split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,6}$/.test(p))) return undefined;
  return parts.map((p) => String(Number(p))).join('.');
}

/** `Version 15.2 (Build 986.5)` → `15.2.986.5`. */
export function parseAdminDisplayVersion(s: string): string | undefined {
  const t = s.trim();
  const v = t.toLowerCase().indexOf('version ');
  const b = t.toLowerCase().indexOf('(build ');
  const close = t.indexOf(')', b);
  if (v < 0 || b < 0 || close < 0) return undefined;
  return normalizeVersion(`${t.slice(v + 8, b).trim()}.${t.slice(b + 7, close).trim()}`);
}

/** US `M/D/YYYY` (what Get-HotFix and systeminfo write on en-US), ISO or WMI DMTF → `YYYY-MM-DD`. */
export function isoDate(s: string): string | undefined {
  const t = s.trim();
  if (/^\d{4}-\d{2}-\d{2}/.test(t)) return t.slice(0, 10);
  // WMI's DMTF datetime (Get-WmiObject Win32_BIOS ReleaseDate): 20190510000000.000000+000.
  if (/^\d{14}\.\d{6}[+-]\d{3}$/.test(t)) return `${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6, 8)}`;
  const parts = t.split(/[ ,]/)[0]!.split('/');
  if (parts.length === 3 && parts.every((p) => /^\d{1,4}$/.test(p))) {
    const [m, d, y] = parts.map(Number) as [number, number, number];
    if (y > 1900 && m >= 1 && m <= 12 && d >= 1 && d <= 31)
      return `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
  }
  return undefined;
}

function props(obj: unknown): Map<string, string> {
  const out = new Map<string, string>();
  for (const bag of [child(obj, 'Props'), child(obj, 'MS')]) {
    if (!bag || typeof bag !== 'object') continue;
    for (const [k, v] of Object.entries(bag as Node)) {
      if (k === 'Obj') continue;
      for (const item of arr(v)) {
        const name = child(item, '@N');
        const t = text(item);
        if (typeof name === 'string' && t !== undefined && !out.has(name)) out.set(name, t);
      }
    }
  }
  return out;
}

/**
 * PowerShell `Export-Clixml` exports: ExSetup.exe's FileVersionInfo,
 * Get-ExchangeServer (AdminDisplayVersion), Get-HotFix, Win32_OperatingSystem
 * and Win32_BIOS objects, and a Confirm-SecureBootUEFI boolean.
 */
export function readClixml(doc: Node, file: string, facts: WindowsFacts): number {
  const objs = child(doc, 'Objs');
  let n = 0;
  const bools = arr(child(objs, 'B'));
  if (bools.length === 1 && arr(child(objs, 'Obj')).length === 0) {
    facts.set('secure_boot', 'state', text(bools[0]) === 'true', `${file} (Confirm-SecureBootUEFI)`);
    return 1;
  }
  // Objects after the first of a type name it by reference (<TNRef RefId="0"/>).
  const typeNames = new Map<string, string[]>();
  for (const obj of arr(child(objs, 'Obj'))) {
    const tn = child(obj, 'TN');
    let types = arr(child(tn, 'T')).map((t) => text(t) ?? '');
    const ref = child(tn, '@RefId');
    if (tn && typeof ref === 'string' && typeNames.size < 10_000) typeNames.set(ref, types);
    const tnRef = child(child(obj, 'TNRef'), '@RefId');
    if (!tn && typeof tnRef === 'string') types = typeNames.get(tnRef) ?? [];
    const p = props(obj);
    const isType = (s: string): boolean => types.some((t) => t.includes(s));
    if (p.get('CSName') && !facts.hostName) facts.hostName = p.get('CSName');
    if (isType('System.Diagnostics.FileVersionInfo')) {
      const fname = (p.get('FileName') ?? p.get('InternalName') ?? '').toLowerCase();
      const v = normalizeVersion(p.get('FileVersion') ?? '');
      if (fname.endsWith('exsetup.exe') && v) {
        facts.set('exchange_build', 'ExSetup', v, `${file} (ExSetup.exe FileVersion)`);
        n++;
      }
    } else if (isType('Win32_QuickFixEngineering')) {
      const d = isoDate(p.get('InstalledOn') ?? '');
      if (d) facts.setNewest('hotfix_newest', 'InstalledOn', d, `${file} (${p.get('HotFixID') ?? 'hotfix'})`);
      n++;
    } else if (isType('Win32_BIOS')) {
      const d = isoDate(p.get('ReleaseDate') ?? '');
      if (d) facts.set('bios_date', 'release', d, `${file} (Win32_BIOS ${p.get('SMBIOSBIOSVersion') ?? ''})`);
      n++;
    } else {
      for (const sub of arr(child(obj, 'Props')).flatMap((b) => arr(child(b, 'Obj')))) {
        if (child(sub, '@N') !== 'AdminDisplayVersion') continue;
        const v = parseAdminDisplayVersion(text(child(sub, 'ToString')) ?? '');
        if (v && !facts.get('exchange_build', 'ExSetup')) {
          facts.set('exchange_build', 'ExSetup', v, `${file} (AdminDisplayVersion: CU only)`);
          facts.cuOnly = true;
          n++;
        }
        if (!facts.hostName && p.get('Name')) facts.hostName = p.get('Name');
      }
    }
  }
  return n;
}

/** msinfo32 /nfo (XML): "Secure Boot State", "BIOS Version/Date", "System Name" of the System Summary. */
export function readMsinfoXml(doc: Node, file: string, facts: WindowsFacts): number {
  let n = 0;
  walk(doc, (name, node) => {
    if (name !== 'Data') return;
    const item = text(child(node, 'Item'));
    const value = text(child(node, 'Value'));
    if (item && value !== undefined) n += msinfoItem(item, value, file, facts);
  });
  return n;
}

/** One msinfo32 summary line (shared by the /nfo XML and the /report text). */
export function msinfoItem(item: string, value: string, file: string, facts: WindowsFacts): number {
  const k = item.trim().toLowerCase();
  const v = value.trim();
  if (k === 'secure boot state') {
    const on = v.toLowerCase() === 'on';
    facts.set('secure_boot', 'state', on, `${file} (msinfo32: Secure Boot State ${v})`);
    return 1;
  }
  if (k === 'bios version/date') {
    const comma = v.lastIndexOf(',');
    const d = comma >= 0 ? isoDate(v.slice(comma + 1)) : undefined;
    if (d) facts.set('bios_date', 'release', d, `${file} (msinfo32: ${v})`);
    return 1;
  }
  if (k === 'system name') {
    if (v && !facts.hostName) facts.hostName = v;
    return 1;
  }
  return 0;
}
