/**
 * Compares the parser with libevtx's evtxexport on every .evtx file of the
 * development corpora: record count, record numbers and written times (text
 * mode), and per record the whole XML rendering (xml mode), from which event
 * ids, timestamps and every EventData value are also checked against our JSON.
 *
 * Known, documented differences, normalised before comparing (ours follows Windows and evtx_dump):
 * - evtxexport zero-pads hex values to 8 or 16 digits (`0x0000000000030550`);
 *   Windows and evtx_dump write `0x30550`.
 * - evtxexport prints reals with printf's %e (`3.199234e+003`); we print the shortest exact decimal (`3199.234`).
 * - Our JSON follows evtx_dump: GUIDs without braces, FILETIMEs with 7 fractional digits (the file's precision).
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { evtxFilesUnder } from '../../src/sources/evtx/fixture-files.ts';
import { type EvtxRecord, parseEvtxBuffer, renderXml } from '../../src/sources/evtx/index.ts';

const run = promisify(execFile);
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const CORPUS = join(ROOT, '../shared/corpora/evtx');

const HEX64 = /\b0x0+([0-9a-f][0-9a-f]*)\b/g;
const REAL = /^-?\d\.\d+e[+-]\d+$/;

function normText(s: string): string {
  const t = s.replace(HEX64, (m, rest: string) => (m.length === 18 || m.length === 10 ? `0x${rest}` : m));
  return REAL.test(t) ? String(Number(t)) : t;
}

function normLine(line: string): string {
  return normText(line.replace(/>([^<]*)</, (_, t: string) => `>${normText(t)}<`));
}

function unescapeXml(s: string): string {
  return s.replace(
    /&(lt|gt|quot|apos|amp);/g,
    (_, e: string) => ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' })[e]!,
  );
}

/** JSON value -> the text Windows/evtxexport would show, for comparison. */
function jsonText(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  if (/^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/.test(s)) return `{${s}}`;
  if (/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/.test(s)) return `${s.slice(0, -1)}00Z`;
  return s;
}

type Obj = Record<string, unknown>;

function scalarOf(v: unknown): unknown {
  return v !== null && typeof v === 'object' ? (v as Obj)['#text'] : v;
}

function compareJson(ref: string, r: EvtxRecord, where: string, diffs: string[]): void {
  const ev = r.event.Event as Obj;
  const sys = ev.System as Obj;
  const refId = /<EventRecordID>(\d+)</.exec(ref)?.[1];
  if (refId !== undefined && String(sys.EventRecordID) !== refId)
    diffs.push(`${where}: EventRecordID ${sys.EventRecordID} != ${refId}`);
  const refEventId = /<EventID[^>]*>(\d+)</.exec(ref)?.[1];
  if (String(scalarOf(sys.EventID)) !== refEventId)
    diffs.push(`${where}: EventID ${JSON.stringify(sys.EventID)} != ${refEventId}`);
  const refTime = /<TimeCreated SystemTime="([^"]+)"/.exec(ref)?.[1];
  const ourTime = ((sys.TimeCreated as Obj | null)?.['#attributes'] as Obj | undefined)?.SystemTime;
  if (refTime !== undefined && jsonText(ourTime) !== refTime)
    diffs.push(`${where}: SystemTime ${ourTime} != ${refTime}`);
  const block = /<EventData>([\s\S]*?)<\/EventData>/.exec(ref)?.[1];
  if (block === undefined) return;
  const ed = (ev.EventData ?? {}) as Obj;
  const named = new Map<string, string>();
  const unnamed: string[] = [];
  for (const m of block.matchAll(/<Data(?: Name="([^"]*)")?(?:\/>|>([\s\S]*?)<\/Data>)/g)) {
    const text = normText(unescapeXml(m[2] ?? ''));
    if (m[1] !== undefined) named.set(unescapeXml(m[1]), text);
    else unnamed.push(text);
  }
  for (const [k, v] of named) {
    if (!(k in ed)) diffs.push(`${where}: EventData.${k} missing`);
    else if (normText(jsonText(ed[k])) !== v)
      diffs.push(`${where}: EventData.${k} ${JSON.stringify(ed[k])} != ${JSON.stringify(v)}`);
  }
  if (named.size === 0 && unnamed.length > 0) {
    const t = (ed.Data as Obj | undefined)?.['#text'];
    const ours = (Array.isArray(t) ? t : [t]).map((x) => normText(jsonText(x)));
    if (JSON.stringify(ours) !== JSON.stringify(unnamed))
      diffs.push(`${where}: EventData.Data ${JSON.stringify(ours)} != ${JSON.stringify(unnamed)}`);
  }
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "Sep 21, 2016 03:41:02.542968700 UTC" -> ISO with 7 digits. */
function writtenTime(s: string): string {
  const m = /^(\w{3}) (\d{1,2}), (\d{4}) (\d\d:\d\d:\d\d)\.(\d{7})(\d\d) UTC$/.exec(s.trim());
  if (!m) return `unparsed: ${s}`;
  const month = String(MONTHS.indexOf(m[1]!) + 1).padStart(2, '0');
  return `${m[3]}-${month}-${m[2]!.padStart(2, '0')}T${m[4]}.${m[5]}Z`;
}

