import * as tf from '@tensorflow/tfjs';
await tf.setBackend('cpu');

import { describe, expect, it } from 'vitest';
import { createRng, normal } from '../core/random';
import { alignment, collapseStd, l2NormalizeRows, uniformity } from './geometry';

/** Random [n, d] matrix, stored as float32 so the tensor and the reference see the same numbers. */
function randomMatrix(seed: number, n: number, d: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n * d }, () => normal(rng));
}

/** Float64 ℓ2 normalization of the rows of a row-major [n, d] matrix (zero rows stay zero). */
function normalizeRows64(x: Float32Array | Float64Array, n: number, d: number): Float64Array {
  const out = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += x[i * d + j] ** 2;
    const norm = Math.max(Math.sqrt(s), 1e-12);
    for (let j = 0; j < d; j++) out[i * d + j] = x[i * d + j] / norm;
  }
  return out;
}

/** (1/B) Σ_b ‖ẑ1_b − ẑ2_b‖^α, in float64. */
function alignment64(a: Float32Array | Float64Array, b: Float32Array | Float64Array, n: number, d: number, alpha: number): number {
  const x = normalizeRows64(a, n, d);
  const y = normalizeRows64(b, n, d);
  let total = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += (x[i * d + j] - y[i * d + j]) ** 2;
    total += Math.sqrt(s) ** alpha;
  }
  return total / n;
}

/** log( mean_{i<j} exp(−t‖ẑ_i − ẑ_j‖²) ), direct distances (not the 2 − 2cos shortcut), float64. */
function uniformity64(a: Float32Array, n: number, d: number, t: number): number {
  const x = normalizeRows64(a, n, d);
  let total = 0;
  let pairs = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += (x[i * d + k] - x[j * d + k]) ** 2;
      total += Math.exp(-t * s);
      pairs++;
    }
  }
  return Math.log(total / pairs);
}

/** Mean over dimensions of the biased std over rows of ẑ, float64 (two-pass). */
function collapseStd64(a: Float32Array | Float64Array, n: number, d: number): number {
  const x = normalizeRows64(a, n, d);
  let total = 0;
  for (let k = 0; k < d; k++) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += x[i * d + k] / n;
    let variance = 0;
    for (let i = 0; i < n; i++) variance += (x[i * d + k] - mean) ** 2 / n;
    total += Math.sqrt(variance);
  }
  return total / d;
}

/** Runs f on fresh tensors, returns the scalar value and checks that nothing leaked. */
function evaluate(f: () => tf.Scalar): number {
  const before = tf.memory().numTensors;
  const s = f();
  const value = s.dataSync()[0];
  s.dispose();
  expect(tf.memory().numTensors).toBe(before);
  return value;
}

