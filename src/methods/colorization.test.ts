import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import type { ExperimentConfig } from '../core/config';
import { lossReference, methodUnfitReason, METHOD_SETTING_DEFAULTS } from '../core/methods';
import { presetPipeline } from '../core/pipeline';
import { COLORIZATION_AB_BINS } from '../core/pretext/colorization';
import { createRng } from '../core/random';
import { SIZE, toyDataset } from '../train/toyDataset.testutil';
import { Trainer } from '../train/trainer';
import type { StepMetrics } from '../train/protocol';
import {
  AB_SCALE, abBinCrossEntropy, abError, abErrorArray, abRegressionLoss, annealedMeanAb, colorizationGrid, splitLab,
} from './colorization';
import { abBinOf, abBins, rgbToLabArray } from './lab';
import type { MethodState } from './method';
import { checkMethodBasics, checkResumesExactly, methodConfig, trainSteps } from './methodHarness.testutil';

await tf.setBackend('cpu');

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const colourToyDataset = (trainCount: number, testCount: number) => toyDataset(trainCount, testCount, 7, true);

/** checkMethodBasics on the colour toy set: the grey one is refused by colorization. */
const checkBasicsInColour = (config: ExperimentConfig): Promise<StepMetrics[]> => checkMethodBasics(config, 0, colourToyDataset(256, 64));

/** Colour jitter and grayscale scramble the very target; the tests train as the task should, on crops and flips. */
const colourConfig = (overrides: Partial<ExperimentConfig> = {}) =>
  methodConfig('colorization', { augmentation: presetPipeline('crop-flip'), ...overrides });

describe('colorization losses and read-out', () => {
  it('regresses ab / 110: the mean squared error over pixels and channels, as in float64', () => {
    const rng = createRng(1);
    const ab = tf.tensor4d(Float32Array.from({ length: 48 }, () => (rng() - 0.5) * 200), [2, 3, 4, 2]);
    const predicted = tf.tensor4d(Float32Array.from({ length: 48 }, () => rng() - 0.5), [2, 3, 4, 2]);
    const a = ab.dataSync();
    const p = predicted.dataSync();
    const reference = Array.from(a, (v, k) => (p[k] - v / AB_SCALE) ** 2).reduce((s, v) => s + v, 0) / a.length;
    expect(abRegressionLoss(predicted, ab).dataSync()[0]).toBeCloseTo(reference, 6);
    // the grey prediction scores the targets' mean square
    const zeros = tf.zerosLike(predicted) as tf.Tensor4D;
    expect(abRegressionLoss(zeros, ab).dataSync()[0]).toBeCloseTo(Array.from(a, (v) => (v / AB_SCALE) ** 2).reduce((s, v) => s + v, 0) / a.length, 6);
    tf.dispose([ab, predicted, zeros]);
  });

  it('scores the bins by a per-pixel cross-entropy: log Q for uniform logits, a float64 reference otherwise', () => {
    const q = abBins().count;
    expect(q).toBe(COLORIZATION_AB_BINS);
    const rng = createRng(2);
    const abValues = Float32Array.from({ length: 2 * 2 * 3 * 3 }, () => (rng() - 0.5) * 160);
    const ab = tf.tensor4d(abValues, [2, 3, 3, 2]);
    const uniform = tf.zeros([2, 3, 3, q]) as tf.Tensor4D;
    expect(abBinCrossEntropy(uniform, ab).dataSync()[0]).toBeCloseTo(Math.log(q), 5);
    const logitValues = Float32Array.from({ length: 18 * q }, () => 3 * (rng() - 0.5));
    const logits = tf.tensor4d(logitValues, [2, 3, 3, q]);
    // float64: mean over the 18 pixels of logsumexp(l) − l_y, y the bin of the pixel's ab
    let sum = 0;
    for (let p = 0; p < 18; p++) {
      const row = Array.from(logitValues.subarray(p * q, (p + 1) * q));
      const top = Math.max(...row);
      const lse = top + Math.log(row.reduce((s, v) => s + Math.exp(v - top), 0));
      sum += lse - row[abBinOf(abValues[2 * p], abValues[2 * p + 1])];
    }
    expect(abBinCrossEntropy(logits, ab).dataSync()[0]).toBeCloseTo(sum / 18, 4);
    tf.dispose([ab, uniform, logits]);
  });

  it('reads colour out as the annealed mean: softmax(logits / 0.38) over the bin centres', () => {
    const { count: q, centres } = abBins();
    const rng = createRng(3);
    const logitValues = Float32Array.from({ length: 4 * q }, () => 4 * (rng() - 0.5));
    const out = annealedMeanAb(tf.tensor4d(logitValues, [1, 2, 2, q]));
    expect(out.shape).toEqual([1, 2, 2, 2]);
    const got = out.dataSync();
    for (let p = 0; p < 4; p++) {
      const row = Array.from(logitValues.subarray(p * q, (p + 1) * q), (v) => v / 0.38);
      const top = Math.max(...row);
      const w = row.map((v) => Math.exp(v - top));
      const total = w.reduce((s, v) => s + v, 0);
      const a = w.reduce((s, v, k) => s + v * centres[2 * k], 0) / total;
      const b = w.reduce((s, v, k) => s + v * centres[2 * k + 1], 0) / total;
      expect(got[2 * p]).toBeCloseTo(a, 3);
      expect(got[2 * p + 1]).toBeCloseTo(b, 3);
    }
    // one dominant bin: its centre (the mode)
    const peaked = new Float32Array(q);
    peaked[7] = 30;
    const mode = annealedMeanAb(tf.tensor4d(peaked, [1, 1, 1, q])).dataSync();
    expect(mode[0]).toBeCloseTo(centres[14], 3);
    expect(mode[1]).toBeCloseTo(centres[15], 3);
    out.dispose();
  });

  it('measures the ab error as the mean distance in the ab plane; grey scores the mean saturation', () => {
    const rng = createRng(4);
    const truth = Float32Array.from({ length: 2 * 25 }, () => (rng() - 0.5) * 150);
    const guess = Float32Array.from({ length: 2 * 25 }, () => (rng() - 0.5) * 150);
    const t = tf.tensor4d(truth, [1, 5, 5, 2]);
    const g = tf.tensor4d(guess, [1, 5, 5, 2]);
    expect(abError(g, t).dataSync()[0]).toBeCloseTo(abErrorArray(guess, truth), 3);
    const saturation = mean(Array.from({ length: 25 }, (_, p) => Math.hypot(truth[2 * p], truth[2 * p + 1])));
    expect(abErrorArray(new Float32Array(50), truth)).toBeCloseTo(saturation, 9);
    tf.dispose([t, g]);
  });

  it('splits views into L and ab and sizes its grid at half the view, at most 8', () => {
    const views = tf.tensor4d([1, 0, 0, 1, 1, 1], [1, 1, 2, 3]);
    const { lightness, ab } = splitLab(views);
    expect(lightness.shape).toEqual([1, 1, 2, 1]);
    expect(Array.from(lightness.dataSync()).map((v) => Math.round(v * 100) / 100)).toEqual([53.24, 100]);
    expect(Array.from(ab.dataSync()).map((v) => Math.round(v * 100) / 100)).toEqual([80.09, 67.2, 0, 0]);
    expect([8, 12, 13, 16, 28, 64].map(colorizationGrid)).toEqual([4, 6, 7, 8, 8, 8]);
    tf.dispose([views, lightness, ab]);
  });
});

