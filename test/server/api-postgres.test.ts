/**
 * The API suite on PostgreSQL (DEMINER_TEST_DATABASE, default
 * postgres://postgres@127.0.0.1:5432/test), each test in a schema of its
 * own. Without a reachable server the suite is skipped with the reason
 * printed, except under CI, where that is a failure.
 */
import { test } from 'node:test';
import { apiSuite } from './api.suite.ts';
import { PG_URL, postgresOpener, postgresUnavailable } from './helpers.ts';

const unavailable = await postgresUnavailable(PG_URL);
if (unavailable === undefined) {
  apiSuite('postgres', postgresOpener(PG_URL));
} else if (process.env.CI) {
  test('PostgreSQL is reachable (required under CI)', () => {
    throw new Error(unavailable);
  });
} else {
  process.stdout.write(`# skipping the PostgreSQL API suite: ${unavailable}\n`);
  test('HTTP API on postgres', { skip: unavailable }, () => undefined);
}
