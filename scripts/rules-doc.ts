// Writes docs/rules.md: the catalog of the rules deminer's built-in detectors
// declare (node --import tsx scripts/rules-doc.ts). src/detect/catalog.test.ts
// fails when the file differs from what this would write.
import { writeFileSync } from 'node:fs';
import { packagePath } from '../src/core/paths.ts';
import { builtinDetectors, catalogMarkdown } from '../src/detect/catalog.ts';

const file = packagePath('docs', 'rules.md');
writeFileSync(file, catalogMarkdown(builtinDetectors()));
process.stdout.write(`wrote ${file}\n`);
