import * as tf from '@tensorflow/tfjs';
await tf.setBackend('cpu');

import { describe, expect, it } from 'vitest';
import { type BlobSet, blobSplits as splits, toTensor } from './blobs.testutil';
import { knnAccuracy as knnAccuracyOn, knnPredict as knnPredictOn } from './knn';

/** Blobs with a random label per point (drawn before its coordinates). */
const blobSplits = (seed: number, nTrain: number, nTest: number, d: number, k: number, separation: number) =>
  splits(seed, nTrain, nTest, d, k, separation, { labels: 'random' });

function normalizeRows64(ds: BlobSet): Float64Array {
  const { n, d } = ds;
  const out = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += ds.x[i * d + j] ** 2;
    const norm = Math.max(Math.sqrt(s), 1e-12);
    for (let j = 0; j < d; j++) out[i * d + j] = ds.x[i * d + j] / norm;
  }
  return out;
}

/**
 * Independent float64 weighted kNN (InstDisc): sort all train points by cosine,
 * take k, vote exp(s/τ) per class, argmax with the lowest class winning ties.
 * Also returns the smallest margins, which say how far the data is from a tie:
 * the gap between the k-th and (k+1)-th similarity and the relative gap between
 * the best and second-best vote. Float32 noise is ~1e-6, so margins well above
 * that mean float32 and float64 must agree exactly.
 */
function knnReference(train: BlobSet, test: BlobSet, k: number, tau: number, numClasses: number) {
  const a = normalizeRows64(train);
  const b = normalizeRows64(test);
  const d = train.d;
  const predictions = new Int32Array(test.n);
  let minSimilarityGap = Infinity;
  let minVoteGap = Infinity;
  for (let q = 0; q < test.n; q++) {
    const sims: Array<{ i: number; s: number }> = [];
    for (let i = 0; i < train.n; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += b[q * d + j] * a[i * d + j];
      sims.push({ i, s });
    }
    sims.sort((u, v) => v.s - u.s || u.i - v.i);
    if (k < train.n) minSimilarityGap = Math.min(minSimilarityGap, sims[k - 1].s - sims[k].s);
    const votes = new Float64Array(numClasses);
    for (let r = 0; r < k; r++) votes[train.y[sims[r].i]] += Math.exp(sims[r].s / tau);
    let best = 0;
    for (let c = 1; c < numClasses; c++) if (votes[c] > votes[best]) best = c;
    const sorted = Array.from(votes).sort((u, v) => v - u);
    if (numClasses > 1) minVoteGap = Math.min(minVoteGap, (sorted[0] - sorted[1]) / sorted[0]);
    predictions[q] = best;
  }
  let correct = 0;
  for (let q = 0; q < test.n; q++) if (predictions[q] === test.y[q]) correct++;
  return { predictions, accuracy: correct / test.n, minSimilarityGap, minVoteGap };
}

