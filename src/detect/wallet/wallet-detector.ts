import { findWallets, type WalletAddress } from '../../cases/wallet.ts';
import type { EcsEvent, EcsProcess } from '../../core/event.ts';
import { rawHostOf } from '../../core/event.ts';
import type { Finding } from '../../core/finding.ts';
import { makeFinding } from '../../core/finding.ts';
import { canonicalHostName } from '../../core/host-identity.ts';
import type { RuleDeclaration, StreamDetector } from '../../core/stages.ts';
import { basename } from '../../core/text.ts';

export const WALLET_IN_COMMAND_LINE: RuleDeclaration = {
  id: 'deminer.wallet_in_command_line',
  name: 'Cryptocurrency wallet address in a command line',
  ruleset: 'builtin',
  severity: { min: 'high', max: 'high' },
  techniques: ['T1496'],
  triage:
    'A valid CryptoNote wallet (checksum checked, evidence.wallet) is written into what this host runs or starts on its own: find the process or the persistence entry (evidence.field), treat the host as mining for that wallet, and search the fleet for the same address.',
};

/**
 * Fields of event-log records that hold something a host runs or will run:
 * process creation (Sysmon 1, Security 4688), service installs (4697, 7045),
 * scheduled tasks (4698 created, 4702 updated), registry values (Sysmon 13:
 * Run keys, service ImagePath), WMI consumers (Sysmon 20) and PowerShell
 * script blocks (4104). What each field is, in words, for the message.
 */
const FIELDS: readonly (readonly [string, string])[] = [
  ['CommandLine', 'the command line'],
  ['ServiceFileName', 'the service command'],
  ['ImagePath', 'the service command'],
  ['TaskContent', 'the scheduled task'],
  ['TaskContentNew', 'the scheduled task'],
  ['Details', 'the registry value'],
  ['Destination', 'the WMI consumer'],
  ['ScriptBlockText', 'the PowerShell script block'],
];
const MAX_EVIDENCE_VALUE = 2000;

function text(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

function pidNumber(v: unknown): number | undefined {
  const n =
    typeof v === 'number'
      ? v
      : typeof v === 'string' && /^0x[0-9a-f]+$/i.test(v)
        ? Number.parseInt(v, 16)
        : typeof v === 'string' && v !== ''
          ? Number(v)
          : Number.NaN;
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

interface Sighting {
  field: string;
  what: string;
  value: string;
  wallets: WalletAddress[];
}

/** The wallets an event's command-like fields name, field by field (ECS `process.command_line` included). */
export function walletSightings(e: EcsEvent): Sighting[] {
  const out: Sighting[] = [];
  const data = e.winlog?.event_data;
  if (data) {
    for (const [field, what] of FIELDS) {
      const value = text(data[field]);
      if (!value) continue;
      const wallets = findWallets(value);
      if (wallets.length > 0) out.push({ field, what, value, wallets });
    }
  }
  const cmd = text(e.process?.command_line);
  if (cmd && data?.['CommandLine'] !== cmd) {
    const wallets = findWallets(cmd);
    if (wallets.length > 0)
      out.push({ field: 'process.command_line', what: 'the command line', value: cmd, wallets });
  }
  return out;
}

function processOf(e: EcsEvent, sighting: Sighting): EcsProcess | undefined {
  const data = e.winlog?.event_data ?? {};
  const p: EcsProcess = {};
  // Only a process-creation record's command line is the process's own; elsewhere Image is the writer.
  const started = sighting.field === 'CommandLine' || sighting.field === 'process.command_line';
  const exe = text(data['Image']) ?? text(data['NewProcessName']) ?? text(e.process?.executable);
  // Security 4688: NewProcessId is the new process, ProcessId its parent.
  const pid = pidNumber(data['NewProcessId'] ?? data['ProcessId'] ?? e.process?.pid);
  if (exe) {
    p.executable = exe;
    p.name = basename(exe);
  } else if (text(e.process?.name)) p.name = e.process!.name!;
  if (pid !== undefined) p.pid = pid;
  if (started) p.command_line = sighting.value;
  return Object.keys(p).length > 0 ? p : undefined;
}

/**
 * CryptoNote wallet addresses (Monero, Bytecoin, Infinium-8; checksum
 * validated, src/cases/wallet.ts) in the command lines and start-up values
 * of event logs. A valid address where a program is started is as good as
 * the miner itself: pools pay the wallet the miner logs in with. Stateless
 * (one finding per record and wallet; the fingerprint is host + wallet, so
 * pipelines de-duplicate repeats), hence safe in parallel hunt lanes.
 */
export class WalletDetector implements StreamDetector<EcsEvent> {
  readonly id = 'wallet';
  readonly description =
    'Valid CryptoNote wallet addresses in command lines, services, tasks, registry values, WMI consumers and scripts of event logs';
  readonly rules: readonly RuleDeclaration[] = [WALLET_IN_COMMAND_LINE];

  observe(e: EcsEvent): Finding[] {
    const sightings = walletSightings(e);
    if (sightings.length === 0) return [];
    const hostname = rawHostOf(e);
    const host = canonicalHostName(hostname ?? '');
    const winlog: NonNullable<Finding['winlog']> = {};
    if (e.winlog?.channel) winlog.channel = e.winlog.channel;
    if (e.winlog?.record_id !== undefined) winlog.record_id = e.winlog.record_id;
    const code = e.event?.code ?? (e.winlog?.event_id !== undefined ? String(e.winlog.event_id) : undefined);
    const out: Finding[] = [];
    const reported = new Set<string>();
    for (const s of sightings) {
      for (const w of s.wallets) {
        if (reported.has(w.address)) continue;
        reported.add(w.address);
        const process = processOf(e, s);
        const evidence: Record<string, unknown> = {
          wallet: {
            address: w.address,
            coin: w.coin,
            network: w.network,
            kind: w.kind,
            ...(w.paymentId ? { payment_id: w.paymentId } : {}),
          },
          field: s.field,
          value: s.value.length > MAX_EVIDENCE_VALUE ? `${s.value.slice(0, MAX_EVIDENCE_VALUE)}…` : s.value,
        };
        if (e.log?.file?.path) {
          const src: Record<string, unknown> = { path: e.log.file.path };
          if (e.log.offset !== undefined) src['offset'] = e.log.offset;
          if (e.log.line !== undefined) src['line'] = e.log.line;
          evidence['source'] = src;
        }
        out.push(
          makeFinding({
            rule: {
              id: WALLET_IN_COMMAND_LINE.id,
              name: WALLET_IN_COMMAND_LINE.name,
              ruleset: WALLET_IN_COMMAND_LINE.ruleset,
            },
            severity: 'high',
            techniques: WALLET_IN_COMMAND_LINE.techniques,
            host,
            hostname,
            subject: [w.address],
            message: `${host}: ${s.what} names the ${w.coin} ${w.network === 'mainnet' ? '' : `${w.network} `}wallet ${w.address} (checksum valid); a miner is being started for it: find the process or entry and remove it.`,
            ...(e['@timestamp'] ? { timestamp: e['@timestamp'] } : {}),
            ...(process ? { process } : {}),
            ...(code ? { event: { code } } : {}),
            ...(Object.keys(winlog).length ? { winlog } : {}),
            evidence,
          }),
        );
      }
    }
    return out;
  }

  /** Every finding is made as its record arrives. */
  finalize(): Finding[] {
    return [];
  }
}
