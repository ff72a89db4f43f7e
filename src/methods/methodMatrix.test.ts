/**
 * The heatmap's matrices of the methods that have their own (MoCo's logits,
 * the memory bank's batch-against-bank cosines, Barlow Twins' C), taken from
 * a real captured step and checked against the step's own metrics.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { METHOD_MATRIX_MAX_SIDE } from '../core/methods';
import { toyDataset } from '../train/toyDataset.testutil';
import { Trainer } from '../train/trainer';
import type { MethodMatrixSnapshot, StepMetrics } from '../train/protocol';
import { methodConfig } from './methodHarness.testutil';

await tf.setBackend('cpu');

const mean = (xs: ArrayLike<number>) => Array.from(xs).reduce((a, b) => a + b, 0) / xs.length;
const column = (s: MethodMatrixSnapshot, j: number) => Array.from({ length: s.rows }, (_, i) => s.matrix[i * s.cols + j]);

/** One captured step: its metrics and the method's matrix; the trainer holds no tensor more than before. */
async function capturedStep(trainer: Trainer): Promise<{ metrics: StepMetrics; snapshot: MethodMatrixSnapshot | null }> {
  trainer.captureAffinity = true;
  const metrics = await trainer.trainStep();
  const snapshot = trainer.methodMatrix;
  trainer.methodMatrix = null;
  return { metrics, snapshot };
}

describe("a method's own matrix for the heatmap", () => {
  it('MoCo: queries against their key (column 0) and the newest queue keys, the logits of its Algorithm 1 before /τ', async () => {
    const config = methodConfig('moco', { queueSize: 40 });
    const trainer = new Trainer(toyDataset(64, 16), config);
    const first = await capturedStep(trainer);
    const s = first.snapshot!;
    expect(s.kind).toBe('query-keys');
    expect([s.rows, s.cols, s.rowsTotal, s.columnsTotal]).toEqual([16, 41, 16, 41]);
    // column 0 is l_pos, the rest l_neg: their means ×1/τ are the step's logit metrics
    expect(mean(column(s, 0)) / config.temperature).toBeCloseTo(first.metrics.values.positiveLogit, 4);
    const queueColumns = Array.from({ length: 40 }, (_, j) => column(s, j + 1)).flat();
    expect(mean(queueColumns) / config.temperature).toBeCloseTo(first.metrics.values.negativeLogit, 4);
    for (const v of s.matrix) expect(Math.abs(v)).toBeLessThanOrEqual(1 + 1e-5);
    // before any key is enqueued the whole queue is its random start
    expect(Array.from(s.unwritten)).toEqual([0, ...Array(40).fill(1)]);

    await trainer.trainStep();
    const third = (await capturedStep(trainer)).snapshot!;
    // two batches of 16 keys enqueued: the 32 newest slots are real keys, the 8 oldest still random
    expect(Array.from(third.unwritten)).toEqual([0, ...Array(32).fill(0), ...Array(8).fill(1)]);
    trainer.dispose();
  });

  it('MoCo shows at most the newest keys that fit, and says how many there are', async () => {
    const trainer = new Trainer(toyDataset(256, 16), methodConfig('moco', { queueSize: 200 }));
    const s = (await capturedStep(trainer)).snapshot!;
    expect(s.cols).toBe(METHOD_MATRIX_MAX_SIDE);
    expect(s.columnsTotal).toBe(201);
    trainer.dispose();
  });

  it('memory bank: both views of the batch against the batch’s bank rows, with never-written rows flagged', async () => {
    const config = methodConfig('memory-bank');
    const trainer = new Trainer(toyDataset(32, 16), config);
    const first = await capturedStep(trainer);
    const s = first.snapshot!;
    expect(s.kind).toBe('batch-bank');
    expect([s.rows, s.cols, s.rowsTotal, s.columnsTotal]).toEqual([32, 16, 32, 16]);
    // the positives sit at column r mod N: their mean is the step's positive similarity
    const positives = Array.from({ length: 32 }, (_, r) => s.matrix[r * 16 + (r % 16)]);
    expect(mean(positives)).toBeCloseTo(first.metrics.values.positiveSimilarity, 4);
    expect(Array.from(s.unwritten)).toEqual(Array(16).fill(1));
    // 32 images, N 16: after two steps every image has been written once
    await trainer.trainStep();
    const later = (await capturedStep(trainer)).snapshot!;
    expect(Array.from(later.unwritten)).toEqual(Array(16).fill(0));
    trainer.dispose();
  });

  it('Barlow Twins: C, whose diagonal gives the invariance term Σ(1 − C_ii)²', async () => {
    const config = methodConfig('barlow-twins');
    const trainer = new Trainer(toyDataset(64, 16), config);
    const { metrics, snapshot } = await capturedStep(trainer);
    const s = snapshot!;
    expect(s.kind).toBe('cross-correlation');
    expect([s.rows, s.cols]).toEqual([16, 16]);
    let invariance = 0;
    for (let i = 0; i < 16; i++) invariance += (1 - s.matrix[i * 16 + i]) ** 2;
    expect(invariance).toBeCloseTo(metrics.values.onDiagonal, 3);
    trainer.dispose();
  });

  it('BYOL and SimSiam: the first views’ predictions against the second views’ targets, N × N', async () => {
    for (const method of ['byol', 'simsiam'] as const) {
      const trainer = new Trainer(toyDataset(64, 16), methodConfig(method));
      const s = (await capturedStep(trainer)).snapshot!;
      expect(s.kind, method).toBe('prediction-target');
      expect([s.rows, s.cols, s.rowsTotal, s.columnsTotal]).toEqual([16, 16, 16, 16]);
      for (const v of s.matrix) expect(Math.abs(v)).toBeLessThanOrEqual(1 + 1e-5);
      trainer.dispose();
    }
  });

  it('SimCLR sends its 2N×2N matrix to the affinity heatmap, the others their own; no capture leaks a tensor', async () => {
    for (const method of ['simclr', 'byol', 'simsiam', 'moco', 'memory-bank', 'barlow-twins'] as const) {
      const trainer = new Trainer(toyDataset(64, 16), methodConfig(method));
      await trainer.trainStep();
      const before = tf.memory().numTensors;
      const { snapshot } = await capturedStep(trainer);
      expect(tf.memory().numTensors, method).toBe(before);
      if (method === 'simclr') expect(snapshot, method).toBeNull();
      else expect(snapshot?.method, method).toBe(method);
      expect(trainer.affinity !== null, method).toBe(method === 'simclr');
      trainer.dispose();
    }
  });
});
