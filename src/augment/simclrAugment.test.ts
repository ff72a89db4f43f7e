import * as tf from '@tensorflow/tfjs';
await tf.setBackend('cpu');

import { describe, expect, it } from 'vitest';
import { createRng } from './random';
import {
  DEFAULT_AUGMENT,
  applyViews,
  augmentBatch,
  sampleCropBox,
  sampleViewParams,
  validateAugmentConfig,
  type AugmentConfig,
  type ViewParams,
} from './simclrAugment';

/** Deterministic test images in [0,1], [B,H,W,C], with structure that is not mirror-symmetric. */
function makeImages(B: number, H: number, W: number, C: number, seed = 1): tf.Tensor4D {
  const rng = createRng(seed);
  const data = new Float32Array(B * H * W * C);
  for (let i = 0; i < data.length; i++) data[i] = rng();
  return tf.tensor4d(data, [B, H, W, C]);
}

/** Params that leave the image untouched: whole-image box, no flip, unit factors. */
function identityParams(B: number): ViewParams {
  const boxes = new Float32Array(B * 4);
  for (let i = 0; i < B; i++) boxes.set([0, 0, 1, 1], i * 4);
  return {
    boxes,
    flip: new Uint8Array(B),
    brightnessFactor: new Float32Array(B).fill(1),
    contrastFactor: new Float32Array(B).fill(1),
    jitterOrderBrightnessFirst: new Uint8Array(B).fill(1),
  };
}

const NO_AUG: AugmentConfig = {
  outputSize: 16,
  cropScale: [1, 1],
  cropRatio: [1, 1],
  flipProbability: 0,
  brightness: 0,
  contrast: 0,
  jitterProbability: 0,
};

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

/** Per-image mean and std of a [B,H,W,C] tensor. */
function perImageStats(x: tf.Tensor4D): { mean: Float32Array; std: Float32Array } {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, [1, 2, 3]);
    return { mean: mean.dataSync() as Float32Array, std: tf.sqrt(variance).dataSync() as Float32Array };
  });
}

