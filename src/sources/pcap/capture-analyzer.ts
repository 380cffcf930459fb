import type { ParseIssue } from '../../core/errors.ts';
import type { NetEndpoint, NetEvent } from '../../core/net-event.ts';
import { parseDhcpNaming } from '../protocols/dhcp-message.ts';
import { type DnsMessage, parseDnsMessage } from '../protocols/dns-message.ts';
import { parseMiningLine } from '../protocols/mining-protocol.ts';
import { TlsStream } from '../protocols/tls-handshake.ts';
import type { PacketSink } from './capture-reader.ts';
import {
  Decoded,
  decodePacket,
  dstIpString,
  ipv4String,
  ipv6String,
  PacketView,
  srcIpString,
  TCP_ACK,
  TCP_FIN,
  TCP_RST,
  TCP_SYN,
} from './decode.ts';
import { FragmentReassembler } from './ip-fragments.ts';
import type { Flow, ReassemblyLimits, StreamDir } from './tcp-reassembly.ts';
import { FlowTable, flowHash } from './tcp-reassembly.ts';

/** What one followed direction of a TCP flow is being read as. */
type DirKind = 'tls' | 'json' | 'http' | 'dns';

interface DirApp {
  kind: DirKind;
  tls?: TlsStream;
  /** Mining messages reported per method on this direction (a long session repeats them). */
  methods?: Map<string, number>;
}

interface FlowApp {
  c?: DirApp;
  s?: DirApp;
  fins: number;
  p2pReported?: boolean;
}

const DNS_PORTS = new Set([53, 5353, 5355]);
/** Issues of one code reported per input before only counting. */
const ISSUES_PER_CODE = 50;
const MINING_EVENTS_PER_METHOD = 3;

export interface AnalyzerStats {
  frames: number;
  decoded: number;
  malformed: number;
  dnsMalformed: number;
  flows: number;
  fragmentsDropped: number;
  streamsDropped: number;
  issuesSuppressed: number;
}

/**
 * Turns decoded packets into `NetEvent`s: new flows, DNS (UDP and TCP),
 * TLS names, mining JSON-RPC on any port, HTTP requests, coin P2P sessions.
 * Pure ACKs never touch the flow table; payload is looked at only for
 * directions whose first bytes look like one of those protocols.
 */
export class CaptureAnalyzer implements PacketSink {
  private readonly pv = new PacketView();
  private readonly frags = new FragmentReassembler();
  private readonly table: FlowTable<FlowApp>;
  private readonly emit: (e: NetEvent) => void;
  private readonly issue: (i: ParseIssue) => void;
  private readonly file: string;
  /** Ports of coin peer-to-peer networks (port → coin), reported as `p2p` on a new flow. */
  private readonly p2pPorts: ReadonlyMap<number, string>;
  private readonly issueCounts = new Map<string, number>();
  private readonly utf8 = new TextDecoder('utf-8', { fatal: false });
  private lastSweepMs = 0;
  readonly stats: AnalyzerStats = {
    frames: 0,
    decoded: 0,
    malformed: 0,
    dnsMalformed: 0,
    flows: 0,
    fragmentsDropped: 0,
    streamsDropped: 0,
    issuesSuppressed: 0,
  };

  constructor(opts: {
    file: string;
    p2pPorts?: ReadonlyMap<number, string>;
    emit: (e: NetEvent) => void;
    issue: (i: ParseIssue) => void;
    limits?: Partial<ReassemblyLimits>;
  }) {
    this.file = opts.file;
    this.p2pPorts = opts.p2pPorts ?? new Map();
    this.emit = opts.emit;
    this.issue = opts.issue;
    this.table = new FlowTable<FlowApp>(opts.limits);
  }

  get flowTable(): FlowTable<FlowApp> {
    return this.table;
  }

  onIssue(i: ParseIssue): void {
    this.report(i.code, i.message, i.location);
  }

  onPacket(buf: Uint8Array, dv: DataView, off: number, caplen: number, linktype: number, tsMs: number): void {
    const frame = ++this.stats.frames;
    const pv = this.pv;
    const r = decodePacket(pv, buf, dv, off, caplen, linktype, this.frags, tsMs);
    if (r !== Decoded.Ok) {
      if (r === Decoded.Malformed) {
        this.stats.malformed++;
        this.report(
          'PCAP_MALFORMED_PACKET',
          'headers shorter than they claim; packet skipped',
          this.at(frame),
        );
      }
      return;
    }
    this.stats.decoded++;
    if (pv.proto === 17) {
      if (DNS_PORTS.has(pv.dstPort) || DNS_PORTS.has(pv.srcPort)) this.udpDns(frame, tsMs);
      else if ((pv.dstPort === 67 || pv.dstPort === 68) && (pv.srcPort === 67 || pv.srcPort === 68))
        this.udpDhcp(frame, tsMs);
      return;
    }
    if (pv.proto === 6) this.tcp(frame, tsMs);
    if (tsMs - this.lastSweepMs > 60_000) {
      this.lastSweepMs = tsMs;
      this.table.sweep(tsMs);
    }
  }

