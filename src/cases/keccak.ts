/**
 * Keccak-256 as Ethereum and CryptoNote use it: the original Keccak
 * submission's padding (0x01 … 0x80), not FIPS 202 SHA3-256 (0x06 … 0x80),
 * so Node's `crypto` 'sha3-256' gives different digests and cannot be used.
 * Keccak-f[1600] over 25 lanes of 64 bits, each lane held as two 32-bit
 * halves (lo, hi) so that no BigInt is needed; rate 1088 bits (136 bytes).
 */

/** Round constants of Keccak-f[1600], as [hi, lo] 32-bit halves. */
const RC: readonly (readonly [number, number])[] = [
  [0x00000000, 0x00000001],
  [0x00000000, 0x00008082],
  [0x80000000, 0x0000808a],
  [0x80000000, 0x80008000],
  [0x00000000, 0x0000808b],
  [0x00000000, 0x80000001],
  [0x80000000, 0x80008081],
  [0x80000000, 0x00008009],
  [0x00000000, 0x0000008a],
  [0x00000000, 0x00000088],
  [0x00000000, 0x80008009],
  [0x00000000, 0x8000000a],
  [0x00000000, 0x8000808b],
  [0x80000000, 0x0000008b],
  [0x80000000, 0x00008089],
  [0x80000000, 0x00008003],
  [0x80000000, 0x00008002],
  [0x80000000, 0x00000080],
  [0x00000000, 0x0000800a],
  [0x80000000, 0x8000000a],
  [0x80000000, 0x80008081],
  [0x80000000, 0x00008080],
  [0x00000000, 0x80000001],
  [0x80000000, 0x80008008],
];

/** Rotation offsets r[x + 5y] of the ρ step. */
const ROT: readonly number[] = [
  0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14,
];

/** The permutation, in place: lanes at 2i (lo) and 2i+1 (hi), lane i = x + 5y. */
export function keccakF1600(s: Uint32Array): void {
  const c = new Uint32Array(10);
  const b = new Uint32Array(50);
  for (let round = 0; round < 24; round++) {
    // θ
    for (let x = 0; x < 5; x++) {
      c[2 * x] = s[2 * x]! ^ s[2 * (x + 5)]! ^ s[2 * (x + 10)]! ^ s[2 * (x + 15)]! ^ s[2 * (x + 20)]!;
      c[2 * x + 1] =
        s[2 * x + 1]! ^
        s[2 * (x + 5) + 1]! ^
        s[2 * (x + 10) + 1]! ^
        s[2 * (x + 15) + 1]! ^
        s[2 * (x + 20) + 1]!;
    }
    for (let x = 0; x < 5; x++) {
      const l1 = c[2 * ((x + 1) % 5)]!;
      const h1 = c[2 * ((x + 1) % 5) + 1]!;
      // D = C[x-1] ^ rotl(C[x+1], 1)
      const dLo = c[2 * ((x + 4) % 5)]! ^ ((l1 << 1) | (h1 >>> 31));
      const dHi = c[2 * ((x + 4) % 5) + 1]! ^ ((h1 << 1) | (l1 >>> 31));
      for (let y = 0; y < 25; y += 5) {
        s[2 * (x + y)] = s[2 * (x + y)]! ^ dLo;
        s[2 * (x + y) + 1] = s[2 * (x + y) + 1]! ^ dHi;
      }
    }
    // ρ and π: B[y, 2x + 3y] = rotl(A[x, y], r[x, y])
    for (let x = 0; x < 5; x++) {
      for (let y = 0; y < 5; y++) {
        const i = x + 5 * y;
        const lo = s[2 * i]!;
        const hi = s[2 * i + 1]!;
        const r = ROT[i]!;
        let outLo: number;
        let outHi: number;
        if (r === 0) {
          outLo = lo;
          outHi = hi;
        } else if (r < 32) {
          outLo = (lo << r) | (hi >>> (32 - r));
          outHi = (hi << r) | (lo >>> (32 - r));
        } else if (r === 32) {
          outLo = hi;
          outHi = lo;
        } else {
          const k = r - 32;
          outLo = (hi << k) | (lo >>> (32 - k));
          outHi = (lo << k) | (hi >>> (32 - k));
        }
        const j = y + 5 * ((2 * x + 3 * y) % 5);
        b[2 * j] = outLo;
        b[2 * j + 1] = outHi;
      }
    }
    // χ
    for (let y = 0; y < 25; y += 5) {
      for (let x = 0; x < 5; x++) {
        const i = x + y;
        const i1 = ((x + 1) % 5) + y;
        const i2 = ((x + 2) % 5) + y;
        s[2 * i] = b[2 * i]! ^ (~b[2 * i1]! & b[2 * i2]!);
        s[2 * i + 1] = b[2 * i + 1]! ^ (~b[2 * i1 + 1]! & b[2 * i2 + 1]!);
      }
    }
    // ι
    s[0] = s[0]! ^ RC[round]![1];
    s[1] = s[1]! ^ RC[round]![0];
  }
}

const RATE = 136;

/** Keccak-256 (original padding) of the bytes; 32 bytes. */
export function keccak256(data: Uint8Array | string): Uint8Array {
  return sponge256(typeof data === 'string' ? new TextEncoder().encode(data) : data, 0x01);
}

/**
 * The 256-bit sponge with the given first padding byte: 0x01 is Keccak,
 * 0x06 is FIPS 202 SHA3-256 (exported so the tests can hold the permutation
 * and the multi-block absorption to Node's own sha3-256).
 */
export function sponge256(input: Uint8Array, domain: number): Uint8Array {
  const state = new Uint32Array(50);
  // Padded message: pad10*1 with the Keccak domain bit 0x01.
  const blocks = Math.floor(input.length / RATE) + 1;
  const padded = new Uint8Array(blocks * RATE);
  padded.set(input);
  padded[input.length] = padded[input.length]! ^ domain;
  padded[padded.length - 1] = padded[padded.length - 1]! ^ 0x80;
  for (let off = 0; off < padded.length; off += RATE) {
    for (let i = 0; i < RATE / 4; i++) {
      const p = off + 4 * i;
      // Lanes are little-endian: byte 0 is the lowest of the lane's low half.
      state[i] =
        state[i]! ^ (padded[p]! | (padded[p + 1]! << 8) | (padded[p + 2]! << 16) | (padded[p + 3]! << 24));
    }
    keccakF1600(state);
  }
  const out = new Uint8Array(32);
  for (let i = 0; i < 8; i++) {
    const w = state[i]!;
    out[4 * i] = w & 0xff;
    out[4 * i + 1] = (w >>> 8) & 0xff;
    out[4 * i + 2] = (w >>> 16) & 0xff;
    out[4 * i + 3] = (w >>> 24) & 0xff;
  }
  return out;
}

export function keccak256Hex(data: Uint8Array | string): string {
  return Buffer.from(keccak256(data)).toString('hex');
}