describe('sampleCropBox / sampleViewParams', () => {
  it('boxes lie in [0,1] and non-fallback crops have area fraction within cropScale', () => {
    const H = 48;
    const W = 40;
    const scale: [number, number] = [0.08, 1];
    const ratio: [number, number] = [3 / 4, 4 / 3];
    const rng = createRng(7);
    // Rounding w and h to whole pixels moves the area by at most ½(w+h)+¼ px.
    const slack = (0.5 * (H + W) + 0.25) / (H * W);
    let nonFallback = 0;
    for (let i = 0; i < 500; i++) {
      const crop = sampleCropBox(rng, H, W, scale, ratio);
      expect(crop.top).toBeGreaterThanOrEqual(0);
      expect(crop.left).toBeGreaterThanOrEqual(0);
      expect(crop.top + crop.height).toBeLessThanOrEqual(H);
      expect(crop.left + crop.width).toBeLessThanOrEqual(W);
      if (!crop.fallback) {
        nonFallback++;
        const frac = (crop.height * crop.width) / (H * W);
        expect(frac).toBeGreaterThanOrEqual(scale[0] - slack);
        expect(frac).toBeLessThanOrEqual(scale[1] + slack);
      }
    }
    expect(nonFallback).toBeGreaterThan(450);

    const params = sampleViewParams(createRng(3), 200, H, W, { ...DEFAULT_AUGMENT, cropScale: scale });
    for (let i = 0; i < 200; i++) {
      const [y1, x1, y2, x2] = params.boxes.subarray(i * 4, i * 4 + 4);
      for (const v of [y1, x1, y2, x2]) {
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1);
      }
      expect(y2).toBeGreaterThanOrEqual(y1);
      expect(x2).toBeGreaterThanOrEqual(x1);
      // Back to pixels: the box spans rows y1·(H-1) … y2·(H-1).
      const h = Math.round((y2 - y1) * (H - 1)) + 1;
      const w = Math.round((x2 - x1) * (W - 1)) + 1;
      const frac = (h * w) / (H * W);
      // For a 48x40 image with ratio [3/4,4/3] the fallback is the whole image, area 1 ∈ scale.
      expect(frac).toBeGreaterThanOrEqual(scale[0] - slack);
      expect(frac).toBeLessThanOrEqual(scale[1] + slack);
      // Aspect ratio is within the range up to rounding.
      expect(w / h).toBeGreaterThan(ratio[0] * 0.8);
      expect(w / h).toBeLessThan(ratio[1] * 1.25);
    }
  });

  it('falls back to the central crop clipped to the ratio range', () => {
    // Ratio 3..4 can never fit a 0.9..1 area crop in a square: every attempt fails.
    const crop = sampleCropBox(createRng(1), 30, 30, [0.9, 1], [3, 4]);
    expect(crop.fallback).toBe(true);
    expect(crop.width).toBe(30);
    expect(crop.height).toBe(10);
    expect(crop.left).toBe(0);
    expect(crop.top).toBe(10);
    // In-range image: the fallback is the whole image.
    const whole = sampleCropBox(createRng(1), 30, 30, [1, 1], [2, 2]);
    expect(whole.fallback).toBe(true);
    expect(whole.width).toBe(30);
    expect(whole.height).toBe(15);
  });

  it('draws flip, jitter-applied and order at roughly the configured rates; factors are in range', () => {
    const n = 2000;
    const p = sampleViewParams(createRng(11), n, 32, 32, { ...DEFAULT_AUGMENT, flipProbability: 0.3, jitterProbability: 0.6 });
    const flips = p.flip.reduce((a, b) => a + b, 0) / n;
    const bf = p.jitterOrderBrightnessFirst.reduce((a, b) => a + b, 0) / n;
    let jittered = 0;
    for (let i = 0; i < n; i++) {
      const b = p.brightnessFactor[i];
      const c = p.contrastFactor[i];
      expect(b).toBeGreaterThanOrEqual(0.6 - 1e-6);
      expect(b).toBeLessThanOrEqual(1.4 + 1e-6);
      expect(c).toBeGreaterThanOrEqual(0.6 - 1e-6);
      expect(c).toBeLessThanOrEqual(1.4 + 1e-6);
      if (b !== 1 || c !== 1) jittered++;
    }
    expect(flips).toBeGreaterThan(0.25);
    expect(flips).toBeLessThan(0.35);
    expect(bf).toBeGreaterThan(0.45);
    expect(bf).toBeLessThan(0.55);
    expect(jittered / n).toBeGreaterThan(0.55);
    expect(jittered / n).toBeLessThan(0.65);
  });

  it('jitterProbability 0 gives unit factors', () => {
    const p = sampleViewParams(createRng(2), 50, 16, 16, { ...DEFAULT_AUGMENT, jitterProbability: 0 });
    expect(Array.from(p.brightnessFactor).every((v) => v === 1)).toBe(true);
    expect(Array.from(p.contrastFactor).every((v) => v === 1)).toBe(true);
  });

  it('throws on an invalid config', () => {
    expect(() => sampleViewParams(createRng(1), 4, 16, 16, { ...DEFAULT_AUGMENT, cropScale: [0.5, 0.2] })).toThrow(/cropScale/);
  });
});

