import { readFileSync } from 'node:fs';
import { isMap, isSeq, LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { UsageError } from './errors.ts';
import { checkYamlBounds, DEFAULT_YAML_BOUNDS } from './yaml-bounds.ts';

/**
 * Bounds on a config file. A config is small; these refuse a file that
 * would take the run down (a 10 MB file, or a "billion laughs" document
 * whose nested aliases expand to gigabytes even under a key never read).
 */
export const CONFIG_LIMITS = { bytes: 1024 * 1024, aliases: 100 } as const;

/**
 * Strict YAML loading: unknown keys are errors, and every error names the
 * file and line of the offending value.
 */
export function parseYamlStrict<T>(text: string, schema: z.ZodType<T>, where: string): T {
  if (text.length > CONFIG_LIMITS.bytes)
    throw new UsageError(
      'CONFIG_TOO_LARGE',
      `config of ${text.length} characters is over the limit of ${CONFIG_LIMITS.bytes}`,
      { location: `${where}:1` },
    );
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const line = lineCounter.linePos(e.pos[0]).line;
    throw new UsageError('CONFIG_BAD_YAML', e.message.split('\n')[0] ?? 'invalid YAML', {
      location: `${where}:${line}`,
    });
  }
  const refusal = checkYamlBounds(doc, { ...DEFAULT_YAML_BOUNDS, aliases: CONFIG_LIMITS.aliases });
  if (refusal)
    throw new UsageError('CONFIG_BAD_YAML', refusal.message, {
      location: `${where}:${lineCounter.linePos(refusal.offset).line}`,
    });
  // Bounded above, so yaml's own (quadratic) alias accounting is not needed.
  const value: unknown = doc.toJS({ maxAliasCount: -1 }) ?? {};
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  // An unknown key is best shown at its own line, not at its parent's.
  const at =
    issue.code === 'unrecognized_keys' && issue.keys[0] !== undefined
      ? [...issue.path, issue.keys[0]]
      : issue.path;
  const line = yamlLineOf(doc, at, lineCounter);
  const path = issue.path.map(String).join('.') || '(root)';
  let msg = issue.message;
  if (issue.code === 'unrecognized_keys')
    msg = `unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  throw new UsageError('CONFIG_INVALID', `${path}: ${msg}`, { location: line ? `${where}:${line}` : where });
}

export function loadYamlStrict<T>(file: string, schema: z.ZodType<T>): T {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new UsageError('CONFIG_UNREADABLE', 'cannot read config file', { location: file, cause });
  }
  return parseYamlStrict(text, schema, file);
}

/** The line of the YAML node at `path` (its key's line for maps), for error locations. */
export function yamlLineOf(
  doc: { contents: unknown },
  path: readonly PropertyKey[],
  lc: LineCounter,
): number | undefined {
  let node: unknown = doc.contents;
  let last: unknown = node;
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === key);
      if (!pair) break;
      last = pair.key;
      node = pair.value;
      // Keys point at their own line; values of maps start on the next one.
      if (node && !isMap(node)) last = node;
    } else if (isSeq(node) && typeof key === 'number') {
      node = node.items[key];
      if (node) last = node;
    } else break;
  }
  const range = (last as { range?: [number, number, number] } | null)?.range;
  return range ? lc.linePos(range[0]).line : undefined;
}

const durationRe = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `500ms`, `10s`, `5m`, `1h`, `7d` into milliseconds. */
/** Longest duration any option or config key takes unless it says otherwise (30 days). */
export const MAX_DURATION_MS = 30 * 24 * 3600_000;

function describeMs(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${ms / 1000}s`;
}

export function parseDuration(text: string, where = 'duration', bounds: { max?: number } = {}): number {
  const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  const m = durationRe.exec(text.trim().slice(0, 64));
  if (!m)
    throw new UsageError(
      'BAD_DURATION',
      `"${JSON.stringify(shown).slice(1, -1)}" is not a duration (examples: 500ms, 10s, 5m, 1h)`,
      { location: where },
    );
  const ms = Number(m[1]) * UNIT_MS[m[2]!]!;
  const max = bounds.max ?? MAX_DURATION_MS;
  if (!(ms <= max))
    throw new UsageError(
      'BAD_DURATION',
      `"${JSON.stringify(shown).slice(1, -1)}" is longer than ${describeMs(max)}`,
      {
        location: where,
      },
    );
  return ms;
}

export const durationSchema = z.string().transform((s, ctx) => {
  const m = durationRe.exec(s.trim());
  if (!m) {
    ctx.addIssue({ code: 'custom', message: `"${s}" is not a duration (examples: 10s, 5m)` });
    return z.NEVER;
  }
  const ms = Number(m[1]) * UNIT_MS[m[2]!]!;
  if (!(ms <= MAX_DURATION_MS)) {
    ctx.addIssue({ code: 'custom', message: `"${s}" is longer than 30d` });
    return z.NEVER;
  }
  return ms;
});
