import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import { monthRange } from '../cases/monthly.ts';
import { parseDuration } from '../core/config.ts';
import { DeminerError, UsageError } from '../core/errors.ts';
import { escapeControls } from '../outputs/safe-text.ts';
import { safeJson } from '../pipeline/search-format.ts';
import { EXIT, parseChoice, type RegisterCommand } from './command.ts';
import { withResultOut } from './output-options.ts';

/**
 * `deminer report incident ID` and `deminer report month YYYY-MM`: the
 * server's incident report and monthly summary (docs/incidents.md), as
 * Markdown, a self-contained HTML page, JSON, or a PDF printed from the HTML
 * by Chromium when it is installed. An API client like `isolate --server`:
 * `--server URL` (default DEMINER_SERVER, else the local `deminer up`) and
 * `--token T` (default DEMINER_TOKEN, which keeps it out of the process list).
 */

const FORMATS = ['md', 'html', 'json', 'pdf'] as const;
type Format = (typeof FORMATS)[number];
const DEFAULT_SERVER = 'http://127.0.0.1:7878';
/** Larger answers are not ours. */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;
const INCIDENT_ID = /^inc_[0-9a-f]{12}$/;
/** Chromium: DEMINER_CHROMIUM, else Debian's package. */
const CHROMIUM = '/usr/bin/chromium';

interface ReportCliOptions {
  format: string;
  out?: string;
  /** `--output`, the other commands' name for `--out`. */
  output?: string;
  server?: string;
  token?: string;
  timeout: string;
  quiet?: boolean;
}

function shown(text: string): string {
  const s = text.length > 60 ? `${text.slice(0, 60)}…` : text;
  return JSON.stringify(escapeControls(s));
}

function serverUrl(opts: ReportCliOptions): string {
  const text = opts.server ?? process.env['DEMINER_SERVER'] ?? DEFAULT_SERVER;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(
      'REPORT_BAD_SERVER',
      `--server must be an http:// or https:// URL (got ${shown(text)})`,
      {
        location: '--server',
      },
    );
  }
  if (
    (url.protocol !== 'http:' && url.protocol !== 'https:') ||
    url.username ||
    url.password ||
    url.search ||
    url.hash
  )
    throw new UsageError(
      'REPORT_BAD_SERVER',
      `--server must be an http:// or https:// URL without credentials, query or fragment (got ${shown(text)})`,
      { location: '--server' },
    );
  return url.toString().replace(/\/+$/, '');
}

function tokenOf(opts: ReportCliOptions): string {
  const token = opts.token ?? process.env['DEMINER_TOKEN'];
  if (!token)
    throw new UsageError(
      'REPORT_NO_TOKEN',
      'the server needs a token: --token T or the DEMINER_TOKEN environment variable',
      {
        location: '--token',
      },
    );
  return token;
}

