import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { methodUnfitReason, METHOD_SETTING_DEFAULTS, lossReference } from '../core/methods';
import { reconstructionMseReference } from '../loss/reconstruction';
import { SIZE, toyDataset } from '../train/toyDataset.testutil';
import { Trainer } from '../train/trainer';
import { AUTOENCODER_NOISE_STD, ConvDecoder, corruptViews, decoderSeedSide } from './autoencoder';
import type { MethodState } from './method';
import { checkMethodBasics, checkResumesExactly, methodConfig, trainSteps } from './methodHarness.testutil';
import { EMPTY_METHOD_STATE } from './state';

await tf.setBackend('cpu');

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('the decoder and the noise', () => {
  it('rebuilds a full view from h: ⌈S/8⌉ doubled three times, the centre cropped, values in (0, 1)', () => {
    expect([8, 12, 13, 28, 32, 64].map(decoderSeedSide)).toEqual([1, 2, 2, 4, 4, 8]);
    for (const [size, channels] of [[8, 1], [12, 3], [13, 1], [28, 1], [32, 3]] as const) {
      const decoder = new ConvDecoder(32, 4, size, channels, 1, 0xae0d);
      const h = tf.randomNormal([3, 32], 0, 1, 'float32', 4) as tf.Tensor2D;
      const out = decoder.decode(h);
      expect(out.shape).toEqual([3, size, size, channels]);
      expect(Array.from(out.dataSync()).every((v) => v > 0 && v < 1)).toBe(true);
      // dense 32 → g²·16, then 4×4 transposed convolutions 16 → 8 → 4 → C, with biases
      const g = decoderSeedSide(size);
      expect(decoder.bytes).toBe(4 * (32 * g * g * 16 + g * g * 16 + 16 * 16 * 8 + 8 + 16 * 8 * 4 + 4 + 16 * 4 * channels + channels));
      tf.dispose([h, out]);
      decoder.dispose();
    }
  });

  it('starts from the seed: the same seed gives the same decoder, another a different one', () => {
    const h = tf.randomNormal([2, 16], 0, 1, 'float32', 4) as tf.Tensor2D;
    const decoders = [1, 1, 2].map((seed) => new ConvDecoder(16, 2, 12, 1, seed, 0xae0d));
    const [a, b, c] = decoders.map((d) => Array.from(d.decode(h).dataSync()));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    decoders.forEach((d) => d.dispose());
    h.dispose();
  });

  it('corrupts with Gaussian noise of σ = 0.2, clipped to [0, 1], the same for one seed', () => {
    const grey = tf.fill([4, 16, 16, 3], 0.5) as tf.Tensor4D;
    const noisy = corruptViews(grey, AUTOENCODER_NOISE_STD, 11);
    const values = Array.from(noisy.dataSync());
    expect(values.every((v) => v >= 0 && v <= 1)).toBe(true);
    // at 0.5 the clip sits 2.5σ away: the noise is nearly untouched
    const offsets = values.map((v) => v - 0.5);
    expect(Math.abs(mean(offsets))).toBeLessThan(0.01);
    expect(Math.sqrt(mean(offsets.map((d) => d * d)))).toBeCloseTo(AUTOENCODER_NOISE_STD, 2);
    expect(Array.from(corruptViews(grey, AUTOENCODER_NOISE_STD, 11).dataSync())).toEqual(values);
    expect(Array.from(corruptViews(grey, AUTOENCODER_NOISE_STD, 12).dataSync())).not.toEqual(values);
    // black and white images stay inside [0, 1]
    const extremes = corruptViews(tf.concat([tf.zeros([1, 8, 8, 1]), tf.ones([1, 8, 8, 1])]) as tf.Tensor4D, 0.2, 3);
    expect(Array.from(extremes.dataSync()).every((v) => v >= 0 && v <= 1)).toBe(true);
    tf.dispose([grey, noisy, extremes]);
  });
});

describe('autoencoder catalog', () => {
  it('fits every dataset (the decoder covers any view size) and draws no reference line', () => {
    const settings = { ...METHOD_SETTING_DEFAULTS, batchSize: 16, imageSize: 8 };
    for (const channels of [1, 3] as const) expect(methodUnfitReason('autoencoder', { name: 'toy', channels, imageSize: 8, trainCount: 5 }, settings)).toBeNull();
    expect(lossReference('autoencoder', { batchSize: 16, queueSize: 1, projectionDim: 16 }, 256)).toBeNull();
  });
});

