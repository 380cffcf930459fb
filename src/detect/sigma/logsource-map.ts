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
const mapSchema = z.strictObject({
  product: z.string(),
  system_fields: z.array(z.string()),
  product_only: z.array(sourceSchema),
  categories: z.record(z.string(), z.array(sourceSchema)),
  services: z.record(z.string(), z.array(sourceSchema)),
});

export type EventSource = z.infer<typeof sourceSchema>;
export type LogsourceMap = z.infer<typeof mapSchema>;

export const DEFAULT_LOGSOURCE_MAP = dataPath('sigma', 'logsource-map.yaml');

export function loadLogsourceMap(file = DEFAULT_LOGSOURCE_MAP): LogsourceMap {
  return loadYamlStrict(file, mapSchema);
}

/**
 * The sources a rule's logsource runs on, or undefined when the mapping does
 * not know it: such rules are not run at all rather than on every event.
 */
export function sourcesFor(map: LogsourceMap, ls: LogSource): EventSource[] | undefined {
  if (ls.product !== map.product) return undefined;
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
