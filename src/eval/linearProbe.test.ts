import * as tf from '@tensorflow/tfjs';
await tf.setBackend('cpu');

import { describe, expect, it } from 'vitest';
import { createRng, normal } from '../core/random';
import { type BlobSet, blobSplits, toTensor } from './blobs.testutil';
import { fitLinearProbe } from './linearProbe';

async function probe(train: BlobSet, test: BlobSet, k: number, opts: Parameters<typeof fitLinearProbe>[5] = {}) {
  const xTr = toTensor(train);
  const xTe = toTensor(test);
  try {
    return await fitLinearProbe(xTr, train.y, xTe, test.y, k, opts);
  } finally {
    tf.dispose([xTr, xTe]);
  }
}

/**
 * Independent float64 reference: standardize with the train split's mean/std,
 * then plain full-batch gradient descent on mean softmax cross-entropy + l2‖W‖².
 * ∂L/∂W = x̂ᵀ(P - Y)/n + 2·l2·W,  ∂L/∂b = Σ_i (P - Y)_i / n.
 */
function referenceProbe(train: BlobSet, test: BlobSet, k: number, l2: number, steps: number, lr: number) {
  const { n, d } = train;
  const mean = new Float64Array(d);
  const std = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += train.x[i * d + j] / n;
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) std[j] += (train.x[i * d + j] - mean[j]) ** 2 / n;
  for (let j = 0; j < d; j++) std[j] = Math.max(Math.sqrt(std[j]), 1e-6);
  const standardize = (ds: BlobSet) => Float64Array.from(ds.x, (v, idx) => (v - mean[idx % d]) / std[idx % d]);
  const xTr = standardize(train);
  const xTe = standardize(test);

  const W = new Float64Array(d * k);
  const b = new Float64Array(k);
  const logits = (x: Float64Array, i: number, out: Float64Array) => {
    for (let c = 0; c < k; c++) {
      let s = b[c];
      for (let j = 0; j < d; j++) s += x[i * d + j] * W[j * k + c];
      out[c] = s;
    }
  };
  const z = new Float64Array(k);
  for (let step = 0; step < steps; step++) {
    const gW = new Float64Array(d * k);
    const gb = new Float64Array(k);
    for (let i = 0; i < n; i++) {
      logits(xTr, i, z);
      const m = Math.max(...z);
      let sum = 0;
      for (let c = 0; c < k; c++) sum += (z[c] = Math.exp(z[c] - m));
      for (let c = 0; c < k; c++) {
        const g = (z[c] / sum - (train.y[i] === c ? 1 : 0)) / n;
        gb[c] += g;
        for (let j = 0; j < d; j++) gW[j * k + c] += xTr[i * d + j] * g;
      }
    }
    for (let idx = 0; idx < W.length; idx++) W[idx] -= lr * (gW[idx] + 2 * l2 * W[idx]);
    for (let c = 0; c < k; c++) b[c] -= lr * gb[c];
  }
  const accuracy = (x: Float64Array, y: Int32Array) => {
    let correct = 0;
    for (let i = 0; i < y.length; i++) {
      logits(x, i, z);
      let best = 0;
      for (let c = 1; c < k; c++) if (z[c] > z[best]) best = c;
      if (best === y[i]) correct++;
    }
    return correct / y.length;
  };
  return { trainAccuracy: accuracy(xTr, train.y), testAccuracy: accuracy(xTe, test.y) };
}