/** GET the report in `format` (PDF is printed from the HTML). Refusals become usage errors naming what was wrong. */
async function fetchReport(
  path: string,
  format: Exclude<Format, 'pdf'>,
  opts: ReportCliOptions,
  what: { name: string; location: string },
): Promise<string> {
  const base = serverUrl(opts);
  const token = tokenOf(opts);
  const timeoutMs = parseDuration(opts.timeout, '--timeout', { max: 600_000 });
  const url = `${base}/api/v1${path}?format=${format}`;
  let res: Response;
  let text: string;
  try {
    res = await fetch(url, {
      headers: {
        Authorization: `Bearer ${token}`,
        Accept: format === 'json' ? 'application/json' : 'text/*',
      },
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    const length = Number(res.headers.get('content-length') ?? 0);
    if (length > MAX_ANSWER_BYTES) throw new Error(`the answer is ${length} bytes, more than a report`);
    text = await res.text();
  } catch (e) {
    throw new UsageError(
      'REPORT_SERVER_UNREACHABLE',
      `GET ${url}: ${e instanceof Error ? e.message : String(e)}`,
      { location: '--server', cause: e },
    );
  }
  if (res.status === 200) return text;
  let error: { code?: unknown; message?: unknown; field?: unknown } = {};
  try {
    const body = JSON.parse(text) as { error?: typeof error };
    error = body.error ?? {};
  } catch {
    // not the API's error shape
  }
  const message = typeof error.message === 'string' ? error.message : `answered ${res.status}`;
  if (res.status === 401 || res.status === 403)
    throw new UsageError(
      'REPORT_SERVER_AUTH',
      `the server refused the token (${res.status}): reports need a viewer, analyst or admin token`,
      {
        location: '--token',
      },
    );
  if (res.status === 404)
    throw new UsageError('REPORT_NOT_FOUND', `the server has no ${what.name}`, { location: what.location });
  if (res.status === 400 || res.status === 422)
    throw new UsageError('REPORT_REFUSED', `the server refused the request: ${message}`, {
      location: typeof error.field === 'string' ? error.field : what.location,
    });
  throw new DeminerError('REPORT_SERVER_ERROR', `GET ${url} answered ${res.status}: ${message}`);
}

/**
 * Prints `html` to `out` with Chromium's headless PDF printer in a
 * throw-away profile. The page holds no script and its own CSP meta tag
 * (default-src 'none') refuses any; `--blink-settings=scriptEnabled=false`
 * cannot be used on top, as it stops --print-to-pdf from writing anything
 * (Chromium 156).
 */
async function printPdf(html: string, out: string, timeoutMs: number): Promise<void> {
  const chromium = process.env['DEMINER_CHROMIUM'] ?? CHROMIUM;
  if (!existsSync(chromium))
    throw new UsageError(
      'REPORT_NO_CHROMIUM',
      `PDF needs Chromium (${chromium}, or DEMINER_CHROMIUM); print --format html from a browser instead`,
      { location: '--format' },
    );
  const dir = mkdtempSync(join(tmpdir(), 'deminer-report-'));
  try {
    const page = join(dir, 'report.html');
    writeFileSync(page, html, { mode: 0o600 });
    const target = resolve(out);
    const args = [
      '--headless',
      '--disable-gpu',
      '--no-first-run',
      '--no-default-browser-check',
      '--disable-extensions',
      '--disable-background-networking',
      // Nothing the page could ask for goes out (it asks for nothing: default-src 'none').
      '--proxy-server=127.0.0.1:9',
      `--user-data-dir=${join(dir, 'profile')}`,
      '--no-pdf-header-footer',
      `--print-to-pdf=${target}`,
      pathToFileURL(page).toString(),
    ];
    // Chromium refuses to run as root with its sandbox on.
    if (process.getuid?.() === 0) args.unshift('--no-sandbox');
    const stderr = await new Promise<string>((ok, fail) => {
      const child = spawn(chromium, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d: Buffer) => {
        if (err.length < 8192) err += d.toString('utf8');
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('error', (e) => {
        clearTimeout(timer);
        fail(e);
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (code === 0) ok(err);
        else
          fail(
            new Error(
              `chromium ended with ${signal ?? `exit ${code}`}: ${err.trim().split('\n').slice(-3).join(' ')}`,
            ),
          );
      });
    });
    if (!existsSync(target) || statSync(target).size === 0)
      throw new DeminerError(
        'REPORT_PDF_FAILED',
        `chromium wrote no PDF: ${stderr.trim().split('\n').slice(-3).join(' ')}`,
      );
  } catch (e) {
    if (e instanceof DeminerError) throw e;
    throw new DeminerError('REPORT_PDF_FAILED', e instanceof Error ? e.message : String(e), { cause: e });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function reportCommand(
  path: string,
  what: { name: string; location: string },
  opts: ReportCliOptions,
): Promise<number> {
  const format = parseChoice(opts.format, FORMATS, '--format');
  if (opts.out !== undefined && opts.output !== undefined && opts.out !== opts.output)
    throw new UsageError('BAD_OPTION', '--out and --output name two files: give one', {
      location: '--output',
    });
  const outFile = opts.out ?? opts.output;
  if (format === 'pdf') {
    if (outFile === undefined || outFile === '-')
      throw new UsageError('BAD_OPTION', '--format pdf needs --out FILE', { location: '--out' });
    const folder = dirname(resolve(outFile));
    if (!existsSync(folder) || !statSync(folder).isDirectory())
      throw new UsageError(
        'OUTPUT_NO_FOLDER',
        'the folder of the output file does not exist (it is not created)',
        {
          location: outFile,
        },
      );
    const html = await fetchReport(path, 'html', opts, what);
    await printPdf(html, outFile, parseDuration(opts.timeout, '--timeout', { max: 600_000 }));
    if (!opts.quiet) process.stderr.write(`deminer: wrote ${escapeControls(outFile)}\n`);
    return EXIT.OK;
  }
  const text = await fetchReport(path, format, opts, what);
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 10) end--;
  const body =
    format === 'json'
      ? `${safeJson(JSON.parse(text) as unknown, 2)}\n`
      : // Line by line: the text's own line breaks stay, any other control character is shown escaped.
        `${text.slice(0, end).split('\n').map(escapeControls).join('\n')}\n`;
  return withResultOut(
    {
      format,
      ...(outFile === undefined ? {} : { output: outFile }),
      ...(opts.quiet ? { quiet: true } : {}),
    },
    async (out) => {
      out.write(body);
      return EXIT.OK;
    },
  );
}

function addReportOptions(cmd: Command): Command {
  return cmd
    .option(
      '-f, --format <format>',
      `output format: ${FORMATS.join('|')} (pdf: printed by Chromium, needs --out)`,
      'md',
    )
    .option('-o, --out <file>', 'write the report to FILE (replaced when complete) instead of stdout')
    .option('--output <file>', 'the same as --out (the name the other commands use)')
    .option('--server <url>', `the deminer server (default: DEMINER_SERVER, else ${DEFAULT_SERVER})`)
    .option(
      '--token <token>',
      'a viewer, analyst or admin token (default: the DEMINER_TOKEN environment variable)',
    )
    .option('--timeout <duration>', 'how long to wait for the server (and Chromium), at most 10m', '60s')
    .option('-q, --quiet', 'no note on stderr');
}

export const registerReport: RegisterCommand = (program, run) => {
  const report = program
    .command('report')
    .description(
      "Print an incident's report or a month's summary from the deminer server (Markdown, HTML, JSON or PDF)",
    );
  addReportOptions(
    report
      .command('incident <id>')
      .description(
        'The incident report: summary, SLA, impact (CPU-seconds, energy, cost), root cause, lessons, timeline, findings, indicators, evidence',
      ),
  ).action(
    run(async (id: string, opts: ReportCliOptions) => {
      if (!INCIDENT_ID.test(id))
        throw new UsageError('REPORT_BAD_ID', `${shown(id)} is not an incident id (inc_ and 12 hex digits)`, {
          location: 'ID',
        });
      return reportCommand(`/incidents/${id}/report`, { name: `incident ${id}`, location: 'ID' }, opts);
    }),
  );
  addReportOptions(
    report
      .command('month <month>')
      .description(
        'The summary of the incidents opened in one UTC month (YYYY-MM): phases, severities, mean times, SLA breaches, cost, hosts, campaigns',
      ),
  ).action(
    run(async (month: string, opts: ReportCliOptions) => {
      if (!monthRange(month))
        throw new UsageError(
          'REPORT_BAD_MONTH',
          `${shown(month)} is not a month: give YYYY-MM (UTC, from 1970-01), e.g. 2026-11`,
          {
            location: 'MONTH',
          },
        );
      return reportCommand(
        `/reports/month/${month}`,
        { name: `report for ${month}`, location: 'MONTH' },
        opts,
      );
    }),
  );
};
