import { deminerConfigSchema } from '../../src/cli/config-file.ts';
import { parseYamlStrict } from '../../src/core/config.ts';
import { type Features, refusalAware, text } from '../expected.ts';

/** The config file (`~/.deminer/config.yaml`) with the schema `loadDeminerConfig` applies. */
export function fuzz(data: Uint8Array): Features {
  return refusalAware(() => {
    const cfg = parseYamlStrict(text(data), deminerConfigSchema, 'config.yaml');
    return ['valid', ...Object.keys(cfg.scan).map((k) => `scan:${k}`)];
  });
}
