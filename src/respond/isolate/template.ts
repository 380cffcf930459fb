import { UsageError } from '../../core/errors.ts';
import { shown } from './target.ts';
import type { IsolationTarget } from './types.ts';

/**
 * Request templates for the generic HTTP controller. A body template is JSON
 * with `{{ip}}`-style placeholders inside its strings; it is parsed first and
 * the values are put into the parsed strings, so the result is serialised by
 * JSON.stringify: whatever a value held, it cannot end a string or add a
 * field. Path templates get their values URL-encoded.
 */
export const PLACEHOLDERS = ['ip', 'prefix', 'mac', 'port', 'family'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

const PLACEHOLDER_RE = /\{\{\s*([a-z_]+)\s*\}\}/g;

export function placeholderValues(t: IsolationTarget): Partial<Record<Placeholder, string>> {
  return {
    ip: t.ip,
    prefix: `${t.ip}/${t.family === 4 ? 32 : 128}`,
    family: t.family === 4 ? 'ipv4' : 'ipv6',
    ...(t.mac ? { mac: t.mac } : {}),
    ...(t.port ? { port: t.port } : {}),
  };
}

function namesIn(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER_RE)].map((m) => m[1]!);
}

function checkNames(names: readonly string[], option: string): void {
  for (const n of names)
    if (!(PLACEHOLDERS as readonly string[]).includes(n))
      throw new UsageError(
        'ISOLATE_BAD_TEMPLATE',
        `${option}: unknown placeholder {{${n}}} (known: ${PLACEHOLDERS.map((p) => `{{${p}}}`).join(', ')})`,
        { location: option },
      );
}

function walkStrings(v: unknown, f: (s: string) => string): unknown {
  if (typeof v === 'string') return f(v);
  if (Array.isArray(v)) return v.map((x) => walkStrings(x, f));
  if (typeof v === 'object' && v !== null)
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [f(k), walkStrings(x, f)]));
  return v;
}

export interface BodyTemplate {
  readonly json: unknown;
  readonly names: readonly string[];
}

export function parseBodyTemplate(text: string, option: string): BodyTemplate {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UsageError(
      'ISOLATE_BAD_TEMPLATE',
      `${option} must be JSON with {{ip}}-style placeholders inside strings (${e instanceof Error ? e.message : e})`,
      { location: option },
    );
  }
  const names: string[] = [];
  walkStrings(json, (s) => {
    names.push(...namesIn(s));
    return s;
  });
  checkNames(names, option);
  return { json, names };
}

export function checkPathTemplate(text: string, option: string): string {
  if (!text.startsWith('/') || /[\s\0]/.test(text) || text.length > 2000)
    throw new UsageError(
      'ISOLATE_BAD_TEMPLATE',
      `${option} must be a path starting with / (got ${shown(text)})`,
      {
        location: option,
      },
    );
  checkNames(namesIn(text), option);
  return text;
}

function missing(names: readonly string[], values: Partial<Record<Placeholder, string>>): string | undefined {
  return names.find((n) => values[n as Placeholder] === undefined);
}

/** Refuses a template that needs a value the target lacks (`{{mac}}` without --mac). */
export function checkFilled(names: readonly string[], t: IsolationTarget, option: string): void {
  const m = missing(names, placeholderValues(t));
  if (m)
    throw new UsageError('ISOLATE_BAD_TEMPLATE', `${option} uses {{${m}}}, which needs --${m}`, {
      location: option,
    });
}

export function renderBody(template: BodyTemplate, t: IsolationTarget): unknown {
  const values = placeholderValues(t);
  return walkStrings(template.json, (s) =>
    s.replace(PLACEHOLDER_RE, (_, n: string) => values[n as Placeholder] ?? ''),
  );
}

export function renderPath(path: string, t: IsolationTarget): string {
  const values = placeholderValues(t);
  return path.replace(PLACEHOLDER_RE, (_, n: string) => encodeURIComponent(values[n as Placeholder] ?? ''));
}

export function pathNames(path: string): string[] {
  return namesIn(path);
}
