/**
 * Byte-level mutations in the style of libFuzzer's: bit flips, interesting
 * integers, erasing, inserting, repeating and splicing ranges, and dictionary
 * tokens for the text formats. Pure over a seeded random source, so a run
 * can be repeated with the same seed.
 */

/** Small, fast, seedable PRNG (mulberry32); Math.random cannot be replayed. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }
}

/**
 * Tokens of the formats under test. Random bytes almost never spell `#fields`
 * or `<!DOCTYPE`; inserting them whole reaches the code behind those checks.
 */
const DICTIONARY: readonly string[] = [
  '{',
  '}',
  '[',
  ']',
  '"',
  ':',
  ',',
  '\n',
  '\r\n',
  '\t',
  '\\',
  '\\u0000',
  'null',
  'true',
  '-1',
  '1e309',
  '#separator \\x09',
  '#fields\t',
  '#path\tdns',
  '#types\t',
  '(empty)',
  '-',
  '"event_type":"dns"',
  '"event_type":"tls"',
  '"event_type":"alert"',
  '"method":"mining.subscribe"',
  '"method":"login"',
  '"params":',
  '"id":1',
  '"jsonrpc":"2.0"',
  '&a',
  '*a',
  '<<: *a',
  '- ',
  ': ',
  '---\n',
  '|re',
  '|contains',
  '|base64offset',
  '|all',
  '*',
  '?',
  'condition: ',
  'selection',
  ' and ',
  ' or ',
  'not ',
  '1 of ',
  'all of them',
  '(',
  ')',
  'correlation:',
  '<!DOCTYPE',
  '<!ENTITY',
  '&x;',
  '<Process',
  '/>',
  '</Process>',
  'path="',
  '<![CDATA[',
  '0.0.0.0 ',
  '127.0.0.1 ',
  '||',
  '^',
  '"type":"bundle"',
  '"type":"indicator"',
  '"pattern":"',
  "[domain-name:value = '",
  '"Attribute":[',
  '"list":[',
  'ElfFile\0',
  'ElfChnk\0',
  '**\0\0',
  '\xd4\xc3\xb2\xa1',
  '\x0a\x0d\x0d\x0a',
  '\x4d\x3c\x2b\x1a',
  '\x16\x03\x01',
  '\x63\x82\x53\x63',
];
const TOKENS = DICTIONARY.map((t) => Buffer.from(t, 'latin1'));
const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0xffffffff];

function concat(...parts: Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}

/** One random mutation of `input` (never modified in place); `other` is a corpus entry to splice from. */
export function mutateOnce(input: Uint8Array, other: Uint8Array, rng: Rng, maxLen: number): Uint8Array {
  const n = input.length;
  const at = rng.below(n + 1);
  switch (rng.below(10)) {
    case 0: {
      if (n === 0) return Uint8Array.of(rng.below(256));
      const b = Uint8Array.from(input);
      const i = rng.below(n);
      b[i] = b[i]! ^ (1 << rng.below(8));
      return b;
    }
    case 1: {
      if (n === 0) return Uint8Array.of(rng.below(256));
      const b = Uint8Array.from(input);
      b[rng.below(n)] = rng.below(256);
      return b;
    }
    case 2: {
      // An interesting integer, 1, 2 or 4 bytes wide, either byte order: lengths and counts live here.
      const v = INTERESTING[rng.below(INTERESTING.length)]!;
      const width = [1, 2, 4][rng.below(3)]!;
      const b = Uint8Array.from(input);
      if (n < width) return concat(input, new Uint8Array(width).fill(v & 0xff));
      const i = rng.below(n - width + 1);
      const dv = new DataView(b.buffer);
      const le = rng.below(2) === 0;
      if (width === 1) dv.setUint8(i, v & 0xff);
      else if (width === 2) dv.setUint16(i, v & 0xffff, le);
      else dv.setUint32(i, v >>> 0, le);
      return b;
    }
    case 3: {
      const len = 1 + rng.below(Math.max(1, Math.min(n - at, 64)));
      return concat(input.subarray(0, at), input.subarray(Math.min(n, at + len)));
    }
    case 4: {
      const len = 1 + rng.below(16);
      const r = new Uint8Array(len);
      for (let i = 0; i < len; i++) r[i] = rng.below(256);
      return concat(input.subarray(0, at), r, input.subarray(at));
    }
    case 5:
    case 6: {
      const t = TOKENS[rng.below(TOKENS.length)]!;
      return concat(input.subarray(0, at), t, input.subarray(at));
    }
    case 7: {
      // Repeats a range many times: deep nesting, long labels, many records.
      if (n === 0) return input;
      const from = rng.below(n);
      const len = 1 + rng.below(Math.min(n - from, 32));
      const times = 1 + rng.below(rng.below(2) === 0 ? 8 : 512);
      const piece = input.subarray(from, from + len);
      const parts: Uint8Array[] = [input.subarray(0, at)];
      for (let i = 0; i < times && len * i < maxLen; i++) parts.push(piece);
      parts.push(input.subarray(at));
      return concat(...parts);
    }
    case 8: {
      // Crossover with another corpus entry.
      if (other.length === 0) return input;
      const from = rng.below(other.length);
      const len = 1 + rng.below(other.length - from);
      return concat(input.subarray(0, at), other.subarray(from, from + len), input.subarray(at));
    }
    default:
      return input.subarray(0, at);
  }
}

/** A few stacked mutations, capped at `maxLen` bytes. */
export function mutate(input: Uint8Array, other: Uint8Array, rng: Rng, maxLen: number): Uint8Array {
  let out = input;
  const rounds = 1 + rng.below(4);
  for (let i = 0; i < rounds; i++) out = mutateOnce(out, other, rng, maxLen);
  return out.length > maxLen ? out.subarray(0, maxLen) : out;
}
