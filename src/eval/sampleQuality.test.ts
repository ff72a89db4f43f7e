import { describe, expect, it } from 'vitest';
import { createRng, normal, type Rng } from '../core/random';
import type { FeatureMatrix } from './linearProbeArrays';
import { symmetricEigen } from './pca';
import {
  DEFAULT_PRECISION_RECALL_K, featureFrechetDistance, fitGaussian, FRECHET_PROXY_NAME, frechetDistanceOfGaussians, knnPrecisionRecall,
  psdSquareRoot, type GaussianFit,
} from './sampleQuality';

/** n rows of μ + L ε, ε ~ N(0, I): a sample of N(μ, L Lᵀ), as float32 features. */
function gaussianSample(rng: Rng, n: number, mean: number[], mix: number[][]): FeatureMatrix {
  const d = mean.length;
  const values = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const e = mean.map(() => normal(rng));
    for (let r = 0; r < d; r++) values[i * d + r] = mean[r] + mix[r].reduce((s, l, c) => s + l * e[c], 0);
  }
  return { values, n, d };
}

function concat(a: FeatureMatrix, b: FeatureMatrix): FeatureMatrix {
  const values = new Float32Array(a.values.length + b.values.length);
  values.set(Array.from(a.values));
  values.set(Array.from(b.values), a.values.length);
  return { values, n: a.n + b.n, d: a.d };
}

const identity = (d: number, scale = 1) => Array.from({ length: d }, (_, i) => Array.from({ length: d }, (__, j) => (i === j ? scale : 0)));

/** L Lᵀ, row-major. */
function covarianceOf(mix: number[][]): Float64Array {
  const d = mix.length;
  return Float64Array.from({ length: d * d }, (_, k) => mix[Math.floor(k / d)].reduce((s, l, c) => s + l * mix[k % d][c], 0));
}

function gaussian(mean: number[], covariance: number[][]): GaussianFit {
  return { mean: Float64Array.from(mean), covariance: Float64Array.from(covariance.flat()), d: mean.length };
}

/** A random symmetric positive definite d × d matrix B Bᵀ + 0.1 I. */
function randomSpd(rng: Rng, d: number): Float64Array {
  const b = Array.from({ length: d }, () => Array.from({ length: d }, () => normal(rng)));
  const c = covarianceOf(b);
  for (let i = 0; i < d; i++) c[i * d + i] += 0.1;
  return c;
}

function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('the eigendecomposition and the matrix square root', () => {
  it('reconstructs A = V Λ Vᵀ, and S = A^{1/2} is symmetric, positive semi-definite and squares to A', () => {
    const rng = createRng(3);
    for (const d of [1, 2, 5, 30]) {
      const a = randomSpd(rng, d);
      const scale = Math.max(...Array.from(a, Math.abs));
      const { values, vectors } = symmetricEigen(a, d);
      const rebuilt = Float64Array.from({ length: d * d }, (_, k) => {
        const [i, j] = [Math.floor(k / d), k % d];
        return values.reduce((s, l, m) => s + vectors[i * d + m] * l * vectors[j * d + m], 0);
      });
      expect(maxAbsDifference(rebuilt, a) / scale, `d = ${d}`).toBeLessThan(1e-12);
      const s = psdSquareRoot(a, d);
      for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) expect(s[i * d + j]).toBe(s[j * d + i]);
      const squared = Float64Array.from({ length: d * d }, (_, k) => {
        const [i, j] = [Math.floor(k / d), k % d];
        let sum = 0;
        for (let m = 0; m < d; m++) sum += s[i * d + m] * s[m * d + j];
        return sum;
      });
      expect(maxAbsDifference(squared, a) / scale, `d = ${d}`).toBeLessThan(1e-11);
      expect(Math.min(...symmetricEigen(s, d).values)).toBeGreaterThan(0);
    }
  });

  it('takes the root of a singular matrix: (v vᵀ)^{1/2} = v vᵀ / ‖v‖, and diag(4, 9, 0) gives diag(2, 3, 0)', () => {
    const v = [1, -2, 2];
    const outer = Float64Array.from({ length: 9 }, (_, k) => v[Math.floor(k / 3)] * v[k % 3]);
    const root = psdSquareRoot(outer, 3);
    expect(maxAbsDifference(root, outer.map((x) => x / 3))).toBeLessThan(1e-12);
    expect(maxAbsDifference(psdSquareRoot(Float64Array.from([4, 0, 0, 0, 9, 0, 0, 0, 0]), 3), [2, 0, 0, 0, 3, 0, 0, 0, 0])).toBeLessThan(1e-14);
  });
});

