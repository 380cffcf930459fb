import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonDocuments } from '../../src/sources/winlog-json/json-documents.ts';
import { fromJsonDocument } from '../../src/sources/winlog-json/normalize.ts';
import type { Features } from '../expected.ts';
import { scratchDir } from '../scratch.ts';

/**
 * JSON event logs: the document splitter (JSON Lines, concatenated documents,
 * one top-level array) and then the normaliser on every document it yields.
 * The splitter only reads from a path, so the bytes go through one scratch
 * file that each run overwrites.
 */
export async function fuzz(data: Uint8Array): Promise<Features> {
  const file = join(scratchDir(), 'events.json');
  writeFileSync(file, data);
  const out = new Set<string>();
  for await (const item of readJsonDocuments(file)) {
    if (item.kind === 'issue') {
      out.add(`issue:${item.issue.code}`);
      continue;
    }
    const ev = fromJsonDocument(item.doc);
    out.add(ev ? `event:${ev.event?.code ?? '-'}` : 'doc-unrecognised');
  }
  return [...out];
}
