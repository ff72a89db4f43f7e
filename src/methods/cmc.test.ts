import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import type { ExperimentConfig } from '../core/config';
import { lossReference, methodUnfitReason, METHOD_SETTING_DEFAULTS } from '../core/methods';
import { presetPipeline } from '../core/pipeline';
import { createRng } from '../core/random';
import { EncoderNetwork } from '../model/encoderNetwork';
import { SIZE, toyDataset } from '../train/toyDataset.testutil';
import { Trainer } from '../train/trainer';
import { CMC_SHOWN_LIGHTNESS, cmc, cmcViews, columnPicks, rowPicks } from './cmc';
import { labToRgb, lightnessInput, rgbToLab, rgbToLabArray } from './lab';
import type { MethodState, SslMethod } from './method';
import { checkMethodBasics, checkResumesExactly, methodConfig, trainSteps } from './methodHarness.testutil';
import { decodeCheckpointFile, EMPTY_HISTORY, encodeCheckpointFile } from '../train/checkpoint';

await tf.setBackend('cpu');

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const colourToy = (trainCount: number, testCount: number) => toyDataset(trainCount, testCount, 7, true);

/** Crops and flips: the grayscale augmentation would empty the ab view (see the catalog's about). */
const cmcConfig = (overrides: Partial<ExperimentConfig> = {}) => methodConfig('cmc', { augmentation: presetPipeline('crop-flip'), ...overrides });

const methodOf = (trainer: Trainer) => (trainer as unknown as { method: SslMethod }).method;

describe('CMC views', () => {
  it('splits a colour view into L / 100 and ab / 110 that reassemble its Lab image, and the image itself', () => {
    const rng = createRng(3);
    const values = Float32Array.from({ length: 3 * 5 * 5 * 3 }, () => rng());
    const views = tf.tensor4d(values, [3, 5, 5, 3]);
    const { lightness, ab } = cmcViews(views);
    expect(lightness.shape).toEqual([3, 5, 5, 1]);
    expect(ab.shape).toEqual([3, 5, 5, 2]);
    tf.tidy(() => {
      const lab = tf.concat([tf.mul(lightness, 100), tf.mul(ab, 110)], 3) as tf.Tensor4D;
      // the same numbers as the Lab conversion, channel for channel
      const direct = rgbToLab(views).dataSync();
      Array.from(lab.dataSync()).forEach((v, k) => expect(Math.abs(v - direct[k])).toBeLessThan(1e-4));
      // and as the float64 reference
      const reference = rgbToLabArray(values);
      Array.from(lab.dataSync()).forEach((v, k) => expect(Math.abs(v - reference[k])).toBeLessThan(2e-3));
      // back to sRGB: the view again
      Array.from(labToRgb(lab).dataSync()).forEach((v, k) => expect(Math.abs(v - values[k])).toBeLessThan(1e-4));
      // f's view is colorization's: the lightness input the probes read too
      expect(Array.from(lightness.dataSync())).toEqual(Array.from(lightnessInput(views).dataSync()));
    });
    // grey pixels carry no colour: ab = 0
    const grey = tf.fill([1, 2, 2, 3], 0.4) as tf.Tensor4D;
    const split = cmcViews(grey);
    expect(Array.from(split.ab.dataSync()).every((v) => Math.abs(v) < 1e-5)).toBe(true);
    tf.dispose([views, lightness, ab, grey, split.lightness, split.ab]);
  });

  it('reads the picks of a similarity matrix by row and by column, the first on a tie', () => {
    // rows: 0 picks 0, 1 picks 0 (a tie between 0 and 2 goes to 0), 2 picks 1; columns: 0 ← 1, 1 ← 2, 2 ← 1
    const matrix = [0.9, 0.1, 0.2, 0.95, 0.3, 0.95, 0.0, 0.8, 0.1];
    expect(rowPicks(matrix, 3)).toEqual([0, 0, 1]);
    expect(columnPicks(matrix, 3)).toEqual([1, 2, 1]);
  });
});

describe('CMC fit rule and catalog', () => {
  const settings = { ...METHOD_SETTING_DEFAULTS, batchSize: 16, imageSize: 12 };

  it('refuses a greyscale dataset in a sentence, fits a colour one; the method will not build on grey views', () => {
    const grey = { name: 'Fashion-MNIST (12k)', channels: 1 as const, imageSize: 28, trainCount: 12000 };
    expect(methodUnfitReason('cmc', grey, settings)).toBe('CMC needs colour images: Fashion-MNIST (12k) is greyscale, so it cannot be split into a lightness view and a colour view.');
    expect(methodUnfitReason('cmc', { ...grey, channels: 3 }, settings)).toBeNull();
    expect(() => new Trainer(toyDataset(16, 4), cmcConfig())).toThrow(/CMC needs colour images: this dataset is greyscale/);
    // refused before the method makes anything: no second encoder is left behind
    const config = cmcConfig();
    const network = new EncoderNetwork(Trainer.modelConfig(toyDataset(4, 1), config));
    const trainImages = tf.zeros([4, SIZE, SIZE, 1]) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    expect(() => cmc.create({ network, config, trainCount: 4, channels: 1, trainImages })).toThrow(/needs colour images/);
    expect(tf.memory().numTensors).toBe(before);
    network.dispose();
    trainImages.dispose();
  });

  it('draws the chance line log N', () => {
    expect(lossReference('cmc', { batchSize: 16, queueSize: 1, projectionDim: 16 }, 256)).toEqual({ value: Math.log(16), label: 'log N = 2.77' });
    expect(lossReference('cmc', { batchSize: 256, queueSize: 1, projectionDim: 16 }, 256)?.value).toBeCloseTo(Math.log(256), 12);
  });
});

