import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { toyDataset } from '../train/toyDataset.testutil';
import { Trainer } from '../train/trainer';
import { checkMethodBasics, checkResumesExactly, expectRefusedUnchanged, methodConfig, stateAfter, trainSteps } from './methodHarness.testutil';

await tf.setBackend('cpu');

describe('Barlow Twins through the training loop', () => {
  it('trains with a finite, falling loss whose invariance term starts near d, leaks nothing, repeats for one seed', async () => {
    const config = methodConfig('barlow-twins', { barlowLambda: 1 / 16 });
    const steps = await checkMethodBasics(config);
    for (const m of steps) {
      expect(m.loss).toBeCloseTo(m.values.onDiagonal + config.barlowLambda * m.values.offDiagonal, 2);
      expect(m.values.onDiagonal).toBeGreaterThanOrEqual(0);
      expect(m.values.onDiagonal).toBeLessThanOrEqual(4 * 16);
    }
  });
});

describe('memory bank (InstDisc) through the training loop', () => {
  it('trains with a finite, falling loss, leaks nothing and repeats for one seed', async () => {
    await checkMethodBasics(methodConfig('memory-bank'));
  });

  it('starts near log n, visits N new entries a step and reports how stale the bank is', async () => {
    // at τ = 1 the logits of random unit vectors in 16-d spread by only ~1/√16, so L ≈ log n = log 64 ≈ 4.16
    // (at τ = 0.07 they spread by ~3.6 and L starts well above log n)
    const trainer = new Trainer(toyDataset(64, 16), methodConfig('memory-bank', { temperature: 1 }));
    const steps = await trainSteps(trainer, 5);
    expect(Math.abs(steps[0].loss - Math.log(64))).toBeLessThan(0.3);
    // a seeded shuffle of 64 images in batches of 16: every entry written by step 4, then the next epoch rewrites
    expect(steps.map((m) => m.values.bankWritten)).toEqual([0.25, 0.5, 0.75, 1, 1]);
    // after step 4 the entries are 3, 2, 1, 0 steps old: mean 1.5; step 5 rewrites 16 of them
    expect(steps[3].values.bankStaleness).toBeCloseTo(1.5, 6);
    expect(steps[0].values.positiveRank).toBeGreaterThanOrEqual(0);
    expect(steps[0].values.positiveRank).toBeLessThan(64);
    expect(trainer.method.extraBytes()).toBe(64 * 16 * 4);
    trainer.dispose();
  });

  it('moves only the written entries, to unit length', async () => {
    const trainer = new Trainer(toyDataset(64, 16), methodConfig('memory-bank', { bankMomentum: 0.5 }));
    await trainSteps(trainer, 1);
    // the bank is the method's only variable of its own: read it through extraBytes' variable count and norms
    const bank = tf.engine().state.registeredVariables;
    const rows = Object.values(bank).find((v) => v.shape[0] === 64 && v.shape[1] === 16 && !v.trainable)!;
    const norms = tf.tidy(() => tf.norm(rows, 2, 1).dataSync());
    for (const n of norms) expect(n).toBeCloseTo(1, 4);
    trainer.dispose();
  });
});


describe('Barlow Twins resuming from a checkpoint', () => {
  it('keeps nothing of its own: f and g resume from the trainer’s variables, across an epoch’s end', async () => {
    const config = methodConfig('barlow-twins', { barlowLambda: 1 / 16 });
    expect(await stateAfter(config, 1)).toEqual({ arrays: {}, values: {} });
    // 48 images in batches of 16: the epoch ends after step 3, so the resumed run reshuffles as the straight one did
    await checkResumesExactly(config, { before: 2, after: 3, dataset: toyDataset(48, 16) });
  }, 20_000);

  it('refuses another method’s state, naming its entry, and changes nothing', async () => {
    await expectRefusedUnchanged(methodConfig('barlow-twins'), await stateAfter(methodConfig('byol'), 1), /holds “target\.0”, which Barlow Twins does not keep/);
  }, 20_000);
});

describe('memory bank (InstDisc) resuming from a checkpoint', () => {
  it('resumes exactly across the step that has visited every entry, with its staleness', async () => {
    // 64 images in batches of 16: the checkpoint after step 2 has written half the bank; step 4 writes the last
    // quarter and step 5 starts rewriting, so a resumed run that lost the bank, the write steps or the step count
    // scores against other entries or reports another fill and staleness
    const dataset = toyDataset(64, 16);
    const { resumed } = await checkResumesExactly(methodConfig('memory-bank', { temperature: 1 }), { before: 2, after: 4, dataset });
    expect(resumed.map((m) => m.values.bankWritten)).toEqual([0.75, 1, 1, 1]);
    // after step 4 the entries are 3, 2, 1, 0 steps old
    expect(resumed[1].values.bankStaleness).toBeCloseTo(1.5, 6);
  }, 20_000);

  it('refuses another method’s state, a bank of another dataset and write steps past its step, naming the entry, and changes nothing', async () => {
    const config = methodConfig('memory-bank');
    await expectRefusedUnchanged(config, await stateAfter(methodConfig('moco', { queueSize: 40 }), 1), /lacks InstDisc’s “bank”/);
    const smaller = await stateAfter(config, 2, toyDataset(64, 16));
    await expectRefusedUnchanged(config, smaller, /InstDisc’s “bank” in the checkpoint is \[64, 16\], not \[128, 16\]/);
    // a trained bank that fits, then write steps after the saved step: the bank must not be written either
    const saved = await stateAfter(config, 2);
    const writtenAt = { ...saved.arrays.writtenAt, data: (saved.arrays.writtenAt.data as Int32Array).map((at) => (at < 0 ? at : at + 5)) };
    await expectRefusedUnchanged(config, { ...saved, arrays: { ...saved.arrays, writtenAt } }, /InstDisc’s “writtenAt” in the checkpoint holds steps outside −1…2/);
  }, 20_000);
});
