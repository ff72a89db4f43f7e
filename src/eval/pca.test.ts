import * as tf from '@tensorflow/tfjs';
await tf.setBackend('cpu');

import { describe, expect, it } from 'vitest';
import { createRng, normal, type Rng } from '../core/random';
import { pca2d, symmetricEigen } from './pca';

/** A random d × d rotation: Gram–Schmidt on a Gaussian matrix (columns are the axes). */
function randomRotation(rng: Rng, d: number): Float64Array {
  const q = Float64Array.from({ length: d * d }, () => normal(rng)); // q[i*d + k] = column k, entry i
  for (let k = 0; k < d; k++) {
    for (let p = 0; p < k; p++) {
      let dot = 0;
      for (let i = 0; i < d; i++) dot += q[i * d + k] * q[i * d + p];
      for (let i = 0; i < d; i++) q[i * d + k] -= dot * q[i * d + p];
    }
    let norm = 0;
    for (let i = 0; i < d; i++) norm += q[i * d + k] ** 2;
    norm = Math.sqrt(norm);
    for (let i = 0; i < d; i++) q[i * d + k] /= norm;
  }
  return q;
}

/** x = μ + R diag(scales) g, g ~ N(0, I): an anisotropic Gaussian whose k-th axis is column k of R. Stored as float32. */
function anisotropicGaussian(seed: number, n: number, scales: number[]) {
  const rng = createRng(seed);
  const d = scales.length;
  const rotation = randomRotation(rng, d);
  const mu = Float64Array.from({ length: d }, () => 5 * normal(rng));
  const x = new Float32Array(n * d);
  const g = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < d; k++) g[k] = scales[k] * normal(rng);
    for (let r = 0; r < d; r++) {
      let v = mu[r];
      for (let k = 0; k < d; k++) v += rotation[r * d + k] * g[k];
      x[i * d + r] = v;
    }
  }
  return { x, rotation, d };
}

/** Two-pass float64 centring and sample covariance (divide by n − 1). */
function covariance64(x: Float32Array, n: number, d: number) {
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += x[i * d + j] / n;
  const centred = Float64Array.from(x, (v, idx) => v - mean[idx % d]);
  const cov = new Float64Array(d * d);
  for (let a = 0; a < d; a++) {
    for (let b = 0; b < d; b++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += centred[i * d + a] * centred[i * d + b];
      cov[a * d + b] = s / Math.max(n - 1, 1);
    }
  }
  return { centred, cov };
}