describe('alignment', () => {
  it('matches a float64 reference for several shapes and α', () => {
    const shapes: Array<[number, number]> = [
      [1, 1],
      [4, 3],
      [32, 16],
      [100, 128],
    ];
    for (const [n, d] of shapes) {
      const a = randomMatrix(n * 7 + d, n, d);
      const b = randomMatrix(n * 11 + d + 1, n, d);
      const z1 = tf.tensor2d(a, [n, d]);
      const z2 = tf.tensor2d(b, [n, d]);
      for (const alpha of [2, 1, 0.5, 3]) {
        const ours = evaluate(() => alignment(z1, z2, { alpha }));
        expect(ours).toBeCloseTo(alignment64(a, b, n, d, alpha), 5);
      }
      // Default α = 2.
      expect(evaluate(() => alignment(z1, z2))).toBeCloseTo(alignment64(a, b, n, d, 2), 5);
      tf.dispose([z1, z2]);
    }
  });

  it('is 0 for identical views, also after rescaling a view, and 2^α for antipodal views', () => {
    const a = randomMatrix(3, 10, 6);
    const z = tf.tensor2d(a, [10, 6]);
    const scaled = tf.mul(z, 3.5) as tf.Tensor2D;
    const negated = tf.neg(z) as tf.Tensor2D;
    for (const alpha of [2, 1]) {
      expect(evaluate(() => alignment(z, z, { alpha }))).toBe(0);
      expect(evaluate(() => alignment(z, scaled, { alpha }))).toBeCloseTo(0, 5);
      expect(evaluate(() => alignment(z, negated, { alpha }))).toBeCloseTo(2 ** alpha, 5);
    }
    tf.dispose([z, scaled, negated]);
  });

  it('treats a zero row as the origin (no NaN) and has finite gradients at identical views', () => {
    const z1 = tf.tensor2d([0, 0, 0, 1, 0, 0], [2, 3]);
    const z2 = tf.tensor2d([0, 0, 0, 0, 1, 0], [2, 3]);
    // Row 0: ‖0 − 0‖ = 0; row 1: ‖e1 − e2‖² = 2.
    expect(evaluate(() => alignment(z1, z2))).toBeCloseTo(1, 6);
    const z = tf.tensor2d(randomMatrix(5, 6, 4), [6, 4]);
    for (const alpha of [2, 1, 0.5]) {
      const before = tf.memory().numTensors;
      const g = tf.grad((x: tf.Tensor) => alignment(x as tf.Tensor2D, z, { alpha }))(z);
      const values = g.dataSync();
      g.dispose();
      expect(tf.memory().numTensors).toBe(before);
      for (const v of values) expect(Number.isFinite(v)).toBe(true);
    }
    tf.dispose([z1, z2, z]);
  });

  it('has the gradient of the float64 reference (central differences), also for α < 2', () => {
    const n = 3;
    const d = 4;
    const a = randomMatrix(21, n, d);
    const b = randomMatrix(22, n, d);
    const z1 = tf.tensor2d(a, [n, d]);
    const z2 = tf.tensor2d(b, [n, d]);
    for (const alpha of [2, 1, 0.5]) {
      const g = tf.grad((x: tf.Tensor) => alignment(x as tf.Tensor2D, z2, { alpha }))(z1);
      const ours = g.dataSync();
      g.dispose();
      const h = 1e-6;
      for (let i = 0; i < n * d; i++) {
        const plus = Float64Array.from(a);
        const minus = Float64Array.from(a);
        plus[i] += h;
        minus[i] -= h;
        const numeric = (alignment64(plus, b, n, d, alpha) - alignment64(minus, b, n, d, alpha)) / (2 * h);
        expect(ours[i]).toBeCloseTo(numeric, 4);
      }
    }
    tf.dispose([z1, z2]);
  });

  it('validates its inputs', () => {
    const a = tf.zeros([4, 3]) as tf.Tensor2D;
    const b = tf.zeros([5, 3]) as tf.Tensor2D;
    const c = tf.zeros([4, 2]) as tf.Tensor2D;
    const empty = tf.zeros([0, 3]) as tf.Tensor2D;
    const before = tf.memory().numTensors;
    expect(() => alignment(a, b)).toThrow(/same shape/);
    expect(() => alignment(a, c)).toThrow(/same shape/);
    expect(() => alignment(empty, empty)).toThrow(/no rows/);
    expect(() => alignment(a, a, { alpha: 0 })).toThrow(/alpha/);
    expect(() => alignment(a, a, { alpha: Number.NaN })).toThrow(/alpha/);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([a, b, c, empty]);
  });
});

describe('uniformity', () => {
  it('matches a float64 reference for several shapes and t', () => {
    const shapes: Array<[number, number]> = [
      [2, 1],
      [3, 2],
      [16, 8],
      [64, 32],
      [128, 3],
    ];
    for (const [n, d] of shapes) {
      const a = randomMatrix(n * 13 + d, n, d);
      const z = tf.tensor2d(a, [n, d]);
      for (const t of [2, 0.5, 1, 10]) {
        const ours = evaluate(() => uniformity(z, { t }));
        expect(Math.abs(ours - uniformity64(a, n, d, t))).toBeLessThan(1e-4 * Math.max(1, t));
      }
      expect(evaluate(() => uniformity(z))).toBeCloseTo(uniformity64(a, n, d, 2), 4);
      tf.dispose(z);
    }
  });

  it('is −4t for two antipodal points and 0 for a collapsed batch', () => {
    const antipodal = tf.tensor2d([1, 2, -2, -0.5, -1, 1], [2, 3]);
    const collapsed = tf.tensor2d([1, 2, 1, 2, 1, 2, 3, 6], [4, 2]); // every row along (1, 2)
    for (const t of [2, 1, 0.5, 30]) {
      expect(evaluate(() => uniformity(antipodal, { t }))).toBeCloseTo(-4 * t, 4);
      expect(evaluate(() => uniformity(collapsed, { t }))).toBeCloseTo(0, 5);
    }
    tf.dispose([antipodal, collapsed]);
  });

  it('is stable for a large t (no underflow to log 0 = −∞)', () => {
    // exp(−200·‖·‖²) underflows in float32 for ‖·‖² > ~0.45; the log-mean-exp does not.
    const n = 24;
    const d = 4;
    const a = randomMatrix(99, n, d);
    const z = tf.tensor2d(a, [n, d]);
    const ours = evaluate(() => uniformity(z, { t: 200 }));
    expect(Number.isFinite(ours)).toBe(true);
    expect(Math.abs(ours - uniformity64(a, n, d, 200)) / 200).toBeLessThan(1e-4);
    tf.dispose(z);
  });

  it('has finite gradients, also for a collapsed batch', () => {
    const z = tf.tensor2d(randomMatrix(8, 10, 5), [10, 5]);
    const collapsed = tf.tensor2d([1, 0, 1, 0, 1, 0], [3, 2]);
    for (const x0 of [z, collapsed]) {
      const before = tf.memory().numTensors;
      const g = tf.grad((x: tf.Tensor) => uniformity(x as tf.Tensor2D))(x0);
      const values = g.dataSync();
      g.dispose();
      expect(tf.memory().numTensors).toBe(before);
      for (const v of values) expect(Number.isFinite(v)).toBe(true);
    }
    tf.dispose([z, collapsed]);
  });

  it('needs at least two rows and a positive t', () => {
    const one = tf.ones([1, 3]) as tf.Tensor2D;
    const two = tf.ones([2, 3]) as tf.Tensor2D;
    const before = tf.memory().numTensors;
    expect(() => uniformity(one)).toThrow(/at least 2/);
    expect(() => uniformity(two, { t: 0 })).toThrow(/t must be/);
    expect(() => uniformity(two, { t: -1 })).toThrow(/t must be/);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([one, two]);
  });
});

