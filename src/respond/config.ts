import { z } from 'zod';
import { canonicalCidr } from './isolate/safety.ts';
import { isolationConfigSchema } from './isolate/server-config.ts';

const cidrText = z
  .string()
  .max(64)
  .refine((s) => canonicalCidr(s) !== undefined, { message: 'not an address or CIDR prefix' });

/**
 * `respond:` in the deminer config file:
 *
 *   respond:
 *     never_isolate:            # gateways, DNS, domain controllers, the deminer server
 *       - 10.0.0.1
 *       - { cidr: 10.0.0.0/29, reason: core routers }
 *
 * Entries add to the list; nothing in a request can take one away.
 * `isolation:` configures the server's responder (`deminer serve|up`):
 * backends, automatic policy, approvals, expiry (isolate/server-config.ts).
 */
export const respondConfigSchema = z.strictObject({
  never_isolate: z
    .array(
      z.union([cidrText, z.strictObject({ cidr: cidrText, reason: z.string().min(1).max(200).optional() })]),
    )
    .max(10_000)
    .optional(),
  isolation: isolationConfigSchema.optional(),
});

export type RespondConfig = z.infer<typeof respondConfigSchema>;
