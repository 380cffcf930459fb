import type { ParseIssue } from '../../core/errors.ts';
import type { Fact, FactReader, ReadSpec, Value } from '../types.ts';

/** At most this many facts per host: every table an attacker fills is bounded. */
export const MAX_FACTS = 20_000;
/** Problems kept per host (the rest are counted). */
export const MAX_ISSUES = 1000;

const LSA_LEGACY = 'machine\\system\\currentcontrolset\\control\\lsa\\scenoapplylegacyauditpolicy';

/** `HKLM\…`, `HKEY_LOCAL_MACHINE\…` and `MACHINE\…` name the same key. */
export function normalizeRegistryKey(key: string): string {
  let k = key.trim().replaceAll('/', '\\');
  const lower = k.toLowerCase();
  for (const p of ['hkey_local_machine\\', 'hklm:\\', 'hklm\\'])
    if (lower.startsWith(p)) {
      k = `MACHINE\\${k.slice(p.length)}`;
      break;
    }
  return k.toLowerCase();
}

/** What the parsers of one host's exports learned, with where each value came from. */
export class WindowsFacts implements FactReader {
  private readonly facts = new Map<string, Fact>();
  /** A host name one of the exports names (systeminfo, msinfo32, CLIXML CSName). */
  hostName: string | undefined;
  /** The Exchange build came from AdminDisplayVersion, which shows the CU but not security updates. */
  cuOnly = false;
  readonly issues: ParseIssue[] = [];
  /** Problems met beyond MAX_ISSUES (counted, not kept). */
  droppedIssues = 0;

  /** Records an input problem; a file with a million bad lines keeps the first MAX_ISSUES. */
  issue(i: ParseIssue): void {
    if (this.issues.length < MAX_ISSUES) this.issues.push(i);
    else this.droppedIssues++;
  }

  private static key(method: string, arg: string): string {
    return `${method}\0${arg.toLowerCase()}`;
  }

  set(method: string, arg: string, value: Value, source: string): void {
    const k = WindowsFacts.key(method, method === 'registry' ? normalizeRegistryKey(arg) : arg);
    if (!this.facts.has(k) && this.facts.size >= MAX_FACTS) return;
    this.facts.set(k, { value, source });
  }

  get(method: string, arg: string): Fact | undefined {
    return this.facts.get(WindowsFacts.key(method, method === 'registry' ? normalizeRegistryKey(arg) : arg));
  }

  /** Keeps the newer of two dates (updates from several exports). */
  setNewest(method: string, arg: string, isoDate: string, source: string): void {
    const old = this.get(method, arg);
    if (old && typeof old.value === 'string' && old.value >= isoDate) return;
    this.set(method, arg, isoDate, source);
  }

  get size(): number {
    return this.facts.size;
  }

  read(spec: ReadSpec): Fact | undefined {
    const arg = Array.isArray(spec.arg) ? spec.arg.join(',') : spec.arg;
    if (spec.method === 'audit_subcategory') return this.auditSetting(arg, spec.legacy);
    const f = this.get(spec.method, arg);
    if (f && spec.method === 'exchange_build' && this.cuOnly) return { ...f, cuOnly: true };
    return f;
  }

  /**
   * The audit setting in force for a subcategory: its own setting unless a
   * legacy [Event Audit] category is set and SCENoApplyLegacyAuditPolicy is
   * set to 0, in which case Windows applies the category to all its subcategories.
   */
  private auditSetting(guid: string, legacy: string | undefined): Fact | undefined {
    const sub = this.get('audit_subcategory', guid);
    const cat = legacy ? this.get('event_audit', legacy) : undefined;
    const force = this.get('registry', LSA_LEGACY);
    // Windows' default (no value) is Enabled: the subcategories win.
    const forced = force === undefined || String(force.value).trim() === '1';
    if (cat && (!sub || !forced)) {
      const why = sub
        ? `legacy category ${legacy} is in force over the subcategory (SCENoApplyLegacyAuditPolicy is 0)`
        : `from legacy category ${legacy}`;
      return { ...cat, value: auditWords(cat.value), note: why };
    }
    return sub ? { ...sub, value: auditWords(sub.value) } : undefined;
  }
}

const AUDIT_WORDS = ['no_auditing', 'success', 'failure', 'success_and_failure'] as const;

/** Audit bits (1 success, 2 failure) as words a person reads; anything else as it was. */
function auditWords(v: Value): Value {
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 && n <= 3 ? AUDIT_WORDS[n]! : v;
}