/**
 * Text mode (record numbers and written times from the record headers) is
 * checked on every `headerEvery`-th file only, to keep the test's time bounded.
 */
async function compareFile(
  file: string,
  withHeaders: boolean,
): Promise<{ records: number; diffs: string[] }> {
  const name = relative(CORPUS, file);
  const [xmlOut, textOut] = await Promise.all([
    run('evtxexport', ['-f', 'xml', file], { maxBuffer: 1 << 28 }),
    withHeaders ? run('evtxexport', [file], { maxBuffer: 1 << 28 }) : undefined,
  ]);
  const refEvents = xmlOut.stdout
    .split(/\n(?=<Event[ >])/)
    .slice(1)
    .map((b) => b.trim());
  const refHeaders = [
    ...(textOut?.stdout ?? '').matchAll(/^Event number\s*: (\d+)\nWritten time\s*: ([^\n]+)/gm),
  ].map((m) => ({
    id: Number(m[1]),
    time: writtenTime(m[2]!),
  }));
  const records: EvtxRecord[] = [];
  const diffs: string[] = [];
  for (const it of parseEvtxBuffer(readFileSync(file), name)) {
    if (it.kind === 'record') records.push(it.record);
    else diffs.push(`${it.issue.location}: ${it.issue.code} ${it.issue.message}`);
  }
  if (records.length !== refEvents.length)
    diffs.push(`${name}: ${records.length} records, evtxexport has ${refEvents.length}`);
  if (textOut && refHeaders.length !== refEvents.length)
    diffs.push(`${name}: evtxexport text mode lists ${refHeaders.length} records`);
  records.forEach((r, i) => {
    const where = `${name} record ${r.recordId}`;
    const h = refHeaders[i];
    if (h && (h.id !== r.recordId || h.time !== r.timestamp))
      diffs.push(`${where}: header ${r.recordId} ${r.timestamp} != ${h.id} ${h.time}`);
    const ref = refEvents[i];
    if (ref === undefined) return;
    const a = ref.split('\n').map(normLine);
    const b = renderXml(r).split('\n').map(normLine);
    const line = a.findIndex((l, j) => l !== b[j]);
    if (line >= 0 || a.length !== b.length)
      diffs.push(`${where}: XML line ${line}: ${a[line]} != ${b[line]}`);
    compareJson(ref, r, where, diffs);
  });
  return { records: records.length, diffs };
}

const HEADER_EVERY = 5;
const evtxexport = spawnSync('evtxexport', ['-V']);

test('every corpus file matches evtxexport', { timeout: 300_000 }, async (t) => {
  if (!existsSync(CORPUS)) return t.skip(`corpus not found at ${CORPUS}`);
  if (evtxexport.error) return t.skip('evtxexport (Debian package libevtx-utils) is not installed');
  const files = evtxFilesUnder(CORPUS);
  assert.ok(files.length > 0);
  let records = 0;
  const diffs: string[] = [];
  // Two evtxexport processes at a time: the comparison waits mostly on them.
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const i = next++;
      const r = await compareFile(files[i]!, i % HEADER_EVERY === 0);
      records += r.records;
      diffs.push(...r.diffs);
    }
  };
  await Promise.all([worker(), worker()]);
  t.diagnostic(`${files.length} files, ${records} records compared`);
  assert.deepEqual(diffs.slice(0, 20), [], `${diffs.length} differences`);
  assert.ok(records > 8000);
});
