import { z } from 'zod';
import { expectedSchema } from './types.ts';

/**
 * The `audit:` section of the config file:
 *
 *   audit:
 *     expected:                       # site values replacing a check's expected one
 *       win.rights.debug: [S-1-5-32-544]
 *       linux.groups.admin_members: [sudo:alice]
 *       win.firmware.age: 1825
 *     skip: [linux.sysctl.modules_disabled]
 */
export const auditConfigSchema = z.strictObject({
  expected: z.record(z.string().min(1).max(100), expectedSchema).optional(),
  skip: z.array(z.string().min(1).max(100)).max(1000).optional(),
});
export type AuditConfig = z.infer<typeof auditConfigSchema>;
