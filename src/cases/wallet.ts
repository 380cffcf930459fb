import { ALPHABET, decodeBase58, ENCODED_SIZES } from './base58.ts';
import { keccak256 } from './keccak.ts';

/**
 * CryptoNote wallet addresses (Monero, Bytecoin), validated the way the
 * wallets themselves do, not by a pattern: base58 block-decoding, the
 * network prefix (a varint) and the checksum (the first 4 bytes of the
 * Keccak-256 of everything before it). A miner's command line or config
 * names the attacker's wallet; a valid one is the thread the funds start from.
 *
 * Prefixes: Monero's cryptonote_config.h (mainnet 18 standard, 19
 * integrated, 42 subaddress; testnet 53/54/63, stagenet 24/25/36),
 * Bytecoin's (6, standard addresses starting with '2') and Infinium-8's
 * (CryptoNoteConfig.hpp of its Bytecoin-derived daemon:
 * `ADDRESS_BASE58_PREFIX = 1288825`, "legacy addresses start with inf8";
 * a three-byte varint, so its addresses are 98 characters). Infinium-8's
 * later "amethyst" format (prefix 88386169, `infi8…`) lays out its keys
 * differently and is not recognised.
 */
export type Coin = 'monero' | 'bytecoin' | 'infinium';
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
  [1288825, { coin: 'infinium', network: 'mainnet', kind: 'standard' }],
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

/** Characters that `bytes` bytes take in CryptoNote base58. */
function encodedLength(bytes: number): number {
  return Math.floor(bytes / 8) * 11 + ENCODED_SIZES[bytes % 8]!;
}

function varintLength(n: number): number {
  let len = 1;
  for (let v = n; v >= 0x80; v = Math.floor(v / 0x80)) len++;
  return len;
}

/** Every length an address of a known prefix can have, shortest first (95, 98, 106 with today's prefixes). */
export const WALLET_LENGTHS: readonly number[] = [
  ...new Set(
    [...PREFIXES].map(([prefix, net]) =>
      encodedLength(varintLength(prefix) + KEYS + (net.kind === 'integrated' ? PAYMENT_ID : 0) + CHECKSUM),
    ),
  ),
].sort((a, b) => a - b);
const MIN_LENGTH = WALLET_LENGTHS[0]!;
/** The first full base58 block: enough to read any prefix up to 8 bytes long. */
const FIRST_BLOCK = 11;

export function checkWallet(text: string): WalletCheck {
  if (!WALLET_LENGTHS.includes(text.length))
    return {
      ok: false,
      reason: `${text.length} characters; CryptoNote addresses have ${WALLET_LENGTHS.join(', ')}`,
    };
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

const IS_B58 = new Uint8Array(128);
for (const c of ALPHABET) IS_B58[c.charCodeAt(0)] = 1;

/** Whether the text's first block decodes to a known network prefix: a cheap test before the full decode and hash. */
function knownPrefix(text: string): boolean {
  const bytes = decodeBase58(text.slice(0, FIRST_BLOCK));
  if (!bytes) return false;
  const prefix = readVarint(bytes);
  return prefix !== undefined && PREFIXES.has(prefix.value);
}

/**
 * The valid CryptoNote addresses written anywhere in a text (a command line,
 * `wallet.worker`, a config value, a script), each once, in order. One pass
 * over the text finds the runs of base58 characters; a run of an address's
 * length is checked whole, a longer one at its ends (`-uADDRESS` glues the
 * option to it), so the work is linear in the text and bounded per run.
 * Only a network prefix deminer knows and a matching Keccak checksum make an
 * address: random base58 of the same length passes with odds of 2^-32.
 */
export function findWallets(text: string): WalletAddress[] {
  const out: WalletAddress[] = [];
  if (text.length < MIN_LENGTH) return out;
  const seen = new Set<string>();
  const tryAt = (from: number, to: number): boolean => {
    const candidate = text.slice(from, to);
    if (seen.has(candidate) || !knownPrefix(candidate)) return false;
    const r = checkWallet(candidate);
    if (!r.ok) return false;
    seen.add(candidate);
    out.push(r.wallet);
    return true;
  };
  let start = -1;
  for (let i = 0; i <= text.length; i++) {
    const code = i < text.length ? text.charCodeAt(i) : 0;
    if (code < 128 && IS_B58[code] === 1) {
      if (start < 0) start = i;
      continue;
    }
    if (start < 0) continue;
    const len = i - start;
    if (len >= MIN_LENGTH && !(WALLET_LENGTHS.includes(len) && tryAt(start, i))) {
      if (len > MIN_LENGTH) {
        // The address is at the end of the run (glued behind an option) or at its start.
        for (const l of WALLET_LENGTHS) if (l < len && tryAt(i - l, i)) break;
        for (const l of WALLET_LENGTHS) if (l < len && tryAt(start, start + l)) break;
      }
    }
    start = -1;
  }
  return out;
}

/** The valid CryptoNote addresses written anywhere in a text (a command line, `wallet.worker`, a config value). */
export function walletsIn(text: string): WalletAddress[] {
  return findWallets(text);
}
