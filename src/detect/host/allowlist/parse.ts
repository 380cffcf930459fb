import { readFileSync } from 'node:fs';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { UsageError } from '../../../core/errors.ts';
import type { AllowEntry } from '../types.ts';

/**
 * The application allow-list format of the incident brief:
 *
 *   <ApplicationControl>
 *     <AllowedProcesses>
 *       <Process name="nginx" path="/usr/sbin/nginx" hash="sha256-hex"/>
 *       <Process><Name>sshd</Name><Path>/usr/sbin/*</Path></Process>
 *     </AllowedProcesses>
 *   </ApplicationControl>
 *
 * Attributes or child elements, any case. `path` may use `*` wildcards. A
 * process is allowed when every field an entry gives matches it.
 */
export function parseAllowlist(text: string, file: string): AllowEntry[] {
  refuseDtd(text, file);
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    throw new UsageError('ALLOWLIST_BAD_XML', valid.err.msg, { location: `${file}:${valid.err.line}` });
  }
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@',
    isArray: (name) => name.toLowerCase() === 'process',
  });
  let doc: Record<string, unknown>;
  try {
    doc = parser.parse(text) as Record<string, unknown>;
  } catch (cause) {
    // The validator lets a few malformed documents through (an unclosed quote in a processing instruction).
    throw new UsageError('ALLOWLIST_BAD_XML', cause instanceof Error ? cause.message : String(cause), {
      location: file,
      cause,
    });
  }
  const rootKey = Object.keys(doc).find((k) => k.toLowerCase() === 'applicationcontrol');
  if (!rootKey)
    throw new UsageError('ALLOWLIST_NO_ROOT', 'expected an <ApplicationControl> root element', {
      location: `${file}:1`,
    });
  const root = doc[rootKey] as Record<string, unknown>;
  const listKey = Object.keys(root ?? {}).find((k) => k.toLowerCase() === 'allowedprocesses');
  const list = (listKey ? root[listKey] : undefined) as Record<string, unknown> | undefined;
  const procKey = Object.keys(list ?? {}).find((k) => k.toLowerCase() === 'process');
  const procs = (procKey && list ? (list[procKey] as unknown[]) : []) ?? [];
  const lines = processLines(text);
  const out: AllowEntry[] = [];
  procs.forEach((p, i) => {
    const line = lines[i] ?? 1;
    const get = (field: string): string | undefined => {
      if (!p || typeof p !== 'object') return undefined;
      for (const [k, v] of Object.entries(p as Record<string, unknown>)) {
        const key = k.startsWith('@') ? k.slice(1) : k;
        if (key.toLowerCase() === field && (typeof v === 'string' || typeof v === 'number'))
          return String(v).trim();
      }
      return undefined;
    };
    const e: AllowEntry = { line };
    const name = get('name');
    const path = get('path');
    let hash = get('hash');
    if (name) e.name = name;
    if (path) e.path = path;
    if (hash) {
      hash = hash.replace(/^sha256[:=]/i, '').toLowerCase();
      if (!/^[0-9a-f]{64}$/.test(hash)) {
        throw new UsageError('ALLOWLIST_BAD_HASH', `Process #${i + 1}: hash must be a SHA-256 hex digest`, {
          location: `${file}:${line}`,
        });
      }
      e.hash = hash;
    }
    if (!e.name && !e.path && !e.hash) {
      throw new UsageError('ALLOWLIST_EMPTY_ENTRY', `Process #${i + 1} has no name, path or hash`, {
        location: `${file}:${line}`,
      });
    }
    out.push(e);
  });
  return out;
}

/** Line of every `<Process` start, counting newlines once over the whole text. */
function processLines(text: string): number[] {
  const out: number[] = [];
  const re = /<process\b/gi;
  let line = 1;
  let at = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    for (let nl = text.indexOf('\n', at); nl >= 0 && nl < m.index; nl = text.indexOf('\n', nl + 1)) line++;
    at = m.index;
    out.push(line);
  }
  return out;
}

/**
 * An allow-list has no use for a DTD, and a DTD is how XML reads other
 * files (external entities) or expands a few bytes into gigabytes (nested
 * entities): any declaration is refused before the parser sees the text.
 */
function refuseDtd(text: string, file: string): void {
  const m = /<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)\b/i.exec(text);
  if (!m) return;
  let line = 1;
  for (let nl = text.indexOf('\n'); nl >= 0 && nl < m.index; nl = text.indexOf('\n', nl + 1)) line++;
  throw new UsageError(
    'ALLOWLIST_DTD',
    `${file}: allow-lists may not contain a DTD (<!${m[1]!.toUpperCase()}); remove the declaration`,
    { location: `${file}:${line}` },
  );
}

export function loadAllowlist(file: string): AllowEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new UsageError('ALLOWLIST_UNREADABLE', 'cannot read the allow-list', { location: file, cause });
  }
  return parseAllowlist(text, file);
}