describe('the Fréchet distance', () => {
  it('is named as a proxy on encoder features, not as FID', () => {
    expect(FRECHET_PROXY_NAME).toBe('Fréchet distance on random-init encoder features');
    expect(FRECHET_PROXY_NAME).not.toMatch(/FID/);
  });

  it('is ‖Δμ‖² between Gaussians of one covariance', () => {
    const rng = createRng(5);
    for (const d of [1, 3, 16]) {
      const c = Array.from(randomSpd(rng, d));
      const covariance = Array.from({ length: d }, (_, i) => c.slice(i * d, (i + 1) * d));
      const m1 = Array.from({ length: d }, () => normal(rng));
      const m2 = Array.from({ length: d }, () => 3 * normal(rng));
      const shift = m1.reduce((s, m, j) => s + (m - m2[j]) ** 2, 0);
      expect(frechetDistanceOfGaussians(gaussian(m1, covariance), gaussian(m2, covariance)), `d = ${d}`).toBeCloseTo(shift, 8);
    }
  });

  it('matches hand-worked cases: 1-D, diagonal, and a pair of covariances that do not commute', () => {
    // 1-D: (μ₁ − μ₂)² + (σ₁ − σ₂)²
    expect(frechetDistanceOfGaussians(gaussian([1], [[4]]), gaussian([-2], [[0.25]]))).toBeCloseTo(9 + 1.5 ** 2, 12);
    // diagonal: Σ_j (μ₁ⱼ − μ₂ⱼ)² + (σ₁ⱼ − σ₂ⱼ)²: (1 + 4) + ((1 − 3)² + (2 − 1)²) = 10
    expect(frechetDistanceOfGaussians(gaussian([0, 0], [[1, 0], [0, 4]]), gaussian([1, 2], [[9, 0], [0, 1]]))).toBeCloseTo(10, 12);
    // 2 × 2: tr M^{1/2} = √(tr M + 2√det M) for PSD M, here M = C₁^{1/2} C₂ C₁^{1/2}, tr M = tr C₁C₂ = 8, det M = 3·3
    const c1 = [[2, 1], [1, 2]];
    const c2 = [[1, 0], [0, 3]];
    expect(frechetDistanceOfGaussians(gaussian([0, 0], c1), gaussian([0, 0], c2))).toBeCloseTo(4 + 4 - 2 * Math.sqrt(8 + 2 * 3), 12);
    // and it is symmetric
    expect(frechetDistanceOfGaussians(gaussian([1, 0], c2), gaussian([0, 2], c1))).toBeCloseTo(frechetDistanceOfGaussians(gaussian([0, 2], c1), gaussian([1, 0], c2)), 12);
  });

  it('is ≈ 0 between a feature set and itself', () => {
    const x = gaussianSample(createRng(7), 300, [1, 2, 3, 4, 5, 6], [[2, 0, 0, 0, 0, 0], [1, 1, 0, 0, 0, 0], [0, 1, 3, 0, 0, 0], [0, 0, 0, 0.5, 0, 0], [1, 0, 0, 1, 1, 0], [0, 0, 0, 0, 0, 0.1]]);
    const trace = Array.from({ length: 6 }, (_, j) => fitGaussian(x).covariance[j * 7]).reduce((a, b) => a + b, 0);
    expect(featureFrechetDistance(x, x)).toBeLessThan(1e-10 * trace);
  });

  it('fits μ and C (divisor n − 1) and, from 20,000 draws of two known Gaussians, comes near their closed-form distance', () => {
    expect(fitGaussian({ values: [1, 2, 3, 6], n: 2, d: 2 })).toEqual({ mean: Float64Array.from([2, 4]), covariance: Float64Array.from([2, 4, 4, 8]), d: 2 });
    const rng = createRng(9);
    const mixA = [[1, 0, 0], [0.5, 1, 0], [0, 0.3, 0.7]];
    const mixB = [[1.5, 0, 0], [0, 0.5, 0], [0.2, 0, 1]];
    const a = gaussianSample(rng, 20000, [0, 0, 0], mixA);
    const b = gaussianSample(rng, 20000, [1, -1, 0.5], mixB);
    const expected = frechetDistanceOfGaussians({ mean: new Float64Array(3), covariance: covarianceOf(mixA), d: 3 }, { mean: Float64Array.from([1, -1, 0.5]), covariance: covarianceOf(mixB), d: 3 });
    expect(Math.abs(featureFrechetDistance(a, b) - expected) / expected).toBeLessThan(0.05);
  });

  it('refuses sets of different dimensions, empty sets and non-finite features', () => {
    const x: FeatureMatrix = { values: new Float32Array(6), n: 3, d: 2 };
    expect(() => featureFrechetDistance(x, { values: new Float32Array(6), n: 2, d: 3 })).toThrow(/d = 2 and the generated d = 3; compute both with the same encoder/);
    expect(() => featureFrechetDistance(x, { values: new Float32Array(0), n: 0, d: 2 })).toThrow(/generated features need at least one row/);
    expect(() => featureFrechetDistance({ values: [0, 1, Number.NaN, 0], n: 2, d: 2 }, x)).toThrow(/feature 0 of real row 1 is NaN/);
  });
});

