import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createRng } from '../core/random';
import { methodConfig } from '../methods/methodHarness.testutil';
import type { MethodWalkthrough, WalkthroughResult } from './protocol';
import { toyDataset } from './toyDataset.testutil';
import { Trainer } from './trainer';
import { runWalkthrough } from './walkthrough';

await tf.setBackend('cpu');

const QUEUE = 64;
const mocoConfig = methodConfig('moco', { queueSize: QUEUE });
const barlowConfig = methodConfig('barlow-twins');
const byolConfig = methodConfig('byol');

function own(r: WalkthroughResult): MethodWalkthrough {
  if (r.method === 'simclr') throw new Error('expected another method’s walkthrough, got SimCLR’s');
  return r;
}

/** mean over rows of −log softmax(row / τ)[0]: MoCo's InfoNCE read off [l_pos, l_neg] */
function infoNceFromLogits(matrix: Float32Array, rows: number, cols: number, tau: number): number {
  let total = 0;
  for (let i = 0; i < rows; i++) {
    const row = Array.from(matrix.subarray(i * cols, (i + 1) * cols), (v) => v / tau);
    const top = Math.max(...row);
    const logSum = top + Math.log(row.reduce((sum, v) => sum + Math.exp(v - top), 0));
    total += logSum - row[0];
  }
  return total / rows;
}

describe('runWalkthrough, MoCo v2', () => {
  it('returns [l_pos, l_neg] before the update, one real step, and the queue after it', async () => {
    const trainer = new Trainer(toyDataset(256, 64), mocoConfig);
    const r = own(await runWalkthrough(trainer, trainer.dataset, mocoConfig, 6, createRng(3), 7));
    expect(r.method).toBe('moco');
    expect(r.requestId).toBe(7);
    expect(r.n).toBe(6);
    expect(r.trainCount).toBe(256);
    expect(r.settings.queueSize).toBe(QUEUE);
    expect(r.settings.momentum).toBe(mocoConfig.momentum);
    // z: the queries, then their keys; MoCo hands out no h
    expect(r.zDim).toBe(16);
    expect(r.z).toHaveLength(12 * 16);
    expect(r.hDim).toBe(0);
    expect(r.h).toBeUndefined();

    const m = r.ownMatrix!;
    expect(m.kind).toBe('query-keys');
    expect(m.method).toBe('moco');
    expect([m.rows, m.cols, m.rowsTotal, m.columnsTotal]).toEqual([6, 1 + QUEUE, 6, 1 + QUEUE]);
    expect(m.matrix).toHaveLength(6 * (1 + QUEUE));
    expect(m.step).toBe(1);
    expect(m.temperature).toBe(mocoConfig.temperature);
    // a fresh queue: every slot still its random start; column 0 (the own key) is real
    expect(Array.from(m.unwritten)).toEqual([0, ...Array<number>(QUEUE).fill(1)]);
    // cosines, and the loss before the update is the cross-entropy of exactly these logits / τ with label 0
    for (const v of m.matrix) expect(Math.abs(v)).toBeLessThanOrEqual(1 + 1e-5);
    expect(infoNceFromLogits(m.matrix, 6, 1 + QUEUE, m.temperature)).toBeCloseTo(r.lossBefore, 4);
    // the key encoder starts as a copy of the query encoder, so even untrained the own key beats a random queue
    expect(r.lossBefore).toBeGreaterThan(0);
    expect(r.lossBefore).toBeLessThan(Math.log(1 + QUEUE));
    expect(Number.isFinite(r.lossAfter)).toBe(true);
    expect(r.gradientNorm).toBeGreaterThan(0);

    // exactly one step of the run, with the after-update numbers: N of K slots filled, the key encoder trailing
    expect(trainer.step).toBe(1);
    expect(r.step).toBe(1);
    expect(r.metrics.step).toBe(1);
    expect(r.metrics.loss).toBe(r.lossBefore);
    expect(r.metrics.values.queueFill).toBeCloseTo(6 / QUEUE, 10);
    expect(r.metrics.values.keyDrift).toBeGreaterThan(0);
    expect(r.metrics.values.keyDrift).toBeLessThan(1);

    // a second walkthrough meets the first one's keys as the queue's newest six slots
    const again = own(await runWalkthrough(trainer, trainer.dataset, mocoConfig, 4, createRng(4)));
    expect(trainer.step).toBe(2);
    expect(again.metrics.values.queueFill).toBeCloseTo(10 / QUEUE, 10);
    expect(Array.from(again.ownMatrix!.unwritten.subarray(0, 8))).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    expect(again.ownMatrix!.rows).toBe(4);
    trainer.dispose();
  });

  it('names the InfoNCE loss, applies nothing and leaks nothing when L is not finite', async () => {
    const trainer = new Trainer(toyDataset(256, 64), mocoConfig);
    // a diverged encoder: its first layer's weights are NaN
    const [first] = trainer.model.trainableVariables;
    first.assign(tf.fill(first.shape, Number.NaN));
    const last = trainer.model.trainableVariables.at(-1)!;
    const weights = Float32Array.from(await last.data());
    const before = tf.memory().numTensors;
    const error = await runWalkthrough(trainer, trainer.dataset, mocoConfig, 6, createRng(1)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/^The InfoNCE loss of this batch is not finite \(MoCo v2, τ = 0\.2\), so no update was applied\. Lower the learning rate or raise τ, then press Reset\.$/);
    expect((error as Error).message).not.toMatch(/NT-Xent/);
    expect(trainer.step).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    expect(Array.from(await last.data())).toEqual(Array.from(weights));
    trainer.dispose();
  });
});

