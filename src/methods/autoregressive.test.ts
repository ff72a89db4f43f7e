import * as tf from '@tensorflow/tfjs';
import { describe, expect, it, vi } from 'vitest';
import { AUTOREGRESSIVE_BINS } from '../core/entries/autoregressive';
import { lossReference } from '../core/methods';
import { createRng } from '../core/random';
import { toyDataset } from '../train/toyDataset.testutil';
import { Trainer } from '../train/trainer';
import {
  AUTOREGRESSIVE_SAMPLE_ROWS, AUTOREGRESSIVE_SHOWN, causalMask, levelInput, nllOnArrays, PixelCnn, pixelCnnArrays, pixelCnnFilters, pixelCnnOnArrays, pixelNll, quantize,
} from './autoregressive';
import type { MethodBatch } from './method';
import { checkMethodBasics, checkResumesExactly, methodConfig, trainSteps } from './methodHarness.testutil';

await tf.setBackend('cpu');

const B = AUTOREGRESSIVE_BINS;
/** The cpu backend's gradient of a convolution's kernel is slow (a 3×3 16→16 layer on 16 views of 12 px takes 0.6 s): the loop tests train on 8 views */
const SMALL = { batchSize: 8 };

/** Random levels of n images [n, s, s, c] and random h [n, hDim]. */
function randomImages(n: number, s: number, c: number, hDim: number, seed: number) {
  const rng = createRng(seed);
  const levels = Int32Array.from({ length: n * s * s * c }, () => Math.floor(rng() * B));
  const h = Float32Array.from({ length: n * hDim }, () => rng() * 2);
  return { levels, h };
}

