/**
 * What went wrong with one input, in a form two runs can compare: the
 * minimiser keeps a smaller input only when it fails the same way.
 */
export type Failure =
  | { kind: 'crash'; signature: string; stack: string }
  | { kind: 'hang' }
  /** The worker itself ended (out of memory): `signature` is the error code. */
  | { kind: 'ended'; signature: string; stack: string };

/** Error class and first line of the message: stable across inputs that hit the same bug, unlike the stack. */
export function signatureOf(e: unknown): string {
  if (e instanceof Error) {
    const cls = e.constructor?.name && e.constructor.name !== 'Error' ? e.constructor.name : e.name;
    return `${cls}: ${firstLine(e.message)}`;
  }
  return `thrown ${typeof e}: ${firstLine(String(e))}`;
}

export function stackOf(e: unknown): string {
  return e instanceof Error ? (e.stack ?? e.message) : String(e);
}

function firstLine(s: string): string {
  const i = s.indexOf('\n');
  return (i < 0 ? s : s.slice(0, i)).slice(0, 200);
}

export function sameFailure(a: Failure, b: Failure): boolean {
  if (a.kind !== b.kind) return false;
  return a.kind === 'hang' || a.signature === (b as { signature: string }).signature;
}

export function describeFailure(f: Failure): string {
  return f.kind === 'hang' ? 'hang' : f.kind === 'crash' ? f.signature : `worker ended: ${f.signature}`;
}

/** File name prefix of a saved input. */
export function fileKind(f: Failure): string {
  if (f.kind === 'hang') return 'timeout';
  return f.kind === 'ended' && f.signature === 'ERR_WORKER_OUT_OF_MEMORY' ? 'oom' : 'crash';
}