describe('applyViews / augmentBatch', () => {
  it('full crop, no flip, zero jitter at the source size is the identity (C=1 and C=3)', () => {
    for (const C of [1, 3]) {
      const images = makeImages(4, 16, 16, C);
      const out = augmentBatch(images, createRng(5), NO_AUG);
      expect(out.shape).toEqual([4, 16, 16, C]);
      expect(maxAbsDiff(out, images)).toBeLessThan(1e-5);
      tf.dispose([images, out]);
    }
  });

  it('full crop to another size equals a plain bilinear resize of the whole image', () => {
    const images = makeImages(3, 20, 20, 3);
    const out = augmentBatch(images, createRng(5), { ...NO_AUG, outputSize: 12 });
    // alignCorners=true matches cropAndResize's pixel-centre convention for box [0,0,1,1].
    const ref = tf.image.resizeBilinear(images, [12, 12], true);
    expect(maxAbsDiff(out, ref)).toBeLessThan(1e-5);
    tf.dispose([images, out, ref]);
  });

  it('a crop box selects the expected pixels', () => {
    // Image whose value encodes the column; crop columns 4..11 and rows 2..9 of a 16x16 image at 8x8.
    const H = 16;
    const data = new Float32Array(H * H);
    for (let y = 0; y < H; y++) for (let x = 0; x < H; x++) data[y * H + x] = (x + 100 * y) / 2000;
    const images = tf.tensor4d(data, [1, H, H, 1]);
    const params = identityParams(1);
    params.boxes.set([2 / 15, 4 / 15, 9 / 15, 11 / 15]);
    const out = applyViews(images, params, 8);
    const v = out.dataSync();
    for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) {
      expect(v[y * 8 + x]).toBeCloseTo((x + 4 + 100 * (y + 2)) / 2000, 5);
    }
    tf.dispose([images, out]);
  });

  it('flipping twice is the identity and the flip mask picks which images are mirrored', () => {
    const B = 5;
    const images = makeImages(B, 12, 12, 3);
    const all = identityParams(B);
    all.flip.fill(1);
    const once = applyViews(images, all, 12);
    const twice = applyViews(once, all, 12);
    expect(maxAbsDiff(twice, images)).toBeLessThan(1e-6);
    expect(maxAbsDiff(once, images)).toBeGreaterThan(0.1);

    const some = identityParams(B);
    some.flip.set([1, 0, 0, 1, 0]);
    const out = applyViews(images, some, 12);
    const mirrored = tf.reverse(images, 2);
    for (let i = 0; i < B; i++) {
      const o = out.slice([i, 0, 0, 0], [1, 12, 12, 3]);
      const expected = (some.flip[i] ? mirrored : images).slice([i, 0, 0, 0], [1, 12, 12, 3]);
      expect(maxAbsDiff(o, expected)).toBeLessThan(1e-6);
      tf.dispose([o, expected]);
    }
    tf.dispose([images, once, twice, out, mirrored]);
  });

  it('zero-strength jitter is the identity even when jitter is always applied', () => {
    const images = makeImages(6, 16, 16, 3);
    const out = augmentBatch(images, createRng(9), { ...NO_AUG, jitterProbability: 1 });
    expect(maxAbsDiff(out, images)).toBeLessThan(1e-5);
    tf.dispose([images, out]);
  });

  it('brightness factor scales the mean', () => {
    // Values in [0.2, 0.5] so x·b with b ≤ 1.6 does not clip.
    const images = tf.tidy(() => tf.add(tf.mul(makeImages(3, 10, 10, 3), 0.3), 0.2)) as tf.Tensor4D;
    const params = identityParams(3);
    params.brightnessFactor.set([0.5, 1.3, 1.6]);
    const out = applyViews(images, params, 10);
    const before = perImageStats(images);
    const after = perImageStats(out);
    for (let i = 0; i < 3; i++) {
      expect(after.mean[i] / before.mean[i]).toBeCloseTo(params.brightnessFactor[i], 4);
    }
    tf.dispose([images, out]);
  });

  it('contrast factor scales the std about the (unchanged) mean', () => {
    const images = tf.tidy(() => tf.add(tf.mul(makeImages(3, 10, 10, 1), 0.4), 0.3)) as tf.Tensor4D;
    const params = identityParams(3);
    params.contrastFactor.set([0.3, 0.8, 1.5]);
    const out = applyViews(images, params, 10);
    const before = perImageStats(images);
    const after = perImageStats(out);
    for (let i = 0; i < 3; i++) {
      expect(after.std[i] / before.std[i]).toBeCloseTo(params.contrastFactor[i], 4);
      expect(after.mean[i]).toBeCloseTo(before.mean[i], 5);
    }
    tf.dispose([images, out]);
  });

  it('contrast on RGB blends toward the grayscale mean', () => {
    const images = makeImages(2, 8, 8, 3);
    const params = identityParams(2);
    params.contrastFactor.set([0, 0]);
    const out = applyViews(images, params, 8);
    // c = 0 → every value is the per-image luma mean m = mean(0.299R + 0.587G + 0.114B).
    const m = tf.tidy(() => tf.mean(tf.sum(tf.mul(images, tf.tensor1d([0.299, 0.587, 0.114])), 3), [1, 2]).dataSync());
    const v = out.dataSync();
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 8 * 8 * 3; j++) expect(v[i * 192 + j]).toBeCloseTo(m[i], 5);
    }
    tf.dispose([images, out]);
  });

  it('the jitter order matters and is selected per image', () => {
    // Brightness 1.8 clips bright pixels, so contrast-then-brightness ≠ brightness-then-contrast.
    const images = makeImages(2, 8, 8, 1);
    const p = identityParams(2);
    p.brightnessFactor.fill(1.8);
    p.contrastFactor.fill(0.5);
    p.jitterOrderBrightnessFirst.set([1, 0]);
    const out = applyViews(images, p, 8);
    const one = images.slice([0, 0, 0, 0], [1, 8, 8, 1]);
    // Reference for image 0: brightness, clip, contrast, clip, in plain JS.
    const x = one.dataSync();
    const b = Array.from(x, (v) => Math.min(1, Math.max(0, v * 1.8)));
    const mb = b.reduce((a, v) => a + v, 0) / b.length;
    const ref0 = b.map((v) => Math.min(1, Math.max(0, (v - mb) * 0.5 + mb)));
    // Image 1: contrast first, then brightness.
    const y = images.slice([1, 0, 0, 0], [1, 8, 8, 1]);
    const yv = Array.from(y.dataSync());
    const my = yv.reduce((a, v) => a + v, 0) / yv.length;
    const ref1 = yv.map((v) => Math.min(1, Math.max(0, Math.min(1, Math.max(0, (v - my) * 0.5 + my)) * 1.8)));
    const o = out.dataSync();
    for (let j = 0; j < 64; j++) {
      expect(o[j]).toBeCloseTo(ref0[j], 5);
      expect(o[64 + j]).toBeCloseTo(ref1[j], 5);
    }
    tf.dispose([images, out, one, y]);
  });

  it('outputs stay within [0,1] under strong augmentation', () => {
    const images = makeImages(8, 24, 24, 3);
    const out = augmentBatch(images, createRng(4), {
      ...DEFAULT_AUGMENT,
      outputSize: 16,
      brightness: 0.9,
      contrast: 0.9,
      jitterProbability: 1,
    });
    expect(out.shape).toEqual([8, 16, 16, 3]);
    const v = out.dataSync();
    expect(Math.min(...v)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...v)).toBeLessThanOrEqual(1);
    tf.dispose([images, out]);
  });

  it('same seed gives identical outputs, a different seed different ones', () => {
    const images = makeImages(4, 20, 20, 3);
    const cfg = { ...DEFAULT_AUGMENT, outputSize: 16 };
    const a = augmentBatch(images, createRng(42), cfg);
    const b = augmentBatch(images, createRng(42), cfg);
    const c = augmentBatch(images, createRng(43), cfg);
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    expect(maxAbsDiff(a, c)).toBeGreaterThan(0.01);
    tf.dispose([images, a, b, c]);
  });

  it('rejects params of the wrong batch size', () => {
    const images = makeImages(2, 8, 8, 1);
    expect(() => applyViews(images, identityParams(3), 8)).toThrow(/batch size/);
    images.dispose();
  });

  it('does not leak tensors', () => {
    const images = makeImages(4, 16, 16, 3);
    const before = tf.memory().numTensors;
    for (let k = 0; k < 3; k++) {
      const out = augmentBatch(images, createRng(k), { ...DEFAULT_AUGMENT, outputSize: 12, jitterProbability: 1 });
      out.dispose();
    }
    const p = identityParams(4);
    p.flip.fill(1);
    applyViews(images, p, 16).dispose();
    expect(tf.memory().numTensors).toBe(before);
    images.dispose();
  });
});

