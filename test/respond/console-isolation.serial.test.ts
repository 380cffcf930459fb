/**
 * The console's host page acts on the isolation API: an analyst isolates a
 * host through a confirmation dialog and sees its state change live, then
 * releases it; a refusal (the never-isolate list) shows in the dialog; a
 * viewer sees the state but no action. Debian's Chromium through
 * playwright-core (test/console/browser.ts), the console built into a
 * temporary folder, the Ryu stand-in as the backend.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import react from '@vitejs/plugin-react';
import type { Page } from 'playwright-core';
import { build } from 'vite';
import { isolationSettings } from '../../src/respond/isolate/server-config.ts';
import { buildServer } from '../../src/server/index.ts';
import { openStore } from '../../src/store/index.ts';
import {
  chromiumMissing,
  describeViolations,
  launchChromium,
  seriousViolations,
  VIEWPORT,
} from '../console/browser.ts';
import { REPO } from '../sim/harness.ts';
import { startRyu } from './fake-controllers.ts';
import { skipOrFail } from './netns.ts';

async function login(p: Page, token: string): Promise<void> {
  await p.getByLabel('API token').fill(token);
  await p.getByRole('button', { name: 'Log in' }).click();
}

test(
  'console: isolate and release from the host page, with a confirmation; viewers see the state only',
  { timeout: 180_000 },
  async (t) => {
    if (skipOrFail(t, chromiumMissing())) return;
    const dir = mkdtempSync(join(tmpdir(), 'deminer-console-iso-'));
    const ryu = await startRyu([1]);
    const store = await openStore({ dataDir: join(dir, 'data') });
    const webRoot = join(dir, 'web');
    await build({
      root: join(REPO, 'web'),
      base: '/',
      configFile: false,
      envDir: false,
      logLevel: 'warn',
      plugins: [react()],
      build: { outDir: webRoot, emptyOutDir: true, target: 'es2022' },
    });
    const app = buildServer({
      store,
      version: '0.0.0-test',
      webRoot,
      intelStateDir: null,
      isolation: {
        settings: isolationSettings({ backends: { ryu: { controller: ryu.url, dpid: 1 } } }, [
          { cidr: '192.0.2.53/32', source: 'the test never_isolate' },
        ]),
        tickMs: 200,
      },
    });
    const browser = await launchChromium();
    try {
      await app.listen({ host: '127.0.0.1', port: 0 });
      const address = app.server.address();
      const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
      const analyst = (await store.createToken({ role: 'analyst', name: 'alice' })).token;
      const viewer = (await store.createToken({ role: 'viewer', name: 'vera' })).token;
      const host = await store.touchHost({
        name: 'web-console-1',
        addresses: ['192.0.2.10'],
        agent: true,
        at: new Date().toISOString(),
      });
      const dc = await store.touchHost({
        name: 'dc-console-1',
        addresses: ['192.0.2.53'],
        agent: true,
        at: new Date().toISOString(),
      });

      const ctx = await browser.newContext({ viewport: VIEWPORT });
      ctx.setDefaultTimeout(30_000);
      const p = await ctx.newPage();
      const errors: string[] = [];
      p.on('pageerror', (e) => errors.push(e.message));
      await p.goto(`${url}/hosts/${encodeURIComponent(host.id)}`);
      await login(p, analyst);
      const state = p.locator('[data-testid="isolation-state"]');
      await state.waitFor();
      assert.equal(await state.getAttribute('data-state'), 'none');
      await p.getByRole('button', { name: 'Isolate host…' }).click();
      const dialog = p.getByRole('dialog', { name: 'Isolate web-console-1?' });
      await dialog.waitFor();
      assert.deepEqual(await seriousViolations(p), [], 'the dialog is accessible');
      // Cancel first: nothing is sent.
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await dialog.waitFor({ state: 'detached' });
      assert.equal(ryu.requests.length, 0);
      await p.getByRole('button', { name: 'Isolate host…' }).click();
      await p.getByLabel('Release').selectOption({ label: 'after 1 hour' });
      await p.getByLabel('Reason (optional)').fill('miner on the console test host');
      await p.getByRole('dialog').getByRole('button', { name: 'Isolate' }).click();
      await p.locator('[data-testid="isolation-state"][data-state="isolated"]').waitFor();
      assert.match((await state.textContent()) ?? '', /isolated \(ryu, 192\.0\.2\.10\)/);
      assert.ok(ryu.rules().length > 0, 'the controller holds the rules');
      const rec = await store.currentIsolation(host.id);
      assert.equal(rec?.requestedBy, 'alice');
      assert.equal(rec?.ttlS, 3600);
      assert.equal(rec?.reason, 'miner on the console test host');

      await p.getByRole('button', { name: 'Release…' }).click();
      await p.getByRole('dialog').getByRole('button', { name: 'Release' }).click();
      await p.locator('[data-testid="isolation-state"][data-state="released"]').waitFor();
      assert.equal(ryu.rules().length, 0);

      // A refusal stays in the dialog, naming the entry.
      await p.goto(`${url}/hosts/${encodeURIComponent(dc.id)}`);
      await p.getByRole('button', { name: 'Isolate host…' }).click();
      await p.getByRole('dialog').getByRole('button', { name: 'Isolate' }).click();
      const alert = p.getByRole('dialog').getByRole('alert');
      await alert.waitFor();
      assert.match(
        (await alert.textContent()) ?? '',
        /never-isolate list \(entry 192\.0\.2\.53\/32 from the test never_isolate\)/,
      );
      await p.keyboard.press('Escape');
      assert.deepEqual(errors, [], 'no page errors');

      const vctx = await browser.newContext({ viewport: VIEWPORT });
      const v = await vctx.newPage();
      await v.goto(`${url}/hosts/${encodeURIComponent(host.id)}`);
      await login(v, viewer);
      await v.locator('[data-testid="isolation-state"][data-state="released"]').waitFor();
      assert.equal(await v.locator('[data-testid="host-actions"]').count(), 0, 'no actions for a viewer');
      assert.equal(await v.locator('[data-action="isolate"]').count(), 0);
      const violations = await seriousViolations(v);
      assert.deepEqual(violations, [], describeViolations(violations));
      await vctx.close();
      await ctx.close();
    } finally {
      await browser.close();
      await app.close();
      await store.close();
      await ryu.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