describe('CMC through the training loop', () => {
  it('trains with a finite, falling loss, leaks nothing, repeats for one seed; cross-view accuracies climb above chance', async () => {
    const steps = await checkMethodBasics(cmcConfig(), 0, colourToy(256, 64));
    for (const m of steps) {
      for (const key of ['lightnessToAbAccuracy', 'abToLightnessAccuracy']) {
        expect(m.values[key]).toBeGreaterThanOrEqual(0);
        expect(m.values[key]).toBeLessThanOrEqual(1);
        // a share of the 16 images
        expect(Math.abs(m.values[key] * 16 - Math.round(m.values[key] * 16))).toBeLessThan(1e-5);
      }
      // two views of each image: alignment pairs an image's L and ab embeddings
      expect(Number.isFinite(m.alignment)).toBe(true);
    }
    const late = steps.slice(-5);
    expect(mean(late.map((m) => m.values.lightnessToAbAccuracy))).toBeGreaterThan(2 / 16);
    expect(mean(late.map((m) => m.values.abToLightnessAccuracy))).toBeGreaterThan(2 / 16);
    expect(mean(late.map((m) => m.loss))).toBeLessThan(Math.log(16));
  });

  it('trains a second encoder of f’s shape on ab, from its own seed, counted beyond f and freed with the run', async () => {
    const before = tf.memory().numTensors;
    const config = cmcConfig();
    const trainer = new Trainer(colourToy(32, 8), config);
    const method = methodOf(trainer);
    const f = trainer.model;
    // f and g, then the ab encoder's conv blocks and head: the same count, 2 input channels for 1
    const own = method.trainableVariables.slice(f.trainableVariables.length);
    expect(method.trainableVariables.slice(0, f.trainableVariables.length)).toEqual(f.trainableVariables);
    expect(own.map((v) => v.shape)).toEqual(f.trainableVariables.map((v, i) => (i === 0 ? [3, 3, 2, v.shape[3]] : v.shape)));
    const twin = new EncoderNetwork({ ...f.config, channels: 2 });
    expect(method.extraBytes()).toBe(4 * twin.allVariables.reduce((sum, v) => sum + v.size, 0));
    twin.dispose();
    // not f's weights: the second block's kernel, of equal shape, starts elsewhere
    expect(Array.from(own[3].dataSync())).not.toEqual(Array.from(f.trainableVariables[3].dataSync()));
    const start = own.map((v) => Array.from(v.dataSync()));
    await trainSteps(trainer, 1);
    expect(own.every((v, i) => Array.from(v.dataSync()).some((x, k) => x !== start[i][k]))).toBe(true);
    trainer.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('feeds the probes the lightness: the trainer’s images for f have one channel, L / 100', () => {
    const dataset = colourToy(32, 8);
    const trainer = new Trainer(dataset, cmcConfig());
    const images = trainer.imagesOf(dataset.test, 2);
    expect(images.shape).toEqual([2, SIZE, SIZE, 1]);
    const lab = rgbToLabArray(Float32Array.from(dataset.test.images.subarray(0, 2 * SIZE * SIZE * 3), (v) => v / 255));
    Array.from(images.dataSync()).forEach((v, p) => expect(v).toBeCloseTo(lab[3 * p] / 100, 4));
    images.dispose();
    trainer.dispose();
  });

  it('captures an instrument: L, ab at L = 50, the ab view each L picks, both picks per example; no tensor left', async () => {
    const before = tf.memory().numTensors;
    const trainer = new Trainer(colourToy(64, 16), cmcConfig());
    await trainSteps(trainer, 6);
    trainer.captureAffinity = true;
    const metrics = await trainer.trainStep();
    const snapshot = trainer.taskSnapshot!;
    expect(snapshot.method).toBe('cmc');
    expect(snapshot.count).toBe(8);
    expect(snapshot.rows.map((r) => [r.label, r.size, r.channels])).toEqual([
      ['L: what f sees', SIZE, 1], ['ab at L = 50: what f_ab sees', SIZE, 3], ['the ab view L picks', SIZE, 3],
    ]);
    for (const row of snapshot.rows) expect(row.images.length).toBe(8 * SIZE * SIZE * row.channels);
    const per = SIZE * SIZE;
    const [, abRow, picked] = snapshot.rows.map((r) => r.images);
    // the ab rows are drawn at L = 50 wherever no channel was clipped to the gamut
    const abLab = rgbToLabArray(abRow);
    for (let p = 0; p < 8 * per; p++) {
      if (abRow.subarray(3 * p, 3 * p + 3).every((v) => v > 0 && v < 1)) expect(abLab[3 * p]).toBeCloseTo(CMC_SHOWN_LIGHTNESS, 2);
    }
    expect(snapshot.correct).toHaveLength(8);
    snapshot.captions.forEach((caption, e) => {
      const [, there, back] = caption.match(/^L→ab (own|#\d+) · ab→L (own|#\d+) · cos -?\d\.\d\d$/) ?? [];
      expect(there, caption).toBeDefined();
      expect(back).toBeDefined();
      expect(snapshot.correct![e]).toBe(there === 'own');
      // the picked ab view is the one shown for that image, where it is among the shown
      const j = there === 'own' ? e : Number(there.slice(1)) - 1;
      if (j < 8) expect(Array.from(picked.subarray(3 * e * per, 3 * (e + 1) * per))).toEqual(Array.from(abRow.subarray(3 * j * per, 3 * (j + 1) * per)));
    });
    const wins = (share: number) => Math.round(share * 16);
    expect(snapshot.summary).toContain(`${wins(metrics.values.lightnessToAbAccuracy)} of 16 lightness views pick their own colour view among the batch’s 16 (L→ab)`);
    expect(snapshot.summary).toContain(`${wins(metrics.values.abToLightnessAccuracy)} of 16 colour views their own lightness view (ab→L)`);
    expect(snapshot.summary).toContain('(τ = 0.07)');
    trainer.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

/** The method's own state after `before` steps, a save through the checkpoint file, a load and `after` more; and after before + after steps straight. */
async function methodStatesAfterResuming(config: ExperimentConfig, dataset: ReturnType<typeof toyDataset>, before: number, after: number) {
  const straight = new Trainer(dataset, config);
  await trainSteps(straight, before + after);
  const uninterrupted = await straight.method.saveState();
  straight.dispose();
  const first = new Trainer(dataset, config);
  await trainSteps(first, before);
  const file = encodeCheckpointFile({ trainer: await first.saveCheckpoint(), history: EMPTY_HISTORY, savedAt: new Date(0).toISOString(), reason: 'manual' });
  first.dispose();
  const second = new Trainer(dataset, config);
  await second.loadCheckpoint(decodeCheckpointFile(file).trainer);
  await trainSteps(second, after);
  const resumed = await second.method.saveState();
  second.dispose();
  return { uninterrupted, resumed };
}

describe('CMC checkpoints', () => {
  const config = cmcConfig({ batchSize: 8 });
  const dataset = colourToy(32, 8);

  it('resumes across an epoch’s end with the uninterrupted run’s losses and accuracies', async () => {
    await checkResumesExactly(config, { before: 3, after: 2, dataset });
  }, 60_000);

  it('puts back the ab encoder’s batch-norm running statistics, which no loss reads while training', async () => {
    const { uninterrupted, resumed } = await methodStatesAfterResuming(config, dataset, 2, 1);
    expect(Object.keys(resumed.arrays).length).toBe(2 * 4);
    expect(resumed).toEqual(uninterrupted);
  }, 60_000);

  it('refuses another architecture’s or a damaged state, naming the entry, and changes nothing', async () => {
    const before = tf.memory().numTensors;
    const wider = new Trainer(dataset, cmcConfig({ batchSize: 8, encoderWidth: 8 }));
    const wide = await wider.method.saveState();
    wider.dispose();
    const trained = new Trainer(dataset, config);
    await trainSteps(trained, 2);
    const saved = await trained.method.saveState();
    trained.dispose();
    // every entry right but the last (the fourth block's running variance, 8w = 32 values): none of the others may have been put back
    const damaged: MethodState = { arrays: { ...saved.arrays, 'abRunning.7': { ...saved.arrays['abRunning.7'], shape: [1, 32] } }, values: {} };
    const untouched = new Trainer(dataset, config);
    const trainer = new Trainer(dataset, config);
    const own = await trainer.method.saveState();
    expect(() => trainer.method.loadState(wide)).toThrow(/CMC’s “abRunning\.0” in the checkpoint is \[8\], not \[4\]/);
    expect(() => trainer.method.loadState(damaged)).toThrow(/CMC’s “abRunning\.7” in the checkpoint is \[1, 32\], not \[32\]/);
    expect(() => trainer.method.loadState({ arrays: { ...saved.arrays }, values: { step: 2 } })).toThrow(/holds “step”, which CMC does not keep/);
    expect(await trainer.method.saveState()).toEqual(own);
    const [reference] = await trainSteps(untouched, 1);
    const [next] = await trainSteps(trainer, 1);
    expect(next.loss).toBe(reference.loss);
    untouched.dispose();
    trainer.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }, 60_000);
});
