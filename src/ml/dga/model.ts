import { DeminerError } from '../../core/errors.ts';
import { DENSE, extractFeatures, FEATURE_COUNT, HASH_BITS, MAX_PAIRS } from './features.ts';
import { LM_SIZE } from './lm.ts';

export const MODEL_FORMAT = 'deminer-dga-wide-deep';
export const MODEL_VERSION = 3;
/** Hidden units over the shape and surprise features. */
export const HIDDEN = 16;
/** Layout of `hidden`: input weights (DENSE × HIDDEN, one row per input), then HIDDEN biases, then HIDDEN output weights. */
export const HIDDEN_SIZE = HIDDEN * (DENSE + 2);

/**
 * Wide and deep: a logistic regression over all features of `features.ts`
 * plus one ReLU layer over the shape and surprise features, so that e.g. "long
 * and made of probable text" can count differently from either alone.
 */
export interface DgaModel {
  bias: number;
  weights: Float32Array;
  hidden: Float32Array;
  /** Benign character trigram log-probabilities (see `lm.ts`). */
  lm: Float32Array;
  /** Free-form facts about how the model was made (sources, seed, counts). */
  meta: Record<string, unknown>;
}

interface ModelFile {
  format: string;
  version: number;
  featureCount: number;
  hashBits: number;
  bias: number;
  /** Float32 little-endian, base64. */
  weights: string;
  /** Float32 little-endian, base64. */
  lm: string;
  /** Float32 little-endian, base64. */
  hidden: string;
  meta: Record<string, unknown>;
}

const idx = new Int32Array(MAX_PAIRS);
const val = new Float32Array(MAX_PAIRS);
const act = new Float64Array(HIDDEN);

/** Raw margin (log-odds) of one label. */
export function margin(model: DgaModel, label: string): number {
  const n = extractFeatures(label, model.lm, idx, val);
  return marginOf(model, idx, val, 0, n, act);
}

/**
 * Margin of encoded pairs `[from, to)`; leaves the hidden activations in
 * `act` (the trainer needs them for the gradient).
 */
export function marginOf(
  model: DgaModel,
  idx: Int32Array,
  val: Float32Array,
  from: number,
  to: number,
  act: Float64Array,
): number {
  const w = model.weights;
  const h = model.hidden;
  const cOff = HIDDEN * DENSE;
  const vOff = cOff + HIDDEN;
  for (let j = 0; j < HIDDEN; j++) act[j] = h[cOff + j]!;
  let z = model.bias;
  for (let k = from; k < to; k++) {
    const f = idx[k]!;
    const x = val[k]!;
    z += w[f]! * x;
    if (f < DENSE) {
      const row = f * HIDDEN;
      for (let j = 0; j < HIDDEN; j++) act[j]! += h[row + j]! * x;
    }
  }
  for (let j = 0; j < HIDDEN; j++) {
    const a = act[j]!;
    if (a > 0) z += h[vOff + j]! * a;
    else act[j] = 0;
  }
  return z;
}

export function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

export function serializeModel(model: DgaModel): string {
  const file: ModelFile = {
    format: MODEL_FORMAT,
    version: MODEL_VERSION,
    featureCount: FEATURE_COUNT,
    hashBits: HASH_BITS,
    bias: model.bias,
    weights: toBase64(model.weights),
    lm: toBase64(model.lm),
    hidden: toBase64(model.hidden),
    meta: model.meta,
  };
  return `${JSON.stringify(file, null, 1)}\n`;
}

/** Parses a model file; `where` names it in errors. */
export function parseModel(text: string, where: string): DgaModel {
  let file: Partial<ModelFile>;
  try {
    file = JSON.parse(text) as Partial<ModelFile>;
  } catch (e) {
    throw new DeminerError('DGA_BAD_MODEL', 'model file is not JSON', { location: where, cause: e });
  }
  if (file.format !== MODEL_FORMAT || file.version !== MODEL_VERSION) {
    throw new DeminerError('DGA_BAD_MODEL', `expected ${MODEL_FORMAT} v${MODEL_VERSION}`, {
      location: where,
    });
  }
  if (file.featureCount !== FEATURE_COUNT || file.hashBits !== HASH_BITS) {
    throw new DeminerError('DGA_BAD_MODEL', 'model was trained for a different feature layout', {
      location: where,
    });
  }
  if (
    typeof file.bias !== 'number' ||
    typeof file.weights !== 'string' ||
    typeof file.lm !== 'string' ||
    typeof file.hidden !== 'string'
  ) {
    throw new DeminerError('DGA_BAD_MODEL', 'bias, weights, lm or hidden missing', { location: where });
  }
  return {
    bias: file.bias,
    weights: fromBase64(file.weights, FEATURE_COUNT, 'weights', where),
    lm: fromBase64(file.lm, LM_SIZE, 'lm', where),
    hidden: fromBase64(file.hidden, HIDDEN_SIZE, 'hidden', where),
    meta: file.meta ?? {},
  };
}

function toBase64(a: Float32Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

function fromBase64(text: string, length: number, field: string, where: string): Float32Array {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.byteLength !== length * 4) {
    throw new DeminerError(
      'DGA_BAD_MODEL',
      `${field} hold ${bytes.byteLength} bytes, expected ${length * 4}`,
      {
        location: where,
      },
    );
  }
  // Copy into an aligned buffer: Buffer slices may start at any offset.
  const out = new Float32Array(length);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}