describe('collapseStd', () => {
  it('matches a float64 reference for several shapes', () => {
    const shapes: Array<[number, number]> = [
      [1, 4],
      [2, 2],
      [50, 8],
      [256, 64],
    ];
    for (const [n, d] of shapes) {
      const a = randomMatrix(n * 17 + d, n, d);
      const z = tf.tensor2d(a, [n, d]);
      expect(evaluate(() => collapseStd(z))).toBeCloseTo(collapseStd64(a, n, d), 5);
      tf.dispose(z);
    }
  });

  it('is 0 when every row is the same, and sqrt(1/d − 1/d²) for the d basis vectors', () => {
    const same = tf.tensor2d([3, -1, 2, 3, -1, 2, 3, -1, 2], [3, 3]);
    expect(evaluate(() => collapseStd(same))).toBeCloseTo(0, 6);
    // Rows of different lengths along one direction normalize to the same point.
    const scaled = tf.tensor2d([1, 1, 5, 5, 0.1, 0.1], [3, 2]);
    expect(evaluate(() => collapseStd(scaled))).toBeCloseTo(0, 6);
    tf.dispose([same, scaled]);
    for (const d of [2, 3, 8, 64]) {
      // Each column has a single 1 among d rows: mean 1/d, biased variance 1/d − 1/d².
      const eye = tf.eye(d) as tf.Tensor2D;
      const exact = Math.sqrt(1 / d - 1 / (d * d));
      expect(evaluate(() => collapseStd(eye))).toBeCloseTo(exact, 6);
      tf.dispose(eye);
    }
  });

  it('is near 1/√d for random Gaussian directions and has finite gradients at collapse', () => {
    const n = 2000;
    const d = 16;
    const z = tf.tensor2d(randomMatrix(1, n, d), [n, d]);
    expect(Math.abs(evaluate(() => collapseStd(z)) - 1 / Math.sqrt(d))).toBeLessThan(0.02);
    const collapsed = tf.tensor2d([1, 2, 1, 2], [2, 2]);
    const before = tf.memory().numTensors;
    const g = tf.grad((x: tf.Tensor) => collapseStd(x as tf.Tensor2D))(collapsed);
    for (const v of g.dataSync()) expect(Number.isFinite(v)).toBe(true);
    g.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([z, collapsed]);
  });

  it('rejects non-matrices and empty batches', () => {
    const empty = tf.zeros([0, 3]) as tf.Tensor2D;
    const vector = tf.zeros([3]) as unknown as tf.Tensor2D;
    expect(() => collapseStd(empty)).toThrow(/no rows/);
    expect(() => collapseStd(vector)).toThrow(/rank-2/);
    tf.dispose([empty, vector]);
  });
});

describe('l2NormalizeRows', () => {
  it('gives unit rows and keeps a zero row at zero', () => {
    const z = tf.tensor2d([3, 4, 0, 0, -1, 0], [3, 2]);
    const before = tf.memory().numTensors;
    const zHat = l2NormalizeRows(z);
    expect(tf.memory().numTensors).toBe(before + 1);
    const v = Array.from(zHat.dataSync());
    [0.6, 0.8, 0, 0, -1, 0].forEach((e, i) => expect(v[i]).toBeCloseTo(e, 6));
    tf.dispose([z, zHat]);
  });
});