describe('autoencoder through the training loop', () => {
  it('trains with a finite, falling loss below the mean image, reports PSNR of the loss, leaks nothing, repeats for one seed', async () => {
    const steps = await checkMethodBasics(methodConfig('autoencoder'));
    for (const m of steps) {
      expect(m.values.psnr).toBeCloseTo(10 * Math.log10(1 / m.loss), 3);
      expect(m.values.meanImageMse).toBeGreaterThan(0);
      // no positive pairs: alignment is not defined
      expect(Number.isNaN(m.alignment)).toBe(true);
    }
    const late = steps.slice(-5);
    expect(mean(late.map((m) => m.loss))).toBeLessThan(mean(late.map((m) => m.values.meanImageMse)));
  });

  it('denoising: trains on noisy inputs with a finite, falling loss against the clean views, leaks nothing, repeats', async () => {
    // N = 8: the plain run above already covers N = 16; this one only adds the noise
    const steps = await checkMethodBasics(methodConfig('autoencoder', { denoise: true, batchSize: 8 }));
    expect(steps.every((m) => Number.isFinite(m.values.psnr))).toBe(true);
  });

  it('holds the decoder beyond f, and frees it with the run', () => {
    const before = tf.memory().numTensors;
    const trainer = new Trainer(toyDataset(16, 4), methodConfig('autoencoder'));
    const method = (trainer as unknown as { method: { extraBytes(): number } }).method;
    const w = 4;
    const g = decoderSeedSide(SIZE);
    expect(method.extraBytes()).toBe(4 * (8 * w * g * g * 4 * w + g * g * 4 * w + 16 * 4 * w * 2 * w + 2 * w + 16 * 2 * w * w + w + 16 * w + 1));
    trainer.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('captures an instrument: input, reconstruction, target with per-example MSE; noisy input when denoising; no tensor left', async () => {
    const before = tf.memory().numTensors;
    for (const [denoise, colour] of [[false, false], [true, false], [true, true]] as const) {
      const channels = colour ? 3 : 1;
      const trainer = new Trainer(toyDataset(64, 16, 7, colour), methodConfig('autoencoder', { denoise }));
      await trainSteps(trainer, 2);
      trainer.captureAffinity = true;
      const metrics = await trainer.trainStep();
      const snapshot = trainer.taskSnapshot!;
      expect(snapshot.method).toBe('autoencoder');
      expect(snapshot.count).toBe(8);
      expect(snapshot.rows.map((r) => [r.label, r.size, r.channels])).toEqual(
        (denoise
          ? ['noisy input (σ = 0.2)', 'reconstruction', 'target: the clean view']
          : ['input', 'reconstruction', 'target: the input itself']).map((label) => [label, SIZE, channels]),
      );
      const [input, reconstruction, target] = snapshot.rows.map((r) => r.images);
      for (const images of [input, reconstruction, target]) {
        expect(images.length).toBe(8 * SIZE * SIZE * channels);
        expect(images.every((v) => v >= 0 && v <= 1)).toBe(true);
      }
      const per = SIZE * SIZE * channels;
      const slice = (a: Float32Array, e: number) => a.subarray(e * per, (e + 1) * per);
      snapshot.captions.forEach((caption, e) => {
        const own = reconstructionMseReference(slice(reconstruction, e), slice(target, e));
        const noisy = reconstructionMseReference(slice(input, e), slice(target, e));
        expect(caption).toBe(denoise ? `MSE ${own.toFixed(4)} · noisy ${noisy.toFixed(4)}` : `MSE ${own.toFixed(4)}`);
        // without noise the encoder saw the target itself; with it, a corrupted copy of the clean view
        if (denoise) expect(noisy).toBeGreaterThan(0.005);
        else expect(noisy).toBe(0);
      });
      expect(snapshot.correct).toBeUndefined();
      expect(snapshot.summary).toContain(`Reconstruction MSE ${metrics.loss.toFixed(4)} over the batch’s 16 views of 12×12 px`);
      expect(snapshot.summary).toContain(`the batch’s mean image scores ${metrics.values.meanImageMse.toFixed(4)}`);
      expect(snapshot.summary.includes('handing back the noisy input')).toBe(denoise);
      trainer.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('autoencoder checkpoints', () => {
  const config = methodConfig('autoencoder', { denoise: true, batchSize: 8 });
  const dataset = toyDataset(32, 8);

  it('denoising: the noise stream goes on where it stopped, so the losses after resuming are the uninterrupted run’s', async () => {
    await checkResumesExactly(config, { before: 2, after: 3, dataset });
  }, 60_000);

  it('refuses another method’s state or a damaged noise stream, naming the entry, and changes nothing', async () => {
    const before = tf.memory().numTensors;
    const trained = new Trainer(dataset, config);
    await trainSteps(trained, 2);
    const saved = await trained.method.saveState();
    trained.dispose();
    const untouched = new Trainer(dataset, config);
    const trainer = new Trainer(dataset, config);
    const own = await trainer.method.saveState();
    const refusals: [MethodState, RegExp][] = [
      // SimCLR's
      [EMPTY_METHOD_STATE, /lacks Autoencoder’s “noiseRng”/],
      [{ arrays: {}, values: { noiseRng: 2 ** 32 } }, /“noiseRng” in the checkpoint is not a random-number state/],
      [{ arrays: {}, values: { ...saved.values, queuePointer: 3 } }, /holds “queuePointer”, which Autoencoder does not keep/],
    ];
    for (const [state, message] of refusals) expect(() => trainer.method.loadState(state)).toThrow(message);
    expect(await trainer.method.saveState()).toEqual(own);
    const [reference] = await trainSteps(untouched, 1);
    const [next] = await trainSteps(trainer, 1);
    expect(next.loss).toBe(reference.loss);
    untouched.dispose();
    trainer.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
