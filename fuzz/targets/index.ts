import type { FuzzTarget } from '../expected.ts';
import { fuzz as allowlist } from './allowlist.ts';
import { fuzz as config } from './config.ts';
import { fuzz as dhcp } from './dhcp.ts';
import { fuzz as dns } from './dns.ts';
import { fuzz as evtx } from './evtx.ts';
import { fuzz as intelFeed } from './intel-feed.ts';
import { fuzz as jsonEvents } from './json-events.ts';
import { fuzz as pcap } from './pcap.ts';
import { fuzz as sigma } from './sigma.ts';
import { fuzz as stratum } from './stratum.ts';
import { fuzz as suricata } from './suricata.ts';
import { fuzz as tls } from './tls.ts';
import { fuzz as zeek } from './zeek.ts';

/** Every target by name; the name is also its seed folder (fuzz/seeds/<name>) and regression folder. */
export const TARGETS: Readonly<Record<string, FuzzTarget>> = {
  evtx,
  pcap,
  dns,
  dhcp,
  tls,
  stratum,
  zeek,
  suricata,
  'json-events': jsonEvents,
  sigma,
  config,
  allowlist,
  'intel-feed': intelFeed,
};
