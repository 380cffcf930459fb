import { z } from 'zod';
import { SEVERITIES, type Severity } from '../core/severity.ts';

/** Every way a check can read a value; each input parser or host reader fills some of them. */
export const METHODS = [
  // Windows exports
  'privilege',
  'registry',
  'system_access',
  'audit_subcategory',
  'admin_template',
  'exchange_build',
  'hotfix_newest',
  'secure_boot',
  'bios_date',
  'app_control',
  // Linux hosts
  'uid0_accounts',
  'sudo_grants',
  'group_members',
  'file_caps',
  'sysctl',
  'mount_options',
  'auditd_covers',
  'auto_updates',
  'pending_security_updates',
] as const;
export type Method = (typeof METHODS)[number];

export const OPERATORS = [
  'eq',
  'ne',
  'gte',
  'lte',
  'in',
  'subset_of',
  'contains',
  'flags_include',
  'fixed_build',
  'max_age_days',
] as const;
export type Operator = (typeof OPERATORS)[number];

export const STATUSES = ['pass', 'fail', 'not_applicable', 'unknown'] as const;
export type Status = (typeof STATUSES)[number];

const scalar = z.union([z.string(), z.number(), z.boolean()]);
export const expectedSchema = z.union([scalar, z.array(z.string().max(200)).max(200)]);
export type Expected = z.infer<typeof expectedSchema>;

const readSchema = z.strictObject({
  method: z.enum(METHODS),
  arg: z.union([z.string().min(1).max(300), z.array(z.string().min(1).max(300)).min(1).max(20)]),
  /** audit_subcategory: the legacy [Event Audit] category that is in force unless SCENoApplyLegacyAuditPolicy is 1. */
  legacy: z.string().min(1).max(60).optional(),
  /** Translation of the value read (e.g. a GPO report's Enabled → '1'). */
  map: z.record(z.string(), z.string()).optional(),
});
export type ReadSpec = z.infer<typeof readSchema>;

export const checkSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9_]+(\.[a-z0-9_]+)+$/),
  title: z.string().min(1).max(120),
  platform: z.enum(['windows', 'linux']),
  area: z.enum(['least_privilege', 'audit', 'patch', 'firmware', 'allow_listing']),
  why: z.string().min(1),
  attack: z.array(z.string().regex(/^T\d{4}(?:\.\d{3})?$/)).min(1),
  read: z.array(readSchema).min(1).max(5),
  operator: z.enum(OPERATORS),
  expected: expectedSchema,
  absent: z.enum(STATUSES).optional(),
  severity: z.enum(SEVERITIES),
  fix: z.string().min(1),
  refs: z.array(z.string()).optional(),
});
export type Check = z.infer<typeof checkSchema>;

export const checkFileSchema = z.strictObject({ checks: z.array(checkSchema).min(1).max(1000) });

/** What an input says about one value: the value and where it was read (`file:line`, a /proc path). */
export type Value = string | number | boolean | string[] | null;
export interface Fact {
  value: Value;
  source: string;
  /** Why the value is what it is, when that needs saying (e.g. the legacy audit category is in force). */
  note?: string;
  /** An Exchange build read from AdminDisplayVersion: it shows the CU, not the security updates on top. */
  cuOnly?: boolean;
  /**
   * The verdict when the reader decides it, because what the check is about is
   * absent: no sudo at all (not_applicable), a kernel without Yama (fail).
   */
  status?: Status;
}

/** One check's result on one host: the jsonl contract of docs/audit.md, plus what the other formats show. */
export interface CheckResult {
  check: { id: string; title: string };
  status: Status;
  observed: Value;
  expected: string;
  fix: string;
  host: string;
  source: string;
  severity: Severity;
  techniques: string[];
  note?: string;
}

/** Reads facts for one host: Windows exports looked up, Linux files read on demand. */
export interface FactReader {
  read(spec: ReadSpec): Fact | undefined;
}
