import * as tf from '@tensorflow/tfjs';
await tf.setBackend('cpu');

import { describe, expect, it } from 'vitest';
import { createRng } from '../core/random';
import { classBalancedSubset, describeSubset, shuffledClassIndices } from './labelSubsets';

/** Labels with the given number of images per class, in a shuffled order. */
function labelsWithCounts(counts: number[], seed: number): Int32Array {
  const labels: number[] = [];
  counts.forEach((n, c) => {
    for (let i = 0; i < n; i++) labels.push(c);
  });
  const rng = createRng(seed);
  for (let i = labels.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [labels[i], labels[j]] = [labels[j], labels[i]];
  }
  return Int32Array.from(labels);
}

const COUNTS = [1000, 600, 55, 7, 1, 150, 149, 251, 3, 2];

function isSortedUnique(a: Int32Array): boolean {
  for (let i = 1; i < a.length; i++) if (!(a[i] > a[i - 1])) return false;
  return true;
}

describe('classBalancedSubset', () => {
  it('takes round(fraction·n_c), at least 1, images of every class', () => {
    const labels = labelsWithCounts(COUNTS, 1);
    const k = COUNTS.length;
    // Worked by hand for 1%: 1000→10, 600→6, 55→0.55→1, 7→0.07→max(1,0)=1, 1→1, 150→1.5→2, 149→1.49→1, 251→2.51→3, 3→1, 2→1.
    expect(describeSubset(labels, classBalancedSubset(labels, 0.01, k, 0), k)).toEqual([10, 6, 1, 1, 1, 2, 1, 3, 1, 1]);
    for (const fraction of [0.01, 0.1, 0.25, 0.5, 0.9, 1]) {
      const subset = classBalancedSubset(labels, fraction, k, 42);
      const expected = COUNTS.map((n) => (fraction === 1 ? n : Math.max(1, Math.round(fraction * n))));
      expect(describeSubset(labels, subset, k)).toEqual(expected);
      expect(subset.length).toBe(expected.reduce((a, b) => a + b, 0));
      expect(isSortedUnique(subset)).toBe(true);
    }
  });

  it('returns every index for fraction 1', () => {
    const labels = labelsWithCounts(COUNTS, 2);
    const all = classBalancedSubset(labels, 1, COUNTS.length, 7);
    expect(Array.from(all)).toEqual(Array.from({ length: labels.length }, (_, i) => i));
  });

  it('is nested: 1% ⊂ 10% ⊂ 50% ⊂ 100% for one seed', () => {
    const labels = labelsWithCounts(COUNTS, 3);
    const k = COUNTS.length;
    const fractions = [0.01, 0.1, 0.5, 1];
    const subsets = fractions.map((f) => new Set(classBalancedSubset(labels, f, k, 11)));
    for (let s = 1; s < subsets.length; s++) {
      for (const i of subsets[s - 1]) expect(subsets[s].has(i)).toBe(true);
      expect(subsets[s].size).toBeGreaterThanOrEqual(subsets[s - 1].size);
    }
  });

  it('is deterministic by seed and differs across seeds', () => {
    const labels = labelsWithCounts(COUNTS, 4);
    const k = COUNTS.length;
    const a = classBalancedSubset(labels, 0.1, k, 5);
    const b = classBalancedSubset(labels, 0.1, k, 5);
    const c = classBalancedSubset(labels, 0.1, k, 6);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    // Same per-class counts whatever the seed.
    expect(describeSubset(labels, c, k)).toEqual(describeSubset(labels, a, k));
  });

  it('only takes images of the right class from a seeded permutation of each class', () => {
    const labels = labelsWithCounts([5, 8, 3], 9);
    const byClass = shuffledClassIndices(labels, 3, 123);
    byClass.forEach((members, c) => {
      expect(Array.from(members).every((i) => labels[i] === c)).toBe(true);
      expect(new Set(members).size).toBe(members.length);
    });
    expect(byClass.map((m) => m.length)).toEqual([5, 8, 3]);
    const half = classBalancedSubset(labels, 0.5, 3, 123);
    // 5→2.5→3, 8→4, 3→1.5→2: the prefixes of the permutations.
    const expected = [...byClass[0].subarray(0, 3), ...byClass[1].subarray(0, 4), ...byClass[2].subarray(0, 2)].sort((x, y) => x - y);
    expect(Array.from(half)).toEqual(expected);
  });

  it('throws for a class without images, a bad fraction, or an out-of-range label', () => {
    const labels = Int32Array.from([0, 1, 0, 1, 3, 3]); // class 2 is missing
    expect(() => classBalancedSubset(labels, 0.1, 4, 0)).toThrow(/class 2 has no images.*10%/);
    expect(() => classBalancedSubset(labels, 0.07, 4, 0)).toThrow(/7% \(fraction 0\.07\)/);
    const ok = Int32Array.from([0, 1, 2, 0]);
    for (const bad of [0, -0.1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => classBalancedSubset(ok, bad, 3, 0)).toThrow(/fraction must be in \(0, 1\]/);
    }
    expect(() => classBalancedSubset(Int32Array.from([0, 3]), 0.5, 3, 0)).toThrow(/label 3 at index 1 is outside \[0, 3\)/);
    expect(() => classBalancedSubset(Int32Array.from([0, -1]), 0.5, 3, 0)).toThrow(/outside/);
    expect(() => classBalancedSubset(ok, 0.5, 0, 0)).toThrow(/numClasses/);
    expect(() => classBalancedSubset(new Int32Array(0), 0.5, 2, 0)).toThrow(/class 0 has no images/);
  });
});

describe('describeSubset', () => {
  it('counts images per class and checks the indices', () => {
    const labels = Int32Array.from([2, 0, 1, 2, 2, 0]);
    expect(describeSubset(labels, Int32Array.from([0, 1, 3, 5]), 3)).toEqual([2, 0, 2]);
    expect(describeSubset(labels, new Int32Array(0), 3)).toEqual([0, 0, 0]);
    expect(() => describeSubset(labels, Int32Array.from([6]), 3)).toThrow(/subset index 6/);
    expect(() => describeSubset(labels, Int32Array.from([0]), 2)).toThrow(/label 2 at index 0/);
  });
});
