/**
 * Gaussian-blob fixtures shared by the evaluation tests (kNN, few-shot, linear probe).
 */
import * as tf from '@tensorflow/tfjs';
import { createRng, normal, type Rng } from '../core/random';

/** n points of dimension d with integer labels. */
export interface BlobSet {
  x: Float32Array; // [n*d] row-major; float32 so the tensor and any float64 reference see the same numbers
  y: Int32Array;
  n: number;
  d: number;
}

export interface BlobOptions {
  /** Class centres [k*d]; drawn from the rng when absent. */
  centres?: Float64Array;
  /** 'cycle': label i % k (default); 'random': one rng draw per point, before its coordinates. */
  labels?: 'cycle' | 'random';
}

/**
 * Gaussian blobs: class centres ~ N(0, separation²·I) (or given), points = centre + N(0, I).
 * Draw order: the centres (unless given), then per point its label (when random) and its d coordinates.
 */
export function blobs(
  rng: Rng,
  n: number,
  d: number,
  k: number,
  separation: number,
  opts: BlobOptions = {},
): BlobSet & { centres: Float64Array } {
  const c = opts.centres ?? Float64Array.from({ length: k * d }, () => separation * normal(rng));
  const random = opts.labels === 'random';
  const x = new Float32Array(n * d);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const label = random ? Math.floor(rng() * k) : i % k;
    y[i] = label;
    for (let j = 0; j < d; j++) x[i * d + j] = c[label * d + j] + normal(rng);
  }
  return { x, y, n, d, centres: c };
}

/** Train and test splits drawn from one seeded rng and the same class centres. */
export function blobSplits(
  seed: number,
  nTrain: number,
  nTest: number,
  d: number,
  k: number,
  separation: number,
  opts: BlobOptions = {},
) {
  const rng = createRng(seed);
  const train = blobs(rng, nTrain, d, k, separation, opts);
  const test = blobs(rng, nTest, d, k, separation, { ...opts, centres: train.centres });
  return { train, test };
}

export const toTensor = (ds: BlobSet): tf.Tensor2D => tf.tensor2d(ds.x, [ds.n, ds.d]);
