import * as tf from '@tensorflow/tfjs';
await tf.setBackend('cpu');

import { describe, expect, it } from 'vitest';
import { createRng } from '../core/random';
import { type BlobSet, blobs, toTensor } from './blobs.testutil';
import { fewShotSupport, nearestCentroidAccuracy } from './fewShot';

/**
 * Float64 nearest centroid. normalize: mean of normalized rows, argmax cosine;
 * else: mean of raw rows, argmin squared Euclidean distance (computed directly).
 * Also the smallest relative margin between the best and second-best class.
 */
function nearestCentroid64(support: BlobSet, query: BlobSet, numClasses: number, normalize: boolean) {
  const { d } = support;
  const row = (ds: BlobSet, i: number) => {
    const r = Float64Array.from(ds.x.subarray(i * d, (i + 1) * d));
    if (normalize) {
      const norm = Math.max(Math.hypot(...r), 1e-12);
      for (let j = 0; j < d; j++) r[j] /= norm;
    }
    return r;
  };
  const centroids = Array.from({ length: numClasses }, () => new Float64Array(d));
  const counts = new Float64Array(numClasses);
  for (let i = 0; i < support.n; i++) {
    const r = row(support, i);
    counts[support.y[i]]++;
    for (let j = 0; j < d; j++) centroids[support.y[i]][j] += r[j];
  }
  centroids.forEach((c, k) => c.forEach((_, j) => (c[j] /= counts[k])));
  let correct = 0;
  let minMargin = Infinity;
  for (let q = 0; q < query.n; q++) {
    const r = row(query, q);
    const scores = centroids.map((c) => {
      if (normalize) {
        let dot = 0;
        for (let j = 0; j < d; j++) dot += r[j] * c[j];
        return dot / Math.max(Math.hypot(...c), 1e-12);
      }
      let dist = 0;
      for (let j = 0; j < d; j++) dist += (r[j] - c[j]) ** 2;
      return -dist;
    });
    let best = 0;
    for (let c = 1; c < numClasses; c++) if (scores[c] > scores[best]) best = c;
    const sorted = [...scores].sort((a, b) => b - a);
    minMargin = Math.min(minMargin, (sorted[0] - sorted[1]) / Math.max(1, Math.abs(sorted[0])));
    if (best === query.y[q]) correct++;
  }
  return { accuracy: correct / query.n, minMargin };
}

describe('nearestCentroidAccuracy', () => {
  it('classifies well-separated blobs exactly, with and without normalization', async () => {
    const rng = createRng(1);
    const support = blobs(rng, 50, 8, 5, 10);
    const query = blobs(rng, 200, 8, 5, 10, { centres: support.centres });
    const s = toTensor(support);
    const q = toTensor(query);
    for (const normalize of [true, false]) {
      expect(await nearestCentroidAccuracy(s, support.y, q, query.y, { numClasses: 5, normalize })).toBe(1);
    }
    expect(await nearestCentroidAccuracy(s, support.y, q, query.y, { numClasses: 5 })).toBe(1);
    tf.dispose([s, q]);
  });

  it('matches a float64 reference on overlapping blobs', async () => {
    for (const [seed, k, shots] of [
      [2, 3, 1],
      [3, 5, 5],
      [4, 10, 10],
    ]) {
      const rng = createRng(seed);
      const support = blobs(rng, k * shots, 6, k, 1);
      const query = blobs(rng, 300, 6, k, 1, { centres: support.centres });
      const s = toTensor(support);
      const q = toTensor(query);
      for (const normalize of [true, false]) {
        const ref = nearestCentroid64(support, query, k, normalize);
        expect(ref.minMargin).toBeGreaterThan(1e-5); // far from ties compared to float32 rounding
        expect(ref.accuracy).toBeGreaterThan(1 / k); // better than chance …
        expect(ref.accuracy).toBeLessThan(1); // … but not trivial
        expect(await nearestCentroidAccuracy(s, support.y, q, query.y, { numClasses: k, normalize })).toBe(ref.accuracy);
      }
      tf.dispose([s, q]);
    }
  });

  it('uses the cosine when normalizing (invariant to row scale) but not in Euclidean mode', async () => {
    // Class 0 along +x, class 1 along +y; the query is along x but long, and far from both raw means.
    const s = tf.tensor2d([1, 0, 2, 0, 0, 1, 0, 3], [4, 2]);
    const ys = Int32Array.from([0, 0, 1, 1]);
    const q = tf.tensor2d([0.1, 0.09, 50, 49], [2, 2]);
    const yq = Int32Array.from([0, 0]);
    expect(await nearestCentroidAccuracy(s, ys, q, yq, { numClasses: 2 })).toBe(1);
    // Euclidean: μ0 = (1.5, 0), μ1 = (0, 2); (0.1, 0.09) is nearer μ0 (dist² 1.9681 vs 3.6581), (50, 49) nearer μ1.
    expect(await nearestCentroidAccuracy(s, ys, q, yq, { numClasses: 2, normalize: false })).toBe(0.5);
    tf.dispose([s, q]);
  });

  it('does not leak tensors and validates its inputs', async () => {
    const s = tf.tensor2d([1, 0, 0, 1, 1, 1], [3, 2]);
    const q = tf.tensor2d([1, 0, 0, 1], [2, 2]);
    const wrongDim = tf.zeros([2, 3]) as tf.Tensor2D;
    const empty = tf.zeros([0, 2]) as tf.Tensor2D;
    const ys = Int32Array.from([0, 1, 2]);
    const yq = Int32Array.from([0, 1]);
    const before = tf.memory().numTensors;
    await nearestCentroidAccuracy(s, ys, q, yq, { numClasses: 3 });
    await nearestCentroidAccuracy(s, ys, q, yq, { numClasses: 3, normalize: false });
    expect(tf.memory().numTensors).toBe(before);
    expect(s.isDisposed || q.isDisposed).toBe(false);
    await expect(nearestCentroidAccuracy(s, Int32Array.from([0, 2, 2]), q, yq, { numClasses: 3 })).rejects.toThrow(
      /class 1 has no support images/,
    );
    await expect(nearestCentroidAccuracy(s, ys, q, yq, { numClasses: 4 })).rejects.toThrow(/class 3 has no support/);
    await expect(nearestCentroidAccuracy(s, ys.subarray(1), q, yq, { numClasses: 3 })).rejects.toThrow(/support labels/);
    await expect(nearestCentroidAccuracy(s, ys, q, yq.subarray(1), { numClasses: 3 })).rejects.toThrow(/query labels/);
    await expect(nearestCentroidAccuracy(s, ys, wrongDim, yq, { numClasses: 3 })).rejects.toThrow(/dims/);
    await expect(nearestCentroidAccuracy(s, Int32Array.from([0, 1, 3]), q, yq, { numClasses: 3 })).rejects.toThrow(
      /support label 3 at index 2/,
    );
    await expect(nearestCentroidAccuracy(s, ys, q, Int32Array.from([0, 7]), { numClasses: 3 })).rejects.toThrow(/query label 7/);
    await expect(nearestCentroidAccuracy(empty, new Int32Array(0), q, yq, { numClasses: 2 })).rejects.toThrow(/support set is empty/);
    await expect(nearestCentroidAccuracy(s, ys, empty, new Int32Array(0), { numClasses: 3 })).rejects.toThrow(/query set is empty/);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([s, q, wrongDim, empty]);
  });
});

