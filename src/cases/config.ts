import { z } from 'zod';
import { durationSchema } from '../core/config.ts';

/**
 * The `cases:` section of the config file (src/cli/config-file.ts):
 *
 *   cases:
 *     isolation_sla: 30m   # isolation due this long after discovery
 *     review_sla: 72h      # review due this long after recovery
 *
 * `serve`/`up --isolation-sla/--review-sla` win over it.
 */
export const casesConfigSchema = z.strictObject({
  isolation_sla: durationSchema.optional(),
  review_sla: durationSchema.optional(),
});
export type CasesConfig = z.infer<typeof casesConfigSchema>;
