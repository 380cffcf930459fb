/**
 * What the network sources (capture analysis, Zeek, Suricata) observe, in
 * one compact shape the network detectors read. Only observations a detector
 * needs are made: new flows, DNS messages, TLS names, mining messages, HTTP
 * requests, coin peer-to-peer sessions and IDS alerts.
 */
export interface NetEndpoint {
  ip: string;
  port?: number;
}

export interface NetEvent {
  kind: 'flow' | 'dns' | 'tls' | 'mining' | 'http' | 'p2p' | 'alert' | 'dhcp';
  tsMs: number;
  /** Evidence: the input file and the frame number or line the observation comes from. */
  file: string;
  frame?: number;
  line?: number;
  transport?: 'tcp' | 'udp';
  /** For flows and application messages: the initiator (client) and responder (server). */
  src?: NetEndpoint;
  dst?: NetEndpoint;
  /** The flow began with its handshake inside the input (a new outbound connection). */
  opened?: boolean;
  dns?: {
    response: boolean;
    /** Response code of a response when the source records it (0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN…). */
    rcode?: number;
    questions: { name: string; type: string }[];
    answers: { name: string; type: string; data: string; ttl?: number }[];
  };
  tls?: { serverName?: string; certSubjectCn?: string[]; certSans?: string[] };
  mining?: MiningMessage;
  http?: { method?: string; host?: string; uri?: string; userAgent?: string };
  p2p?: { coin: string };
  alert?: { signature: string; category?: string; severity?: number };
  /** A DHCP client naming itself (option 12) for an address it holds or asks for: how hosts get their names. */
  dhcp?: { hostname: string; ip: string; mac?: string };
}

/** One mining JSON-RPC message as the protocol parser recognised it (sources/protocols/mining-protocol.ts). */
export interface MiningMessage {
  protocol: 'stratum' | 'cryptonote-stratum' | 'eth-stratum' | 'getblocktemplate' | 'getwork';
  method: string;
  /** Client requests versus pool messages (job pushes, login results). */
  role: 'client' | 'pool';
  agent?: string;
  /** Wallet or worker name the miner logs in with. */
  user?: string;
  algorithm?: string;
}

/** DNS response code of a name that does not exist (RFC 1035). */
export const NXDOMAIN = 3;