// Both ways of fitting, one contract: tfjs ops on the backend, and plain float64 arrays on the read-back features
describe.each(['tensors', 'arrays'] as const)('fitLinearProbe fitted as %s', (fitOn) => {
  const probeOn = (train: BlobSet, test: BlobSet, k: number, opts: Parameters<typeof fitLinearProbe>[5] = {}) => probe(train, test, k, { fitOn, ...opts });

  it('separates well-separated Gaussian blobs (3, 5 and 10 classes)', async () => {
    for (const k of [3, 5, 10]) {
      const { train, test } = blobSplits(k, 40 * k, 20 * k, 8, k, 6);
      const r = await probeOn(train, test, k);
      expect(r.testAccuracy).toBeGreaterThan(0.95);
      expect(r.trainAccuracy).toBeGreaterThan(0.95);
    }
  });

  it('reports its progress from 0 to every iteration, in steps of 50, without changing the fit', async () => {
    const { train, test } = blobSplits(3, 60, 30, 4, 3, 6);
    const calls: [number, number][] = [];
    const withProgress = await probeOn(train, test, 3, { epochs: 120, onProgress: (done: number, total: number) => calls.push([done, total]) });
    const without = await probeOn(train, test, 3, { epochs: 120 });
    expect(calls).toEqual([[0, 120], [50, 120], [100, 120]]);
    expect(withProgress.testAccuracy).toBe(without.testAccuracy);
    expect(withProgress.trainAccuracy).toBe(without.trainAccuracy);
  });

  it('is near chance on random labels independent of the features', async () => {
    const rng = createRng(123);
    const k = 5;
    const make = (n: number): BlobSet => ({
      x: Float32Array.from({ length: n * 6 }, () => normal(rng)),
      y: Int32Array.from({ length: n }, () => Math.floor(rng() * k)),
      n,
      d: 6,
    });
    const r = await probeOn(make(300), make(300), k);
    expect(r.testAccuracy).toBeLessThan(0.35);
    expect(r.testAccuracy).toBeGreaterThan(0.05);
  });

  it('fits when one feature is scaled by 1e4 and another is constant (standardization)', async () => {
    const { train, test } = blobSplits(77, 200, 200, 4, 4, 5);
    for (const ds of [train, test]) {
      for (let i = 0; i < ds.n; i++) {
        ds.x[i * ds.d + 0] *= 1e4;
        ds.x[i * ds.d + 3] = 42; // zero variance: std floors at 1e-6, feature becomes 0
      }
    }
    const r = await probeOn(train, test, 4);
    expect(Number.isFinite(r.testAccuracy)).toBe(true);
    expect(r.testAccuracy).toBeGreaterThan(0.95);
  });

  it('agrees with a float64 gradient-descent reference on overlapping blobs', async () => {
    const k = 4;
    const { train, test } = blobSplits(2024, 400, 400, 6, k, 0.8);
    const ours = await probeOn(train, test, k);
    const ref = referenceProbe(train, test, k, 1e-4, 1500, 0.5);
    // A genuinely hard problem: well above chance (0.25) but far from perfect.
    expect(ref.testAccuracy).toBeGreaterThan(0.4);
    expect(ref.testAccuracy).toBeLessThan(0.9);
    expect(Math.abs(ours.testAccuracy - ref.testAccuracy)).toBeLessThan(0.03);
    expect(Math.abs(ours.trainAccuracy - ref.trainAccuracy)).toBeLessThan(0.03);
  });

  it('is deterministic', async () => {
    const { train, test } = blobSplits(5, 150, 150, 5, 3, 1);
    const a = await probeOn(train, test, 3, { epochs: 100 });
    const b = await probeOn(train, test, 3, { epochs: 100 });
    expect(a).toEqual(b);
  });

  it('does not leak tensors or variables and leaves the caller’s features alive', async () => {
    const { train, test } = blobSplits(9, 90, 60, 5, 3, 3);
    const xTr = toTensor(train);
    const xTe = toTensor(test);
    const before = tf.memory().numTensors;
    await fitLinearProbe(xTr, train.y, xTe, test.y, 3, { epochs: 60 });
    expect(tf.memory().numTensors).toBe(before);
    expect(xTr.isDisposed).toBe(false);
    expect(xTe.isDisposed).toBe(false);
    // Also when validation throws.
    await expect(fitLinearProbe(xTr, train.y.subarray(1), xTe, test.y, 3)).rejects.toThrow();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([xTr, xTe]);
  });

  it('reports the final gradient norm, which the decaying step size drives towards 0', async () => {
    // overlapping blobs with l2 > 0: a strictly convex objective with an interior optimum
    const { train, test } = blobSplits(11, 300, 100, 6, 3, 1);
    const short = await probeOn(train, test, 3, { epochs: 5, l2: 1e-3 });
    const long = await probeOn(train, test, 3, { epochs: 600, l2: 1e-3 });
    expect(Number.isFinite(short.gradientNorm)).toBe(true);
    expect(long.gradientNorm).toBeLessThan(short.gradientNorm / 20);
    expect(long.gradientNorm).toBeLessThan(5e-3);
  });

  it('validates its inputs', async () => {
    const xTr = tf.zeros([4, 3]) as tf.Tensor2D;
    const xTe = tf.zeros([2, 3]) as tf.Tensor2D;
    const xTeWrongDim = tf.zeros([2, 5]) as tf.Tensor2D;
    const yTr = Int32Array.from([0, 1, 2, 0]);
    const yTe = Int32Array.from([1, 2]);
    await expect(fitLinearProbe(xTr, yTr.subarray(0, 3), xTe, yTe, 3)).rejects.toThrow(/train labels/);
    await expect(fitLinearProbe(xTr, yTr, xTe, Int32Array.from([1]), 3)).rejects.toThrow(/test labels/);
    await expect(fitLinearProbe(xTr, yTr, xTeWrongDim, yTe, 3)).rejects.toThrow(/dims/);
    await expect(fitLinearProbe(xTr, Int32Array.from([0, 1, 3, 0]), xTe, yTe, 3)).rejects.toThrow(/outside/);
    await expect(fitLinearProbe(xTr, Int32Array.from([0, -1, 2, 0]), xTe, yTe, 3)).rejects.toThrow(/outside/);
    await expect(fitLinearProbe(xTr, yTr, xTe, Int32Array.from([1, 5]), 3)).rejects.toThrow(/test label/);
    await expect(fitLinearProbe(xTr, yTr, xTe, yTe, 1)).rejects.toThrow(/numClasses/);
    await expect(fitLinearProbe(xTr, yTr, xTe, yTe, 3, { learningRate: 0 })).rejects.toThrow(/learningRate/);
    tf.dispose([xTr, xTe, xTeWrongDim]);
  });
});