  /** End of input: counters that only make sense once. */
  finish(): void {
    this.stats.fragmentsDropped = this.frags.dropped + this.frags.inFlight;
    this.stats.streamsDropped = this.table.streamDrops;
    for (const [code, n] of this.issueCounts) {
      if (n > ISSUES_PER_CODE) {
        this.issue({
          code,
          message: `${n - ISSUES_PER_CODE} more like this not listed`,
          location: this.file,
        });
      }
    }
  }

  private at(frame: number): string {
    return `${this.file}#${frame}`;
  }

  private report(code: string, message: string, location: string): void {
    const n = (this.issueCounts.get(code) ?? 0) + 1;
    this.issueCounts.set(code, n);
    if (n <= ISSUES_PER_CODE) this.issue({ code, message, location });
    else this.stats.issuesSuppressed++;
  }

  private udpDns(frame: number, tsMs: number): void {
    const pv = this.pv;
    const m = parseDnsMessage(pv.buf, pv.payloadOff, pv.payloadLen);
    if ('error' in m) {
      this.stats.dnsMalformed++;
      this.report(m.error, 'malformed DNS message skipped', this.at(frame));
      return;
    }
    const src = { ip: srcIpString(pv), port: pv.srcPort };
    const dst = { ip: dstIpString(pv), port: pv.dstPort };
    // Events name the client first, whichever way the packet went.
    this.emit({
      kind: 'dns',
      tsMs,
      file: this.file,
      frame,
      transport: 'udp',
      src: m.response ? dst : src,
      dst: m.response ? src : dst,
      dns: dnsOf(m),
    });
  }

  private udpDhcp(frame: number, tsMs: number): void {
    const pv = this.pv;
    const d = parseDhcpNaming(pv.buf, pv.payloadOff, pv.payloadLen);
    if (d) this.emit({ kind: 'dhcp', tsMs, file: this.file, frame, transport: 'udp', dhcp: d });
  }

  private tcp(frame: number, tsMs: number): void {
    const pv = this.pv;
    const flags = pv.tcpFlags;
    const syn = (flags & (TCP_SYN | TCP_ACK)) === TCP_SYN;
    if (!syn && pv.payloadLen === 0 && (flags & (TCP_FIN | TCP_RST)) === 0) return;
    const table = this.table;
    const h = flowHash(pv);
    let f = table.find(pv, h);
    if (!f) {
      if (flags & TCP_RST) return;
      // A SYN-ACK or a well-known source port means this packet comes from the server.
      const fromServer =
        (flags & (TCP_SYN | TCP_ACK)) === (TCP_SYN | TCP_ACK) ||
        (!syn && pv.srcPort < 1024 && pv.dstPort >= 1024);
      f = table.create(pv, h, tsMs, frame, fromServer);
      f.synSeen = syn;
      f.app = { fins: 0 };
      this.stats.flows++;
      this.newFlow(f, frame, tsMs, syn);
    }
    f.lastMs = tsMs;
    const app = f.app!;
    if (flags & TCP_RST) f.closed = true;
    else if (flags & TCP_FIN && ++app.fins >= 2) f.closed = true;
    if (pv.payloadLen === 0) return;
    const toClient = table.fromServer;
    const d = toClient ? f.toClient : f.toServer;
    if (d.state === 2) return;
    if (d.state === 0 && !this.classify(f, app, d, toClient, frame, tsMs)) return;
    if (!table.append(d, pv.seq, pv.buf, pv.payloadOff, pv.payloadLen)) return;
    const da = toClient ? app.s : app.c;
    if (da) this.consume(f, d, da, toClient, frame, tsMs);
  }

  private endpoints(f: Flow<FlowApp>): { src: NetEndpoint; dst: NetEndpoint } {
    const v4 = f.ver === 4;
    return {
      src: { ip: v4 ? ipv4String(f.a0) : ipv6String(f.a0, f.a1, f.a2, f.a3), port: f.ap },
      dst: { ip: v4 ? ipv4String(f.b0) : ipv6String(f.b0, f.b1, f.b2, f.b3), port: f.bp },
    };
  }