/** Independent eigensolver for the reference: cyclic Jacobi rotations, float64. Columns of `vectors` are eigenvectors. */
function jacobiEigen(matrix: Float64Array, d: number) {
  const a = Float64Array.from(matrix);
  const v = new Float64Array(d * d);
  for (let i = 0; i < d; i++) v[i * d + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) off += a[p * d + q] ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < d; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = a[p * d + q];
        if (apq === 0) continue;
        // Rotation angle that zeroes a_pq: tan(2θ) = 2a_pq / (a_qq − a_pp).
        const theta = (a[q * d + q] - a[p * d + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < d; k++) {
          const akp = a[k * d + p];
          const akq = a[k * d + q];
          a[k * d + p] = c * akp - s * akq;
          a[k * d + q] = s * akp + c * akq;
        }
        for (let k = 0; k < d; k++) {
          const apk = a[p * d + k];
          const aqk = a[q * d + k];
          a[p * d + k] = c * apk - s * aqk;
          a[q * d + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < d; k++) {
          const vkp = v[k * d + p];
          const vkq = v[k * d + q];
          v[k * d + p] = c * vkp - s * vkq;
          v[k * d + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: d }, (_, i) => i).sort((i, j) => a[j * d + j] - a[i * d + i]);
  return {
    values: order.map((i) => a[i * d + i]),
    vector: (k: number) => Float64Array.from({ length: d }, (_, r) => v[r * d + order[k]]),
  };
}

/** Distance between two unit vectors up to sign: min(‖u − v‖, ‖u + v‖). */
function distanceUpToSign(u: ArrayLike<number>, v: ArrayLike<number>): number {
  let minus = 0;
  let plus = 0;
  for (let i = 0; i < u.length; i++) {
    minus += (u[i] - v[i]) ** 2;
    plus += (u[i] + v[i]) ** 2;
  }
  return Math.sqrt(Math.min(minus, plus));
}

describe('pca2d', () => {
  it('recovers the covariance eigenvectors and eigenvalues of an anisotropic Gaussian', () => {
    for (const [seed, n, scales] of [
      [1, 3000, [4, 2, 1, 0.5, 0.3, 0.1]],
      [2, 500, [3, 2.5, 1, 1, 1, 1, 0.5, 0.2, 0.1, 0.1]],
      [3, 200, [1, 0.7]],
    ] as Array<[number, number, number[]]>) {
      const { x, rotation, d } = anisotropicGaussian(seed, n, scales);
      const ours = pca2d(x, n, d);
      const { centred, cov } = covariance64(x, n, d);
      const ref = jacobiEigen(cov, d);
      let trace = 0;
      for (let j = 0; j < d; j++) trace += cov[j * d + j];
      expect(ours.totalVariance).toBeCloseTo(trace, 8);
      for (let k = 0; k < 2; k++) {
        const component = ours.components.subarray(k * d, (k + 1) * d);
        expect(distanceUpToSign(component, ref.vector(k))).toBeLessThan(1e-6);
        expect(Math.abs(ours.explainedVariance[k] - ref.values[k]) / ref.values[0]).toBeLessThan(1e-10);
        // Sampling noise aside, the axes are those of the generating rotation.
        const trueAxis = Float64Array.from({ length: d }, (_, r) => rotation[r * d + k]);
        expect(distanceUpToSign(component, trueAxis)).toBeLessThan(n >= 3000 ? 0.05 : 0.5);
        // Projections equal X_c · v.
        for (let i = 0; i < n; i++) {
          let p = 0;
          for (let j = 0; j < d; j++) p += centred[i * d + j] * component[j];
          expect(Math.abs(ours.points[2 * i + k] - p)).toBeLessThan(1e-5 * (1 + Math.abs(p)));
        }
      }
      // The variance of each projected coordinate is its eigenvalue.
      for (let k = 0; k < 2; k++) {
        let s = 0;
        for (let i = 0; i < n; i++) s += ours.points[2 * i + k] ** 2;
        expect(s / (n - 1) / ours.explainedVariance[k]).toBeCloseTo(1, 5);
      }
    }
  });

  it('fixes signs so that the largest-|loading| entry is positive', () => {
    const { x, d } = anisotropicGaussian(4, 300, [3, 1, 0.5, 0.2]);
    const a = pca2d(x, 300, d);
    const negated = Float32Array.from(x, (v) => -v); // flips every axis's sign in the raw eigensolve
    const b = pca2d(negated, 300, d);
    for (let k = 0; k < 2; k++) {
      const c = a.components.subarray(k * d, (k + 1) * d);
      let best = 0;
      for (let j = 1; j < d; j++) if (Math.abs(c[j]) > Math.abs(c[best])) best = j;
      expect(c[best]).toBeGreaterThan(0);
      for (let j = 0; j < d; j++) expect(b.components[k * d + j]).toBeCloseTo(c[j], 10);
    }
    // Negating the data negates the projections (same axes).
    for (let i = 0; i < 600; i++) expect(b.points[i]).toBeCloseTo(-a.points[i], 4);
  });

  it('handles analytic cases: points on a line, a single column, a single row, axis-aligned data', () => {
    // Points on the line t·(3, 4)/5 + (1, 1): λ_1 = var(t), λ_2 = 0, v_1 = (0.6, 0.8).
    const ts = [-2, -1, 0, 1, 2, 5];
    const line = Float32Array.from(ts.flatMap((t) => [1 + 0.6 * t, 1 + 0.8 * t]));
    const r = pca2d(line, ts.length, 2);
    const meanT = ts.reduce((a, b) => a + b, 0) / ts.length;
    const varT = ts.reduce((a, t) => a + (t - meanT) ** 2, 0) / (ts.length - 1);
    expect(r.explainedVariance[0]).toBeCloseTo(varT, 5);
    expect(r.explainedVariance[1]).toBeCloseTo(0, 6);
    expect(r.components[0]).toBeCloseTo(0.6, 6);
    expect(r.components[1]).toBeCloseTo(0.8, 6);
    ts.forEach((t, i) => expect(r.points[2 * i]).toBeCloseTo(t - meanT, 5));

    const column = pca2d(Float32Array.from([1, 2, 3, 6]), 4, 1);
    expect(Array.from(column.points)).toEqual([-2, 0, -1, 0, 0, 0, 3, 0]);
    expect(column.explainedVariance[0]).toBeCloseTo(14 / 3, 12);
    expect(column.explainedVariance[1]).toBe(0);
    expect(column.totalVariance).toBeCloseTo(14 / 3, 12);

    const single = pca2d(Float32Array.from([1, 2, 3]), 1, 3);
    expect(Array.from(single.points)).toEqual([0, 0]);
    expect(single.explainedVariance).toEqual([0, 0]);

    // Axis-aligned: variances 9 (dim 2) > 4 (dim 0) > 1 (dim 1) exactly, by construction (±a each once per sign).
    const rows: number[] = [];
    for (const [j, a] of [
      [2, 3],
      [0, 2],
      [1, 1],
    ]) {
      for (const sign of [1, -1]) {
        const rowValues = [0, 0, 0];
        rowValues[j] = sign * a * Math.sqrt(2.5); // two of six rows non-zero: Σ = 2·2.5·a² = 5a², /(n−1) = a²
        rows.push(...rowValues);
      }
    }
    const aligned = pca2d(Float32Array.from(rows), 6, 3);
    expect(aligned.explainedVariance[0]).toBeCloseTo(9, 5);
    expect(aligned.explainedVariance[1]).toBeCloseTo(4, 5);
    expect(aligned.totalVariance).toBeCloseTo(14, 5);
    expect(Array.from(aligned.components).map((v) => Math.round(v * 1e6) / 1e6)).toEqual([0, 0, 1, 1, 0, 0]);
  });

  it('validates its inputs', () => {
    expect(() => pca2d(new Float32Array(6), 2, 2)).toThrow(/expected 2×2 = 4 features, got 6/);
    expect(() => pca2d(new Float32Array(0), 0, 2)).toThrow(/at least one row/);
    expect(() => pca2d(new Float32Array(0), 2, 0)).toThrow(/at least one feature dimension/);
    expect(() => pca2d(Float32Array.from([1, Number.NaN, 0, 1]), 2, 2)).toThrow(/feature 1 of row 0 is NaN/);
  });
});

describe('symmetricEigen', () => {
  it('matches a Jacobi reference and reconstructs A = V diag(λ) Vᵀ', () => {
    const rng = createRng(5);
    for (const d of [1, 2, 3, 7, 40]) {
      const b = Float64Array.from({ length: d * d }, () => normal(rng));
      const a = new Float64Array(d * d);
      for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) a[i * d + j] = b[i * d + j] + b[j * d + i];
      const { values, vectors } = symmetricEigen(a, d);
      const ref = jacobiEigen(a, d);
      for (let k = 0; k < d; k++) {
        expect(values[k]).toBeCloseTo(ref.values[k], 9);
        if (k > 0) expect(values[k]).toBeLessThanOrEqual(values[k - 1]);
      }
      let maxError = 0;
      for (let i = 0; i < d; i++) {
        for (let j = 0; j < d; j++) {
          let s = 0;
          for (let k = 0; k < d; k++) s += vectors[i * d + k] * values[k] * vectors[j * d + k];
          maxError = Math.max(maxError, Math.abs(s - a[i * d + j]));
          let dot = 0;
          for (let k = 0; k < d; k++) dot += vectors[k * d + i] * vectors[k * d + j];
          expect(dot).toBeCloseTo(i === j ? 1 : 0, 10);
        }
      }
      expect(maxError).toBeLessThan(1e-10);
    }
  });

  it('handles a repeated eigenvalue and a diagonal matrix', () => {
    const { values } = symmetricEigen(Float64Array.from([2, 0, 0, 0, 5, 0, 0, 0, 2]), 3);
    expect(Array.from(values)).toEqual([5, 2, 2]);
    // [[2, 1], [1, 2]]: eigenvalues 3 and 1 with axes (1, 1)/√2 and (1, −1)/√2.
    const r = symmetricEigen(Float64Array.from([2, 1, 1, 2]), 2);
    expect(r.values[0]).toBeCloseTo(3, 12);
    expect(r.values[1]).toBeCloseTo(1, 12);
    expect(Math.abs(r.vectors[0])).toBeCloseTo(Math.SQRT1_2, 12);
    expect(r.vectors[0] * r.vectors[2]).toBeCloseTo(0.5, 12);
  });
});
