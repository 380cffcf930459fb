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