// Both ways of computing it, one contract: tfjs ops on the backend, and float64 arrays on the read-back features
describe.each(['tensors', 'arrays'] as const)('knnPredict / knnAccuracy computed as %s', (computeOn) => {
  const knnPredict = (...[train, labels, test, opts]: Parameters<typeof knnPredictOn>) => knnPredictOn(train, labels, test, { computeOn, ...opts });
  const knnAccuracy = (...[train, labels, test, testLabels, opts]: Parameters<typeof knnAccuracyOn>) => knnAccuracyOn(train, labels, test, testLabels, { computeOn, ...opts });

  it('matches a float64 weighted-kNN reference exactly for several k, τ and class counts', async () => {
    for (const numClasses of [2, 3, 10]) {
      // Overlapping blobs, so the vote matters and accuracy is neither 0 nor 1.
      const { train, test } = blobSplits(100 + numClasses, 300, 80, 6, numClasses, 1.2);
      const xTr = toTensor(train);
      const xTe = toTensor(test);
      for (const k of [1, 5, 20]) {
        for (const temperature of [0.07, 0.5, 1]) {
          const ref = knnReference(train, test, k, temperature, numClasses);
          // The data is far from any tie compared to float32 rounding.
          expect(ref.minSimilarityGap).toBeGreaterThan(1e-6);
          expect(ref.minVoteGap).toBeGreaterThan(1e-5);
          const opts = { k, temperature, numClasses };
          const predicted = await knnPredict(xTr, train.y, xTe, opts);
          expect(Array.from(predicted)).toEqual(Array.from(ref.predictions));
          expect(await knnAccuracy(xTr, train.y, xTe, test.y, opts)).toBe(ref.accuracy);
        }
      }
      tf.dispose([xTr, xTe]);
    }
  });

  it('with k = 1 predicts the label of the nearest (most cosine-similar) training point', async () => {
    const { train, test } = blobSplits(7, 200, 60, 5, 4, 0.8);
    const a = normalizeRows64(train);
    const b = normalizeRows64(test);
    const nearest = new Int32Array(test.n);
    for (let q = 0; q < test.n; q++) {
      let best = -Infinity;
      for (let i = 0; i < train.n; i++) {
        let s = 0;
        for (let j = 0; j < train.d; j++) s += b[q * train.d + j] * a[i * train.d + j];
        if (s > best) {
          best = s;
          nearest[q] = train.y[i];
        }
      }
    }
    const xTr = toTensor(train);
    const xTe = toTensor(test);
    for (const temperature of [0.07, 10]) {
      const predicted = await knnPredict(xTr, train.y, xTe, { k: 1, temperature, numClasses: 4 });
      expect(Array.from(predicted)).toEqual(Array.from(nearest));
    }
    // A test set equal to the train set is classified perfectly with k = 1 (each point is its own neighbour).
    expect(await knnAccuracy(xTr, train.y, xTr, train.y, { k: 1, temperature: 0.1, numClasses: 4 })).toBe(1);
    tf.dispose([xTr, xTe]);
  });

  it('classifies well-separated blobs perfectly and is invariant to the feature scale', async () => {
    const { train, test } = blobSplits(3, 200, 100, 8, 5, 8);
    const xTr = toTensor(train);
    const xTe = toTensor(test);
    const scaled = tf.mul(xTe, 123) as tf.Tensor2D;
    const opts = { k: 10, temperature: 0.07, numClasses: 5 };
    expect(await knnAccuracy(xTr, train.y, xTe, test.y, opts)).toBe(1);
    expect(await knnAccuracy(xTr, train.y, scaled, test.y, opts)).toBe(1);
    tf.dispose([xTr, xTe, scaled]);
  });

  it('breaks an exact vote tie towards the lowest class index, and handles a tiny τ', async () => {
    // Two train points equally similar to the query, classes 2 and 1: equal votes, class 1 wins.
    const xTr = tf.tensor2d([1, 1, 1, -1, -1, 0], [3, 2]);
    const xTe = tf.tensor2d([1, 0], [1, 2]);
    const yTr = Int32Array.from([2, 1, 0]);
    expect(Array.from(await knnPredict(xTr, yTr, xTe, { k: 2, temperature: 0.5, numClasses: 3 }))).toEqual([1]);
    // τ = 0.005: exp(s/τ) would overflow float32; the max-shifted weights do not.
    const { train, test } = blobSplits(5, 150, 40, 4, 3, 1);
    const a = toTensor(train);
    const b = toTensor(test);
    const ref = knnReference(train, test, 15, 0.005, 3);
    expect(Array.from(await knnPredict(a, train.y, b, { k: 15, temperature: 0.005, numClasses: 3 }))).toEqual(
      Array.from(ref.predictions),
    );
    tf.dispose([xTr, xTe, a, b]);
  });

  it('gives the same answer in several chunks as in one, and yields to the event loop between chunks', async () => {
    const { train, test } = blobSplits(11, 400, 600, 6, 10, 1.5);
    const xTr = toTensor(train);
    const xTe = toTensor(test);
    const opts = { k: 20, temperature: 0.07, numClasses: 10 };
    const ref = knnReference(train, test, 20, 0.07, 10);
    const single = await knnPredict(xTr, train.y, xTe, { ...opts, chunkRows: 600 });
    const odd = await knnPredict(xTr, train.y, xTe, { ...opts, chunkRows: 7 }); // 86 chunks, a ragged last one
    let ticked = false;
    setTimeout(() => (ticked = true), 0);
    const byDefault = await knnPredict(xTr, train.y, xTe, opts); // 3 chunks of ≤ 256
    expect(ticked).toBe(true);
    expect(Array.from(single)).toEqual(Array.from(ref.predictions));
    expect(Array.from(odd)).toEqual(Array.from(ref.predictions));
    expect(Array.from(byDefault)).toEqual(Array.from(ref.predictions));
    tf.dispose([xTr, xTe]);
  });

  it('does not leak tensors and leaves the caller’s features alive, also when it throws', async () => {
    const { train, test } = blobSplits(13, 100, 50, 4, 3, 2);
    const xTr = toTensor(train);
    const xTe = toTensor(test);
    const before = tf.memory().numTensors;
    await knnAccuracy(xTr, train.y, xTe, test.y, { k: 5, temperature: 0.1, numClasses: 3 });
    await knnPredict(xTr, train.y, xTe, { k: 5, temperature: 0.1, numClasses: 3, chunkRows: 16 });
    expect(tf.memory().numTensors).toBe(before);
    expect(xTr.isDisposed || xTe.isDisposed).toBe(false);
    await expect(knnAccuracy(xTr, train.y, xTe, test.y, { k: 101, temperature: 0.1, numClasses: 3 })).rejects.toThrow();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([xTr, xTe]);
  });

  it('validates its inputs with clear messages', async () => {
    const xTr = tf.tensor2d([1, 0, 0, 1, 1, 1, -1, 0], [4, 2]);
    const xTe = tf.tensor2d([1, 0, 0, 1], [2, 2]);
    const xTeWrongDim = tf.zeros([2, 3]) as tf.Tensor2D;
    const empty = tf.zeros([0, 2]) as tf.Tensor2D;
    const yTr = Int32Array.from([0, 1, 2, 0]);
    const yTe = Int32Array.from([1, 2]);
    const opts = { k: 2, temperature: 0.1, numClasses: 3 };
    await expect(knnAccuracy(xTr, yTr, xTe, yTe, { ...opts, k: 5 })).rejects.toThrow(
      /k = 5 is larger than the number of training points \(4\)/,
    );
    await expect(knnAccuracy(xTr, yTr, xTe, yTe, { ...opts, k: 0 })).rejects.toThrow(/k must be an integer ≥ 1/);
    await expect(knnAccuracy(xTr, yTr, xTe, yTe, { ...opts, k: 1.5 })).rejects.toThrow(/k must be/);
    await expect(knnAccuracy(xTr, yTr, xTe, yTe, { ...opts, temperature: 0 })).rejects.toThrow(/temperature/);
    await expect(knnAccuracy(xTr, yTr.subarray(1), xTe, yTe, opts)).rejects.toThrow(/train labels/);
    await expect(knnAccuracy(xTr, yTr, xTe, Int32Array.from([1]), opts)).rejects.toThrow(/test labels/);
    await expect(knnAccuracy(xTr, yTr, xTeWrongDim, yTe, opts)).rejects.toThrow(/dims/);
    await expect(knnAccuracy(xTr, Int32Array.from([0, 3, 1, 1]), xTe, yTe, opts)).rejects.toThrow(/train label 3 at index 1/);
    await expect(knnAccuracy(xTr, yTr, xTe, Int32Array.from([0, -1]), opts)).rejects.toThrow(/test label -1/);
    await expect(knnAccuracy(xTr, yTr, xTe, yTe, { ...opts, numClasses: 0 })).rejects.toThrow(/numClasses/);
    await expect(knnAccuracy(empty, new Int32Array(0), xTe, yTe, opts)).rejects.toThrow(/train split is empty/);
    await expect(knnAccuracy(xTr, yTr, empty, new Int32Array(0), opts)).rejects.toThrow(/test split is empty/);
    tf.dispose([xTr, xTe, xTeWrongDim, empty]);
  });
});
