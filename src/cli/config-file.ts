import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { auditConfigSchema } from '../audit/config.ts';
import { casesConfigSchema } from '../cases/config.ts';
import { durationSchema, loadYamlStrict } from '../core/config.ts';
import { SEVERITIES } from '../core/severity.ts';
import { intelConfigSchema } from '../intel/config.ts';
import { respondConfigSchema } from '../respond/config.ts';

/**
 * The deminer config file: one YAML document, one section per part, every
 * level strict (an unknown or misspelt key is an error naming its line).
 *
 *   scan:
 *     window: 10s
 *     min_level: medium
 *     allowlist: /etc/deminer/allow.xml
 *     hash: suspicious
 *     intel: true
 *   hunt:
 *     rules: [community]    # rule sets/paths added to every hunt (docs/sigma.md)
 *   intel:
 *     feeds: [ … ]          # see docs/intel.md
 *   respond:
 *     never_isolate: [ … ]  # see docs/respond.md
 *   cases:
 *     isolation_sla: 30m    # see docs/incidents.md
 *     review_sla: 72h
 *   audit:
 *     expected: { win.rights.debug: [S-1-5-32-544] }   # see docs/audit.md
 */
export const scanConfigSchema = z.strictObject({
  window: durationSchema.optional(),
  min_level: z.enum(SEVERITIES).optional(),
  allowlist: z.string().min(1).optional(),
  hash: z.enum(['none', 'suspicious', 'all']).optional(),
  root: z.string().min(1).optional(),
  intel: z.boolean().optional(),
});

/**
 * `hunt.rules`: what every `deminer hunt` loads beside its `--rules`: a
 * community set (`community`, `community:emerging-threats`, …) or a rule file
 * or folder (relative to the config file's folder).
 */
export const huntConfigSchema = z.strictObject({
  rules: z.array(z.string().min(1)).max(100).optional(),
});

export const deminerConfigSchema = z.strictObject({
  scan: scanConfigSchema.prefault({}),
  hunt: huntConfigSchema.prefault({}),
  intel: intelConfigSchema.prefault({}),
  respond: respondConfigSchema.prefault({}),
  cases: casesConfigSchema.prefault({}),
  audit: auditConfigSchema.prefault({}),
});

export type DeminerConfig = z.infer<typeof deminerConfigSchema>;

/** `$DEMINER_HOME/config.yaml`, else `~/.deminer/config.yaml`. */
export function defaultConfigPath(): string {
  const home = process.env['DEMINER_HOME'];
  return join(home ?? join(homedir(), '.deminer'), 'config.yaml');
}

/** The given file, else the default one when it exists, else all defaults. */
export function loadDeminerConfig(file?: string): DeminerConfig {
  const path = file ?? defaultConfigPath();
  if (!file && !existsSync(path)) return deminerConfigSchema.parse({});
  return loadYamlStrict(path, deminerConfigSchema);
}
