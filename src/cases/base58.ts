/**
 * CryptoNote's base58 (Monero, Bytecoin): Bitcoin's alphabet, but applied
 * block-wise rather than to the whole number. Every full 8-byte block is
 * written as exactly 11 characters (left-padded with '1', the zero digit);
 * a shorter last block takes the fewest characters that can hold it
 * (ENCODED_SIZES). So a 69-byte address is 8 × 11 + 7 = 95 characters.
 */
export const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const FULL_BLOCK = 8;
const FULL_ENCODED = 11;
/** Characters for a block of 0..8 bytes. */
export const ENCODED_SIZES: readonly number[] = [0, 2, 3, 5, 6, 7, 9, 10, 11];

const DIGIT = new Map<string, bigint>([...ALPHABET].map((c, i) => [c, BigInt(i)]));

function encodeBlock(bytes: Uint8Array): string {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  let out = '';
  while (n > 0n) {
    out = ALPHABET[Number(n % 58n)]! + out;
    n /= 58n;
  }
  return out.padStart(ENCODED_SIZES[bytes.length]!, '1');
}

export function encodeBase58(data: Uint8Array): string {
  let out = '';
  for (let i = 0; i < data.length; i += FULL_BLOCK) out += encodeBlock(data.subarray(i, i + FULL_BLOCK));
  return out;
}

/** The bytes, or undefined when the text is not CryptoNote base58 (bad character, impossible last block, a block too large for its size). */
export function decodeBase58(text: string): Uint8Array | undefined {
  const full = Math.floor(text.length / FULL_ENCODED);
  const rest = text.length % FULL_ENCODED;
  const lastSize = ENCODED_SIZES.indexOf(rest);
  if (lastSize < 0) return undefined;
  const out = new Uint8Array(full * FULL_BLOCK + lastSize);
  for (let block = 0; block * FULL_ENCODED < text.length; block++) {
    const chunk = text.slice(block * FULL_ENCODED, (block + 1) * FULL_ENCODED);
    const size = chunk.length === FULL_ENCODED ? FULL_BLOCK : lastSize;
    let n = 0n;
    for (const c of chunk) {
      const d = DIGIT.get(c);
      if (d === undefined) return undefined;
      n = n * 58n + d;
    }
    if (n >> BigInt(8 * size) !== 0n) return undefined;
    for (let i = size - 1; i >= 0; i--) {
      out[block * FULL_BLOCK + i] = Number(n & 0xffn);
      n >>= 8n;
    }
  }
  return out;
}
