import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { openStore } from './index.ts';
import { MIGRATIONS } from './migrations/index.ts';
import { createPostgresStore } from './postgres.ts';
import { storeSuite } from './store.suite.ts';
import { taskSuite } from './tasks.suite.ts';

/**
 * The shared suite on a real PostgreSQL. Every store the suite opens gets
 * its own schema (selected with the connection's search_path), all named
 * after this run and dropped at the end. Without a server this skips with
 * the reason locally and fails under CI.
 */
const URL_ENV = process.env.DEMINER_TEST_DATABASE ?? 'postgres://postgres@127.0.0.1:5432/test';
const RUN = `deminer_test_${randomBytes(5).toString('hex')}`;

function inSchema(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return u.toString();
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:…@');
}

let admin: Kysely<unknown> | undefined;
let unreachable: string | undefined;
try {
  admin = new Kysely<unknown>({
    dialect: new PostgresDialect({
      pool: new pg.Pool({ connectionString: URL_ENV, max: 2, connectionTimeoutMillis: 5000 }),
    }),
  });
  await sql`select 1`.execute(admin);
} catch (e) {
  unreachable = `PostgreSQL at ${redact(URL_ENV)} is unreachable (${e instanceof Error ? e.message : String(e)}); set DEMINER_TEST_DATABASE`;
  await admin?.destroy();
  admin = undefined;
}

if (admin === undefined) {
  test('store: postgres', (t) => {
    if (process.env.CI) assert.fail(unreachable);
    t.diagnostic(unreachable ?? 'unreachable');
    t.skip(unreachable);
  });
} else {
  const db = admin;
  const schemas: string[] = [];
  const newSchema = async (): Promise<string> => {
    const schema = `${RUN}_${schemas.length}`;
    await sql`create schema ${sql.id(schema)}`.execute(db);
    schemas.push(schema);
    return schema;
  };
  after(async () => {
    for (const s of schemas) await sql`drop schema if exists ${sql.id(s)} cascade`.execute(db);
    await db.destroy();
  });

  storeSuite('postgres', async () => openStore({ database: inSchema(URL_ENV, await newSchema()) }), {
    unmigrated: async () => createPostgresStore(inSchema(URL_ENV, await newSchema())),
  });
  taskSuite('postgres', async () => openStore({ database: inSchema(URL_ENV, await newSchema()) }));

  test('postgres: tables and migration records land in the connection schema', async () => {
    const schema = await newSchema();
    const s = await openStore({ database: inSchema(URL_ENV, schema) });
    try {
      assert.equal(s.kind, 'postgres');
      const { rows } = await sql<{ table_name: string }>`
        select table_name from information_schema.tables where table_schema = ${schema} order by table_name`.execute(
        db,
      );
      const names = rows.map((r) => r.table_name);
      for (const t of [
        'audit',
        'enrolments',
        'findings',
        'hosts',
        'ingest_keys',
        'schema_migrations',
        'metrics',
        'metric_rollups',
        'settings',
        'open_findings',
        'finding_sightings',
        'tokens',
      ]) {
        assert.ok(names.includes(t), `${t} in ${schema}`);
      }
      const applied = await sql<{
        name: string;
      }>`select name from ${sql.id(schema, 'schema_migrations')} order by name`.execute(db);
      assert.deepEqual(
        applied.rows.map((r) => r.name),
        // Every migration of the registry (0001 … the newest), in order.
        Object.keys(MIGRATIONS).sort(),
      );
    } finally {
      await s.close();
    }
  });
}
