/**
 * The web console end to end, in Debian's Chromium (playwright-core, never a
 * downloaded browser), against a real `deminer up` (server + this machine's
 * agent) on a fresh data folder: log in, this host reporting, a simulated
 * hidden miner's finding arriving live, filters in the address, the detail
 * view, acknowledging, a viewer who sees no actions (and whose forced
 * request is refused), no console errors and no serious or critical axe-core
 * violation on any page. Screenshots of every page at 1366×768 go to
 * test-output/console/.
 *
 * A serial test: it runs a browser, the server, the agent's scans and a
 * CPU-burning miner simulator at once, and a 2-core machine should not run
 * other tests beside that.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import {
  cannotRun,
  cleanup,
  dropSim,
  onCleanup,
  REPO,
  runDeminer,
  startPool,
  startSim,
} from '../sim/harness.ts';
import {
  chromiumMissing,
  describeViolations,
  ensureConsoleBuilt,
  launchChromium,
  seriousViolations,
  startUp,
  type Up,
  VIEWPORT,
} from './browser.ts';

const SHOTS = join(REPO, 'test-output/console');
const reason = chromiumMissing() ?? cannotRun();

interface ApiFinding {
  fingerprint: string;
  severity: string;
  acknowledged: boolean;
  rule: { id: string; name: string };
  host: { name: string };
  threat: { technique: string[] };
  process?: { pid?: number };
}
interface ApiHost {
  id: string;
  name: string;
  status: string;
  agent: boolean;
}

async function call(
  up: Up,
  path: string,
  token: string,
  init: { method?: string; body?: unknown } = {},
): Promise<{ status: number; body: unknown }> {
  const r = await fetch(`${up.url}/api/v1${path}`, {
    method: init.method ?? 'GET',
    headers: {
      authorization: `Bearer ${token}`,
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await r.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: kept as text for the assertion message.
  }
  return { status: r.status, body };
}

/** Polls until `ok` holds; never a fixed sleep (a loaded CI machine is slow, an idle one fast). */
async function until<T>(
  what: string,
  ok: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 60_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await ok();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Console errors and uncaught exceptions of a browser context, kept per page visited. */
class ErrorLog {
  readonly errors: string[] = [];
  #where = '(start)';
  at(where: string): void {
    this.#where = where;
  }
  readonly #expected: RegExp[] = [];
  /** The next console error matching `re` is one the test provoked on purpose (a refused request). */
  expect(re: RegExp): void {
    this.#expected.push(re);
  }
  watch(page: Page): void {
    page.on('console', (m) => {
      const text = `${m.text()} ${m.location().url}`;
      const i = this.#expected.findIndex((re) => re.test(text));
      if (m.type() === 'error' && i >= 0) {
        this.#expected.splice(i, 1);
        return;
      }
      if (m.type() === 'error')
        this.errors.push(`${this.#where}: console error: ${m.text()} (${m.location().url})`);
    });
    page.on('pageerror', (e) => this.errors.push(`${this.#where}: uncaught: ${e.message}`));
  }
}

if (reason) {
  // Locally a missing browser (or gcc, for the miner simulator) skips with the reason; CI installs both.
  if (process.env.CI) {
    test('web console end to end (Chromium)', () => {
      assert.fail(`cannot run under CI: ${reason}`);
    });
  } else {
    process.stdout.write(`# skipped: ${reason}\n`);
    test('web console end to end (Chromium)', { skip: reason }, () => {});
  }
} else {
  describe('web console end to end (Chromium)', { timeout: 900_000 }, () => {
    let data: string;
    let work: string;
    let up: Up;
    let browser: Browser;
    let admin: BrowserContext;
    let page: Page;
    let adminLog: ErrorLog;
    let viewerToken: string;
    let sensorToken: string;
    let host: ApiHost;
    let simFinding: ApiFinding;
    let seeded: ApiFinding;
    const violations: string[] = [];
    const overflows: string[] = [];
    const shots: string[] = [];

    /** Axe, the width, and a screenshot of the page as it is now. */
    async function audit(p: Page, name: string): Promise<void> {
      const v = await seriousViolations(p);
      if (v.length > 0) violations.push(`${name}:\n${describeViolations(v)}`);
      // Usable at 1366×768: nothing makes the page scroll sideways.
      const wide = await p.evaluate(() => {
        const doc = (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } })
          .document;
        return doc.documentElement.scrollWidth;
      });
      if (wide > VIEWPORT.width) overflows.push(`${name}: ${wide} px wide`);
      const file = join(SHOTS, `${name}.png`);
      await p.screenshot({ path: file, fullPage: true });
      shots.push(file);
    }

    /** Opens a console path as a person would (address bar), waits for its content, then audits it. */
    async function visit(p: Page, log: ErrorLog, path: string, name: string, ready: string): Promise<void> {
      log.at(path);
      await p.goto(`${up.url}${path}`, { waitUntil: 'domcontentloaded' });
      await p.locator(ready).first().waitFor({ state: 'visible', timeout: 60_000 });
      await until(
        `${path} to finish loading`,
        async () => (await p.locator('[aria-busy="true"]').count()) === 0,
      );
      await audit(p, name);
    }

    async function login(p: Page, token: string): Promise<void> {
      await p.getByLabel('API token').fill(token);
      await p.getByRole('button', { name: 'Log in' }).click();
    }

    before(async () => {
      ensureConsoleBuilt();
      mkdirSync(SHOTS, { recursive: true });
      data = mkdtempSync(join(tmpdir(), 'deminer-console-'));
      // The dropper's favourite place: a hidden folder under /tmp.
      work = mkdtempSync('/tmp/.deminer-console-');
      onCleanup(() => rmSync(work, { recursive: true, force: true }));
      onCleanup(() => rmSync(data, { recursive: true, force: true }));
      up = await startUp(data, ['--interval', '2s']);
      const viewer = await runDeminer([
        'token',
        'create',
        '--role',
        'viewer',
        '--name',
        'e2e viewer',
        '--data',
        data,
      ]);
      assert.equal(viewer.status, 0, viewer.stderr);
      viewerToken = viewer.stdout.trim();
      const sensor = await runDeminer([
        'token',
        'create',
        '--role',
        'sensor',
        '--name',
        'e2e sensor',
        '--data',
        data,
      ]);
      assert.equal(sensor.status, 0, sensor.stderr);
      sensorToken = sensor.stdout.trim();
      browser = await launchChromium();
      admin = await browser.newContext({ viewport: VIEWPORT });
      admin.setDefaultTimeout(60_000);
      adminLog = new ErrorLog();
      page = await admin.newPage();
      adminLog.watch(page);
    });

    after(async () => {
      await browser?.close().catch(() => undefined);
      await up?.stop();
      cleanup();
      if (shots.length > 0) process.stdout.write(`# screenshots: ${SHOTS} (${shots.length} pages)\n`);
    });

    test('the console is served at / and at deep links, under a CSP that allows only this origin', async () => {
      for (const path of ['/', '/findings/0123456789abcdef', '/hosts/some-host?status=stale']) {
        const r = await fetch(`${up.url}${path}`);
        assert.equal(r.status, 200, `GET ${path}`);
        assert.match(r.headers.get('content-type') ?? '', /text\/html/, path);
        assert.match(await r.text(), /<div id="root">/, `${path} is the console's index.html`);
        const csp = r.headers.get('content-security-policy') ?? '';
        assert.match(csp, /script-src 'self'/, `${path} has the CSP: ${csp}`);
      }
    });

    test('refuses an unknown token and a sensor token with a clear message', async () => {
      // Refusals are expected here: a context of its own, whose console shows the refused requests.
      const ctx = await browser.newContext({ viewport: VIEWPORT });
      try {
        const p = await ctx.newPage();
        await p.goto(`${up.url}/findings`);
        await login(p, 'dm_this-token-does-not-exist-0000000000000000000');
        await p.getByRole('alert').filter({ hasText: 'does not know this token' }).waitFor();
        await login(p, sensorToken);
        await p.getByRole('alert').filter({ hasText: 'sensor token' }).waitFor();
        assert.equal(await p.locator('nav[aria-label="Main"]').count(), 0, 'still logged out');
        adminLog.at('/login');
        await audit(p, 'login-refused');
      } finally {
        await ctx.close();
      }
    });

    test('an admin logs in with the token `deminer up` printed, and lands on the overview', async () => {
      adminLog.at('/login');
      await page.goto(`${up.url}/`);
      await audit(page, 'login');
      await login(page, up.token);
      await page.locator('[data-testid="overview"]').waitFor();
      assert.equal(await page.getByRole('link', { name: 'Settings' }).count(), 1, 'an admin sees Settings');
      assert.equal(new URL(page.url()).pathname, '/');
      await page.locator('[data-testid="live"]').filter({ hasText: 'Live' }).waitFor();
    });

    test("this machine's agent reports, and the hosts page shows it", async () => {
      host = await until('the local agent to report', async () => {
        const r = await call(up, '/hosts', up.token);
        const items = (r.body as { items?: ApiHost[] }).items ?? [];
        return items.find((h) => h.agent && h.status === 'reporting');
      });
      adminLog.at('/hosts');
      await page.getByRole('link', { name: 'Hosts', exact: true }).click();
      const row = page.locator(`tr[data-host="${host.name}"]`);
      await row.waitFor();
      await row.filter({ hasText: 'reporting' }).waitFor();
      // Sorted by the server: the header's button puts the order in the address.
      await page.getByRole('button', { name: /Open findings/ }).click();
      await page.waitForURL(
        (u) => u.searchParams.get('sort') === 'open' && u.searchParams.get('order') === 'desc',
      );
      await page.locator('th[aria-sort="descending"]').filter({ hasText: 'Open findings' }).waitFor();
      await row.waitFor();
    });

    test('a hidden miner starts: its finding appears in the findings list live, without a reload', async () => {
      // Seeded beside it: a low finding of another host, to filter away and to check safe rendering with.
      const fp = randomBytes(16).toString('hex');
      const seed = await call(up, '/findings', up.token, {
        method: 'POST',
        body: {
          items: [
            {
              id: randomUUID(),
              '@timestamp': new Date().toISOString(),
              fingerprint: fp,
              rule: { id: 'e2e.seeded', name: 'Seeded PowerShell download', ruleset: 'sigma' },
              severity: 'low',
              threat: { technique: ['T1059.001', 'T1496'] },
              host: { name: 'seeded-host' },
              message: 'A seeded finding <b>not bold</b>',
              evidence: {
                command_line: '<img src=x onerror="window.__pwned=1">',
                note: '<script>window.__pwned=2</script>',
              },
            },
          ],
        },
      });
      assert.equal(seed.status, 202, JSON.stringify(seed.body));

      adminLog.at('/findings');
      await page.getByRole('link', { name: 'Findings', exact: true }).click();
      await page.locator('[data-testid="findings-table"]').waitFor();
      await page.locator(`tr[data-fingerprint="${fp}"]`).waitFor();
      await page.evaluate(() => {
        (globalThis as unknown as { __sameDocument: boolean }).__sameDocument = true;
      });

      const pool = await startPool();
      const sim = await startSim({
        exe: dropSim(work, 'kswapd0'),
        argv0: 'kswapd0',
        env: {
          SIM_POOL: `127.0.0.1:${pool.port}`,
          SIM_DUTY: '0.3',
          SIM_NAME: 'kswapd0',
          SIM_DELETE: '1',
          SIM_SECONDS: '600',
        },
      });
      onCleanup(() => sim.child.kill('SIGKILL'));
      simFinding = await until(
        "the agent to report the miner's finding",
        async () => {
          const r = await call(up, `/findings?host=${encodeURIComponent(host.name)}&limit=500`, up.token);
          const items = (r.body as { items?: ApiFinding[] }).items ?? [];
          return items.find((f) => f.process?.pid === sim.pid && ['high', 'critical'].includes(f.severity));
        },
        120_000,
      );
      await page.locator(`tr[data-fingerprint="${simFinding.fingerprint}"]`).waitFor({ timeout: 60_000 });
      assert.equal(
        await page.evaluate(() => (globalThis as unknown as { __sameDocument?: boolean }).__sameDocument),
        true,
        'the row arrived in the same document (no reload)',
      );
      const seededRes = await call(up, `/findings/${fp}`, up.token);
      seeded = seededRes.body as ApiFinding;
      await audit(page, 'findings');
    });

    test('filters go into the address and narrow the list', async () => {
      const rows = page.locator('[data-testid="findings-table"] tbody tr[data-fingerprint]');
      const before = await rows.count();
      assert.ok(before >= 2, `at least the miner's and the seeded finding (${before})`);
      const sev = simFinding.severity;
      await page.getByRole('checkbox', { name: sev, exact: true }).check();
      await page.waitForURL((u) => u.searchParams.get('severity') === sev);
      await until(
        'the list to narrow',
        async () => (await page.locator(`tr[data-fingerprint="${seeded.fingerprint}"]`).count()) === 0,
      );
      const severities = await page
        .locator('[data-testid="findings-table"] tbody tr[data-fingerprint] .sev')
        .allTextContents();
      assert.ok(
        severities.length > 0 && severities.every((s) => s === sev),
        `only ${sev}: ${severities.join(', ')}`,
      );

      await page.getByLabel('Host', { exact: true }).fill(host.name);
      await page.getByRole('button', { name: 'Apply' }).click();
      await page.waitForURL(
        (u) => u.searchParams.get('host') === host.name && u.searchParams.get('severity') === sev,
      );
      await page.locator(`tr[data-fingerprint="${simFinding.fingerprint}"]`).waitFor();
      const hosts = await page
        .locator('[data-testid="findings-table"] tbody tr[data-fingerprint] td.host-cell')
        .allTextContents();
      assert.ok(
        hosts.every((h) => h === host.name),
        hosts.join(', '),
      );

      // A deep link with the same filters gives the same list.
      const url = page.url();
      await page.goto(url);
      await page.locator(`tr[data-fingerprint="${simFinding.fingerprint}"]`).waitFor();
      assert.equal(await page.getByRole('checkbox', { name: sev, exact: true }).isChecked(), true);
      assert.equal(await page.getByLabel('Host', { exact: true }).inputValue(), host.name);
      await audit(page, 'findings-filtered');
    });

    test('the detail view: message, triage, ATT&CK links, evidence as text', async () => {
      adminLog.at(`/findings/${simFinding.fingerprint}`);
      await page.locator(`tr[data-fingerprint="${simFinding.fingerprint}"] a`).first().click();
      await page.waitForURL((u) => u.pathname === `/findings/${simFinding.fingerprint}`);
      const detail = page.locator('[data-testid="finding-detail"]');
      await detail.waitFor();
      await until(
        'the triage note',
        async () => (await page.locator('[aria-labelledby="triage"] [aria-busy]').count()) === 0,
      );
      for (const t of simFinding.threat.technique) {
        const [id, sub] = t.split('.');
        const href = `https://attack.mitre.org/techniques/${id}/${sub ? `${sub}/` : ''}`;
        assert.equal(await detail.locator(`a[href="${href}"]`).count(), 1, `link for ${t} → ${href}`);
      }
      await audit(page, 'finding-detail');

      // The seeded finding: a sub-technique, and evidence written by "the attacker".
      await page.goto(`${up.url}/findings/${seeded.fingerprint}`);
      await detail.waitFor();
      const links = await detail
        .locator('a.technique')
        .evaluateAll((as) => as.map((a) => a.getAttribute('href')));
      assert.deepEqual(links.sort(), [
        'https://attack.mitre.org/techniques/T1059/001/',
        'https://attack.mitre.org/techniques/T1496/',
      ]);
      const evidence = await page.locator('[data-testid="evidence"]').textContent();
      assert.match(evidence ?? '', /<img src=x onerror=/, 'the markup is shown as text');
      assert.equal(
        await page.locator('[data-testid="finding-detail"] img').count(),
        0,
        'no element made of it',
      );
      assert.equal(await detail.locator('b').count(), 0, 'the message is text too');
      assert.equal(
        await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned),
        undefined,
      );
      await audit(page, 'finding-detail-seeded');
    });

    test('acknowledging from the list', async () => {
      adminLog.at('/findings');
      await page.goto(`${up.url}/findings?host=${encodeURIComponent(host.name)}`);
      const row = page.locator(`tr[data-fingerprint="${simFinding.fingerprint}"]`);
      await row.waitFor();
      await row.getByRole('checkbox').check();
      await page.getByRole('button', { name: /Acknowledge selected \(1\)/ }).click();
      await page.locator('output').filter({ hasText: 'Acknowledged 1 finding.' }).waitFor();
      await row.waitFor({ state: 'detached' });
      const r = await call(up, `/findings/${simFinding.fingerprint}`, up.token);
      assert.equal((r.body as ApiFinding).acknowledged, true);
      await page.getByLabel('State').selectOption('acknowledged');
      await page.waitForURL((u) => u.searchParams.get('state') === 'acknowledged');
      await row.filter({ hasText: 'acknowledged' }).waitFor();
    });

    test('every page as an admin: no console error, no serious accessibility violation', async () => {
      await visit(page, adminLog, '/', 'overview', '[data-testid="overview"]');
      await visit(page, adminLog, '/hosts', 'hosts', '[data-testid="hosts-table"]');
      await visit(page, adminLog, `/hosts/${encodeURIComponent(host.id)}`, 'host', '.chart canvas');
      await visit(page, adminLog, '/findings', 'findings-open', '[data-testid="findings-table"]');
      await visit(page, adminLog, '/rules', 'rules', '[data-testid="rules-table"]');
      // The incident board lists an incident (opened here by hand; the simulator's may be there too).
      const opened = await call(up, '/incidents', up.token, {
        method: 'POST',
        body: { title: 'e2e user report', host: 'e2e-laptop' },
      });
      assert.equal(opened.status, 201, JSON.stringify(opened.body));
      await visit(page, adminLog, '/incidents', 'incidents', '[data-testid="incident-board"]');
      await page.getByRole('link', { name: 'e2e user report' }).waitFor();
      // Its page: phase actions, and the evidence and clean-up panel (nothing asked yet).
      await visit(
        page,
        adminLog,
        `/incidents/${encodeURIComponent(String((opened.body as { id: string }).id))}`,
        'incident',
        '[data-testid="incident-response"]',
      );
      await page.getByRole('button', { name: 'Collect evidence' }).waitFor();
      await page.getByRole('button', { name: 'Eradicate' }).waitFor();
      assert.equal(
        await page.locator('[data-testid="incident-response"] .muted').count(),
        2,
        'no task, no evidence',
      );
      // The overview's cost of this month counts that incident (its host sends no samples: not measured).
      await visit(page, adminLog, '/', 'overview-month', '[data-testid="month-cost"]');
      assert.match(
        (await page.locator('[data-testid="month-cost"]').textContent()) ?? '',
        /Incidents\s*\d+ opened.*Cost.*(not measured|\d)/s,
      );
      await visit(
        page,
        adminLog,
        '/settings',
        'settings',
        '#tokens ~ table, section[aria-labelledby="tokens"] table',
      );
      // No intel config on this server: the feeds section says how to add feeds.
      await page.locator('[data-testid="intel-not-configured"]').waitFor();

      // Settings: a new token is shown once; an enrolment secret comes with its install command.
      await page.getByLabel('Name').fill('e2e made in the console');
      await page.getByRole('button', { name: 'Create token' }).click();
      const shown = page.locator('[data-testid="new-token"] input');
      await shown.waitFor();
      assert.match(await shown.inputValue(), /^dm_/);
      await page.getByRole('button', { name: 'Create secret' }).click();
      const install = page.locator('[data-testid="new-enrolment"] textarea');
      await install.waitFor();
      assert.match(await install.inputValue(), /deminer agent .*--enroll \S+/);
      await audit(page, 'settings-created');

      // Revoking takes a second press; the list then says so.
      const made = page.locator('tr').filter({ hasText: 'e2e made in the console' });
      await made.getByRole('button', { name: 'Revoke' }).click();
      await made.getByRole('button', { name: 'Revoke e2e made in the console' }).click();
      await made.filter({ hasText: 'revoked' }).waitFor();

      // The fleet's agent configuration: a broken allow-list is refused with the server's reason, a good one saved.
      await page.getByLabel('Scan interval (seconds, 5–3600)').fill('10');
      await page
        .getByLabel('Application allow-list (XML)')
        .fill(
          '<ApplicationControl>\n<AllowedProcesses>\n<Process name="x" hash="not-a-hash"/>\n</AllowedProcesses>\n</ApplicationControl>',
        );
      adminLog.expect(/status of 400 .*\/api\/v1\/agent-config$/);
      await page.getByRole('button', { name: 'Save configuration' }).click();
      await page
        .locator('output.notice-error')
        .filter({ hasText: /allowlist line \d+/ })
        .waitFor();
      await page.getByLabel('Application allow-list (XML)').fill('');
      await page.getByLabel(/Never alert/).fill('deminer.agent.new_executable');
      await page.getByRole('button', { name: 'Save configuration' }).click();
      await page.locator('output').filter({ hasText: 'Saved' }).waitFor();
      const cfg = await call(up, '/agent-config', up.token);
      assert.deepEqual((cfg.body as { config: unknown }).config, {
        interval_s: 10,
        never_alert: ['deminer.agent.new_executable'],
      });
      await audit(page, 'settings-agent-config');
      assert.deepEqual(adminLog.errors, [], 'no console errors');
    });

    test('a viewer sees no actions, and the API refuses a forced acknowledgement', async () => {
      const ctx = await browser.newContext({ viewport: VIEWPORT });
      ctx.setDefaultTimeout(60_000);
      const log = new ErrorLog();
      try {
        const p = await ctx.newPage();
        log.watch(p);
        log.at('/login');
        await p.goto(`${up.url}/findings?state=all`);
        await login(p, viewerToken);
        await p.locator('[data-testid="findings-table"]').waitFor();
        assert.equal(new URL(p.url()).pathname, '/findings', 'the deep link survives the login');
        assert.equal(await p.locator('.who').textContent(), 'viewer');
        await p.locator(`tr[data-fingerprint="${seeded.fingerprint}"]`).waitFor();
        assert.equal(await p.locator('[data-action]').count(), 0, 'no action buttons');
        assert.equal(await p.locator('[data-testid="findings-table"] input[type="checkbox"]').count(), 0);
        assert.equal(await p.getByRole('link', { name: 'Settings' }).count(), 0);
        await audit(p, 'viewer-findings');

        await visit(
          p,
          log,
          `/findings/${seeded.fingerprint}`,
          'viewer-finding-detail',
          '[data-testid="finding-detail"]',
        );
        assert.equal(await p.getByRole('button', { name: 'Acknowledge' }).count(), 0);
        await visit(p, log, `/hosts/${encodeURIComponent(host.id)}`, 'viewer-host', '.chart canvas');
        assert.equal(await p.locator('[data-testid="host-actions"]').count(), 0, 'no response actions');
        await visit(p, log, '/settings', 'viewer-settings', 'text=Settings are for admins');
        await visit(p, log, '/', 'viewer-overview', '[data-testid="overview"]');

        const forced = await p.request.post(`${up.url}/api/v1/findings/ack`, {
          headers: { authorization: `Bearer ${viewerToken}` },
          data: { fingerprints: [seeded.fingerprint] },
        });
        assert.equal(forced.status(), 403, 'a viewer cannot acknowledge, whatever the page shows');
        const still = await call(up, `/findings/${seeded.fingerprint}`, up.token);
        assert.equal((still.body as ApiFinding).acknowledged, false);
        assert.deepEqual(log.errors, [], 'no console errors');
      } finally {
        await ctx.close();
      }
    });

    test('no page has a serious or critical accessibility violation, nor scrolls sideways at 1366×768', () => {
      assert.deepEqual(violations, []);
      assert.deepEqual(overflows, []);
    });

    test('when the server goes away, the header says when the data was last updated', async () => {
      await page.goto(`${up.url}/findings`);
      await page.locator('[data-testid="live"]').filter({ hasText: 'Live' }).waitFor();
      await up.stop();
      await page
        .locator('[data-testid="live"]')
        .filter({ hasText: /Last updated \d\d:\d\d:\d\d \(stream down, retrying/ })
        .waitFor({ timeout: 60_000 });
      await page.screenshot({ path: join(SHOTS, 'stream-down.png') });
    });
  });
}