describe('colorization fit rule and catalog', () => {
  const settings = { ...METHOD_SETTING_DEFAULTS, batchSize: 16, imageSize: 12 };

  it('refuses a greyscale dataset in a sentence, fits a colour one', () => {
    const grey = { name: 'Fashion-MNIST (12k)', channels: 1 as const, imageSize: 28, trainCount: 12000 };
    expect(methodUnfitReason('colorization', grey, settings)).toBe('Colorization needs colour images: Fashion-MNIST (12k) is greyscale, so there is no colour for the head to predict from the lightness.');
    expect(methodUnfitReason('colorization', { ...grey, name: 'toy colour', channels: 3 }, settings)).toBeNull();
    // and the method itself will not build on grey views
    expect(() => new Trainer(toyDataset(16, 4), methodConfig('colorization'))).toThrow(/needs colour images/);
  });

  it('draws the uniform-guess line log Q for the classifier only', () => {
    const config = { ...settings, queueSize: 4096, projectionDim: 16 };
    expect(lossReference('colorization', { ...config, colorizationMode: 'classification' }, 256)?.value).toBeCloseTo(Math.log(COLORIZATION_AB_BINS), 9);
    expect(lossReference('colorization', { ...config, colorizationMode: 'regression' }, 256)).toBeNull();
  });
});

