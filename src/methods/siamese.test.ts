import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { toyDataset } from '../train/toyDataset.testutil';
import { Trainer } from '../train/trainer';
import { checkMethodBasics, checkResumesExactly, expectRefusedUnchanged, methodConfig, stateAfter, trainSteps } from './methodHarness.testutil';
import { stopGradient } from './siamese';

await tf.setBackend('cpu');

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('stopGradient', () => {
  it('passes values through and no gradient back', () => {
    const x = tf.tensor1d([1, -2, 3]);
    const grad = tf.grad((t: tf.Tensor) => tf.add(tf.sum(tf.square(stopGradient(t))), tf.sum(t)))(x);
    // only the term outside sg contributes: d/dx Σx = 1
    expect(Array.from(grad.dataSync())).toEqual([1, 1, 1]);
    expect(Array.from(tf.tidy(() => stopGradient(x)).dataSync())).toEqual([1, -2, 3]);
    tf.dispose([x, grad]);
  });
});

describe('BYOL through the training loop', () => {
  it('trains with a finite, falling loss, leaks nothing and repeats for one seed', async () => {
    const steps = await checkMethodBasics(methodConfig('byol', { momentum: 0.9 }));
    for (const m of steps) {
      expect(m.loss).toBeGreaterThanOrEqual(0);
      expect(m.loss).toBeLessThanOrEqual(4);
      expect(m.loss).toBeCloseTo(2 - 2 * m.values.predictionCosine, 4);
      expect(m.values.targetDrift).toBeGreaterThan(0);
    }
  });
});

describe('SimSiam through the training loop', () => {
  it('trains with a finite, falling loss, leaks nothing and repeats for one seed', async () => {
    const steps = await checkMethodBasics(methodConfig('simsiam'));
    for (const m of steps) {
      expect(m.loss).toBeGreaterThanOrEqual(-1 - 1e-5);
      expect(m.loss).toBeLessThanOrEqual(1 + 1e-5);
    }
  });

  it('collapses without the stop-gradient: loss at −1 and the collapse meter near 0, where the default stays spread', async () => {
    const dataset = toyDataset(256, 64);
    const run = async (stop: boolean) => {
      const trainer = new Trainer(dataset, methodConfig('simsiam', { stopGradient: stop, learningRate: 0.01 }));
      const steps = await trainSteps(trainer, 30);
      trainer.dispose();
      return steps.slice(-5);
    };
    const collapsed = await run(false);
    const healthy = await run(true);
    // 1/√d = 0.25 at d = 16 is a spread embedding, 0 a collapsed one (every row at one point); the untrained
    // encoder reads about 0.1 here and the default run about 0.15, so a fifth of 1/√d separates the two
    const collapseThreshold = 0.25 / 5;
    expect(mean(collapsed.map((m) => m.collapseStd))).toBeLessThan(collapseThreshold);
    expect(mean(collapsed.map((m) => m.loss))).toBeLessThan(-0.99);
    expect(mean(healthy.map((m) => m.collapseStd))).toBeGreaterThan(collapseThreshold);
  });
});


describe('BYOL resuming from a checkpoint', () => {
  it('resumes exactly through the target’s moving-average updates', async () => {
    // m = 0.9: the target moves a tenth of the way each step, so a resumed run with the target of another step,
    // or a fresh copy of the online network, predicts towards other z′ and drifts by other amounts
    const { resumed } = await checkResumesExactly(methodConfig('byol', { momentum: 0.9 }), { before: 2, after: 3 });
    for (const m of resumed) expect(m.values.targetDrift).toBeGreaterThan(0);
  }, 20_000);

  it('refuses another method’s state and a target of another architecture, naming the entry, and changes nothing', async () => {
    const config = methodConfig('byol', { momentum: 0.9 });
    await expectRefusedUnchanged(config, await stateAfter(methodConfig('moco', { queueSize: 40 }), 1), /lacks BYOL’s “target\.0”/);
    // z of 8 dimensions: f's 12 variables and g's first layer fit and must not be written; g's last layer does not
    const narrower = await stateAfter(methodConfig('byol', { momentum: 0.9, projectionDim: 8 }), 2);
    await expectRefusedUnchanged(config, narrower, /BYOL’s “target\.14” in the checkpoint is \[32, 8\], not \[32, 16\]/);
  }, 20_000);
});

describe('SimSiam resuming from a checkpoint', () => {
  it('keeps nothing of its own: f, g and q (batch norm included) resume from the trainer’s variables, across an epoch’s end', async () => {
    const config = methodConfig('simsiam');
    expect(await stateAfter(config, 1)).toEqual({ arrays: {}, values: {} });
    // 48 images in batches of 16: the epoch ends after step 3, so the resumed run reshuffles as the straight one did
    await checkResumesExactly(config, { before: 2, after: 3, dataset: toyDataset(48, 16) });
  }, 20_000);

  it('refuses another method’s state, naming its entry, and changes nothing', async () => {
    await expectRefusedUnchanged(methodConfig('simsiam'), await stateAfter(methodConfig('byol'), 1), /holds “target\.0”, which SimSiam does not keep/);
  }, 20_000);
});
