import * as tf from '@tensorflow/tfjs';
await tf.setBackend('cpu');

import { describe, expect, it } from 'vitest';
import { createRng, normal } from '../core/random';
import { nearestNeighbours } from './neighbours';

function randomFeatures(seed: number, n: number, d: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n * d }, () => normal(rng));
}

/** Brute force: score every row in float64, sort all (best first, then lower index), take k. */
function bruteForce(
  features: Float32Array,
  n: number,
  d: number,
  query: Float32Array,
  k: number,
  metric: 'cosine' | 'euclidean',
  exclude?: number,
) {
  const rows = [];
  const qNorm = Math.max(Math.hypot(...query), 1e-12);
  for (let i = 0; i < n; i++) {
    if (i === exclude) continue;
    const x = Array.from(features.subarray(i * d, (i + 1) * d));
    const score =
      metric === 'cosine'
        ? x.reduce((s, v, j) => s + v * query[j], 0) / (qNorm * Math.max(Math.hypot(...x), 1e-12))
        : Math.hypot(...x.map((v, j) => v - query[j]));
    rows.push({ i, score });
  }
  rows.sort((a, b) => (metric === 'cosine' ? b.score - a.score : a.score - b.score) || a.i - b.i);
  return rows.slice(0, k);
}

describe('nearestNeighbours', () => {
  it('matches a brute-force sort for both metrics and several k', () => {
    for (const [seed, n, d] of [
      [1, 50, 3],
      [2, 500, 16],
      [3, 7, 1],
    ]) {
      const features = randomFeatures(seed, n, d);
      const query = randomFeatures(seed + 100, 1, d);
      for (const metric of ['cosine', 'euclidean'] as const) {
        for (const k of [1, 5, n > 100 ? 100 : n]) {
          const ours = nearestNeighbours(features, n, d, query, k, { metric });
          const ref = bruteForce(features, n, d, query, k, metric);
          expect(Array.from(ours.indices)).toEqual(ref.map((r) => r.i));
          ref.forEach((r, j) => expect(ours.scores[j]).toBeCloseTo(r.score, 5));
        }
      }
    }
  });

  it('defaults to cosine, which ignores the length of the rows', () => {
    const features = Float32Array.from([10, 0, 0.5, 0.5, 0, 3, -1, 0]);
    const { indices, scores } = nearestNeighbours(features, 4, 2, Float32Array.from([1, 0.1]), 4);
    expect(Array.from(indices)).toEqual([0, 1, 2, 3]);
    expect(scores[0]).toBeCloseTo(1 / Math.hypot(1, 0.1), 6);
    const euclid = nearestNeighbours(features, 4, 2, Float32Array.from([1, 0.1]), 4, { metric: 'euclidean' });
    expect(Array.from(euclid.indices)).toEqual([1, 3, 2, 0]);
    expect(euclid.scores[0]).toBeCloseTo(Math.hypot(0.5, 0.4), 6);
  });

  it('excludes the query’s own row', () => {
    const n = 200;
    const d = 8;
    const features = randomFeatures(4, n, d);
    for (const metric of ['cosine', 'euclidean'] as const) {
      for (const self of [0, 57, n - 1]) {
        const query = features.slice(self * d, (self + 1) * d);
        const withSelf = nearestNeighbours(features, n, d, query, 6, { metric });
        expect(withSelf.indices[0]).toBe(self); // a row is its own nearest neighbour
        const without = nearestNeighbours(features, n, d, query, 6, { metric, exclude: self });
        expect(Array.from(without.indices)).not.toContain(self);
        expect(Array.from(without.indices)).toEqual(bruteForce(features, n, d, query, 6, metric, self).map((r) => r.i));
        expect(Array.from(without.indices.subarray(0, 5))).toEqual(Array.from(withSelf.indices.subarray(1)));
      }
    }
    // All but one: k = n − 1 with exclude, through the sorting path.
    const all = nearestNeighbours(features, n, d, features.slice(0, d), n - 1, { exclude: 0 });
    expect(new Set(all.indices).size).toBe(n - 1);
    expect(Array.from(all.indices)).toEqual(bruteForce(features, n, d, features.slice(0, d), n - 1, 'cosine', 0).map((r) => r.i));
  });

  it('breaks ties by the lower index, on both selection paths', () => {
    // Rows 1, 3, 4 and 6 are the same point; rows 0, 2, 5 another.
    const a = [1, 2];
    const b = [-3, 0.5];
    const features = Float32Array.from([b, a, b, a, a, b, a].flat());
    const query = Float32Array.from(a);
    for (const metric of ['cosine', 'euclidean'] as const) {
      expect(Array.from(nearestNeighbours(features, 7, 2, query, 3, { metric }).indices)).toEqual([1, 3, 4]);
      expect(Array.from(nearestNeighbours(features, 7, 2, query, 5, { metric, exclude: 3 }).indices)).toEqual([1, 4, 6, 0, 2]);
    }
    const many = new Float32Array(100 * 2).fill(1); // 100 identical rows, k = 80 > the insertion limit
    expect(Array.from(nearestNeighbours(many, 100, 2, Float32Array.from([1, 1]), 80, { exclude: 5 }).indices)).toEqual(
      Array.from({ length: 81 }, (_, i) => i).filter((i) => i !== 5),
    );
  });

  it('ranks a zero row (cosine 0) and a NaN row (last) sensibly', () => {
    const features = Float32Array.from([0, 0, -1, 0, Number.NaN, 1, 1, 0]);
    const r = nearestNeighbours(features, 4, 2, Float32Array.from([1, 0]), 4);
    expect(Array.from(r.indices)).toEqual([3, 0, 1, 2]);
    expect(Array.from(r.scores.subarray(0, 3))).toEqual([1, 0, -1]);
  });

  it('validates its inputs', () => {
    const f = new Float32Array(12);
    const q = new Float32Array(3);
    expect(() => nearestNeighbours(f, 4, 3, q, 5)).toThrow(/k = 5 is larger than the 4 candidates/);
    expect(() => nearestNeighbours(f, 4, 3, q, 4, { exclude: 1 })).toThrow(/k = 4 is larger than the 3 candidates \(4 rows minus the excluded one\)/);
    expect(() => nearestNeighbours(f, 4, 3, q, 0)).toThrow(/k must be an integer ≥ 1/);
    expect(() => nearestNeighbours(f, 4, 3, new Float32Array(2), 1)).toThrow(/query has 2 values/);
    expect(() => nearestNeighbours(f, 5, 3, q, 1)).toThrow(/expected 5×3 = 15 features, got 12/);
    expect(() => nearestNeighbours(f, 4, 3, q, 1, { exclude: 4 })).toThrow(/exclude must be an index in \[0, 4\)/);
    expect(() => nearestNeighbours(f, 4, 3, q, 1, { metric: 'manhattan' as 'cosine' })).toThrow(/unknown metric/);
    expect(() => nearestNeighbours(new Float32Array(0), 0, 3, q, 1)).toThrow(/larger than the 0 candidates/);
  });
});