describe('fewShotSupport', () => {
  const labels = Int32Array.from({ length: 103 }, (_, i) => (i * 7) % 4); // ~26 images per class, interleaved

  it('picks exactly `shots` distinct images per class, sorted', () => {
    for (const shots of [1, 5, 25]) {
      const picked = fewShotSupport(labels, shots, 4, 0);
      expect(picked.length).toBe(4 * shots);
      expect(new Set(picked).size).toBe(picked.length);
      for (let i = 1; i < picked.length; i++) expect(picked[i]).toBeGreaterThan(picked[i - 1]);
      const perClass = [0, 0, 0, 0];
      for (const i of picked) perClass[labels[i]]++;
      expect(perClass).toEqual([shots, shots, shots, shots]);
    }
  });

  it('is deterministic by seed, differs across seeds, and nests 1-shot ⊂ 5-shot', () => {
    expect(Array.from(fewShotSupport(labels, 5, 4, 9))).toEqual(Array.from(fewShotSupport(labels, 5, 4, 9)));
    expect(Array.from(fewShotSupport(labels, 5, 4, 9))).not.toEqual(Array.from(fewShotSupport(labels, 5, 4, 10)));
    const five = new Set(fewShotSupport(labels, 5, 4, 3));
    for (const i of fewShotSupport(labels, 1, 4, 3)) expect(five.has(i)).toBe(true);
  });

  it('throws when a class has too few images, or the arguments are bad', () => {
    const few = Int32Array.from([0, 0, 0, 1, 2, 2, 1, 0]); // class 1 has 2 images
    expect(() => fewShotSupport(few, 3, 3, 0)).toThrow(/class 1 has only 2 images, fewer than the 3 shots/);
    expect(() => fewShotSupport(few, 2, 4, 0)).toThrow(/class 3 has only 0 images/);
    expect(() => fewShotSupport(few, 0, 3, 0)).toThrow(/shots per class/);
    expect(() => fewShotSupport(few, 1.5, 3, 0)).toThrow(/shots per class/);
    expect(() => fewShotSupport(few, 1, 2, 0)).toThrow(/label 2 at index 4 is outside \[0, 2\)/);
    expect(Array.from(fewShotSupport(few, 2, 3, 0)).map((i) => few[i]).sort()).toEqual([0, 0, 1, 1, 2, 2]);
  });

  it('feeds nearestCentroidAccuracy end to end', async () => {
    const rng = createRng(77);
    const pool = blobs(rng, 400, 8, 4, 6);
    const query = blobs(rng, 100, 8, 4, 6, { centres: pool.centres });
    const idx = fewShotSupport(pool.y, 5, 4, 1);
    const x = toTensor(pool);
    const s = tf.tidy(() => tf.gather(x, tf.tensor1d(idx, 'int32')) as tf.Tensor2D);
    const q = toTensor(query);
    const ys = Int32Array.from(idx, (i) => pool.y[i]);
    expect(await nearestCentroidAccuracy(s, ys, q, query.y, { numClasses: 4 })).toBeGreaterThan(0.95);
    tf.dispose([x, s, q]);
  });
});
