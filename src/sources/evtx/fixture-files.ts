import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The small real samples under test/fixtures/evtx (see SOURCES.txt there); used by tests and the benchmark. */
export const FIXTURE_DIR = join(dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/evtx');

export const FIXTURES = {
  sysmon: join(FIXTURE_DIR, 'sysmon-psexec-smb-meterpreter.evtx'),
  security: join(FIXTURE_DIR, 'security-bloodhound-5145.evtx'),
  system7045: join(FIXTURE_DIR, 'system-7045-namedpipe-privesc.evtx'),
  stringArray: join(FIXTURE_DIR, 'application-mssql-15457-string-array.evtx'),
} as const;

/** Every .evtx file under `dir`, recursively, sorted: the corpus walk of the comparison test and the benchmark. */
export function evtxFilesUnder(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) evtxFilesUnder(p, out);
    else if (e.name.endsWith('.evtx')) out.push(p);
  }
  return out.sort();
}
