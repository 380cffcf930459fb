// Writes the built-in Sigma rules that name pools and pool ports from the
// pool matcher's data (node --import tsx scripts/pool-rules.ts); see
// src/detect/pool-match/sigma-rules.ts. Its test fails when a rule file
// differs from what this would write.
import { writeFileSync } from 'node:fs';
import { packagePath } from '../src/core/paths.ts';
import { poolSigmaRules } from '../src/detect/pool-match/sigma-rules.ts';

for (const r of poolSigmaRules()) {
  writeFileSync(packagePath(r.file), r.text);
  process.stdout.write(`wrote ${r.file}\n`);
}
