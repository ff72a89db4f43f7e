import { describe, expect, it } from 'vitest';
import { stratifiedSplit } from './split';

function labelsOf(counts: number[]): Int32Array {
  return Int32Array.from(counts.flatMap((n, c) => new Array<number>(n).fill(c)));
}

function perClass(labels: Int32Array, indices: Int32Array, classes: number): number[] {
  const out = new Array<number>(classes).fill(0);
  for (const i of indices) out[labels[i]] += 1;
  return out;
}

describe('stratifiedSplit', () => {
  it('holds out round(share · n) of each class, and at least one of a class of two or more', () => {
    const labels = labelsOf([100, 50, 7, 2]);
    const { train, test } = stratifiedSplit(labels, 0.2, 1);
    // round(0.2 · 2) is 0: the class of two still gives one image to test
    expect(perClass(labels, test, 4)).toEqual([20, 10, 1, 1]);
    expect(perClass(labels, train, 4)).toEqual([80, 40, 6, 1]);
  });

  it('gives every class of two images one test image at every share the upload offers', () => {
    const labels = labelsOf([2, 2, 2]);
    for (const share of [0.05, 0.1, 0.2, 0.3, 0.5]) {
      const { train, test } = stratifiedSplit(labels, share, 1);
      expect(perClass(labels, test, 3), `share ${share}`).toEqual([1, 1, 1]);
      expect(perClass(labels, train, 3), `share ${share}`).toEqual([1, 1, 1]);
    }
    // only a share of 0 holds nothing out
    expect(stratifiedSplit(labels, 0, 1).test.length).toBe(0);
  });

  it('returns every index exactly once, ascending in each part', () => {
    const labels = Int32Array.from({ length: 57 }, (_, i) => (i * 7) % 5);
    const { train, test } = stratifiedSplit(labels, 0.3, 9);
    const all = [...train, ...test].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 57 }, (_, i) => i));
    expect([...train]).toEqual([...train].sort((a, b) => a - b));
    expect([...test]).toEqual([...test].sort((a, b) => a - b));
  });

  it('keeps a single-image class in train and at least one train image per class', () => {
    const labels = labelsOf([1, 2, 3]);
    const { train, test } = stratifiedSplit(labels, 0.5, 1);
    expect(perClass(labels, train, 3)).toEqual([1, 1, 1]);
    expect(perClass(labels, test, 3)).toEqual([0, 1, 2]);
  });

  it('is deterministic in the seed', () => {
    const labels = labelsOf([30, 30, 30]);
    const a = stratifiedSplit(labels, 0.2, 1);
    const b = stratifiedSplit(labels, 0.2, 1);
    const c = stratifiedSplit(labels, 0.2, 2);
    expect(Array.from(a.test)).toEqual(Array.from(b.test));
    expect(Array.from(a.test)).not.toEqual(Array.from(c.test));
  });

  it('splits an unlabelled set at random by the same share', () => {
    const labels = new Int32Array(40).fill(-1);
    const { train, test } = stratifiedSplit(labels, 0.25, 1);
    expect(test.length).toBe(10);
    expect(train.length).toBe(30);
    // shuffled: not simply the first ten
    expect(Array.from(test)).not.toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(stratifiedSplit(new Int32Array([-1]), 0.5, 1)).toEqual({ train: Int32Array.from([0]), test: new Int32Array(0) });
  });

  it('refuses shares outside [0, 1)', () => {
    expect(() => stratifiedSplit(labelsOf([3]), 1, 1)).toThrow(RangeError);
    expect(() => stratifiedSplit(labelsOf([3]), Number.NaN, 1)).toThrow(RangeError);
  });
});
