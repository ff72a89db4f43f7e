import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import type { ExperimentConfig } from '../core/config';
import { SIZE, TOY_CONFIG, toyDataset } from './toyDataset.testutil';
import { NonFiniteLossError, Trainer } from './trainer';

await tf.setBackend('cpu');

const tinyConfig: ExperimentConfig = {
  ...TOY_CONFIG,
  learningRate: 0.01,
  probeTrainSize: 200,
  probeTestSize: 200,
  probeEpochs: 100,
};

describe('Trainer', () => {
  it('lowers the NT-Xent loss over 40 steps and reports sane metrics', async () => {
    const trainer = new Trainer(toyDataset(256, 64), tinyConfig);
    const losses: number[] = [];
    for (let i = 0; i < 40; i++) {
      const m = await trainer.trainStep();
      losses.push(m.loss);
      expect(m.step).toBe(i + 1);
      expect(m.values.contrastiveAccuracy).toBeGreaterThanOrEqual(0);
      expect(m.values.contrastiveAccuracy).toBeLessThanOrEqual(1);
      expect(Math.abs(m.values.positiveSimilarity)).toBeLessThanOrEqual(1 + 1e-5);
      expect(m.imagesPerSecond).toBeGreaterThan(0);
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    // the loss starts near log(2N−1) = log 31 ≈ 3.43 and must fall clearly
    expect(losses[0]).toBeGreaterThan(2.5);
    expect(mean(losses.slice(-10))).toBeLessThan(mean(losses.slice(0, 10)) - 0.3);
    trainer.dispose();
  });

  it('leaks no tensors per training step', async () => {
    const trainer = new Trainer(toyDataset(64, 16), tinyConfig);
    await trainer.trainStep(); // Adam creates its moment variables on the first step
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) {
      trainer.captureAffinity = i % 2 === 0; // the heatmap's snapshot must not leak either
      await trainer.trainStep();
    }
    expect(tf.memory().numTensors).toBe(before);
    await trainer.probe('encoder');
    expect(tf.memory().numTensors).toBe(before);
    const all = tf.memory().numTensors;
    trainer.dispose();
    expect(tf.memory().numTensors).toBeLessThan(all);
  });

  it('counts the same live tensors on a step that captures a task\'s instrument as on one that does not', async () => {
    // rotation's and CPC's capture slots hold the instrument's tensors until the snapshot reads them: not the step's
    for (const method of ['rotation', 'cpc'] as const) {
      const trainer = new Trainer(toyDataset(64, 16), { ...tinyConfig, method, imageSize: 12 });
      await trainer.trainStep();
      const counts: number[] = [];
      for (let i = 0; i < 4; i++) {
        trainer.captureAffinity = i % 2 === 0;
        counts.push((await trainer.trainStep()).tensors);
      }
      expect(trainer.taskSnapshot, method).not.toBeNull();
      expect(new Set(counts).size, `${method}: ${counts}`).toBe(1);
      trainer.dispose();
    }
  });

  it('snapshots the step\'s 2N×2N affinity matrix for the heatmap when asked', async () => {
    const trainer = new Trainer(toyDataset(64, 16), { ...tinyConfig, batchSize: 8 });
    await trainer.trainStep();
    expect(trainer.affinity).toBeNull();
    trainer.captureAffinity = true;
    const metrics = await trainer.trainStep();
    const snapshot = trainer.affinity!;
    expect(snapshot.step).toBe(metrics.step);
    expect(snapshot.twoN).toBe(16);
    expect(snapshot.size).toBe(16);
    expect(snapshot.matrix).toHaveLength(256);
    // cosine similarities: symmetric, 1 on the diagonal, the positives' mean is the step's positive similarity
    let positives = 0;
    for (let i = 0; i < 16; i++) {
      expect(snapshot.matrix[i * 16 + i]).toBeCloseTo(1, 4);
      positives += snapshot.matrix[i * 16 + ((i + 8) % 16)];
      for (let j = 0; j < 16; j++) expect(snapshot.matrix[i * 16 + j]).toBeCloseTo(snapshot.matrix[j * 16 + i], 5);
    }
    expect(positives / 16).toBeCloseTo(metrics.values.positiveSimilarity, 4);
    expect(snapshot.views).toHaveLength(16 * SIZE * SIZE);
    expect(trainer.captureAffinity).toBe(false);
    trainer.dispose();
  });

  it('is reproducible from its seed', async () => {
    const run = async () => {
      const trainer = new Trainer(toyDataset(64, 16), tinyConfig);
      const losses = [(await trainer.trainStep()).loss, (await trainer.trainStep()).loss];
      trainer.dispose();
      return losses;
    };
    expect(await run()).toEqual(await run());
  });

  it('probes the random-init encoder and raw pixels well above chance on separable classes', async () => {
    const trainer = new Trainer(toyDataset(64, 16), tinyConfig);
    const baseline = await trainer.probe('random-init');
    const pixels = await trainer.probe('raw-pixels');
    expect(baseline.kind).toBe('random-init');
    expect(baseline.step).toBe(0);
    expect(baseline.trainSize).toBe(64);
    expect(baseline.testSize).toBe(16);
    expect(pixels.testAccuracy).toBeGreaterThan(0.6);
    expect(baseline.testAccuracy).toBeGreaterThan(0.4); // chance is 0.25
    trainer.dispose();
  });

  it('fits the probe on the dataset\'s own probe set when it has one', async () => {
    const dataset = toyDataset(64, 16);
    // training images all labelled 0: a probe fitted on them could not tell the classes apart
    const unhelpful = { ...dataset.train, labels: new Int32Array(64) };
    const probeTrain = toyDataset(40, 1, 9).train;
    const trainer = new Trainer({ ...dataset, train: unhelpful, probeTrain }, tinyConfig);
    const pixels = await trainer.probe('raw-pixels');
    expect(pixels.trainSize).toBe(40);
    expect(pixels.testAccuracy).toBeGreaterThan(0.6);
    trainer.dispose();
  });

  it('stops with an explanation, without updating the weights, when the loss is not finite', async () => {
    // τ so small that s/τ overflows float32 without normalization
    const trainer = new Trainer(toyDataset(64, 16), { ...tinyConfig, normalize: false, temperature: 1e-38 });
    const before = await trainer.model.trainableVariables[0].data();
    await expect(trainer.trainStep()).rejects.toThrow(NonFiniteLossError);
    await expect(trainer.trainStep()).rejects.toThrow(/normalization/);
    expect(await trainer.model.trainableVariables[0].data()).toEqual(before);
    expect(trainer.step).toBe(0);
    trainer.dispose();
  });

  it('applies a new learning rate and temperature from the next step', async () => {
    const trainer = new Trainer(toyDataset(64, 16), tinyConfig);
    await trainer.trainStep();
    trainer.configure({ ...tinyConfig, batchSize: 8, temperature: 0.1 });
    const m = await trainer.trainStep();
    expect(m.batchSize).toBe(8);
    trainer.dispose();
  });
});
