import type { IsolationResult } from './run.ts';
import type { Step } from './types.ts';

/** An argument as a shell would need it, for reading only: nothing here is ever run through a shell. */
function quoteArg(a: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`;
}

/** One step, as a person would type it: the command line with its stdin, or the HTTP request. */
export function stepText(step: Step): string {
  if (step.kind === 'exec') {
    const line = step.argv.map(quoteArg).join(' ');
    return step.stdin !== undefined ? `${line} <<'EOF'\n${step.stdin.replace(/\n?$/, '\n')}EOF` : line;
  }
  const headers = Object.entries(step.headers).map(([k, v]) => `${k}: ${v}`);
  return [`${step.method} ${step.url}`, ...headers, ...(step.body !== undefined ? ['', step.body] : [])].join(
    '\n',
  );
}

/** `--dry-run` in the text format: every request or command, numbered, in the order a run sends them. */
export function planText(r: IsolationResult): string {
  const lines = [
    `# dry run: ${r.action} ${r.target.ip} with the ${r.backend} backend; nothing was sent`,
    ...(r.plan ?? []).map((s, i) => `# ${i + 1}. ${s.purpose}\n${stepText(s)}`),
  ];
  return `${lines.join('\n\n')}\n`;
}

const VERB: Record<IsolationResult['outcome'], string> = {
  isolated: 'isolated',
  already_isolated: 'already isolated',
  released: 'released',
  nothing_to_release: 'not isolated, nothing to release',
  failed: 'FAILED',
  planned: 'planned',
};

/** The one human line of a run. */
export function resultLine(r: IsolationResult): string {
  const v = r.verification;
  const proof = v
    ? ` (${r.action === 'release' ? `${v.present.length} of ${v.expected.length} rules left` : `${v.present.length} of ${v.expected.length} rules in place`}, read back)`
    : '';
  const time =
    r.timings.to_verified_ms !== undefined
      ? ` in ${r.timings.to_verified_ms} ms`
      : ` after ${r.timings.total_ms} ms`;
  const ttl = r.ttl ? `; expires ${r.ttl.expires_at} (not enforced yet: release it then)` : '';
  const tries = r.attempts > 1 ? `, ${r.attempts} attempts` : '';
  // The reason follows on stderr, as every error does.
  if (!r.ok) return `${r.target.ip}: ${r.action} via ${r.backend} FAILED${time}${tries}\n`;
  return `${r.target.ip}: ${VERB[r.outcome]} via ${r.backend}${proof}${time}${tries}${ttl}\n`;
}
