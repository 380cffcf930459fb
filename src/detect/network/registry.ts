import { altRoot } from './alt-root/index.ts';
import { coinP2p } from './coin-p2p/index.ts';
import { connectionRate } from './connection-rate/index.ts';
import { dgaHost } from './dga-host/index.ts';
import { idsAlert } from './ids-alert/index.ts';
import { minerUserAgent } from './miner-user-agent/index.ts';
import { miningProtocol } from './mining-protocol/index.ts';
import type { NetworkRuleModule } from './network-rule.ts';
import { poolAddress } from './pool-address/index.ts';
import { poolDomain } from './pool-domain/index.ts';
import { poolPort } from './pool-port/index.ts';
import { randomName } from './random-name/index.ts';

/**
 * The network rules. A new one is a folder here plus one line. Each event is
 * handed to the rules in this order, which is the order their findings are
 * first seen in (and reported in) when one event fires several.
 */
export const NETWORK_RULES: readonly NetworkRuleModule[] = [
  miningProtocol,
  poolPort,
  poolAddress,
  connectionRate,
  poolDomain,
  randomName,
  altRoot,
  dgaHost,
  minerUserAgent,
  coinP2p,
  idsAlert,
];
