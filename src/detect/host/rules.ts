import type { RuleDeclaration } from '../../core/stages.ts';
import { PERSISTENCE_TECHNIQUE } from './persistence/index.ts';
import type { Signal } from './types.ts';

/**
 * The rules the host scanner emits. The correlator (correlate.ts) makes one
 * finding per process and one per persistence line; a finding's severity
 * rises with the evidence combined into it, so every rule spans low (one
 * weak signal) to critical (several strong ones).
 */
const ANY_SEVERITY = { min: 'low', max: 'critical' } as const;

/** A process rule and the signal category that names it. */
export interface ProcessRule {
  category: Signal['category'];
  rule: RuleDeclaration;
}

/**
 * In order of precedence: a process finding is named after the first
 * category with a strong signal (see correlate.ts).
 */
export const PROCESS_RULES: readonly ProcessRule[] = [
  {
    category: 'miner',
    rule: {
      id: 'deminer.process.miner',
      name: 'Cryptocurrency miner process',
      ruleset: 'builtin',
      severity: ANY_SEVERITY,
      techniques: ['T1496'],
      triage:
        'Read the pool and wallet in evidence.signals; check the binary (process.executable, its hash) and its parent, then isolate the host and keep the binary before killing the process.',
    },
  },
  {
    category: 'masquerade',
    rule: {
      id: 'deminer.process.masquerade',
      name: 'Masquerading process',
      ruleset: 'builtin',
      severity: ANY_SEVERITY,
      techniques: ['T1036', 'T1036.004', 'T1036.005', 'T1070.004', 'T1564.001', 'T1620'],
      triage:
        'Compare the name with process.executable and the command line; a kernel-thread or Windows name on a user-space binary in a temporary, hidden or deleted location is rarely legitimate.',
    },
  },
  {
    category: 'network',
    rule: {
      id: 'deminer.process.pool_connection',
      name: 'Process talking to a mining pool',
      ruleset: 'builtin',
      severity: ANY_SEVERITY,
      techniques: ['T1046', 'T1496', 'T1571'],
      triage:
        'Check destination.ip/port against the pool lists in evidence; confirm the process owning the socket, then block the address and isolate the host if it is mining.',
    },
  },
  {
    category: 'behaviour',
    rule: {
      id: 'deminer.behaviour.miner_like',
      name: 'Process behaves like a hidden miner',
      ruleset: 'builtin',
      severity: ANY_SEVERITY,
      techniques: ['T1496'],
      triage:
        'Read evidence.signals: the behaviour score, the features that drove it and the minutes observed. High with a binary no package owns means: collect the binary and its connections, then isolate; on a package-owned server, ask its owner whether the load is expected.',
    },
  },
  {
    category: 'cpu',
    rule: {
      id: 'deminer.process.cpu_abuse',
      name: 'CPU abuse',
      ruleset: 'builtin',
      severity: ANY_SEVERITY,
      techniques: ['T1496'],
      triage:
        'Look at evidence.cpu: a steady, capped duty cycle is the throttled-miner pattern; ask the owner whether the workload is expected before acting.',
    },
  },
  {
    category: 'persistence',
    rule: {
      id: 'deminer.process.persisted',
      name: 'Process started by suspicious persistence',
      ruleset: 'builtin',
      severity: ANY_SEVERITY,
      techniques: [
        ...new Set([...Object.values(PERSISTENCE_TECHNIQUE), 'T1547', 'T1105', 'T1059.004']),
      ].sort(),
      triage:
        'Open the persistence entry named in evidence.signals; remove it together with the process, or the process comes back.',
    },
  },
  {
    category: 'allowlist',
    rule: {
      id: 'deminer.process.not_allowlisted',
      name: 'Process not on the allow-list',
      ruleset: 'builtin',
      severity: ANY_SEVERITY,
      techniques: ['T1204.002'],
      triage:
        'An audit result: add the program to the allow-list if it belongs on the host, otherwise find out who installed it.',
    },
  },
];

/** How each kind of persistence entry is taken out once collected. */
const REMOVAL: Record<string, string> = {
  cron: 'delete the line from the crontab (crontab -e, or the file under /etc/cron*)',
  systemd: 'stop and disable the unit (systemctl disable --now), then delete the unit file',
  'rc-local': 'delete the line from rc.local',
  'init-script': 'remove the script from /etc/init.d and its rc*.d links (update-rc.d NAME remove)',
  'shell-rc': 'delete the line from the shell start file',
  'authorized-keys': 'delete the key line and check who added it (an attacker keeps access through it)',
  'ld-preload': 'empty /etc/ld.so.preload first (the library hides processes while it is loaded)',
  autostart: 'delete the .desktop entry',
};

/** The rule of a suspicious line in a persistence file of this kind (`cron`, `authorized-keys`…). */
export function persistenceRule(kind: string): RuleDeclaration {
  return {
    id: `deminer.persistence.${kind.replaceAll('-', '_')}`,
    name: `Suspicious ${kind} persistence`,
    ruleset: 'builtin',
    severity: ANY_SEVERITY,
    techniques: [PERSISTENCE_TECHNIQUE[kind] ?? 'T1547'],
    triage: `Collect the file (evidence.file, evidence.line) as evidence, then ${REMOVAL[kind] ?? 'remove the entry'} and remove what it runs; evidence.running_pids names the processes it keeps alive.`,
  };
}

/** Everything the host scanner can emit. */
export const HOST_RULES: readonly RuleDeclaration[] = [
  ...PROCESS_RULES.map((r) => r.rule),
  ...Object.keys(PERSISTENCE_TECHNIQUE).map(persistenceRule),
];
