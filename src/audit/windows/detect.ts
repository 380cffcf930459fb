import type { ParseIssue } from '../../core/errors.ts';
import { looksLikeAuditCsv, parseAuditCsv } from './auditpol.ts';
import type { WindowsFacts } from './facts.ts';
import { looksLikeInf, parseInf } from './inf.ts';
import {
  looksLikeExchangeVersion,
  looksLikeHotfixTable,
  looksLikeMsinfoText,
  looksLikeSecureBoot,
  looksLikeSysteminfo,
  parseExchangeVersion,
  parseHotfixTable,
  parseMsinfoText,
  parseSecureBoot,
  parseSysteminfo,
} from './text.ts';
import {
  isIssue,
  parseXml,
  readAppLocker,
  readApplicationControl,
  readClixml,
  readGpoReport,
  readMsinfoXml,
  readWdac,
  xmlRootName,
} from './xml.ts';

/** The kinds of Windows export this reads, named by what they are, found by what they hold. */
export type InputKind =
  | 'security-template'
  | 'audit-csv'
  | 'gpo-report'
  | 'applocker'
  | 'wdac'
  | 'application-control'
  | 'clixml'
  | 'msinfo'
  | 'systeminfo'
  | 'hotfix'
  | 'exchange-version'
  | 'secure-boot';

const XML_ROOTS: Readonly<Record<string, InputKind>> = {
  gpo: 'gpo-report',
  report: 'gpo-report',
  gpos: 'gpo-report',
  rsop: 'gpo-report',
  applockerpolicy: 'applocker',
  sipolicy: 'wdac',
  applicationcontrol: 'application-control',
  objs: 'clixml',
  msinfo: 'msinfo',
};

/** What kind of export `text` is, from its content only (never its name); undefined when none. */
export function detectKind(text: string): InputKind | undefined {
  const head = text.slice(0, 16_384);
  const trimmed = head.trimStart();
  if (trimmed.startsWith('<')) {
    const root = xmlRootName(trimmed);
    return root ? XML_ROOTS[root.toLowerCase()] : undefined;
  }
  if (looksLikeInf(head)) return 'security-template';
  if (looksLikeAuditCsv(head)) return 'audit-csv';
  if (looksLikeMsinfoText(head)) return 'msinfo';
  if (looksLikeSysteminfo(head)) return 'systeminfo';
  if (looksLikeHotfixTable(head)) return 'hotfix';
  if (looksLikeExchangeVersion(head)) return 'exchange-version';
  if (looksLikeSecureBoot(text)) return 'secure-boot';
  return undefined;
}

/** Reads one export into `facts`; returns its kind and how many values it gave, or an issue. */
export function readWindowsExport(
  text: string,
  file: string,
  facts: WindowsFacts,
): { kind: InputKind; values: number } | ParseIssue {
  const kind = detectKind(text);
  if (!kind)
    return {
      code: 'AUDIT_UNKNOWN_INPUT',
      message: 'not an export this reads (see docs/audit.md for the list)',
      location: file,
    };
  const body = text.trimStart();
  if (body.startsWith('<')) {
    const doc = parseXml(body, file);
    if (isIssue(doc)) return doc;
    switch (kind) {
      case 'gpo-report':
        return { kind, values: readGpoReport(doc, file, facts) };
      case 'applocker':
        return { kind, values: readAppLocker(doc, file, facts) };
      case 'wdac':
        return { kind, values: readWdac(doc, file, facts) };
      case 'application-control':
        return { kind, values: readApplicationControl(file, facts) };
      case 'clixml':
        return { kind, values: readClixml(doc, file, facts) };
      default:
        return { kind, values: readMsinfoXml(doc, file, facts) };
    }
  }
  switch (kind) {
    case 'security-template':
      return { kind, values: parseInf(text, file, facts) };
    case 'audit-csv':
      return { kind, values: parseAuditCsv(text, file, facts) };
    case 'msinfo':
      return { kind, values: parseMsinfoText(text, file, facts) };
    case 'systeminfo':
      return { kind, values: parseSysteminfo(text, file, facts) };
    case 'hotfix':
      return { kind, values: parseHotfixTable(text, file, facts) };
    case 'exchange-version':
      return { kind, values: parseExchangeVersion(text, file, facts) };
    default:
      return { kind, values: parseSecureBoot(text, file, facts) };
  }
}