describe('k-NN precision and recall', () => {
  it('are 1 and 1 for a set against itself', () => {
    const x = gaussianSample(createRng(11), 120, [0, 0, 0, 0], identity(4));
    expect(knnPrecisionRecall(x, x)).toEqual({ precision: 1, recall: 1 });
    expect(DEFAULT_PRECISION_RECALL_K).toBe(3);
  });

  it('work out by hand on a line (k = 1), where one far sample’s wide ball buys recall', () => {
    // real 0, 1, 10: radii 1, 1, 9; generated 0.5, 5, 30: radii 4.5, 4.5, 25
    const real: FeatureMatrix = { values: [0, 1, 10], n: 3, d: 1 };
    const generated: FeatureMatrix = { values: [0.5, 5, 30], n: 3, d: 1 };
    const { precision, recall } = knnPrecisionRecall(real, generated, 1);
    // 0.5 is in 0's ball, 5 in 10's, 30 in none
    expect(precision).toBeCloseTo(2 / 3, 12);
    // 0 and 1 are in 0.5's ball; 10 is not in 5's (5 > 4.5) but is in 30's (20 ≤ 25)
    expect(recall).toBe(1);
  });

  it('give precision ≈ 1 and recall ≈ ½ for samples that cover one of two real clusters (a dropped mode), and the reverse', () => {
    const rng = createRng(13);
    const d = 2;
    const clusterA = gaussianSample(rng, 200, [0, 0], identity(d));
    const clusterB = gaussianSample(rng, 200, [25, 25], identity(d));
    const real = concat(clusterA, clusterB);
    const onlyA = gaussianSample(rng, 200, [0, 0], identity(d));
    const dropped = knnPrecisionRecall(real, onlyA);
    expect(dropped.precision).toBeGreaterThan(0.9);
    expect(dropped.recall).toBeGreaterThan(0.4);
    expect(dropped.recall).toBeLessThanOrEqual(0.5);
    // real images of one cluster, samples of both: half the samples are unlike any real image
    const spread = knnPrecisionRecall(onlyA, real);
    expect(spread.precision).toBeGreaterThan(0.4);
    expect(spread.precision).toBeLessThanOrEqual(0.5);
    expect(spread.recall).toBeGreaterThan(0.9);
  });

  it('refuses k ≥ n, k < 1, and sets of different dimensions', () => {
    const x: FeatureMatrix = { values: new Float32Array(6), n: 3, d: 2 };
    expect(() => knnPrecisionRecall(x, x)).toThrow(/k = 3 needs at least 4 real samples, got 3/);
    expect(() => knnPrecisionRecall(x, x, 0)).toThrow(/k must be a whole number ≥ 1/);
    expect(() => knnPrecisionRecall(x, { values: new Float32Array(6), n: 6, d: 1 }, 1)).toThrow(/compute both with the same encoder/);
  });
});
