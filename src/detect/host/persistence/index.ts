import { lineSignals, shellWords } from '../miner-text/index.ts';
import type { AnalyticOutput, HostAnalytic, Signal } from '../types.ts';

/** ATT&CK technique per persistence location. */
export const PERSISTENCE_TECHNIQUE: Record<string, string> = {
  cron: 'T1053.003',
  systemd: 'T1543.002',
  'rc-local': 'T1037.004',
  'init-script': 'T1037.004',
  'shell-rc': 'T1546.004',
  'authorized-keys': 'T1098.004',
  'ld-preload': 'T1574.006',
  autostart: 'T1547.013',
};

/** The part of an authorized_keys line that runs something: its `command="…"` option. */
function forcedCommand(line: string): string | undefined {
  const m = /(?:^|,)command="((?:[^"\\]|\\.)*)"/.exec(line);
  return m?.[1]?.replace(/\\"/g, '"');
}

/** The executable part of a systemd unit line, or undefined for lines that run nothing. */
function unitExec(line: string): string | undefined {
  const m = /^\s*Exec(?:Start|StartPre|StartPost|Stop|Reload)\s*=\s*[-@:+!]*(.*)$/.exec(line);
  return m?.[1];
}

/**
 * Persistence that points at suspicious paths or miner invocations: cron,
 * systemd units, rc.local and init scripts, ld.so.preload, shell start files
 * and SSH forced commands.
 */
export const persistence: HostAnalytic = {
  id: 'persistence',
  description:
    'Cron, systemd, rc.local, ld.so.preload, shell start files and authorized_keys entries that run miners or dropped binaries',
  analyze(snapshot) {
    const out: AnalyticOutput[] = [];
    for (const f of snapshot.files) {
      const technique = PERSISTENCE_TECHNIQUE[f.kind];
      if (!technique) continue;
      const lines = f.text.split('\n');
      for (let i = 0; i < lines.length; i++) {
        const raw = lines[i]!.trim();
        if (!raw || raw.startsWith('#') || raw.startsWith(';')) continue;
        let text: string | undefined = raw;
        if (f.kind === 'authorized-keys') text = forcedCommand(raw);
        else if (f.kind === 'systemd') text = unitExec(raw);
        if (text === undefined) continue;
        const signals: Signal[] = [];
        if (f.kind === 'ld-preload') {
          signals.push({
            id: 'persistence.ld_preload',
            category: 'persistence',
            weight: 3,
            techniques: [technique],
            text: `preloads ${raw} into every dynamically linked program (used to hide miner processes)`,
            evidence: { library: raw },
          });
        }
        const m = lineSignals(text);
        // Packaged scripts legitimately juggle temp paths; in them only miner and
        // download-and-run evidence counts (a tampered packaged file still shows).
        if (f.package)
          m.signals = m.signals.filter(
            (s) => s.category === 'miner' || s.id === 'persistence.download_execute',
          );
        signals.push(
          ...m.signals.map((s) => ({ ...s, techniques: [...new Set([...s.techniques, technique])] })),
        );
        const refs = f.kind === 'ld-preload' ? shellWords(raw) : m.refs;
        for (const signal of signals) {
          out.push({ kind: 'file', path: f.path, line: i + 1, content: raw.slice(0, 500), refs, signal });
        }
      }
    }
    return out;
  },
};
