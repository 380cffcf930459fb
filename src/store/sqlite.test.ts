import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { sql } from 'kysely';
import { openStore, StoreConfigError } from './index.ts';
import { createSqliteStore, SQLITE_FILE } from './sqlite.ts';
import { storeSuite } from './store.suite.ts';
import { taskSuite } from './tasks.suite.ts';

const root = mkdtempSync(join(tmpdir(), 'deminer-store-'));
let n = 0;
const nextDir = () => join(root, `db${n++}`, 'data');
after(() => rmSync(root, { recursive: true, force: true }));

storeSuite('sqlite', () => openStore({ dataDir: nextDir() }), {
  unmigrated: async () => createSqliteStore(nextDir()),
});
taskSuite('sqlite', () => openStore({ dataDir: nextDir() }));

test('sqlite: private folder and file, WAL, reopen keeps data', async () => {
  const dir = nextDir();
  const s = await openStore({ dataDir: dir });
  assert.equal(s.kind, 'sqlite');
  const { token } = await s.createToken({ role: 'admin', name: 'a' });
  await s.close();
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  assert.equal(statSync(join(dir, SQLITE_FILE)).mode & 0o777, 0o600);
  const again = await openStore({ dataDir: dir });
  try {
    assert.ok(await again.verifyToken(token), 'data survives a reopen; migrations are not re-run');
    const raw = createSqliteStore(dir);
    try {
      const { rows } = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(raw.db);
      assert.equal(rows[0]?.journal_mode, 'wal');
    } finally {
      await raw.close();
    }
  } finally {
    await again.close();
  }
});

test('sqlite: host gaps are configurable', async () => {
  const s = await openStore({ dataDir: nextDir(), gaps: { staleMs: 1000, offlineMs: 2000 } });
  try {
    const h = await s.touchHost({ name: 'x', at: new Date(Date.now() - 1500).toISOString() });
    assert.equal(h.status, 'stale');
  } finally {
    await s.close();
  }
});

test('openStore refuses a database URL it does not know rather than using SQLite', async () => {
  await assert.rejects(
    openStore({ dataDir: nextDir(), database: 'postgress://u:secret@h/db' }),
    (e: unknown) => {
      assert.ok(e instanceof StoreConfigError);
      assert.ok(!e.message.includes('secret'), 'no password in the message');
      return true;
    },
  );
});
