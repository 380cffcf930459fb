import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { DeminerError, type ParseIssue } from '../../core/errors.ts';
import { dataPath } from '../../core/paths.ts';
import type { LoadedRules } from './load-rules.ts';
import { parseRuleText } from './load-rules.ts';
import type { SigmaRule } from './rule.ts';

/**
 * SigmaHQ's community rules, packed into one gzip file by
 * scripts/community-rules.ts (data/sigma/community/, with their licence and
 * PROVENANCE.md). Each rule's YAML text is kept as SigmaHQ wrote it and goes
 * through the same loader, bounds and compiler as any `--rules DIR`.
 */
export const COMMUNITY_DIR = dataPath('sigma', 'community');
export const COMMUNITY_FILE = dataPath('sigma', 'community', 'rules.json.gz');

/** Rule files of the pack are named `community:<path in SigmaHQ's repository>`. */
export const COMMUNITY_PREFIX = 'community:';

/** The attribution the Detection Rule License 1.1 asks for, carried by every community rule's findings. */
export const COMMUNITY_ATTRIBUTION = {
  origin: 'SigmaHQ community rules (https://github.com/SigmaHQ/sigma)',
  license: 'DRL-1.1 (Detection Rule License 1.1, https://github.com/SigmaHQ/Detection-Rule-License)',
} as const;

/** The names `--rules` and the config file take for the pack, and the SigmaHQ folders each one loads. */
export const COMMUNITY_SETS: Readonly<Record<string, readonly string[]>> = {
  community: ['rules', 'rules-emerging-threats', 'rules-threat-hunting'],
  'community:rules': ['rules'],
  'community:emerging-threats': ['rules-emerging-threats'],
  'community:threat-hunting': ['rules-threat-hunting'],
};

export function isCommunitySet(name: string): boolean {
  return Object.hasOwn(COMMUNITY_SETS, name);
}

export function isCommunityRule(rule: { file: string }): boolean {
  return rule.file.startsWith(COMMUNITY_PREFIX);
}

export interface CommunityPack {
  format: 1;
  repository: string;
  commit: string;
  /** The commit's date (ISO-8601), when the script knew it. */
  date?: string;
  rules: { path: string; text: string }[];
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks the pack's shape (the file ships with the package, but a damaged install must say so, not crash later). */
export function parseCommunityPack(json: unknown): CommunityPack {
  if (
    !isRecord(json) ||
    json['format'] !== 1 ||
    typeof json['repository'] !== 'string' ||
    typeof json['commit'] !== 'string' ||
    !Array.isArray(json['rules']) ||
    !json['rules'].every((r) => isRecord(r) && typeof r['path'] === 'string' && typeof r['text'] === 'string')
  )
    throw new Error('not a community rule pack (format 1)');
  return json as unknown as CommunityPack;
}

let cached: CommunityPack | undefined;

/** The shipped pack, read once per process. */
export function readCommunityPack(file = COMMUNITY_FILE): CommunityPack {
  if (file === COMMUNITY_FILE && cached) return cached;
  let pack: CommunityPack;
  try {
    pack = parseCommunityPack(JSON.parse(gunzipSync(readFileSync(file)).toString('utf8')));
  } catch (e) {
    throw new DeminerError(
      'COMMUNITY_PACK_UNREADABLE',
      `the community rule pack cannot be read (${e instanceof Error ? e.message : String(e)}); reinstall deminer or rebuild it with scripts/community-rules.ts`,
      { location: file, cause: e },
    );
  }
  if (file === COMMUNITY_FILE) cached = pack;
  return pack;
}

/** Loads one community set (`community`, `community:emerging-threats`, …) through the ordinary loader. */
export function loadCommunityRules(
  set = 'community',
  pack: CommunityPack = readCommunityPack(),
): LoadedRules {
  const folders = COMMUNITY_SETS[set];
  if (!folders) throw new Error(`unknown community set ${set}`);
  const rules: SigmaRule[] = [];
  const issues: ParseIssue[] = [];
  let files = 0;
  for (const entry of pack.rules) {
    if (!folders.some((f) => entry.path.startsWith(`${f}/`))) continue;
    files++;
    const r = parseRuleText(entry.text, `${COMMUNITY_PREFIX}${entry.path}`);
    rules.push(...r.rules);
    issues.push(...r.issues);
  }
  return { rules, issues, files };
}

/**
 * Problems of community rules folded into one line per code (the pack has
 * thousands of rules, and a refusal the user cannot fix should not push their
 * own problems off the screen); everything else is kept as it is.
 */
export function summariseCommunityIssues(issues: readonly ParseIssue[]): ParseIssue[] {
  const out: ParseIssue[] = [];
  const byCode = new Map<string, ParseIssue[]>();
  for (const i of issues) {
    if (!i.location.startsWith(COMMUNITY_PREFIX)) {
      out.push(i);
      continue;
    }
    const list = byCode.get(i.code) ?? [];
    list.push(i);
    byCode.set(i.code, list);
  }
  for (const [code, list] of [...byCode].sort((a, b) => b[1].length - a[1].length)) {
    const first = list[0]!;
    out.push({
      code,
      message: `${list.length} community rule problem(s) of this kind, skipped (first: ${first.location}: ${first.message}); \`deminer rules stats --source community\` lists them`,
      location: 'community',
    });
  }
  return out;
}