describe('fitLinearProbe: the two fits agree', () => {
  it('gives the same accuracies and a gradient norm of the same size on overlapping blobs and on random labels', async () => {
    for (const [seed, k, spread] of [[11, 4, 0.8], [12, 10, 1.5], [13, 3, 6]] as const) {
      const { train, test } = blobSplits(seed, 300, 200, 12, k, spread);
      const onTensors = await probe(train, test, k, { fitOn: 'tensors', epochs: 150 });
      const onArrays = await probe(train, test, k, { fitOn: 'arrays', epochs: 150 });
      // float32 ops against float64 arithmetic: a test image may fall on the other side of a boundary, no more than two
      expect(Math.abs(onArrays.testAccuracy - onTensors.testAccuracy), `seed ${seed}`).toBeLessThanOrEqual(2 / 200);
      expect(Math.abs(onArrays.trainAccuracy - onTensors.trainAccuracy), `seed ${seed}`).toBeLessThanOrEqual(2 / 300);
      expect(onArrays.gradientNorm).toBeCloseTo(onTensors.gradientNorm, 3);
    }
  });

  it('fits as arrays by default when the fit is small, and as tensors when told', async () => {
    const { train, test } = blobSplits(14, 100, 50, 4, 3, 6);
    const calls: string[] = [];
    const xTr = toTensor(train);
    const xTe = toTensor(test);
    try {
      // the arrays fit reads the features back: a tensor fit never calls data() on them
      const dataOf = xTr.data.bind(xTr);
      xTr.data = (async () => { calls.push('read'); return dataOf(); }) as typeof xTr.data;
      await fitLinearProbe(xTr, train.y, xTe, test.y, 3, { epochs: 20 });
      expect(calls).toEqual(['read']);
      await fitLinearProbe(xTr, train.y, xTe, test.y, 3, { epochs: 20, fitOn: 'tensors' });
      expect(calls).toEqual(['read']);
    } finally {
      tf.dispose([xTr, xTe]);
    }
  });
});