describe('colorization through the training loop', () => {
  it('regression: trains on lightness with a finite, falling loss, leaks nothing, repeats for one seed', async () => {
    const steps = await checkBasicsInColour(colourConfig());
    for (const m of steps) {
      expect(m.values.abError).toBeGreaterThan(0);
      expect(m.values.greyAbError).toBeGreaterThan(0);
    }
    // the head puts colour where it belongs: its ab error falls below the grey prediction's
    const late = steps.slice(-5);
    expect(mean(late.map((m) => m.values.abError))).toBeLessThan(mean(late.map((m) => m.values.greyAbError)));
  });

  it('classification: starts near log Q and falls, leaks nothing, repeats for one seed', async () => {
    // N = 8: the cpu backend's softmax over Q = 261 bins at every grid point is what this test spends its time on
    const steps = await checkBasicsInColour(colourConfig({ colorizationMode: 'classification', batchSize: 8 }));
    expect(Math.abs(steps[0].loss - Math.log(COLORIZATION_AB_BINS))).toBeLessThan(0.5);
  });

  it('feeds the probes the lightness: the trainer’s images for f have one channel, L / 100', () => {
    const dataset = colourToyDataset(32, 8);
    const trainer = new Trainer(dataset, colourConfig());
    const images = trainer.imagesOf(dataset.test, 2);
    expect(images.shape).toEqual([2, SIZE, SIZE, 1]);
    const rgb = Float32Array.from(dataset.test.images.subarray(0, 2 * SIZE * SIZE * 3), (v) => v / 255);
    const lab = rgbToLabArray(rgb);
    Array.from(images.dataSync()).forEach((v, p) => expect(v).toBeCloseTo(lab[3 * p] / 100, 4));
    images.dispose();
    trainer.dispose();
  });

  it('captures an instrument: the grey input, L + predicted ab, the truth, per-example ab errors; no tensor left', async () => {
    const before = tf.memory().numTensors;
    for (const colorizationMode of ['regression', 'classification'] as const) {
      const trainer = new Trainer(colourToyDataset(64, 16), colourConfig({ colorizationMode }));
      await trainSteps(trainer, 2);
      trainer.captureAffinity = true;
      const metrics = await trainer.trainStep();
      const snapshot = trainer.taskSnapshot!;
      expect(snapshot.method).toBe('colorization');
      expect(snapshot.count).toBe(8);
      expect(snapshot.rows.map((r) => [r.label, r.size, r.channels])).toEqual([
        ['input: lightness L', SIZE, 1], ['L + predicted ab', SIZE, 3], ['truth', SIZE, 3],
      ]);
      for (const row of snapshot.rows) expect(row.images.length).toBe(8 * SIZE * SIZE * row.channels);
      expect(snapshot.correct).toBeUndefined();
      expect(snapshot.confusion).toBeUndefined();
      expect(snapshot.summary).toContain(`Mean ab error ${metrics.values.abError.toFixed(1)} over the batch’s 16×12×12 pixels`);
      expect(snapshot.summary).toContain(colorizationMode === 'regression' ? 'regression head' : `over ${COLORIZATION_AB_BINS} ab bins`);
      const per = SIZE * SIZE;
      const [grey, painted, truth] = snapshot.rows.map((r) => r.images);
      snapshot.captions.forEach((caption, e) => {
        const truthLab = rgbToLabArray(truth.subarray(3 * e * per, 3 * (e + 1) * per));
        const paintedLab = rgbToLabArray(painted.subarray(3 * e * per, 3 * (e + 1) * per));
        const greyLab = rgbToLabArray(Array.from(grey.subarray(e * per, (e + 1) * per)).flatMap((v) => [v, v, v]));
        for (let p = 0; p < per; p++) {
          // the grey input is the truth's lightness with no colour
          expect(greyLab[3 * p]).toBeCloseTo(truthLab[3 * p], 3);
          // the painting is the truth's lightness with the predicted colour: exactly so where no channel was clipped to the gamut
          const rgb = painted.subarray(3 * (e * per + p), 3 * (e * per + p + 1));
          if (rgb.every((v) => v > 0 && v < 1)) expect(Math.abs(paintedLab[3 * p] - truthLab[3 * p])).toBeLessThan(1e-2);
        }
        const trueAb = Float64Array.from({ length: 2 * per }, (_, k) => truthLab[3 * Math.floor(k / 2) + 1 + (k % 2)]);
        const [, said, greySaid] = caption.match(/^ab error (\d+\.\d) · grey (\d+\.\d)$/) ?? [];
        expect(Number(said)).toBeGreaterThan(0);
        expect(greySaid).toBe(abErrorArray(new Float64Array(2 * per), trueAb).toFixed(1));
      });
      trainer.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('colorization resumes from a checkpoint', () => {
  it('keeps nothing of its own; resumed, both heads’ losses and ab errors are the uninterrupted run’s, across a reshuffled epoch', async () => {
    // 24 colour images in batches of 8: the batch order is drawn afresh at step 4, after the checkpoint at step 2
    const dataset = colourToyDataset(24, 8);
    for (const colorizationMode of ['regression', 'classification'] as const) {
      const config = colourConfig({ colorizationMode, batchSize: 8 });
      const trainer = new Trainer(dataset, config);
      expect(await trainer.method.saveState()).toEqual({ arrays: {}, values: {} });
      trainer.dispose();
      await checkResumesExactly(config, { before: 2, after: 2, dataset });
    }
  }, 20_000);

  it('refuses another method’s state, naming its entry, and changes nothing', async () => {
    const dataset = colourToyDataset(32, 8);
    const config = colourConfig();
    const refused = new Trainer(dataset, config);
    const untouched = new Trainer(dataset, config);
    const cases: [MethodState, RegExp][] = [
      [{ arrays: {}, values: { regionRng: 7 } }, /“regionRng”, which Colorization does not keep/],
      [{ arrays: { centroids: { dtype: 'float32', shape: [1], data: new Float32Array(1) } }, values: {} }, /“centroids”, which Colorization does not keep/],
      [{ arrays: {} } as unknown as MethodState, /no state for Colorization/],
    ];
    for (const [state, entry] of cases) expect(() => refused.method.loadState(state)).toThrow(entry);
    const seen = (m: StepMetrics) => [m.loss, m.values, m.uniformity, m.collapseStd];
    expect((await trainSteps(refused, 1)).map(seen)).toEqual((await trainSteps(untouched, 1)).map(seen));
    refused.dispose();
    untouched.dispose();
  });
});
