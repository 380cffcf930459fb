import { decodeBase58 } from './base58.ts';
import { keccak256 } from './keccak.ts';

/**
 * CryptoNote wallet addresses (Monero, Bytecoin), validated the way the
 * wallets themselves do, not by a pattern: base58 block-decoding, the
 * network prefix (a varint) and the checksum (the first 4 bytes of the
 * Keccak-256 of everything before it). A miner's command line or config
 * names the attacker's wallet; a valid one is the thread the funds start from.
 *
 * Prefixes: Monero's cryptonote_config.h (mainnet 18 standard, 19
 * integrated, 42 subaddress; testnet 53/54/63, stagenet 24/25/36) and
 * Bytecoin's (6, standard addresses starting with '2').
 */
export type Coin = 'monero' | 'bytecoin';
export type AddressKind = 'standard' | 'integrated' | 'subaddress';

export interface WalletAddress {
  address: string;
  coin: Coin;
  network: 'mainnet' | 'testnet' | 'stagenet';
  kind: AddressKind;
  /** Integrated addresses: the 8-byte payment id, hex. */
  paymentId?: string;
}

const PREFIXES: ReadonlyMap<number, Omit<WalletAddress, 'address' | 'paymentId'>> = new Map([
  [18, { coin: 'monero', network: 'mainnet', kind: 'standard' }],
  [19, { coin: 'monero', network: 'mainnet', kind: 'integrated' }],
  [42, { coin: 'monero', network: 'mainnet', kind: 'subaddress' }],
  [53, { coin: 'monero', network: 'testnet', kind: 'standard' }],
  [54, { coin: 'monero', network: 'testnet', kind: 'integrated' }],
  [63, { coin: 'monero', network: 'testnet', kind: 'subaddress' }],
  [24, { coin: 'monero', network: 'stagenet', kind: 'standard' }],
  [25, { coin: 'monero', network: 'stagenet', kind: 'integrated' }],
  [36, { coin: 'monero', network: 'stagenet', kind: 'subaddress' }],
  [6, { coin: 'bytecoin', network: 'mainnet', kind: 'standard' }],
]);

/** Public spend key + public view key. */
const KEYS = 64;
const PAYMENT_ID = 8;
const CHECKSUM = 4;

export type WalletCheck = { ok: true; wallet: WalletAddress } | { ok: false; reason: string };

function readVarint(bytes: Uint8Array): { value: number; length: number } | undefined {
  let value = 0;
  for (let i = 0; i < Math.min(bytes.length, 5); i++) {
    const b = bytes[i]!;
    value += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) return { value, length: i + 1 };
  }
  return undefined;
}

export function checkWallet(text: string): WalletCheck {
  if (text.length !== 95 && text.length !== 106)
    return { ok: false, reason: `${text.length} characters; CryptoNote addresses have 95 or 106` };
  const bytes = decodeBase58(text);
  if (!bytes) return { ok: false, reason: 'not CryptoNote base58' };
  const prefix = readVarint(bytes);
  if (!prefix) return { ok: false, reason: 'no network prefix' };
  const net = PREFIXES.get(prefix.value);
  if (!net) return { ok: false, reason: `unknown network prefix ${prefix.value}` };
  const payload = bytes.length - prefix.length - CHECKSUM;
  const want = net.kind === 'integrated' ? KEYS + PAYMENT_ID : KEYS;
  if (payload !== want)
    return { ok: false, reason: `${payload} bytes after the prefix; a ${net.kind} address has ${want}` };
  const body = bytes.subarray(0, bytes.length - CHECKSUM);
  const sum = keccak256(body).subarray(0, CHECKSUM);
  const given = bytes.subarray(bytes.length - CHECKSUM);
  if (!sum.every((b, i) => b === given[i])) return { ok: false, reason: 'checksum mismatch' };
  const wallet: WalletAddress = { address: text, ...net };
  if (net.kind === 'integrated')
    wallet.paymentId = Buffer.from(body.subarray(prefix.length + KEYS)).toString('hex');
  return { ok: true, wallet };
}

/** The valid CryptoNote addresses written anywhere in a text (a command line, `wallet.worker`, a config value). */
export function walletsIn(text: string): WalletAddress[] {
  const out: WalletAddress[] = [];
  if (text.length < 95) return out;
  for (const m of text.matchAll(
    /(?<![1-9A-HJ-NP-Za-km-z])[1-9A-HJ-NP-Za-km-z]{95,106}(?![1-9A-HJ-NP-Za-km-z])/g,
  )) {
    const r = checkWallet(m[0]);
    if (r.ok) out.push(r.wallet);
  }
  return out;
}
