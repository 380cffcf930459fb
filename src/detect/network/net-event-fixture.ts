/**
 * NetEvents for the network rules' tests: the shapes the capture, Zeek and
 * Suricata sources produce, built by hand so that each test says exactly what
 * the wire showed.
 */
import type { NetEvent } from '../../core/net-event.ts';
import { seededRandom } from '../../core/random.ts';

/** Labels the way arithmetic DGAs make them: 10–15 random letters under a cheap TLD. */
export function generatedNames(count: number, seed: number): string[] {
  const random = seededRandom(seed);
  const tlds = ['info', 'biz', 'net', 'org', 'com'];
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    let label = '';
    const n = 10 + Math.floor(random() * 6);
    for (let j = 0; j < n; j++) label += String.fromCharCode(97 + Math.floor(random() * 26));
    out.push(`${label}.${tlds[i % tlds.length]}`);
  }
  return out;
}

export function query(host: string, name: string, tsMs: number, frame: number): NetEvent {
  return {
    kind: 'dns',
    tsMs,
    file: 'dns.pcap',
    frame,
    transport: 'udp',
    src: { ip: host, port: 53000 },
    dst: { ip: '192.0.2.53', port: 53 },
    dns: { response: false, questions: [{ name, type: 'A' }], answers: [] },
  };
}

/** A resolver's answer to `host`: `name` is at `addresses`. */
export function answer(
  host: string,
  name: string,
  addresses: string[],
  tsMs: number,
  frame: number,
): NetEvent {
  return {
    ...query(host, name, tsMs, frame),
    dns: {
      response: true,
      rcode: 0,
      questions: [{ name, type: 'A' }],
      answers: addresses.map((data) => ({ name, type: 'A', data, ttl: 300 })),
    },
  };
}

/** A reverse lookup answered: `address` is called `name`. */
export function ptrAnswer(
  client: string,
  address: string,
  name: string,
  tsMs: number,
  frame: number,
): NetEvent {
  const question = `${address.split('.').reverse().join('.')}.in-addr.arpa`;
  return {
    ...query(client, question, tsMs, frame),
    dns: {
      response: true,
      rcode: 0,
      questions: [{ name: question, type: 'PTR' }],
      answers: [{ name: question, type: 'PTR', data: name, ttl: 300 }],
    },
  };
}

export function dhcp(hostname: string, ip: string, tsMs: number, frame: number): NetEvent {
  return {
    kind: 'dhcp',
    tsMs,
    file: 'dns.pcap',
    frame,
    transport: 'udp',
    src: { ip, port: 68 },
    dst: { ip: '255.255.255.255', port: 67 },
    dhcp: { hostname, ip, mac: '02:00:00:00:00:01' },
  };
}

/** A new TCP connection (its handshake seen). */
export function connection(src: string, dst: string, port: number, tsMs: number, frame: number): NetEvent {
  return {
    kind: 'flow',
    tsMs,
    file: 'dns.pcap',
    frame,
    transport: 'tcp',
    src: { ip: src, port: 40000 + (frame % 20000) },
    dst: { ip: dst, port },
    opened: true,
  };
}

/** The sources' addresses in `everyRuleEvents`. */
export const HOSTS = {
  miner: '10.1.0.5',
  dga: '10.1.0.6',
  scanner: '10.1.0.7',
  node: '10.1.0.8',
  named: '10.1.0.9',
} as const;

/**
 * A stream on which every network rule fires at least once: a miner that
 * looks up its pool, connects to it on a pool port and speaks stratum with an
 * XMRig agent; a DGA walk; a lookup under an alternative root; a connection
 * burst; a coin node; an IDS alert; a DHCP client and a PTR answer that name
 * two of the hosts.
 */
export function everyRuleEvents(start = Date.UTC(2026, 0, 5, 9)): NetEvent[] {
  const { miner, dga, scanner, node, named } = HOSTS;
  const pool = '203.0.113.50';
  const events: NetEvent[] = [];
  let t = start;
  let frame = 1;
  const next = (): [number, number] => {
    t += 1000;
    return [t, frame++];
  };
  events.push(dhcp('Office-PC-17', named, ...next()));
  events.push(ptrAnswer(named, miner, 'build-box.corp.example.', ...next()));
  events.push(query(miner, 'pool.supportxmr.com', ...next()));
  events.push(answer(miner, 'pool.supportxmr.com', [pool], ...next()));
  events.push(connection(miner, pool, 3333, ...next()));
  events.push({
    kind: 'tls',
    ...flowBase(miner, pool, 443, ...next()),
    tls: { serverName: 'gulf.moneroocean.stream' },
  });
  events.push({
    kind: 'mining',
    ...flowBase(miner, pool, 3333, ...next()),
    mining: {
      protocol: 'cryptonote-stratum',
      method: 'login',
      role: 'client',
      agent: 'XMRig/6.21.0',
      user: '4wallet',
    },
  });
  events.push({
    kind: 'mining',
    ...flowBase(miner, pool, 3333, ...next()),
    mining: { protocol: 'cryptonote-stratum', method: 'submit', role: 'client' },
  });
  events.push({
    kind: 'mining',
    ...flowBase(named, '198.51.100.80', 8332, ...next()),
    mining: { protocol: 'getblocktemplate', method: 'getblocktemplate', role: 'client' },
  });
  events.push({
    kind: 'http',
    ...flowBase(miner, '198.51.100.90', 80, ...next()),
    http: {
      method: 'GET',
      host: 'downloads.example.net',
      uri: '/x/setup',
      userAgent: 'xmrig/6.21.0 (Linux x86_64)',
    },
  });
  events.push({
    kind: 'http',
    ...flowBase(miner, pool, 8080, ...next()),
    http: { method: 'POST', host: 'xmr.nanopool.org:8080', uri: '/json_rpc' },
  });
  for (const name of generatedNames(12, 7)) {
    events.push(query(dga, name, ...next()));
    const [tsMs, f] = next();
    events.push({
      ...query(dga, name, tsMs, f),
      dns: { response: true, rcode: 3, questions: [{ name, type: 'A' }], answers: [] },
    });
  }
  // A lookup under an EmerDNS TLD (alt_root_dns).
  events.push(query(miner, 'mine.xmrpool.bazar', ...next()));
  const [tlsAt, tlsFrame] = next();
  events.push({
    kind: 'tls',
    ...flowBase(dga, '198.51.100.44', 443, tlsAt, tlsFrame),
    tls: { serverName: 'cdn.xkqzjvwpfmhtrb.info' },
  });
  for (let i = 0; i < 60; i++) {
    t += 100;
    events.push(connection(scanner, `198.51.100.${100 + i}`, 445, t, frame++));
  }
  events.push({
    kind: 'p2p',
    ...flowBase(node, '198.51.100.120', 8333, ...next()),
    p2p: { coin: 'bitcoin' },
  });
  events.push({
    kind: 'alert',
    ...flowBase(named, '198.51.100.130', 4444, ...next()),
    alert: {
      signature: 'ET POLICY Cryptocurrency Miner Checkin',
      category: 'Crypto Currency Mining Activity Detected',
      severity: 1,
    },
  });
  return events;
}

function flowBase(src: string, dst: string, port: number, tsMs: number, frame: number) {
  return {
    tsMs,
    file: 'dns.pcap',
    frame,
    transport: 'tcp' as const,
    src: { ip: src, port: 40000 + (frame % 20000) },
    dst: { ip: dst, port },
  };
}
