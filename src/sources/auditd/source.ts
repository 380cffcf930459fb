import type { Source } from '../../core/stages.ts';
import { readAuditd, sniffAuditd } from './index.ts';

/** Linux audit logs (`/var/log/audit/audit.log`, RAW or ENRICHED), records joined per event. */
export const auditdSource: Source = {
  name: 'auditd',
  sniff: (head) => sniffAuditd(head),
  read: (path) => readAuditd(path),
};
