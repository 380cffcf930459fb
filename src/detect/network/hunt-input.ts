import type { InputKind } from '../../hunt/input-kinds.ts';
import { analyzeNetworkFile, sniffNetworkKind } from './index.ts';

/** `deminer hunt` input for pcap, pcapng, Zeek logs and Suricata eve.json (detected by content). */
export const networkInputKind: InputKind = {
  name: 'network',
  sniff: (head, path) => sniffNetworkKind(head, path) !== undefined,
  async *read(path, ctx) {
    for await (const x of analyzeNetworkFile(path, { intel: ctx.intel })) {
      if ('rule' in x) yield { kind: 'finding', finding: x };
      else yield { kind: 'issue', issue: x };
    }
  },
};
