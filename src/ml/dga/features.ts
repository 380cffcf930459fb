/**
 * Character features of one label, written as sparse (index, value) pairs so
 * the same code serves training and the scoring hot path without allocating.
 *
 * Layout of the weight vector:
 *   [0, DENSE)                     shape features (length buckets, ratios, runs)
 *   then 1-, 2- and 3-grams        exact, over a 40-symbol alphabet with `^`/`$` boundaries
 *   then 4-grams                   hashed into 2^HASH_BITS buckets
 * Exact low orders keep common grams collision-free; hashing bounds the file size.
 */

const ALPHABET = 40;
const BOUNDARY = 0;
export const DENSE = 48;
export const HASH_BITS = 17;
const OFF1 = DENSE;
const OFF2 = OFF1 + ALPHABET;
const OFF3 = OFF2 + ALPHABET * ALPHABET;
const OFF_HASH = OFF3 + ALPHABET * ALPHABET * ALPHABET;
const HASH_MASK = (1 << HASH_BITS) - 1;
export const FEATURE_COUNT = OFF_HASH + (1 << HASH_BITS);
/** Labels longer than this are cut: DNS allows 63 per label, the rest is noise. */
export const MAX_LABEL = 253;
/** Upper bound on pairs written for one label. */
export const MAX_PAIRS = DENSE + 4 * (MAX_LABEL + 2);

const CODE = new Uint8Array(128).fill(39);
for (let c = 97; c <= 122; c++) CODE[c] = c - 96; // a-z → 1..26
for (let c = 48; c <= 57; c++) CODE[c] = c - 21; // 0-9 → 27..36
CODE[45] = 37; // '-'
CODE[95] = 38; // '_'
const VOWEL_KIND = 1;
const CONSONANT_KIND = 2;
const DIGIT_KIND = 3;
/** 0 = hyphen, underscore or other; then vowel, consonant, digit. */
const KIND = new Uint8Array(ALPHABET);
for (let c = 1; c <= 26; c++)
  KIND[c] = 'aeiou'.includes(String.fromCharCode(c + 96)) ? VOWEL_KIND : CONSONANT_KIND;
for (let c = 27; c <= 36; c++) KIND[c] = DIGIT_KIND;
const RARE = new Uint8Array(ALPHABET);
for (const ch of 'qxzj') RARE[ch.charCodeAt(0) - 96] = 1;
const HEX = new Uint8Array(ALPHABET);
for (const ch of '0123456789abcdef') HEX[CODE[ch.charCodeAt(0)]!] = 1;

const codes = new Uint8Array(MAX_LABEL + 2);
const KLOGK = new Float64Array(MAX_LABEL + 1);
const LOG2 = new Float64Array(MAX_LABEL + 1);
for (let i = 1; i <= MAX_LABEL; i++) {
  KLOGK[i] = i * Math.log2(i);
  LOG2[i] = Math.log2(i);
}
const counts = new Uint16Array(ALPHABET);

function lengthBucket(n: number): number {
  if (n <= 20) return n - 1;
  if (n <= 24) return 20;
  if (n <= 29) return 21;
  if (n <= 39) return 22;
  return 23;
}

function isDigit(c: number): boolean {
  return c >= 27 && c <= 36;
}

/**
 * Writes the features of `label` (lower-case ASCII expected; other characters
 * share one symbol) into `idx`/`val` and returns how many pairs it wrote.
 */