  private newFlow(f: Flow<FlowApp>, frame: number, tsMs: number, opened: boolean): void {
    const { src, dst } = this.endpoints(f);
    this.emit({ kind: 'flow', tsMs, file: this.file, frame, transport: 'tcp', src, dst, opened });
    const coin = this.p2pPorts.get(f.bp);
    if (coin) {
      f.app!.p2pReported = true;
      this.emit({ kind: 'p2p', tsMs, file: this.file, frame, transport: 'tcp', src, dst, p2p: { coin } });
    }
  }

  /** Decides from the first payload bytes whether (and as what) to follow a direction. */
  private classify(
    f: Flow<FlowApp>,
    app: FlowApp,
    d: StreamDir,
    toClient: boolean,
    frame: number,
    tsMs: number,
  ): boolean {
    const pv = this.pv;
    const b = pv.buf;
    const p = pv.payloadOff;
    const n = pv.payloadLen;
    const b0 = b[p]!;
    let kind: DirKind | undefined;
    if (DNS_PORTS.has(f.bp)) kind = 'dns';
    else if (b0 === 0x16 && n >= 3 && b[p + 1] === 3) kind = 'tls';
    else if (b0 === 0x7b) kind = 'json';
    else if (!toClient && n >= 4 && isHttpRequestStart(b, p)) kind = 'http';
    else if (n >= 4 && !app.p2pReported && isCoinMagic(b, p)) {
      app.p2pReported = true;
      const { src, dst } = this.endpoints(f);
      this.emit({
        kind: 'p2p',
        tsMs,
        file: this.file,
        frame,
        transport: 'tcp',
        src,
        dst,
        p2p: { coin: 'bitcoin' },
      });
    }
    if (!kind) {
      this.table.release(d);
      return false;
    }
    const da: DirApp = { kind };
    if (kind === 'tls') da.tls = new TlsStream();
    if (toClient) app.s = da;
    else app.c = da;
    this.table.follow(d);
    return true;
  }

  private consume(
    f: Flow<FlowApp>,
    d: StreamDir,
    da: DirApp,
    toClient: boolean,
    frame: number,
    tsMs: number,
  ): void {
    const data = d.data.subarray(0, d.len);
    switch (da.kind) {
      case 'tls': {
        const t = da.tls!;
        t.feed(data);
        if (t.done) {
          const facts = t.facts;
          if (facts.serverName || facts.certSubjectCn || facts.certSans) {
            const { src, dst } = this.endpoints(f);
            const tls: NonNullable<NetEvent['tls']> = {};
            if (facts.serverName) tls.serverName = facts.serverName;
            if (facts.certSubjectCn?.length) tls.certSubjectCn = facts.certSubjectCn;
            if (facts.certSans?.length) tls.certSans = facts.certSans;
            this.emit({ kind: 'tls', tsMs, file: this.file, frame, transport: 'tcp', src, dst, tls });
          }
          this.table.release(d);
        }
        return;
      }
      case 'json': {
        let start = 0;
        for (let i = 0; i < data.length; i++) {
          if (data[i] !== 0x0a) continue;
          this.jsonLine(f, da, data, start, i, toClient, frame, tsMs);
          start = i + 1;
        }
        this.table.consume(d, start);
        // A "line" this long is not line-delimited JSON-RPC.
        if (d.len > 16384) this.table.release(d);
        return;
      }
      case 'http': {
        const used = this.httpRequests(f, da, data, frame, tsMs);
        if (used < 0) this.table.release(d);
        else this.table.consume(d, used);
        return;
      }
      case 'dns': {
        let p = 0;
        while (p + 2 <= data.length) {
          const l = (data[p]! << 8) | data[p + 1]!;
          if (p + 2 + l > data.length) break;
          const m = parseDnsMessage(data, p + 2, l);
          if ('error' in m) {
            this.stats.dnsMalformed++;
            this.report(m.error, 'malformed DNS message (TCP) skipped', this.at(frame));
          } else {
            const { src, dst } = this.endpoints(f);
            this.emit({
              kind: 'dns',
              tsMs,
              file: this.file,
              frame,
              transport: 'tcp',
              src,
              dst,
              dns: dnsOf(m),
            });
          }
          p += 2 + l;
        }
        this.table.consume(d, p);
        return;
      }
    }
  }

