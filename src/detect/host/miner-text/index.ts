import { basename } from '../../../core/text.ts';
import { hostLists } from '../lists.ts';
import type { Signal } from '../types.ts';

/**
 * Recognises miner invocations in a command line (argv) or a line of text
 * (cron entries, unit files, shell start files). Shared by the command-line
 * and persistence analytics.
 */

// Monero standard (4…, 95 chars), subaddress (8…, 95) and integrated (4…, 106)
// addresses; Bytecoin (2…, 95); Base58 alphabet without 0OIl.
const B58 = '[1-9A-HJ-NP-Za-km-z]';
export const WALLET_RE = new RegExp(
  `(?<![1-9A-HJ-NP-Za-km-z])(?:[48]${B58}{94}|4${B58}{105}|2${B58}{94})(?![1-9A-HJ-NP-Za-km-z])`,
);
// `stratum://` bare as well (osquery-defense-kit's miner YARA names it; data/intel/PROVENANCE.md).
const STRATUM_RE = /\bstratum\d?(?:\+(?:tcp|ssl|tls|udp))?:\/\/[^\s"']+/i;
const HOSTPORT_RE =
  /^(?:[a-z]+:\/\/)?([a-z0-9.-]+\.[a-z]{2,}|\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-f:]+\]):(\d{2,5})$/i;
const DOWNLOAD_EXEC_RE =
  /\b(?:curl|wget)\b[^|;&]*\|\s*(?:ba|da|z)?sh\b|\bbase64\s+(?:-d|--decode)\b[^|]*\|\s*(?:ba|da)?sh\b/;
const TEMP_PATH_RE = /(?:^|[\s'"=:;(])(\/(?:tmp|var\/tmp|dev\/shm)\/[^\s'";|&)]+)/;
const HIDDEN_PATH_RE = /(?:^|[\s'"=:;(])(\/[^\s'";|&)]*\/\.[^\s'";|&/)]+(?:\/[^\s'";|&)]+)?)/;

export interface TextMatch {
  signals: Signal[];
  /** Executable-looking paths the text names. */
  refs: string[];
}

/**
 * Signals from an argv (a process command line). With `minerNameAnywhere`,
 * a known miner binary name counts in any word (lines of scripts and cron
 * tables), not only as the program name.
 */
export function argvSignals(argv: readonly string[], opts: { minerNameAnywhere?: boolean } = {}): Signal[] {
  const lists = hostLists();
  const out: Signal[] = [];
  const joined = argv.join(' ');
  const stratum = STRATUM_RE.exec(joined);
  if (stratum) {
    out.push({
      id: 'miner.stratum_url',
      category: 'miner',
      weight: 6,
      techniques: ['T1496'],
      text: `command line names a stratum pool URL (${stratum[0]})`,
      evidence: { pool: stratum[0] },
    });
  }
  const flags: string[] = [];
  let algo: string | undefined;
  let coin: string | undefined;
  let pool: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!;
    const [flag, inlineVal] =
      raw.startsWith('--') && raw.includes('=')
        ? [raw.slice(0, raw.indexOf('=')), raw.slice(raw.indexOf('=') + 1)]
        : [raw, undefined];
    const val = inlineVal ?? argv[i + 1];
    if (lists.strongFlags.has(flag)) flags.push(flag);
    if ((flag === '-a' || flag === '--algo') && val && lists.algorithms.has(val.toLowerCase())) algo = val;
    if (flag === '--coin' && val && lists.coins.has(val.toLowerCase())) coin = val;
    if ((flag === '-o' || flag === '--url') && val && HOSTPORT_RE.test(val)) pool = val;
  }
  const flagScore = flags.length * 2 + (algo ? 2 : 0) + (coin ? 1.5 : 0) + (pool ? 1.5 : 0);
  const parts = [
    ...flags,
    algo ? `algorithm ${algo}` : '',
    coin ? `coin ${coin}` : '',
    pool ? `pool ${pool}` : '',
  ].filter(Boolean);
  // One flag alone (e.g. -a with an algorithm) is weak; two miner-specific ones make it conclusive.
  if (flagScore >= 2) {
    out.push({
      id: 'miner.flags',
      category: 'miner',
      weight: Math.min(6, flagScore >= 4 ? flagScore + 1 : flagScore),
      techniques: ['T1496'],
      text: `command line carries miner options: ${parts.join(', ')}`,
      evidence: {
        flags,
        ...(algo ? { algorithm: algo } : {}),
        ...(coin ? { coin } : {}),
        ...(pool ? { pool } : {}),
      },
    });
  }
  const wallet = WALLET_RE.exec(joined);
  if (wallet) {
    out.push({
      id: 'miner.wallet',
      category: 'miner',
      weight: 4,
      techniques: ['T1496'],
      text: 'command line contains a Monero/Bytecoin-style wallet address',
      evidence: { wallet: wallet[0] },
    });
  }
  const names = (opts.minerNameAnywhere ? argv : argv.slice(0, 1)).map((word) =>
    basename(word).toLowerCase(),
  );
  const miner = names.find((n) => lists.minerNames.has(n));
  if (miner) {
    out.push({
      id: 'miner.known_binary_name',
      category: 'miner',
      weight: 3,
      techniques: ['T1496'],
      text: `runs a binary named like a known miner (${miner})`,
    });
  }
  return out;
}

/** Splits a shell-ish line into words (quotes honoured, no expansion). */
export function shellWords(line: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out.push(m[1] ?? m[2] ?? m[3] ?? '');
  return out;
}

/** Signals and referenced paths from one line of a cron table, unit file or shell start file. */
export function lineSignals(line: string): TextMatch {
  const signals: Signal[] = [];
  const words = shellWords(line);
  const refs = words
    .filter((w) => w.startsWith('/') && !w.startsWith('/dev/null'))
    .map((w) => w.replace(/[;&|)]+$/, ''));
  // Flags are recognised at any position, so one pass covers "sh -c '… xmrig -o …'" too.
  signals.push(...argvSignals(words, { minerNameAnywhere: true }));
  const dl = DOWNLOAD_EXEC_RE.exec(line);
  if (dl) {
    signals.push({
      id: 'persistence.download_execute',
      category: 'persistence',
      weight: 3,
      techniques: ['T1105', 'T1059.004'],
      text: 'downloads a script and pipes it into a shell',
      evidence: { match: dl[0] },
    });
  }
  // Paths built from shell variables and PATH assignments name no file to run.
  const pathish = /^\s*(?:export\s+)?[A-Z_]*PATH=/.test(line);
  const tmp = pathish ? null : TEMP_PATH_RE.exec(line);
  const hidden = tmp || pathish ? null : HIDDEN_PATH_RE.exec(line);
  if ((tmp || hidden) && !(tmp ?? hidden)![1]!.includes('$')) {
    const p = (tmp ?? hidden)![1]!;
    signals.push({
      id: tmp ? 'persistence.temp_path' : 'persistence.hidden_path',
      category: 'persistence',
      weight: tmp ? 3 : 1.5,
      techniques: ['T1036.005'],
      text: `runs ${p}, ${tmp ? 'in a world-writable temporary directory' : 'in a hidden directory'}`,
      evidence: { path: p },
    });
  }
  return { signals, refs };
}
