import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkPathTemplate, parseBodyTemplate, renderBody, renderPath } from './template.ts';

const target = { ip: '192.0.2.10', family: 4 as const, mac: '02:00:00:00:00:0a' };

test('body templates are parsed first, filled by value and serialised as JSON', () => {
  const t = parseBodyTemplate(
    '{"match":{"src-ip":"{{ip}}","cidr":"{{ prefix }}"},"tags":["{{family}}"],"n":1}',
    '--apply-body',
  );
  assert.deepEqual(renderBody(t, target), {
    match: { 'src-ip': '192.0.2.10', cidr: '192.0.2.10/32' },
    tags: ['ipv4'],
    n: 1,
  });
  // Whatever a value holds, it stays inside its string (values are checked addresses anyway).
  const evil = { ...target, port: '1","x":"y' };
  const out = JSON.stringify(renderBody(parseBodyTemplate('{"p":"{{port}}"}', 'b'), evil));
  assert.deepEqual(JSON.parse(out), { p: '1","x":"y' });
  assert.throws(() => parseBodyTemplate('{"a":', '--apply-body'), /--apply-body must be JSON/);
  assert.throws(
    () => parseBodyTemplate('{"a":"{{shell}}"}', '--apply-body'),
    /unknown placeholder \{\{shell\}\}/,
  );
});

test('path templates are URL-encoded and must be paths', () => {
  assert.equal(renderPath('/rules/{{ip}}/{{mac}}', target), '/rules/192.0.2.10/02%3A00%3A00%3A00%3A00%3A0a');
  assert.throws(() => checkPathTemplate('http://elsewhere/x', '--apply-path'), /must be a path/);
  assert.throws(() => checkPathTemplate('/a b', '--apply-path'), /must be a path/);
});
