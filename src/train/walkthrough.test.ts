import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import type { ExperimentConfig } from '../core/config';
import { createRng } from '../core/random';
import { SIZE, TOY_CONFIG, toyDataset } from './toyDataset.testutil';
import { Trainer } from './trainer';
import { anchorLosses } from '../loss/ntxentReference';
import type { SimclrWalkthrough } from './protocol';
import { runWalkthrough } from './walkthrough';

await tf.setBackend('cpu');

const config: ExperimentConfig = { ...TOY_CONFIG, learningRate: 0.003 };

/** SimCLR's walkthrough, with its s_ij and per-anchor ℓ. */
async function simclrWalkthrough(...args: Parameters<typeof runWalkthrough>): Promise<SimclrWalkthrough> {
  const r = await runWalkthrough(...args);
  if (r.method !== 'simclr') throw new Error(`expected SimCLR's walkthrough, got ${r.method}`);
  return r;
}

const mean = (xs: ArrayLike<number>) => Array.from(xs).reduce((a, b) => a + b, 0) / xs.length;

describe('runWalkthrough', () => {
  it('returns every tensor of Algorithm 1 with the right shapes', async () => {
    const trainer = new Trainer(toyDataset(64, 16), config);
    const r = await simclrWalkthrough(trainer, trainer.dataset, config, 6, createRng(3), 42);
    const twoN = 12;
    expect(r.requestId).toBe(42);
    expect(r.n).toBe(6);
    expect(r.indices).toHaveLength(6);
    expect(new Set(r.indices).size).toBe(6);
    expect(r.labels).toEqual(r.indices.map((i) => trainer.dataset.train.labels[i]));
    expect(r.originals).toHaveLength(6 * SIZE * SIZE);
    expect(r.views).toHaveLength(twoN * SIZE * SIZE);
    expect(r.hDim).toBe(trainer.model.hDim);
    expect(r.zDim).toBe(16);
    expect(r.h).toHaveLength(twoN * r.hDim);
    expect(r.z).toHaveLength(twoN * r.zDim);
    expect(r.s).toHaveLength(twoN * twoN);
    expect(r.anchorLoss).toHaveLength(twoN);
    // the originals are the training images themselves
    const first = r.indices[0];
    expect(Array.from(r.originals.subarray(0, SIZE * SIZE))).toEqual(
      Array.from(trainer.dataset.train.images.subarray(first * SIZE * SIZE, (first + 1) * SIZE * SIZE)),
    );
    // s is the cosine of the z rows: symmetric, 1 on the diagonal
    for (let i = 0; i < twoN; i++) {
      expect(r.s[i * twoN + i]).toBeCloseTo(1, 4);
      for (let j = 0; j < twoN; j++) expect(r.s[i * twoN + j]).toBeCloseTo(r.s[j * twoN + i], 5);
    }
    const z = (i: number) => Array.from(r.z.subarray(i * r.zDim, (i + 1) * r.zDim));
    const dot = (a: number[], b: number[]) => a.reduce((sum, v, k) => sum + v * b[k], 0);
    const cosine = dot(z(0), z(7)) / Math.sqrt(dot(z(0), z(0)) * dot(z(7), z(7)));
    expect(r.s[0 * twoN + 7]).toBeCloseTo(cosine, 4);
    trainer.dispose();
  });

  it('L is the mean of the per-anchor losses ℓ(i, positive(i))', async () => {
    const trainer = new Trainer(toyDataset(64, 16), config);
    const r = await simclrWalkthrough(trainer, trainer.dataset, config, 8, createRng(5));
    expect(mean(r.anchorLoss)).toBeCloseTo(r.lossBefore, 4);
    expect(r.metrics.loss).toBe(r.lossBefore);
    // each ℓ is −log of a probability among 2N − 1 candidates
    for (const l of r.anchorLoss) expect(l).toBeGreaterThan(0);
    // an untrained encoder starts near chance, log(2N − 1)
    expect(r.lossBefore).toBeGreaterThan(0.5 * Math.log(15));
    trainer.dispose();
  });

  it('applies one real update, counted as a step, that lowers L on the same views', async () => {
    const trainer = new Trainer(toyDataset(64, 16), config);
    await trainer.trainStep();
    const weightsBefore = Float32Array.from(await trainer.model.trainableVariables[0].data());
    for (let k = 0; k < 3; k++) {
      const r = await runWalkthrough(trainer, trainer.dataset, config, 6, createRng(10 + k));
      expect(r.step).toBe(2 + k);
      expect(r.metrics.step).toBe(2 + k);
      expect(trainer.step).toBe(2 + k);
      expect(Number.isFinite(r.lossAfter)).toBe(true);
      expect(r.lossAfter).toBeLessThan(r.lossBefore);
      expect(r.gradientNorm).toBeGreaterThan(0);
    }
    expect(Array.from(await trainer.model.trainableVariables[0].data())).not.toEqual(Array.from(weightsBefore));
    // training carries on from the walkthrough's step
    expect((await trainer.trainStep()).step).toBe(5);
    trainer.dispose();
  });

  it('leaks no tensors', async () => {
    const trainer = new Trainer(toyDataset(64, 16), config);
    await trainer.trainStep(); // Adam makes its moment variables on the first update
    const before = tf.memory().numTensors;
    await runWalkthrough(trainer, trainer.dataset, config, 4, createRng(1));
    await runWalkthrough(trainer, trainer.dataset, config, 8, createRng(2));
    expect(tf.memory().numTensors).toBe(before);
    trainer.dispose();
  });

  it('moves batch-norm running statistics as one training step does, not once more for L after', async () => {
    const statistics = (t: Trainer) => {
      const prefix = t.model.trainableVariables[0].name.split('/')[0];
      return Object.values(tf.engine().registeredVariables)
        .filter((v) => !v.trainable && v.name.startsWith(`${prefix}/`))
        .flatMap((v) => Array.from(v.dataSync()));
    };
    const a = new Trainer(toyDataset(64, 16), config);
    const initial = statistics(a);
    const r = await runWalkthrough(a, a.dataset, config, 4, createRng(1));
    const walked = statistics(a);
    expect(walked).not.toEqual(initial);
    // the same views through one training-mode pass of an identical fresh encoder
    const b = new Trainer(toyDataset(64, 16), config);
    tf.tidy(() => b.model.encode(tf.tensor4d(r.views, [8, SIZE, SIZE, 1]), true));
    const once = statistics(b);
    expect(walked).toHaveLength(once.length);
    walked.forEach((v, k) => expect(v).toBeCloseTo(once[k], 5));
    a.dispose();
    b.dispose();
  });

  it('clamps N to 4…8', async () => {
    const trainer = new Trainer(toyDataset(64, 16), config);
    expect((await runWalkthrough(trainer, trainer.dataset, config, 2, createRng(1))).n).toBe(4);
    expect((await runWalkthrough(trainer, trainer.dataset, config, 64, createRng(1))).n).toBe(8);
    trainer.dispose();
  });

  it('refuses, without updating or leaking, when L is not finite', async () => {
    const bad = { ...config, normalize: false, temperature: 1e-38 };
    const trainer = new Trainer(toyDataset(64, 16), bad);
    const weights = Float32Array.from(await trainer.model.trainableVariables[0].data());
    const before = tf.memory().numTensors;
    await expect(runWalkthrough(trainer, trainer.dataset, bad, 6, createRng(1))).rejects.toThrow(/no update was applied/);
    expect(trainer.step).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    expect(Array.from(await trainer.model.trainableVariables[0].data())).toEqual(Array.from(weights));
    trainer.dispose();
  });
});

describe('anchorLosses', () => {
  it('matches ℓ(i, i ± N) worked out by hand for 2N = 4', () => {
    // s for z = (1, 0), (0, 1), (1, 0), (0, 1): positives are identical, the others orthogonal
    const s = new Float32Array([1, 0, 1, 0, 0, 1, 0, 1, 1, 0, 1, 0, 0, 1, 0, 1]);
    const tau = 0.5;
    const { loss, logDenominator } = anchorLosses(s, 4, tau);
    // anchor 0: candidates 1, 2, 3 with s = 0, 1, 0; positive 2
    const expected = -Math.log(Math.exp(1 / tau) / (Math.exp(0) + Math.exp(1 / tau) + Math.exp(0)));
    for (let i = 0; i < 4; i++) expect(loss[i]).toBeCloseTo(expected, 10);
    expect(logDenominator[0]).toBeCloseTo(Math.log(2 + Math.exp(2)), 10);
  });
});
