import type { Finding } from '../core/finding.ts';
import { makeFinding } from '../core/finding.ts';

/** Strings an attacker can put into command lines, file names and DNS names, for the output tests. */
export const HOSTILE = {
  /** OSC 0: sets the terminal title, ended by BEL. */
  title: '\x1b]0;pwned\x07',
  /** CSI 2J: clears the screen. */
  clear: '\x1b[2J',
  /** SGR 8: hides the text that follows. */
  hide: '\x1b[8m',
  /** CR: the rest overwrites the start of the line. */
  overwrite: 'benign\rFAKE',
  /** LF: splits a table row or a CSV record. */
  split: 'line1\nline2',
  /** RIGHT-TO-LEFT OVERRIDE: `evil\u202Egpj.exe` shows as `evilexe.jpg`. */
  rtl: 'evil\u202Egpj.exe',
  /** One-byte (C1) CSI, which some terminals honour. */
  c1: '\u009b2J',
  /** DDE through a spreadsheet formula (OWASP CSV injection). */
  dde: "=cmd|' /C calc'!A0",
  sum: '@SUM(1)',
  arithmetic: '-2+3',
} as const;

const RULE = { id: 'deminer.test.rule', name: 'Test rule', ruleset: 'builtin' } as const;

/** Findings whose every attacker-writable field carries a hostile string. */
export function hostileFindings(): Finding[] {
  return [
    makeFinding({
      rule: RULE,
      severity: 'critical',
      techniques: ['T1496'],
      host: `host${HOSTILE.title}`,
      subject: ['a'],
      timestamp: '2026-01-01T00:00:00.000Z',
      process: {
        pid: 4242,
        name: `kworker${HOSTILE.clear}`,
        executable: `/tmp/${HOSTILE.split}`,
        command_line: `xmrig ${HOSTILE.hide}--donate-level 0`,
      },
      message: `${HOSTILE.hide}secret ${HOSTILE.overwrite}`,
      evidence: { next_step: `kill it ${HOSTILE.rtl}` },
    }),
    makeFinding({
      rule: { id: 'deminer.test.dns', name: HOSTILE.dde, ruleset: 'sigma' },
      severity: 'high',
      techniques: ['T1071.004'],
      host: HOSTILE.sum,
      subject: ['b'],
      timestamp: '2026-01-01T00:00:01.000Z',
      dns: { question: { name: `${HOSTILE.split}.${HOSTILE.rtl}.example` } },
      message: HOSTILE.arithmetic,
    }),
    makeFinding({
      rule: RULE,
      severity: 'medium',
      techniques: ['T1496'],
      host: `\t${HOSTILE.dde}`,
      subject: ['c'],
      timestamp: '2026-01-01T00:00:02.000Z',
      destination: { domain: `pool${HOSTILE.c1}\t.example`, port: 3333 },
      message: ` ${HOSTILE.sum}, "quoted"; and more`,
    }),
  ];
}

/**
 * The code points a terminal acts on instead of showing, other than the LF
 * between lines: C0, DEL, C1 and the bidi controls. Written apart from the
 * escaper on purpose, so the tests do not grade it against itself.
 */
export function rawControls(text: string): string[] {
  const found: string[] = [];
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    const control =
      (c < 0x20 && c !== 0x0a) ||
      (c >= 0x7f && c <= 0x9f) ||
      c === 0x061c ||
      c === 0x200e ||
      c === 0x200f ||
      (c >= 0x2028 && c <= 0x202e) ||
      (c >= 0x2066 && c <= 0x2069);
    if (control) found.push(`U+${c.toString(16).padStart(4, '0')}`);
  }
  return found;
}

/** An output that keeps what is written to it. */
export class Collected {
  text = '';
  writes = 0;

  write(chunk: string): void {
    this.text += chunk;
    this.writes++;
  }
}
