import { spawn } from 'node:child_process';
import { ActionError } from './errors.ts';
import type { Answer, Exchange, Step, StepRunner } from './types.ts';

export interface RunnerOptions {
  /** Per request or command; a controller that never answers must not hang the run. */
  timeoutMs: number;
  /** Cancels whatever is in flight (the server shutting down, a user's Ctrl-C). */
  signal?: AbortSignal;
  /** Told of each exchange as it completes (the server's action log, live). */
  onExchange?: (e: Exchange) => void;
}

/** How much of an answer the record keeps (the backend still sees all of it, up to MAX_BODY). */
const RECORD_BYTES = 4096;
/** A flow listing of a big switch is large, but not this large. */
const MAX_BODY = 32 * 1024 * 1024;

function cut(s: string | undefined): string | undefined {
  if (s === undefined) return undefined;
  return s.length > RECORD_BYTES ? `${s.slice(0, RECORD_BYTES)}… (${s.length} characters)` : s;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The low-level cause of a failed fetch (ECONNREFUSED, ENOTFOUND, a TLS error), for the message. */
function fetchCause(e: unknown): string {
  const cause = e instanceof Error ? (e.cause as { code?: string; message?: string } | undefined) : undefined;
  return cause?.code ?? cause?.message ?? errorText(e);
}

async function readLimited(res: Response, signal: AbortSignal): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const onAbort = () => void reader.cancel().catch(() => {});
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > MAX_BODY) {
        await reader.cancel();
        throw new ActionError('CONTROLLER_BAD_ANSWER', `answer larger than ${MAX_BODY} bytes`, {
          retryable: false,
        });
      }
      chunks.push(value);
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  if (signal.aborted) throw signal.reason;
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The one place isolation talks to the outside: HTTP with a timeout on every
 * request (connect, headers and body alike) and no redirects followed
 * (credentials stay with the URL they were given for); commands by argument
 * vector, never through a shell, killed at the timeout. Every step and its
 * answer is recorded, in order, for the result and the audit log.
 */
export function makeRunner(opts: RunnerOptions): StepRunner & { readonly exchanges: Exchange[] } {
  const exchanges: Exchange[] = [];

  async function record(step: Step, send: () => Promise<Answer>): Promise<Answer> {
    const at = new Date().toISOString();
    const t0 = performance.now();
    try {
      const answer = await send();
      const e: Exchange = {
        step,
        at,
        ms: Math.round(performance.now() - t0),
        answer: { ...answer, body: cut(answer.body), stderr: cut(answer.stderr) },
      };
      exchanges.push(e);
      opts.onExchange?.(e);
      return answer;
    } catch (err) {
      const e: Exchange = { step, at, ms: Math.round(performance.now() - t0), error: errorText(err) };
      exchanges.push(e);
      opts.onExchange?.(e);
      throw err;
    }
  }

  return {
    exchanges,
    http(step, secretHeaders = {}) {
      return record(step, async () => {
        const timeout = AbortSignal.timeout(opts.timeoutMs);
        const signal = opts.signal ? AbortSignal.any([timeout, opts.signal]) : timeout;
        const where = `${step.method} ${step.url}`;
        let res: Response;
        try {
          res = await fetch(step.url, {
            method: step.method,
            headers: { ...step.headers, ...secretHeaders },
            ...(step.body !== undefined ? { body: step.body } : {}),
            redirect: 'manual',
            signal,
          });
        } catch (e) {
          if (timeout.aborted)
            throw new ActionError('CONTROLLER_TIMEOUT', `${where}: no answer within ${opts.timeoutMs} ms`, {
              retryable: true,
              cause: e,
            });
          if (opts.signal?.aborted)
            throw new ActionError('ISOLATE_CANCELLED', `${where}: cancelled`, { retryable: false, cause: e });
          throw new ActionError('CONTROLLER_UNREACHABLE', `${where}: ${fetchCause(e)}`, {
            retryable: true,
            cause: e,
          });
        }
        let body: string;
        try {
          body = await readLimited(res, signal);
        } catch (e) {
          if (e instanceof ActionError) throw e;
          if (timeout.aborted)
            throw new ActionError(
              'CONTROLLER_TIMEOUT',
              `${where}: the answer did not complete within ${opts.timeoutMs} ms`,
              { retryable: true, cause: e },
            );
          throw new ActionError('CONTROLLER_UNREACHABLE', `${where}: ${errorText(e)}`, {
            retryable: true,
            cause: e,
          });
        }
        const location = res.headers.get('location');
        return { status: res.status, body, ...(location ? { location } : {}) };
      });
    },
    exec(step) {
      return record(
        step,
        () =>
          new Promise<Answer>((resolve, reject) => {
            const [file, ...args] = step.argv;
            if (!file) {
              reject(new ActionError('COMMAND_FAILED', 'empty command', { retryable: false }));
              return;
            }
            // No shell: the arguments go to the program as they are, one by one.
            const child = spawn(file, args, {
              stdio: ['pipe', 'pipe', 'pipe'],
              shell: false,
              env: { ...process.env, LC_ALL: 'C' },
            });
            let stdout = '';
            let stderr = '';
            let done = false;
            const finish = (f: () => void) => {
              if (done) return;
              done = true;
              clearTimeout(timer);
              opts.signal?.removeEventListener('abort', onAbort);
              f();
            };
            const timer = setTimeout(() => {
              child.kill('SIGKILL');
              finish(() =>
                reject(
                  new ActionError('COMMAND_TIMEOUT', `${file}: no result within ${opts.timeoutMs} ms`, {
                    retryable: true,
                  }),
                ),
              );
            }, opts.timeoutMs);
            const onAbort = () => {
              child.kill('SIGKILL');
              finish(() =>
                reject(new ActionError('ISOLATE_CANCELLED', `${file}: cancelled`, { retryable: false })),
              );
            };
            opts.signal?.addEventListener('abort', onAbort, { once: true });
            child.stdout.setEncoding('utf8').on('data', (d: string) => {
              if (stdout.length < MAX_BODY) stdout += d;
            });
            child.stderr.setEncoding('utf8').on('data', (d: string) => {
              if (stderr.length < 65_536) stderr += d;
            });
            child.on('error', (e: NodeJS.ErrnoException) =>
              finish(() =>
                reject(
                  e.code === 'ENOENT'
                    ? new ActionError('COMMAND_MISSING', `${file} is not installed (or not on PATH)`, {
                        retryable: false,
                        cause: e,
                      })
                    : new ActionError('COMMAND_FAILED', `${file}: ${e.message}`, {
                        retryable: false,
                        cause: e,
                      }),
                ),
              ),
            );
            child.on('close', (code, sig) =>
              finish(() =>
                resolve({
                  exitCode: code ?? (sig ? 128 : 1),
                  body: stdout,
                  ...(stderr ? { stderr } : {}),
                }),
              ),
            );
            child.stdin.on('error', () => {});
            child.stdin.end(step.stdin ?? '');
          }),
      );
    },
  };
}