export function extractFeatures(label: string, lm: Float32Array, idx: Int32Array, val: Float32Array): number {
  const n = Math.min(label.length, MAX_LABEL);
  if (n === 0) return 0;
  codes[0] = BOUNDARY;
  let digits = 0;
  let vowels = 0;
  let consonants = 0;
  let hyphens = 0;
  let rare = 0;
  let hex = 0;
  let consRun = 0;
  let maxConsRun = 0;
  let vowRun = 0;
  let maxVowRun = 0;
  let digRun = 0;
  let maxDigRun = 0;
  let transitions = 0;
  let prevKind = 0;
  // Surprise under the benign trigram model, accumulated in the same pass.
  let sum = 0;
  let min = 0;
  let rare7 = 0;
  let rare10 = 0;
  let a = BOUNDARY;
  let b = BOUNDARY;
  for (let i = 0; i < n; i++) {
    const ch = label.charCodeAt(i);
    const c = ch < 128 ? CODE[ch]! : 39;
    codes[i + 1] = c;
    counts[c]!++;
    hex += HEX[c]!;
    rare += RARE[c]!;
    const kind = KIND[c]!;
    if (kind === VOWEL_KIND) {
      vowels++;
      if (++vowRun > maxVowRun) maxVowRun = vowRun;
      consRun = 0;
      digRun = 0;
    } else if (kind === CONSONANT_KIND) {
      consonants++;
      if (++consRun > maxConsRun) maxConsRun = consRun;
      vowRun = 0;
      digRun = 0;
    } else if (kind === DIGIT_KIND) {
      digits++;
      if (++digRun > maxDigRun) maxDigRun = digRun;
      consRun = 0;
      vowRun = 0;
    } else {
      consRun = 0;
      vowRun = 0;
      digRun = 0;
      if (c === 37) hyphens++;
    }
    if (
      (kind === DIGIT_KIND && prevKind >= VOWEL_KIND && prevKind <= CONSONANT_KIND) ||
      (prevKind === DIGIT_KIND && kind >= VOWEL_KIND && kind <= CONSONANT_KIND)
    ) {
      transitions++;
    }
    prevKind = kind;
    const lp = lm[(a * ALPHABET + b) * ALPHABET + c]!;
    sum += lp;
    if (lp < min) min = lp;
    if (lp < -7) rare7++;
    if (lp < -10) rare10++;
    a = b;
    b = c;
  }
  codes[n + 1] = BOUNDARY;
  const lpEnd = lm[(a * ALPHABET + b) * ALPHABET + BOUNDARY]!;
  sum += lpEnd;
  if (lpEnd < min) min = lpEnd;
  if (lpEnd < -7) rare7++;
  if (lpEnd < -10) rare10++;
  const letters = vowels + consonants;

  // H = log2 n - (1/n) Σ k log2 k, with k log2 k from a table; counts are reset on the way.
  let klogk = 0;
  let unique = 0;
  for (let i = 1; i <= n; i++) {
    const c = codes[i]!;
    const k = counts[c]!;
    if (k === 0) continue;
    unique++;
    klogk += KLOGK[k]!;
    counts[c] = 0;
  }
  const entropy = LOG2[n]! - klogk / n;

  let k = 0;
  idx[k] = lengthBucket(n);
  val[k++] = 1;
  idx[k] = 24;
  val[k++] = digits / n;
  idx[k] = 25;
  val[k++] = letters > 0 ? vowels / letters : 0;
  idx[k] = 26;
  val[k++] = Math.min(hyphens, 4) / 4;
  idx[k] = 27;
  val[k++] = Math.min(maxConsRun, 12) / 8;
  idx[k] = 28;
  val[k++] = Math.min(maxDigRun, 12) / 8;
  idx[k] = 29;
  val[k++] = unique / n;
  idx[k] = 30;
  val[k++] = entropy / 4.5;
  idx[k] = 31;
  val[k++] = transitions / n;
  idx[k] = 32;
  val[k++] = digits === n ? 1 : 0;
  idx[k] = 33;
  val[k++] = isDigit(codes[1]!) ? 1 : 0;
  idx[k] = 34;
  val[k++] = hex === n && n >= 8 && digits > 0 ? 1 : 0;
  idx[k] = 35;
  val[k++] = Math.min(n, 64) / 32;
  idx[k] = 36;
  val[k++] = Math.min(maxVowRun, 6) / 4;
  idx[k] = 37;
  val[k++] = rare / n;

  idx[k] = 38;
  val[k++] = sum / (n + 1) / -8;
  idx[k] = 39;
  val[k++] = Math.max(min, -24) / -16;
  idx[k] = 40;
  val[k++] = rare7 / (n + 1);
  idx[k] = 41;
  val[k++] = Math.max(sum, -160) / -64;
  idx[k] = 42;
  val[k++] = rare10 / (n + 1);

  // Zero-valued shape features add nothing to a margin or a gradient: drop them.
  let kept = 0;
  for (let i = 0; i < k; i++) {
    if (val[i] === 0) continue;
    idx[kept] = idx[i]!;
    val[kept++] = val[i]!;
  }
  k = kept;

  // Grams are weighted so that a label's gram total does not grow with its length.
  const g = 1 / Math.sqrt(n + 1);
  const last = n + 1;
  for (let i = 0; i <= last; i++) {
    const c0 = codes[i]!;
    if (i >= 1 && i <= n) {
      idx[k] = OFF1 + c0;
      val[k++] = g;
    }
    if (i + 1 > last) continue;
    const c1 = codes[i + 1]!;
    idx[k] = OFF2 + c0 * ALPHABET + c1;
    val[k++] = g;
    if (i + 2 > last) continue;
    const tri = (c0 * ALPHABET + c1) * ALPHABET + codes[i + 2]!;
    idx[k] = OFF3 + tri;
    val[k++] = g;
    if (i + 3 > last) continue;
    const four = tri * ALPHABET + codes[i + 3]!;
    idx[k] = OFF_HASH + (mix(four) & HASH_MASK);
    val[k++] = g;
  }
  return k;
}

/** The label as symbol codes with a boundary at each end, for language-model training. */
export function encodeLabel(label: string): Uint8Array {
  const n = Math.min(label.length, MAX_LABEL);
  const out = new Uint8Array(n + 2);
  for (let i = 0; i < n; i++) {
    const ch = label.charCodeAt(i);
    out[i + 1] = ch < 128 ? CODE[ch]! : 39;
  }
  return out;
}

/** Integer hash (murmur3 finaliser). */
function mix(x: number): number {
  let h = x | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