describe('masked convolutions', () => {
  it('mask A hides the centre and everything after it in raster order; mask B shows the centre', () => {
    expect(Array.from(causalMask(3, 'A'))).toEqual([1, 1, 1, 1, 0, 0, 0, 0, 0]);
    expect(Array.from(causalMask(3, 'B'))).toEqual([1, 1, 1, 1, 1, 0, 0, 0, 0]);
    const a7 = causalMask(7, 'A');
    expect(a7.reduce((x, y) => x + y, 0)).toBe(24);
    expect(a7[3 * 7 + 3]).toBe(0);
    expect(a7[3 * 7 + 2]).toBe(1);
  });

  for (const channels of [1, 3]) {
    it(`sees only the pixels before: perturbing pixel p leaves the logits at p and before unchanged and changes later ones (${channels} channel${channels > 1 ? 's' : ''})`, () => {
      const before = tf.memory().numTensors;
      const [s, hDim] = [8, 6];
      const model = new PixelCnn(channels, B, hDim, 8, 5, 1);
      const { levels, h } = randomImages(1, s, channels, hDim, 3);
      const ht = tf.tensor2d(h, [1, hDim]);
      const logitsOf = (values: Int32Array) => tf.tidy(() => model.logits(levelInput(tf.tensor4d(values, [1, s, s, channels], 'int32'), B), ht).dataSync());
      const base = logitsOf(levels);
      const [py, px] = [4, 3];
      const p = py * s + px;
      const perturbed = Int32Array.from(levels);
      for (let c = 0; c < channels; c++) perturbed[p * channels + c] = (levels[p * channels + c] + 7) % B;
      const moved = logitsOf(perturbed);
      const per = channels * B;
      const changed = (q: number) => base.subarray(q * per, (q + 1) * per).some((v, o) => v !== moved[q * per + o]);
      for (let q = 0; q <= p; q++) expect(changed(q), `pixel ${q}`).toBe(false);
      // the next pixel in its row, the one below, and one further down within the kernels' reach
      expect(changed(p + 1)).toBe(true);
      expect(changed(p + s)).toBe(true);
      expect(changed(p + 2 * s + 2)).toBe(true);
      ht.dispose();
      model.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('matches the float64 reference run a pixel at a time: logits and loss, conditional and not', async () => {
    const [n, s, c, hDim] = [2, 6, 3, 5];
    const { levels, h } = randomImages(n, s, c, hDim, 8);
    for (const conditional of [true, false]) {
      const model = new PixelCnn(c, B, conditional ? hDim : null, 8, 9, 2);
      const arrays = await pixelCnnArrays(model);
      const [logits, loss] = tf.tidy(() => {
        const lv = tf.tensor4d(levels, [n, s, s, c], 'int32');
        const l = model.logits(levelInput(lv, B), conditional ? tf.tensor2d(h, [n, hDim]) : null);
        return [l.dataSync(), tf.mean(pixelNll(l, lv)).dataSync()[0]];
      });
      let referenceLoss = 0;
      for (let e = 0; e < n; e++) {
        const own = levels.slice(e * s * s * c, (e + 1) * s * s * c);
        const reference = pixelCnnOnArrays(arrays, conditional ? h.subarray(e * hDim, (e + 1) * hDim) : null, own, s);
        const per = s * s * c * B;
        reference.forEach((v, o) => expect(Math.abs(v - logits[e * per + o])).toBeLessThan(1e-4));
        referenceLoss += nllOnArrays(reference, own, B) / n;
      }
      expect(Math.abs(loss - referenceLoss) / referenceLoss).toBeLessThan(1e-5);
      model.dispose();
    }
  });

  it('quantizes to min(⌊x·B⌋, B − 1), reads each level at its centre on [−1, 1], and scores uniform logits log B', () => {
    const x = tf.tensor4d([0, 0.0624, 0.0625, 0.5, 0.999, 1], [1, 1, 6, 1]);
    const levels = quantize(x, B);
    expect(Array.from(levels.dataSync())).toEqual([0, 0, 1, 8, 15, 15]);
    expect(Array.from(levelInput(levels, B).dataSync())).toEqual([-15 / 16, -15 / 16, -13 / 16, 1 / 16, 15 / 16, 15 / 16].map((v) => Math.fround(v)));
    const uniform = tf.zeros([1, 1, 6, 1, B]) as tf.Tensor5D;
    pixelNll(uniform, levels).dataSync().forEach((v) => expect(v).toBeCloseTo(Math.log(B), 6));
    tf.dispose([x, levels, uniform]);
  });

  it('samples pixel by pixel: levels in 0…B−1, the same draws for the same seed, and the model’s certainty where it is certain', async () => {
    const s = 6;
    const model = new PixelCnn(1, B, null, 8, 1, 3);
    const arrays = await pixelCnnArrays(model);
    const draw = (seed: number) => {
      const levels = new Int32Array(s * s);
      pixelCnnOnArrays(arrays, null, levels, s, createRng(seed));
      return levels;
    };
    expect(draw(4).every((b) => b >= 0 && b < B)).toBe(true);
    expect(Array.from(draw(4))).toEqual(Array.from(draw(4)));
    // an output bias of +50 at level 5 makes every pixel 5
    arrays.outBias[5] = 50;
    expect(Array.from(draw(2))).toEqual(new Array(s * s).fill(5));
    model.dispose();
  });
});

describe('PixelCNN auto-encoder through the training loop', () => {
  it('trains with a finite, falling loss from near log B, leaks nothing and repeats for one seed', async () => {
    const steps = await checkMethodBasics(methodConfig('autoregressive', { ...SMALL, imageSize: 8 }));
    expect(Math.abs(steps[0].loss - Math.log(B))).toBeLessThan(1);
    steps.forEach((m) => {
      // the loss is the conditional model's alone: its bits are the loss / ln 2
      expect(m.values.bitsPerDim).toBeCloseTo(m.loss / Math.LN2, 5);
      expect(Number.isFinite(m.values.unconditionalBitsPerDim)).toBe(true);
      expect(Number.isNaN(m.alignment)).toBe(true);
    });
    // the baseline trains too
    expect(steps[19].values.unconditionalBitsPerDim).toBeLessThan(steps[0].values.unconditionalBitsPerDim - 0.3);
  });

  it('draws the loss chart’s line at log B, and a head of zero output weights scores it exactly', () => {
    expect(lossReference('autoregressive', methodConfig('autoregressive'), 256)?.label).toBe(`log ${B} = ${Math.log(B).toFixed(2)}`);
    const trainer = new Trainer(toyDataset(32, 8, 7, true), methodConfig('autoregressive'));
    const config = trainer.currentConfig;
    const variables = trainer.method.trainableVariables;
    // the conditional model's output layer comes just before the unconditional model's variables
    const unconditionalCount = 4 * 2 + 2;
    const [outWeight, outBias] = variables.slice(-unconditionalCount - 2, -unconditionalCount);
    expect(outWeight.shape).toEqual([pixelCnnFilters(config.encoderWidth), 3 * B]);
    expect([4, 32, 64, 128].map(pixelCnnFilters)).toEqual([8, 16, 32, 32]);
    tf.tidy(() => {
      outWeight.assign(tf.zerosLike(outWeight));
      outBias.assign(tf.zerosLike(outBias));
    });
    const views = tf.randomUniform([4, 12, 12, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    const batch: MethodBatch = { views, indices: Int32Array.from([0, 1, 2, 3]), n: 4 };
    const [loss, bits] = tf.tidy(() => {
      const out = trainer.method.forward(batch, { config, capture: false, lossPath: 'composed' });
      return [out.loss.dataSync()[0], out.metrics!.dataSync()[0]];
    });
    expect(loss).toBeCloseTo(Math.log(B), 5);
    expect(bits).toBeCloseTo(Math.log2(B), 5);
    views.dispose();
    trainer.dispose();
  });

  for (const colour of [false, true]) {
    it(`captures an instrument (${colour ? 'colour, the sampler out of time' : 'grey'}): the quantized input, the likelihood map, samples given h, bits per image`, async () => {
      const before = tf.memory().numTensors;
      const trainer = new Trainer(toyDataset(64, 16, 7, colour), methodConfig('autoregressive', SMALL));
      await trainSteps(trainer, 2);
      // the views the method is handed
      let views: Float32Array | null = null;
      const forward = trainer.method.forward.bind(trainer.method);
      trainer.method.forward = (batch: MethodBatch, options) => {
        views = Float32Array.from(batch.views.dataSync());
        return forward(batch, options);
      };
      trainer.captureAffinity = true;
      const started = performance.now();
      // colour: a clock that jumps 100 ms at every reading, so the sampler's budget runs out after the first sample
      let clock = started;
      const now = colour ? vi.spyOn(performance, 'now').mockImplementation(() => (clock += 100)) : null;
      const step = await trainer.trainStep();
      now?.mockRestore();
      const ms = performance.now() - started;
      const snapshot = trainer.taskSnapshot!;
      const c = colour ? 3 : 1;
      expect(snapshot.method).toBe('autoregressive');
      expect(snapshot.count).toBe(AUTOREGRESSIVE_SHOWN);
      // as many samples as the time allowed (at 12 px, all): blank images for those not drawn, in the last row
      const drawn = Number(snapshot.summary.match(/(\d+) samples drawn pixel by pixel/)![1]);
      const sampleRows = Math.ceil(drawn / AUTOREGRESSIVE_SHOWN);
      expect(sampleRows).toBeGreaterThanOrEqual(1);
      expect(sampleRows).toBeLessThanOrEqual(AUTOREGRESSIVE_SAMPLE_ROWS);
      if (colour) {
        expect(drawn).toBe(1);
        expect(snapshot.summary).toMatch(/\(the rest left blank: no sample is started after 80 ms\)\.$/);
      }
      expect(snapshot.rows.map((r) => [r.label, r.channels])).toEqual([
        [`input (${B} levels)`, c], ['p(true level), given h', 1],
        ...Array.from({ length: sampleRows }, (_, k) => [`sample ${k + 1} given h`, c]),
      ]);
      // the input row is the first views quantized, each level at its centre
      const shownValues = Array.from(views!.subarray(0, AUTOREGRESSIVE_SHOWN * 12 * 12 * c), (v) => Math.fround((Math.min(Math.floor(v * B), B - 1) + 0.5) / B));
      expect(Array.from(snapshot.rows[0].images)).toEqual(shownValues);
      const centres = new Set(Array.from({ length: B }, (_, b) => Math.fround((b + 0.5) / B)));
      expect(Array.from(snapshot.rows[0].images).every((v) => centres.has(v))).toBe(true);
      const per = 12 * 12 * c;
      snapshot.rows.slice(2).forEach((row, r) => {
        for (let e = 0; e < AUTOREGRESSIVE_SHOWN; e++) {
          const sample = Array.from(row.images.subarray(e * per, (e + 1) * per));
          expect(sample.every((v) => (r * AUTOREGRESSIVE_SHOWN + e < drawn ? centres.has(v) : v === 0))).toBe(true);
        }
      });
      expect(Array.from(snapshot.rows[1].images).every((p) => p > 0 && p <= 1)).toBe(true);
      // the captions' bits average to the batch's over the shown images; the likelihood map is their exponent, image by image (grey: exactly)
      const bits = snapshot.captions.map((t) => Number(t.match(/^(\d+\.\d+) bits$/)![1]));
      expect(bits.every((b) => b > 0 && b < 8)).toBe(true);
      if (!colour) {
        bits.forEach((b, e) => {
          const map = snapshot.rows[1].images.subarray(e * per, (e + 1) * per);
          const meanBits = -Array.from(map).reduce((sum, p) => sum + Math.log2(p), 0) / per;
          expect(Math.abs(meanBits - b)).toBeLessThan(0.006);
        });
      }
      expect(snapshot.summary).toContain(`${step.values.bitsPerDim.toFixed(2)} bits per pixel value over the batch’s 8 views given h, ${step.values.unconditionalBitsPerDim.toFixed(2)} for the PixelCNN without h`);
      expect(snapshot.summary).toMatch(/\d+ samples drawn pixel by pixel \(144 steps each\) from the model given each view’s h in \d+ ms/);
      console.log(`autoregressive ${colour ? 'colour' : 'grey'} 12 px: the captured step took ${ms.toFixed(0)} ms; ${snapshot.summary}`);
      trainer.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});

describe('PixelCNN checkpoints', () => {
  const config = methodConfig('autoregressive', { ...SMALL, imageSize: 8 });
  const dataset = toyDataset(32, 8);

  it('keeps nothing of its own: both PixelCNNs are trained variables and their masks never change: across an epoch’s end (4 steps of 8 on 32 images), the resumed losses and bits are the uninterrupted run’s', async () => {
    await checkResumesExactly(config, { before: 3, after: 2, dataset });
  }, 60_000);

  it('refuses another method’s state, naming its first entry, and changes nothing', async () => {
    const before = tf.memory().numTensors;
    const other = new Trainer(dataset, methodConfig('autoencoder', { denoise: true }));
    const foreign = await other.method.saveState();
    other.dispose();
    const untouched = new Trainer(dataset, config);
    const trainer = new Trainer(dataset, config);
    expect(() => trainer.method.loadState(foreign)).toThrow(/holds “noiseRng”, which PixelCNN does not keep: it was saved by another method/);
    const [reference] = await trainSteps(untouched, 1);
    const [next] = await trainSteps(trainer, 1);
    expect(next.loss).toBe(reference.loss);
    untouched.dispose();
    trainer.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }, 60_000);
});
