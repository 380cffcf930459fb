import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { parseDuration, parseYamlStrict } from './config.ts';
import { UsageError } from './errors.ts';

const schema = z.strictObject({ scan: z.strictObject({ window: z.string(), ports: z.array(z.number()) }) });

test('strict YAML accepts a valid document', () => {
  const v = parseYamlStrict('scan:\n  window: 10s\n  ports: [3333]\n', schema, 'c.yml');
  assert.deepEqual(v, { scan: { window: '10s', ports: [3333] } });
});

test('unknown keys are errors that name the line', () => {
  assert.throws(
    () => parseYamlStrict('scan:\n  window: 10s\n  ports: [1]\n  colour: red\n', schema, 'c.yml'),
    (e: unknown) =>
      e instanceof UsageError &&
      e.code === 'CONFIG_INVALID' &&
      /c\.yml:/.test(e.message) &&
      /colour/.test(e.message),
  );
});

test('wrong types name the line of the value', () => {
  assert.throws(
    () => parseYamlStrict('scan:\n  window: 10s\n  ports: [1, "x"]\n', schema, 'c.yml'),
    (e: unknown) => e instanceof UsageError && e.location === 'c.yml:3',
  );
});

test('broken YAML is a CONFIG_BAD_YAML error with a line', () => {
  assert.throws(
    () => parseYamlStrict('scan:\n  window: [\n', schema, 'c.yml'),
    (e: unknown) =>
      e instanceof UsageError && e.code === 'CONFIG_BAD_YAML' && /^c\.yml:\d+$/.test(e.location ?? ''),
  );
});

test('durations', () => {
  assert.equal(parseDuration('10s'), 10_000);
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('1.5m'), 90_000);
  assert.throws(() => parseDuration('ten'), UsageError);
});

test('an alias bomb, even under a key nobody reads, is refused at its line; a huge file is refused', () => {
  let bomb = 'scan:\n  window: 10s\n  ports: [3333]\nx0: &x0 [a, a, a, a, a, a, a, a, a]\n';
  for (let i = 1; i < 9; i++)
    bomb += `x${i}: &x${i} [${Array(9)
      .fill(`*x${i - 1}`)
      .join(', ')}]\n`;
  assert.throws(
    () => parseYamlStrict(bomb, schema, 'c.yml'),
    (e: unknown) => e instanceof UsageError && e.code === 'CONFIG_BAD_YAML' && e.location === 'c.yml:5',
  );
  assert.throws(
    () => parseYamlStrict(`# ${'x'.repeat(2 * 1024 * 1024)}\n`, schema, 'c.yml'),
    (e: unknown) => e instanceof UsageError && e.code === 'CONFIG_TOO_LARGE' && e.location === 'c.yml:1',
  );
});

test('an alias inside the value it names is refused at its line, without walking the document per alias', () => {
  const text = `scan:\n  window: 10s\nd: &d [${Array(2000).fill('*d').join(', ')}]\n`;
  assert.throws(
    () => parseYamlStrict(text, schema, 'c.yml'),
    (e: unknown) =>
      e instanceof UsageError &&
      e.code === 'CONFIG_BAD_YAML' &&
      e.location === 'c.yml:3' &&
      /refers to a value that contains it/.test(e.message),
  );
});

test('a repeated key is refused at its second line, also in a map of 50,000 keys', () => {
  assert.throws(
    () => parseYamlStrict('scan:\n  window: 10s\n  window: 20s\n', schema, 'c.yml'),
    (e: unknown) => e instanceof UsageError && e.code === 'CONFIG_BAD_YAML' && e.location === 'c.yml:3',
  );
  // yaml's own uniqueKeys compares every key with every other: 50,000 keys took about 15 s.
  const big = `${Array.from({ length: 50_000 }, (_, i) => `k${i}: 1`).join('\n')}\nk7: 2\n`;
  assert.throws(
    () => parseYamlStrict(big, schema, 'c.yml'),
    (e: unknown) => e instanceof UsageError && e.code === 'CONFIG_BAD_YAML' && e.location === 'c.yml:50001',
  );
});

test('an alias with no anchor before it, and a collection used as a key, are refused with their line', () => {
  assert.throws(
    () => parseYamlStrict('scan:\n  window: *w\n', schema, 'c.yml'),
    (e: unknown) => e instanceof UsageError && e.code === 'CONFIG_BAD_YAML' && e.location === 'c.yml:2',
  );
  assert.throws(
    () => parseYamlStrict('scan: {}\n? [a, b]\n: 1\n', schema, 'c.yml'),
    (e: unknown) => e instanceof UsageError && e.code === 'CONFIG_BAD_YAML' && e.location === 'c.yml:2',
  );
});

test('a few aliases in a config still work', () => {
  const s = z.object({ a: z.array(z.string()), b: z.array(z.string()) });
  assert.deepEqual(parseYamlStrict('a: &l [x, y]\nb: *l\n', s, 'c.yml'), { a: ['x', 'y'], b: ['x', 'y'] });
});