describe('runWalkthrough, Barlow Twins', () => {
  it('returns C, whose terms are the loss before the update', async () => {
    const trainer = new Trainer(toyDataset(256, 64), barlowConfig);
    const r = own(await runWalkthrough(trainer, trainer.dataset, barlowConfig, 8, createRng(5)));
    const d = 16;
    const m = r.ownMatrix!;
    expect(m.kind).toBe('cross-correlation');
    expect([m.rows, m.cols, m.rowsTotal, m.columnsTotal]).toEqual([d, d, d, d]);
    expect(Array.from(m.unwritten)).toEqual(Array<number>(d).fill(0));
    let on = 0;
    let off = 0;
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        const c = m.matrix[i * d + j];
        expect(Math.abs(c)).toBeLessThanOrEqual(1 + 1e-4);
        if (i === j) on += (1 - c) ** 2;
        else off += c ** 2;
      }
    }
    expect(r.metrics.values.onDiagonal).toBeCloseTo(on, 3);
    expect(r.metrics.values.offDiagonal).toBeCloseTo(off, 3);
    expect(on + barlowConfig.barlowLambda * off).toBeCloseTo(r.lossBefore, 3);
    expect(Number.isFinite(r.lossAfter)).toBe(true);
    expect(r.lossAfter).toBeLessThan(r.lossBefore);
    // one step; nothing is updated after it, so no after-update numbers
    expect(trainer.step).toBe(1);
    expect(r.step).toBe(1);
    expect(Object.keys(r.metrics.values).sort()).toEqual(['offDiagonal', 'onDiagonal']);
    trainer.dispose();
  });
});

describe('runWalkthrough, BYOL', () => {
  it('returns predictions against targets, L = 2 − 2·mean cos, and the target’s drift after the update', async () => {
    const trainer = new Trainer(toyDataset(256, 64), byolConfig);
    const r = own(await runWalkthrough(trainer, trainer.dataset, byolConfig, 6, createRng(6)));
    const m = r.ownMatrix!;
    expect(m.kind).toBe('prediction-target');
    expect([m.rows, m.cols, m.rowsTotal, m.columnsTotal]).toEqual([6, 6, 6, 6]);
    expect(r.lossBefore).toBeCloseTo(2 - 2 * r.metrics.values.predictionCosine, 4);
    expect(Number.isFinite(r.lossAfter)).toBe(true);
    expect(trainer.step).toBe(1);
    // ξ ← m·ξ + (1 − m)·θ after one update: the target trails by a little, not by nothing
    expect(r.metrics.values.targetDrift).toBeGreaterThan(0);
    expect(r.metrics.values.targetDrift).toBeLessThan(0.1);
    trainer.dispose();
  });
});

describe('runWalkthrough of the other methods', () => {
  it('leaks no tensors', async () => {
    for (const config of [mocoConfig, barlowConfig, byolConfig, methodConfig('memory-bank'), methodConfig('simsiam')]) {
      const trainer = new Trainer(toyDataset(256, 64), config);
      await trainer.trainStep(); // Adam makes its moment variables on the first update
      const before = tf.memory().numTensors;
      const r = await runWalkthrough(trainer, trainer.dataset, config, 6, createRng(2));
      await runWalkthrough(trainer, trainer.dataset, config, 8, createRng(3));
      expect(tf.memory().numTensors, config.method).toBe(before);
      expect(r.method).toBe(config.method);
      expect(trainer.step).toBe(3);
      trainer.dispose();
    }
  });
});
