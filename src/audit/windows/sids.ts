/**
 * Well-known account names as secedit and GPO reports write them, and their
 * SIDs (Microsoft, "Well-known SIDs"), so that `Administrators`,
 * `BUILTIN\Administrators` and `*S-1-5-32-544` compare equal. Names are
 * English; a localised name that is not here is kept as written (and fails a
 * check that expects the SID, which says so).
 */
const WELL_KNOWN: Readonly<Record<string, string>> = {
  everyone: 'S-1-1-0',
  'creator owner': 'S-1-3-0',
  interactive: 'S-1-5-4',
  service: 'S-1-5-6',
  'anonymous logon': 'S-1-5-7',
  'enterprise domain controllers': 'S-1-5-9',
  'authenticated users': 'S-1-5-11',
  system: 'S-1-5-18',
  'local system': 'S-1-5-18',
  'local service': 'S-1-5-19',
  'network service': 'S-1-5-20',
  administrators: 'S-1-5-32-544',
  users: 'S-1-5-32-545',
  guests: 'S-1-5-32-546',
  'power users': 'S-1-5-32-547',
  'account operators': 'S-1-5-32-548',
  'server operators': 'S-1-5-32-549',
  'print operators': 'S-1-5-32-550',
  'backup operators': 'S-1-5-32-551',
  'remote desktop users': 'S-1-5-32-555',
  'local account': 'S-1-5-113',
  'local account and member of administrators group': 'S-1-5-114',
};

/** `*S-1-5-32-544` → `S-1-5-32-544`; `BUILTIN\Administrators` → `S-1-5-32-544`; other names as written. */
export function normalizePrincipal(raw: string): string {
  let s = raw.trim();
  if (s.startsWith('"') && s.endsWith('"') && s.length >= 2) s = s.slice(1, -1);
  if (s.startsWith('*')) s = s.slice(1);
  if (/^s-1-[0-9-]+$/i.test(s)) return s.toUpperCase();
  const slash = s.lastIndexOf('\\');
  const name = (slash >= 0 ? s.slice(slash + 1) : s).toLowerCase();
  return WELL_KNOWN[name] ?? s;
}