describe('validateAugmentConfig', () => {
  it('accepts the default', () => {
    expect(validateAugmentConfig(DEFAULT_AUGMENT)).toEqual([]);
  });

  const bad: [string, Partial<AugmentConfig>, RegExp][] = [
    ['scale min > max', { cropScale: [0.8, 0.3] }, /cropScale/],
    ['scale 0', { cropScale: [0, 1] }, /cropScale/],
    ['scale > 1', { cropScale: [0.5, 1.2] }, /cropScale/],
    ['ratio min > max', { cropRatio: [2, 1] }, /cropRatio/],
    ['ratio ≤ 0', { cropRatio: [0, 1] }, /cropRatio/],
    ['negative ratio', { cropRatio: [-1, 1] }, /cropRatio/],
    ['flip probability > 1', { flipProbability: 1.5 }, /flipProbability/],
    ['flip probability < 0', { flipProbability: -0.1 }, /flipProbability/],
    ['jitter probability > 1', { jitterProbability: 2 }, /jitterProbability/],
    ['negative brightness', { brightness: -0.1 }, /brightness/],
    ['negative contrast', { contrast: -1 }, /contrast/],
    ['NaN contrast', { contrast: Number.NaN }, /contrast/],
    ['outputSize not integer', { outputSize: 15.5 }, /outputSize/],
    ['outputSize too small', { outputSize: 4 }, /outputSize/],
    ['outputSize too large', { outputSize: 256 }, /outputSize/],
  ];
  for (const [name, patch, re] of bad) {
    it(`catches ${name}`, () => {
      const problems = validateAugmentConfig({ ...DEFAULT_AUGMENT, ...patch });
      expect(problems.length).toBe(1);
      expect(problems[0]).toMatch(re);
    });
  }
});
