/**
 * What the console's end-to-end test and render benchmark share: Debian's
 * Chromium driven by playwright-core (never a downloaded browser), `deminer
 * up` in a process of its own, and axe-core.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { REPO } from '../sim/harness.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
export const VIEWPORT = { width: 1366, height: 768 };

/** Why the browser tests cannot run here, or undefined when they can. */
export function chromiumMissing(): string | undefined {
  if (!existsSync(CHROMIUM)) return `Chromium is not installed at ${CHROMIUM} (apt-get install chromium)`;
  return undefined;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000 });
}

/** The console's build: built here when missing (a test run without `npm run build` first). */
export function ensureConsoleBuilt(): void {
  if (existsSync(join(REPO, 'dist/web/index.html'))) return;
  const r = spawnSync(process.execPath, [join(REPO, 'scripts/build.mjs')], { cwd: REPO, stdio: 'inherit' });
  if (r.status !== 0 || !existsSync(join(REPO, 'dist/web/index.html')))
    throw new Error('the console is not built and `node scripts/build.mjs` did not build it');
}

export interface Up {
  child: ChildProcess;
  url: string;
  /** The admin token `up` printed on its first start. */
  token: string;
  stderr: () => string;
  exited: Promise<number | null>;
  stop: () => Promise<void>;
}

/** `deminer up` on a fresh data folder and any free port; resolves once it printed its URL and admin token. */
export async function startUp(data: string, extra: string[] = []): Promise<Up> {
  const child = spawn(
    process.execPath,
    [join(REPO, 'bin/deminer.js'), 'up', '--port', '0', '--data', data, ...extra],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    out += s;
  });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    err += s;
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const deadline = Date.now() + 90_000;
  for (;;) {
    const m = /up on (http:\/\/127\.0\.0\.1:\d+)/.exec(err);
    const t = /^(dm_\S+)\n/.exec(out);
    if (m && t) {
      return {
        child,
        url: m[1]!,
        token: t[1]!,
        stderr: () => err,
        exited,
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) {
            child.kill('SIGINT');
            const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
            await exited;
            clearTimeout(timer);
          }
        },
      };
    }
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`deminer up did not start: ${err}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[] }[];
}

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
let axeSource: string | undefined;

/** axe-core's serious and critical violations on the page as it is now. */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  if (!(await page.evaluate(() => 'axe' in globalThis))) {
    // Evaluated through the debugging protocol rather than added as a <script> (addScriptTag): the
    // console's CSP refuses inline scripts, as it should, and the test does not loosen it.
    axeSource ??= readFileSync(AXE, 'utf8');
    await page.evaluate(axeSource);
  }
  const result = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: (ctx: unknown, o: object) => Promise<unknown> } })
      .axe;
    return axe.run((globalThis as unknown as { document: unknown }).document, {
      resultTypes: ['violations'],
    });
  });
  const violations = (result as { violations: AxeViolation[] }).violations;
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

export function describeViolations(vs: AxeViolation[]): string {
  return vs
    .map(
      (v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')}`,
    )
    .join('\n');
}
