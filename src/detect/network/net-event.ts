import type { MiningMessage } from './mining-protocol.ts';

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
  kind: 'flow' | 'dns' | 'tls' | 'mining' | 'http' | 'p2p' | 'alert';
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
}