  private jsonLine(
    f: Flow<FlowApp>,
    da: DirApp,
    data: Uint8Array,
    s: number,
    e: number,
    toClient: boolean,
    frame: number,
    tsMs: number,
  ): void {
    while (s < e && (data[s] === 0x20 || data[s] === 0x09)) s++;
    if (data[s] !== 0x7b) return;
    const m = parseMiningLine(this.utf8.decode(data.subarray(s, e)));
    if (!m) return;
    da.methods ??= new Map();
    const seen = da.methods.get(m.method) ?? 0;
    da.methods.set(m.method, seen + 1);
    if (seen >= MINING_EVENTS_PER_METHOD) return;
    // Pool pushes travel to the client; the miner is always the flow's client.
    if (toClient) m.role = 'pool';
    const { src, dst } = this.endpoints(f);
    this.emit({ kind: 'mining', tsMs, file: this.file, frame, transport: 'tcp', src, dst, mining: m });
  }

  /** Returns bytes consumed, or -1 when the stream is not (or no longer) HTTP/1. */
  private httpRequests(f: Flow<FlowApp>, _da: DirApp, data: Uint8Array, frame: number, tsMs: number): number {
    let p = 0;
    for (;;) {
      const hdrEnd = indexOfCrlfCrlf(data, p);
      if (hdrEnd < 0) return data.length - p > 16384 ? -1 : p;
      const head = latin1(data, p, hdrEnd);
      const lines = head.split('\r\n');
      const [method, uri] = (lines[0] ?? '').split(' ');
      const headers = new Map<string, string>();
      for (const l of lines.slice(1)) {
        const c = l.indexOf(':');
        if (c > 0) headers.set(l.slice(0, c).trim().toLowerCase(), l.slice(c + 1).trim());
      }
      const clen = Number(headers.get('content-length') ?? '0');
      const bodyStart = hdrEnd + 4;
      if (!Number.isFinite(clen) || clen < 0 || clen > 1 << 20) return -1;
      if (bodyStart + clen > data.length) return clen > 60000 ? -1 : p;
      const { src, dst } = this.endpoints(f);
      const http: NonNullable<NetEvent['http']> = {};
      if (method) http.method = method;
      if (uri) http.uri = uri.slice(0, 512);
      const host = headers.get('host');
      if (host) http.host = host.replace(/:\d+$/, '').toLowerCase();
      const ua = headers.get('user-agent');
      if (ua) http.userAgent = ua.slice(0, 256);
      this.emit({ kind: 'http', tsMs, file: this.file, frame, transport: 'tcp', src, dst, http });
      if (clen > 0 && data[bodyStart] === 0x7b) {
        const m = parseMiningLine(this.utf8.decode(data.subarray(bodyStart, bodyStart + clen)));
        if (m) {
          if (ua && !m.agent) m.agent = ua.slice(0, 256);
          this.emit({ kind: 'mining', tsMs, file: this.file, frame, transport: 'tcp', src, dst, mining: m });
        }
      }
      p = bodyStart + clen;
    }
  }
}

function isHttpRequestStart(b: Uint8Array, p: number): boolean {
  const c0 = b[p]!;
  const c1 = b[p + 1]!;
  const c2 = b[p + 2]!;
  const c3 = b[p + 3]!;
  // "POST", "GET ", "PUT ", "HEAD"
  return (
    (c0 === 0x50 && c1 === 0x4f && c2 === 0x53 && c3 === 0x54) ||
    (c0 === 0x47 && c1 === 0x45 && c2 === 0x54 && c3 === 0x20) ||
    (c0 === 0x50 && c1 === 0x55 && c2 === 0x54 && c3 === 0x20) ||
    (c0 === 0x48 && c1 === 0x45 && c2 === 0x41 && c3 === 0x44)
  );
}

/** Bitcoin-family network magics (mainnet, testnet3, regtest, signet) starting a P2P message. */
function isCoinMagic(b: Uint8Array, p: number): boolean {
  const m = ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
  return m === 0xf9beb4d9 || m === 0x0b110907 || m === 0xfabfb5da || m === 0x0a03cf40 || m === 0xfbc0b6db;
}

function indexOfCrlfCrlf(b: Uint8Array, from: number): number {
  for (let i = from; i + 3 < b.length; i++)
    if (b[i] === 0x0d && b[i + 1] === 0x0a && b[i + 2] === 0x0d && b[i + 3] === 0x0a) return i;
  return -1;
}

function latin1(b: Uint8Array, s: number, e: number): string {
  let out = '';
  for (let i = s; i < e; i++) out += String.fromCharCode(b[i]!);
  return out;
}

/** The DNS part of an event: the response code only where there was a response. */
function dnsOf(m: DnsMessage): NonNullable<NetEvent['dns']> {
  return {
    response: m.response,
    ...(m.response ? { rcode: m.rcode } : {}),
    questions: m.questions,
    answers: m.answers,
  };
}
