import assert from 'node:assert/strict';
import { test } from 'node:test';
import { csvCell, csvSink, renderCsv } from './csv.ts';
import { Collected, HOSTILE, hostileFindings, rawControls } from './finding-fixtures.ts';

/** RFC 4180 records, read the way a spreadsheet splits them. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      record.push(field);
      field = '';
    } else if (ch === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
    } else field += ch;
  }
  assert.equal(quoted, false, 'no quote left open');
  assert.equal(field + record.join(''), '', 'the text ends with a record');
  return records;
}

/** What a spreadsheet would evaluate: a cell whose first character, past blanks, starts a formula. */
function evaluates(cell: string): boolean {
  return /^[\s\u3000\ufeff]*[=+\-@＝＋－＠]/.test(cell) || /^[\t\r]/.test(cell);
}

test('formula prefixes are neutralised with a leading quote', () => {
  assert.equal(csvCell(HOSTILE.dde), `'${HOSTILE.dde}`);
  assert.equal(csvCell(HOSTILE.sum), "'@SUM(1)");
  assert.equal(csvCell(HOSTILE.arithmetic), "'-2+3");
  assert.equal(csvCell('+1'), "'+1");
  assert.equal(csvCell('  =1+1'), "'  =1+1", 'also after leading blanks');
  assert.equal(csvCell('\t=1'), "'\\t=1", 'tab escaped, and the cell still neutralised');
  assert.equal(csvCell('\rx'), "'\\rx", 'a leading CR is on the OWASP list by itself');
  assert.equal(csvCell('＝1'), "'＝1", 'fullwidth equals sign');
  assert.equal(csvCell('a=b'), 'a=b', 'only the first character counts');
  assert.equal(csvCell('deminer.process.miner_cmdline'), 'deminer.process.miner_cmdline');
});

test('control characters are escaped, quotes and separators quoted', () => {
  assert.equal(csvCell(HOSTILE.split), 'line1\\nline2');
  assert.equal(csvCell(`a${HOSTILE.clear}`), 'a\\x1b[2J');
  assert.equal(csvCell('a,b'), '"a,b"');
  assert.equal(csvCell('a;b'), '"a;b"', 'semicolon-separated locales read one cell too');
  assert.equal(csvCell('say "hi"'), '"say ""hi"""');
  assert.equal(csvCell('=1,"x"'), `"'=1,""x"""`, 'the quote goes inside the field');
});

test('hostile findings: one line per record, twelve fields each, nothing evaluates, no raw control', () => {
  const findings = hostileFindings();
  const out = renderCsv(findings);
  assert.deepEqual(rawControls(out), []);
  assert.equal(out.split('\n').length, findings.length + 2, 'header, one line per finding, final newline');
  const records = parseCsv(out);
  assert.deepEqual(records[0], [
    'timestamp',
    'severity',
    'rule_id',
    'rule_name',
    'host',
    'subject',
    'message',
    'fingerprint',
    'user',
    'file',
    'techniques',
    'next_step',
  ]);
  assert.equal(records.length, findings.length + 1);
  for (const r of records) {
    assert.equal(r.length, 12);
    for (const cell of r) assert.ok(!evaluates(cell), cell);
  }
  const [, first, second, third] = records;
  assert.equal(first![4], 'host\\x1b]0;pwned\\x07');
  assert.equal(second![3], `'${HOSTILE.dde}`);
  assert.equal(second![4], "'@SUM(1)");
  assert.equal(second![6], "'-2+3");
  assert.equal(third![4], `'\\t${HOSTILE.dde}`);
  assert.equal(third![6], `' @SUM(1), "quoted"; and more`, 'the leading blank is kept after the quote');
  // The next step an attacker wrote into a file name is escaped like the rest.
  assert.equal(first![11], 'kill it evil\\u202egpj.exe');
  assert.equal(first![10], 'T1496');
});

test('the csv sink writes the header and rows at the end', () => {
  const out = new Collected();
  const sink = csvSink({ out });
  assert.equal(sink.machine, true);
  sink.end({ findings: [], issues: [], stats: {} });
  assert.equal(
    out.text,
    'timestamp,severity,rule_id,rule_name,host,subject,message,fingerprint,user,file,techniques,next_step\n',
  );
});
