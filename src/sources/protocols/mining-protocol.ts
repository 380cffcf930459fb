import type { MiningMessage } from '../../core/net-event.ts';

export type { MiningMessage } from '../../core/net-event.ts';

/**
 * Recognises mining protocols in one JSON-RPC message, whatever the port:
 * - stratum v1 (`mining.subscribe`/`authorize`/`notify`/`submit`/…),
 * - the CryptoNote/XMRig stratum dialect (`login`/`submit`/`job`/`keepalived`),
 * - Ethereum stratum/getwork (`eth_submitLogin`, `eth_getWork`, `eth_submitWork`),
 * - getblocktemplate/getwork (BIP 22/23, the pre-stratum long-poll protocol), usually over HTTP.
 * Method sets follow the public protocol descriptions (slushpool stratum v1
 * docs, the XMRig source's client protocol, BIP 22) and the nesfit captures.
 */

const STRATUM_V1 = new Set([
  'mining.subscribe',
  'mining.authorize',
  'mining.submit',
  'mining.notify',
  'mining.set_difficulty',
  'mining.set_target',
  'mining.extranonce.subscribe',
  'mining.set_extranonce',
  'mining.configure',
  'mining.suggest_difficulty',
  'mining.get_transactions',
  'mining.multi_version',
  'mining.ping',
]);
const POOL_SIDE_V1 = new Set([
  'mining.notify',
  'mining.set_difficulty',
  'mining.set_target',
  'mining.set_extranonce',
]);
const ETH = new Set(['eth_submitLogin', 'eth_getWork', 'eth_submitWork', 'eth_submitHashrate', 'eth_login']);

type Json = Record<string, unknown>;

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v.slice(0, 256) : undefined;
}

function obj(v: unknown): Json | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
}

/** Cheap pre-filter so that only lines that could be mining reach JSON.parse. */
const HINT = /"(?:method|result|jsonrpc)"/;

export function parseMiningLine(line: string): MiningMessage | undefined {
  if (line.length < 10 || line.length > 65536 || !HINT.test(line)) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return fallback(line);
  }
  const m = obj(v);
  if (!m) return undefined;
  const method = str(m['method']);
  const params = m['params'];
  const list = Array.isArray(params) ? params : undefined;
  const named = obj(params);
  if (method) {
    if (STRATUM_V1.has(method)) {
      const out: MiningMessage = {
        protocol: 'stratum',
        method,
        role: POOL_SIDE_V1.has(method) ? 'pool' : 'client',
      };
      if (method === 'mining.subscribe') setIf(out, 'agent', str(list?.[0]));
      if (method === 'mining.authorize' || method === 'mining.submit') setIf(out, 'user', str(list?.[0]));
      return out;
    }
    if (method === 'login' && named && (named['login'] !== undefined || named['agent'] !== undefined)) {
      const out: MiningMessage = { protocol: 'cryptonote-stratum', method, role: 'client' };
      setIf(out, 'agent', str(named['agent']));
      setIf(out, 'user', str(named['login']));
      const algo = named['algo'];
      if (Array.isArray(algo)) setIf(out, 'algorithm', algo.filter((x) => typeof x === 'string').join(','));
      return out;
    }
    if (method === 'submit' && named && (named['job_id'] !== undefined || named['nonce'] !== undefined)) {
      const out: MiningMessage = { protocol: 'cryptonote-stratum', method, role: 'client' };
      setIf(out, 'algorithm', str(named['algo']));
      return out;
    }
    if (method === 'job' && named && named['blob'] !== undefined) {
      const out: MiningMessage = { protocol: 'cryptonote-stratum', method, role: 'pool' };
      setIf(out, 'algorithm', str(named['algo']));
      return out;
    }
    if (method === 'keepalived') return { protocol: 'cryptonote-stratum', method, role: 'client' };
    if (ETH.has(method)) {
      const out: MiningMessage = { protocol: 'eth-stratum', method, role: 'client' };
      if (method === 'eth_submitLogin' || method === 'eth_login') {
        setIf(out, 'user', str(list?.[0]));
        setIf(out, 'agent', str(m['worker']));
      }
      return out;
    }
    if (method === 'getblocktemplate' || method === 'submitblock')
      return { protocol: 'getblocktemplate', method, role: 'client' };
    if (method === 'getwork') return { protocol: 'getwork', method, role: 'client' };
    return undefined;
  }
  // Replies: an XMRig login result carries the first job.
  const result = obj(m['result']);
  const job = obj(result?.['job']);
  if (job && job['blob'] !== undefined) {
    const out: MiningMessage = { protocol: 'cryptonote-stratum', method: 'login-result', role: 'pool' };
    setIf(out, 'algorithm', str(job['algo']));
    return out;
  }
  return undefined;
}

function setIf(o: MiningMessage, k: 'agent' | 'user' | 'algorithm', v: string | undefined): void {
  if (v) o[k] = v;
}

const METHOD_RE =
  /"method"\s*:\s*"(mining\.[a-z_.]+|login|submit|job|keepalived|eth_submitLogin|eth_getWork|eth_submitWork|getblocktemplate|getwork)"/;

/** A cut-off or sloppy line (some miners send invalid JSON): the method name alone. */
function fallback(line: string): MiningMessage | undefined {
  const m = METHOD_RE.exec(line);
  if (!m) return undefined;
  const method = m[1]!;
  if (method.startsWith('mining.')) return { protocol: 'stratum', method, role: 'client' };
  if (method.startsWith('eth_')) return { protocol: 'eth-stratum', method, role: 'client' };
  if (method === 'getblocktemplate') return { protocol: 'getblocktemplate', method, role: 'client' };
  if (method === 'getwork') return { protocol: 'getwork', method, role: 'client' };
  // login/submit/job alone are too generic without their parameters.
  if (method === 'keepalived' || /"(?:job_id|blob|agent)"/.test(line))
    return { protocol: 'cryptonote-stratum', method, role: 'client' };
  return undefined;
}
