import { z } from 'zod';
import { loadYamlStrict } from '../../core/config.ts';
import { dataPath } from '../../core/paths.ts';
import type { LogSource } from './rule.ts';

const sourceSchema = z.strictObject({
  channel: z.string(),
  event_ids: z.array(z.number().int()).optional(),
  where: z.record(z.string(), z.array(z.string())).optional(),
  fields: z.record(z.string(), z.string()).optional(),
  available: z.array(z.string()).optional(),
});
/** A source of ECS documents: no channel or event id, told apart by `where`; rule fields renamed to ECS fields. */
const ecsSourceSchema = z.strictObject({
  where: z.record(z.string(), z.array(z.string())),
  fields: z.record(z.string(), z.string()),
  /** ECS fields rules may read beside the targets of `fields`. */
  available: z.array(z.string()).optional(),
});
/** The record sources of one product: what a rule with only `product`, a category or a service runs on. */
const productSchema = z.strictObject({
  product_only: z.array(sourceSchema),
  categories: z.record(z.string(), z.array(sourceSchema)),
  services: z.record(z.string(), z.array(sourceSchema)),
});
const mapSchema = z.strictObject({
  product: z.string(),
  system_fields: z.array(z.string()),
  product_only: z.array(sourceSchema),
  categories: z.record(z.string(), z.array(sourceSchema)),
  services: z.record(z.string(), z.array(sourceSchema)),
  /** Record sources of other products (Linux logs read as records: auditd, Sysmon for Linux, journald). */
  other_products: z.record(z.string(), productSchema).optional(),
  ecs: z
    .strictObject({
      products: z.array(z.string()),
      categories: z.record(z.string(), z.array(ecsSourceSchema)),
    })
    .optional(),
});

export type EventSource = z.infer<typeof sourceSchema>;
export type LogsourceMap = z.infer<typeof mapSchema>;

export const DEFAULT_LOGSOURCE_MAP = dataPath('sigma', 'logsource-map.yaml');

export function loadLogsourceMap(file = DEFAULT_LOGSOURCE_MAP): LogsourceMap {
  return loadYamlStrict(file, mapSchema);
}

/** The channel of events that are not event-log records (ECS documents): they have none. */
export const NO_CHANNEL = '';

/**
 * The sources a rule's logsource runs on, or undefined when the mapping does
 * not know it: such rules are not run at all rather than on every event.
 */
export function sourcesFor(map: LogsourceMap, ls: LogSource): EventSource[] | undefined {
  const others = map.other_products;
  const product =
    ls.product === map.product
      ? map
      : ls.product && others && Object.hasOwn(others, ls.product)
        ? others[ls.product]
        : undefined;
  const records = product ? recordSourcesFor(product, ls) : undefined;
  const documents = ecsSourcesFor(map, ls);
  if (!records && !documents) return undefined;
  return [...(records ?? []), ...(documents ?? [])];
}

/**
 * ECS documents of a category: a rule reads only the fields the mapping
 * renames (or lists as available), because any other name (a Sysmon-only
 * field such as IntegrityLevel) is absent there and could only misfire.
 */
function ecsSourcesFor(map: LogsourceMap, ls: LogSource): EventSource[] | undefined {
  if (!map.ecs || !ls.product || !ls.category || ls.service) return undefined;
  if (!map.ecs.products.includes(ls.product)) return undefined;
  return map.ecs.categories[ls.category]?.map((s) => ({
    channel: NO_CHANNEL,
    where: s.where,
    fields: s.fields,
    available: [...new Set([...Object.values(s.fields), ...(s.available ?? [])])],
  }));
}

/** Event-log records: channels and event ids of the mapped product. */
function recordSourcesFor(map: z.infer<typeof productSchema>, ls: LogSource): EventSource[] | undefined {
  if (ls.category) {
    const cat = map.categories[ls.category];
    if (!cat) return undefined;
    if (!ls.service) return cat;
    const svc = map.services[ls.service];
    if (!svc) return undefined;
    const channels = new Set(svc.map((s) => s.channel.toLowerCase()));
    const narrowed = cat.filter((c) => channels.has(c.channel.toLowerCase()));
    return narrowed.length > 0 ? narrowed : undefined;
  }
  if (ls.service) return map.services[ls.service];
  return map.product_only;
}
