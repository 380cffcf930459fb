import { type HttpControllerOptions, httpBackend } from './http/index.ts';
import { type NftablesOptions, nftablesBackend } from './nftables/index.ts';
import { type OdlOptions, odlBackend } from './odl/index.ts';
import { type OnosOptions, onosBackend } from './onos/index.ts';
import { type OvsOptions, ovsBackend } from './ovs/index.ts';
import { type RyuOptions, ryuBackend } from './ryu/index.ts';
import type { IsolationBackend } from './types.ts';

/**
 * Every isolation backend, by name: one folder under `isolate/` and one entry
 * here. A spec is plain data (the CLI builds it from flags; the server will
 * build it from its configuration), so a backend is chosen and configured
 * the same way wherever isolation is decided.
 */
export type BackendSpec =
  | ({ backend: 'ovs' } & OvsOptions)
  | ({ backend: 'nftables' } & NftablesOptions)
  | ({ backend: 'ryu' } & RyuOptions)
  | ({ backend: 'onos' } & OnosOptions)
  | ({ backend: 'odl' } & OdlOptions)
  | ({ backend: 'http' } & HttpControllerOptions);

export const BACKENDS = [
  'ovs',
  'nftables',
  'ryu',
  'onos',
  'odl',
  'http',
] as const satisfies readonly BackendSpec['backend'][];

export const BACKEND_SUMMARY: Record<BackendSpec['backend'], string> = {
  ovs: 'Open vSwitch bridge, directly with ovs-ofctl (no controller)',
  nftables: "this host's firewall: one nftables table, only the deminer server, DNS and DHCP stay reachable",
  ryu: 'Ryu / os-ken ofctl_rest',
  onos: 'ONOS REST API (/onos/v1/flows)',
  odl: 'OpenDaylight RESTCONF (openflowplugin)',
  http: 'any controller with an HTTP API (configurable requests; the playbook’s by default)',
};

export function createBackend(spec: BackendSpec): IsolationBackend {
  switch (spec.backend) {
    case 'ovs':
      return ovsBackend(spec);
    case 'nftables':
      return nftablesBackend(spec);
    case 'ryu':
      return ryuBackend(spec);
    case 'onos':
      return onosBackend(spec);
    case 'odl':
      return odlBackend(spec);
    case 'http':
      return httpBackend(spec);
  }
}
