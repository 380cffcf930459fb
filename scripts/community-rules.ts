// Packs SigmaHQ's community rules into data/sigma/community/ (the opt-in
// `--rules community` set): rules.json.gz holds every .yml of the rule folders
// as SigmaHQ wrote it, LICENSE is SigmaHQ's, PROVENANCE.md says where and when
// it came from and how deminer meets the Detection Rule License's attribution.
//
//   node --import tsx scripts/community-rules.ts [SIGMA_CHECKOUT] [--commit SHA] [--date YYYY-MM-DD]
//
// SIGMA_CHECKOUT defaults to ../shared/corpora/sigma (SigmaHQ/sigma; its
// SOURCES.txt names the commit). test/sigma/community-pack.test.ts checks that
// the shipped pack equals what this writes from that snapshot.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { packagePath } from '../src/core/paths.ts';
import type { CommunityPack } from '../src/detect/sigma/community.ts';

export const PACK_FOLDERS = ['rules', 'rules-emerging-threats', 'rules-threat-hunting'] as const;
export const DEFAULT_CHECKOUT = packagePath('..', 'shared', 'corpora', 'sigma');

function ymlFiles(dir: string, base: string, out: string[]): string[] {
  for (const e of readdirSync(join(base, dir)).sort()) {
    if (e.startsWith('.')) continue;
    const rel = `${dir}/${e}`;
    if (statSync(join(base, rel)).isDirectory()) ymlFiles(rel, base, out);
    else if (/\.ya?ml$/i.test(e)) out.push(rel);
  }
  return out;
}

/** The commit of a checkout: `--commit`, else its SOURCES.txt (corpora snapshots), else .git/HEAD. */
function commitOf(checkout: string): string | undefined {
  const sources = join(checkout, 'SOURCES.txt');
  if (existsSync(sources)) {
    const m = /\tSigmaHQ\/sigma\t([0-9a-f]{40})\t/.exec(readFileSync(sources, 'utf8'));
    if (m) return m[1];
  }
  const head = join(checkout, '.git', 'HEAD');
  if (existsSync(head)) {
    const ref = readFileSync(head, 'utf8').trim();
    if (/^[0-9a-f]{40}$/.test(ref)) return ref;
    const m = /^ref: (.+)$/.exec(ref);
    const refFile = m ? join(checkout, '.git', m[1]!) : '';
    if (refFile && existsSync(refFile)) return readFileSync(refFile, 'utf8').trim();
  }
  return undefined;
}

/** The pack of a SigmaHQ checkout (pure apart from reading it): paths sorted, texts byte for byte. */
export function buildPack(checkout: string, commit: string, date?: string): CommunityPack {
  const rules: CommunityPack['rules'] = [];
  for (const folder of PACK_FOLDERS) {
    if (!existsSync(join(checkout, folder))) continue;
    for (const path of ymlFiles(folder, checkout, []))
      rules.push({ path, text: readFileSync(join(checkout, path), 'utf8') });
  }
  return {
    format: 1,
    repository: 'https://github.com/SigmaHQ/sigma',
    commit,
    ...(date ? { date } : {}),
    rules,
  };
}

function provenance(pack: CommunityPack, bytes: number): string {
  const count = (f: string): number => pack.rules.filter((r) => r.path.startsWith(`${f}/`)).length;
  return `# SigmaHQ community rules (opt-in rule set)

\`rules.json.gz\` holds the Sigma rules of SigmaHQ's repository, unchanged, for
\`deminer hunt --rules community\` and \`deminer rules\`. It is written by
\`node --import tsx scripts/community-rules.ts [SIGMA_CHECKOUT]\`; do not edit it by hand.

- Repository: ${pack.repository}
- Commit: ${pack.commit}${pack.date ? `\n- Date of the snapshot: ${pack.date}` : ''}
- Folders: ${PACK_FOLDERS.map((f) => `\`${f}/\` (${count(f)} files)`).join(', ')}
- Rule files: ${pack.rules.length}; packed size ${bytes} bytes; packed on ${new Date().toISOString().slice(0, 10)}
- Format: gzip of JSON \`{ format: 1, repository, commit, date?, rules: [{ path, text }] }\`,
  \`path\` relative to the repository root, \`text\` the file's YAML exactly.

## Licence and attribution

The rules are SigmaHQ's work, released under the Detection Rule License (DRL)
1.1 (https://github.com/SigmaHQ/Detection-Rule-License); \`LICENSE\` beside this
file is SigmaHQ's licence notice. The DRL lets the rules be used, changed and
redistributed on conditions of attribution: whoever shares the rules keeps
each rule's author (its \`author\` field), a link to the rule set or rule, and
the licence (its text or a link to it); whoever uses them on data keeps the
rule's author in the messages based on its matches. The rules' \`author\`,
\`references\` and other metadata are packed unchanged with each rule's text,
and deminer meets the conditions as follows:

- \`deminer rules show ID\` prints the rule's author, references, its file in
  SigmaHQ's repository and this licence;
- every finding of a community rule carries the rule's id, title, author,
  references and file under \`evidence.sigma\`, with \`evidence.sigma.origin\`
  and \`evidence.sigma.license\` naming SigmaHQ and the DRL 1.1, and its
  message ends with "Sigma rule by AUTHOR (SigmaHQ, DRL 1.1).";
- the set is never on unless asked for (\`--rules community\`, or \`hunt.rules\`
  in the config file).

deminer's own code is Apache-2.0; that licence does not cover these rules.
`;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { commit: { type: 'string' }, date: { type: 'string' }, out: { type: 'string' } },
  });
  const checkout = resolve(positionals[0] ?? DEFAULT_CHECKOUT);
  if (!existsSync(join(checkout, 'rules')))
    throw new Error(`${checkout} is not a SigmaHQ checkout (no rules/ folder)`);
  const commit = values.commit ?? commitOf(checkout);
  if (!commit) throw new Error('cannot tell the commit of the checkout: pass --commit SHA');
  const pack = buildPack(checkout, commit, values.date);
  const outDir = values.out ?? packagePath('data', 'sigma', 'community');
  mkdirSync(outDir, { recursive: true });
  const gz = gzipSync(JSON.stringify(pack), { level: 9 });
  writeFileSync(join(outDir, 'rules.json.gz'), gz);
  // Written, not copied: a read-only source must not leave a read-only file behind.
  writeFileSync(join(outDir, 'LICENSE'), readFileSync(join(checkout, 'LICENSE')));
  writeFileSync(join(outDir, 'PROVENANCE.md'), provenance(pack, gz.length));
  process.stdout.write(`wrote ${pack.rules.length} rule files (${gz.length} bytes) to ${outDir}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) await main();
