import { findWallets, type WalletAddress } from '../../../cases/wallet.ts';
import { argvSignals } from '../miner-text/index.ts';
import type { AnalyticOutput, HostAnalytic, PoolMatch, Signal } from '../types.ts';
import { processSignal, userProcesses } from '../types.ts';

/**
 * Miner command lines and the config files miners read (`-c FILE`, or
 * `config.json` beside the binary, XMRig's default).
 */
export const minerCmdline: HostAnalytic = {
  id: 'miner-cmdline',
  description: 'Stratum URLs, XMRig/xmr-stak/cpuminer options, wallet addresses and miner config files',
  analyze(snapshot, ctx) {
    const out: AnalyticOutput[] = [];
    const configs = new Map(snapshot.files.filter((f) => f.kind === 'miner-config').map((f) => [f.path, f]));
    for (const p of userProcesses(snapshot)) {
      const signals = withCheckedWallets(argvSignals(p.argv), p.argv);
      for (const path of configPathsOf(p.argv, p.cwd, p.exe)) {
        const f = configs.get(path);
        if (!f) continue;
        const s = configSignal(f.text, path);
        if (s) signals.push(s);
      }
      const match = ctx.poolIntel?.matchPool?.bind(ctx.poolIntel);
      const listed = match
        ? listedPool(signals, (pool) =>
            match(pool, { where: 'cmdline', host: snapshot.host.name, process: p.exe ?? p.name }),
          )
        : undefined;
      if (listed) signals.push(listed);
      for (const s of signals) out.push(processSignal(p.pid, s));
    }
    return out;
  },
};

/**
 * The shared text matcher calls anything shaped like an address a wallet; here
 * only an address whose network prefix and checksum are valid counts
 * (src/cases/wallet.ts), and then it is as strong as a pool URL: pools pay
 * the wallet a miner logs in with, and nothing else puts one on a command line.
 */
function withCheckedWallets(signals: readonly Signal[], argv: readonly string[]): Signal[] {
  const out = signals.filter((s) => s.id !== 'miner.wallet');
  const wallets = findWallets(argv.join(' '));
  if (wallets.length > 0) out.push(walletSignal(wallets, 'command line'));
  return out;
}

function walletSignal(wallets: readonly WalletAddress[], where: string): Signal {
  const first = wallets[0]!;
  return {
    id: 'miner.wallet',
    category: 'miner',
    weight: 6,
    techniques: ['T1496'],
    text: `${where} names a valid ${first.coin} wallet address (checksum checked)`,
    evidence: {
      wallet: first.address,
      coin: first.coin,
      kind: first.kind,
      network: first.network,
      ...(wallets.length > 1 ? { wallets: wallets.map((w) => w.address) } : {}),
    },
  };
}

/** Pools named on the command line or in a config, checked against threat intelligence. */
function listedPool(
  signals: readonly Signal[],
  match: (pool: string) => PoolMatch | undefined,
): Signal | undefined {
  const pools = signals.flatMap((s) => {
    const e = s.evidence ?? {};
    return [e['pool'], ...(Array.isArray(e['pools']) ? e['pools'] : [])].filter(
      (x): x is string => typeof x === 'string',
    );
  });
  for (const pool of pools) {
    const m = match(pool);
    if (m) {
      return {
        id: 'miner.listed_pool',
        category: 'miner',
        weight: 4,
        techniques: ['T1496'],
        text: `names ${pool}, a listed mining pool (${m.source})`,
        evidence: {
          pool,
          indicator: m.indicator,
          source: m.source,
          ...(m.seenIn ? { seen_in: m.seenIn } : {}),
        },
      };
    }
  }
  return undefined;
}

function configPathsOf(argv: readonly string[], cwd: string | undefined, exe: string | undefined): string[] {
  const out: string[] = [];
  const abs = (f: string) => (f.startsWith('/') ? f : cwd ? `${cwd.replace(/\/$/, '')}/${f}` : f);
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if ((a === '-c' || a === '--config') && argv[i + 1]) out.push(abs(argv[i + 1]!));
    else if (a.startsWith('--config=')) out.push(abs(a.slice(9)));
    else if (a.startsWith('-c') && a.length > 2 && !a.startsWith('--')) out.push(abs(a.slice(2)));
  }
  if (exe) out.push(`${exe.slice(0, exe.lastIndexOf('/'))}/config.json`);
  if (cwd) out.push(`${cwd.replace(/\/$/, '')}/config.json`);
  return out;
}

interface PoolEntry {
  url?: unknown;
  user?: unknown;
  algo?: unknown;
  coin?: unknown;
}

/**
 * An XMRig-style JSON config: pools with url/user, donate-level, randomx/cpu
 * sections. Parsed leniently (comments, duplicate keys — real configs carry
 * two "donate-level" keys) because a miner's config need not be tidy JSON.
 */
export function configSignal(text: string, path: string): Signal | undefined {
  let doc: Record<string, unknown> | undefined;
  try {
    doc = JSON.parse(text.replace(/^\s*\/\/.*$/gm, '')) as Record<string, unknown>;
  } catch {
    doc = undefined;
  }
  const pools: string[] = [];
  const wallets: string[] = [];
  if (doc && typeof doc === 'object') {
    const list = Array.isArray(doc['pools']) ? (doc['pools'] as PoolEntry[]) : [];
    for (const p of list) {
      if (typeof p?.url === 'string') pools.push(p.url);
      if (typeof p?.user === 'string')
        for (const w of findWallets(p.user)) if (!wallets.includes(w.address)) wallets.push(w.address);
    }
    if (typeof doc['url'] === 'string') pools.push(doc['url'] as string);
  } else {
    for (const m of text.matchAll(/"url"\s*:\s*"([^"]+)"/g)) pools.push(m[1]!);
  }
  for (const w of findWallets(text)) if (!wallets.includes(w.address)) wallets.push(w.address);
  const minerKeys = ['donate-level', 'randomx', 'cpu-max-threads-hint', 'donate-over-proxy', 'pools'].filter(
    (k) => text.includes(`"${k}"`),
  );
  if (pools.length === 0 && wallets.length === 0) return undefined;
  if (minerKeys.length < 2 && wallets.length === 0) return undefined;
  return {
    id: 'miner.config_file',
    category: 'miner',
    weight: 6,
    techniques: ['T1496'],
    text: `reads a miner config ${path} naming ${pools.length} pool(s)${wallets.length ? ' and a wallet' : ''}`,
    evidence: { config: path, pools, wallets, keys: minerKeys },
  };
}
