import { DeminerError } from '../../../core/errors.ts';
import { extractFeatures, FEATURE_COUNT, HASH_BITS, MAX_PAIRS } from './features.ts';
import { LM_SIZE } from './lm.ts';

export const MODEL_FORMAT = 'deminer-dga-logreg';
export const MODEL_VERSION = 2;

/** A logistic regression over the features of `features.ts`. */
export interface DgaModel {
  bias: number;
  weights: Float32Array;
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
  meta: Record<string, unknown>;
}

const idx = new Int32Array(MAX_PAIRS);
const val = new Float32Array(MAX_PAIRS);

/** Raw margin (log-odds) of one label. */
export function margin(model: DgaModel, label: string): number {
  const n = extractFeatures(label, model.lm, idx, val);
  const w = model.weights;
  let z = model.bias;
  for (let i = 0; i < n; i++) z += w[idx[i]!]! * val[i]!;
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
  if (typeof file.bias !== 'number' || typeof file.weights !== 'string' || typeof file.lm !== 'string') {
    throw new DeminerError('DGA_BAD_MODEL', 'bias, weights or lm missing', { location: where });
  }
  return {
    bias: file.bias,
    weights: fromBase64(file.weights, FEATURE_COUNT, 'weights', where),
    lm: fromBase64(file.lm, LM_SIZE, 'lm', where),
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
