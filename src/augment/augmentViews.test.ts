import * as tf from '@tensorflow/tfjs';
await tf.setBackend('cpu');

import { describe, expect, it } from 'vitest';
import {
  applyViews, augmentViews, pixelCropToBox, sampleCropBox, sampleViewParams, type ViewParams, type ViewStep,
} from './augmentViews';
import { OPERATOR_KINDS, presetPipeline, simclrPipeline, type AugmentPipeline, type OperatorKind } from '../core/pipeline';
import { createRng } from '../core/random';

function randomImages(B: number, H: number, W: number, C: number, seed = 1): tf.Tensor4D {
  const rng = createRng(seed);
  return tf.tensor4d(Float32Array.from({ length: B * H * W * C }, () => rng()), [B, H, W, C]);
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

/** SimCLR's pipeline with every operator switched on. */
function everything(): AugmentPipeline {
  const pipeline = simclrPipeline();
  for (const op of pipeline.operators) op.enabled = true;
  return pipeline;
}

/** A pipeline with every operator enabled and edited by `edit`. */
function withOperators(edit: (op: AugmentPipeline['operators'][number]) => void, base = everything()): AugmentPipeline {
  for (const op of base.operators) edit(op);
  return base;
}

const stepOf = (params: ViewParams, kind: OperatorKind): ViewStep => params.steps.find((s) => s.kind === kind)!;

describe('sampleCropBox', () => {
  it('crops lie inside the source with area fraction within scale and ratio within range', () => {
    const [H, W] = [48, 40];
    const scale: [number, number] = [0.2, 1];
    const ratio: [number, number] = [3 / 4, 4 / 3];
    const rng = createRng(7);
    // rounding w and h to whole pixels moves the area by at most ½(w + h) + ¼ px², the ratio by a pixel's worth
    const slack = (0.5 * (H + W) + 0.25) / (H * W);
    let accepted = 0;
    for (let i = 0; i < 500; i++) {
      const crop = sampleCropBox(rng, H, W, scale, ratio);
      expect(crop.top).toBeGreaterThanOrEqual(0);
      expect(crop.left).toBeGreaterThanOrEqual(0);
      expect(crop.top + crop.height).toBeLessThanOrEqual(H);
      expect(crop.left + crop.width).toBeLessThanOrEqual(W);
      if (crop.fallback) continue;
      accepted++;
      const fraction = (crop.height * crop.width) / (H * W);
      expect(fraction).toBeGreaterThanOrEqual(scale[0] - slack);
      expect(fraction).toBeLessThanOrEqual(scale[1] + slack);
      expect(crop.width / crop.height).toBeGreaterThan(ratio[0] * 0.8);
      expect(crop.width / crop.height).toBeLessThan(ratio[1] * 1.25);
    }
    expect(accepted).toBeGreaterThan(450);
  });

  it('always takes the same number of draws, whether the first attempt fits or none does', () => {
    const a = createRng(3);
    const b = createRng(3);
    sampleCropBox(a, 32, 32, [0.2, 0.3], [1, 1]); // fits at once
    const fallback = sampleCropBox(b, 32, 32, [1, 1], [3, 4]); // never fits
    expect(fallback.fallback).toBe(true);
    expect(a()).toBe(b());
  });

  it('maps a pixel crop to cropAndResize’s pixel-centre box', () => {
    expect(pixelCropToBox({ top: 2, left: 1, height: 4, width: 4, fallback: false }, 8, 8)).toEqual([2 / 7, 1 / 7, 5 / 7, 4 / 7]);
    expect(pixelCropToBox({ top: 0, left: 0, height: 8, width: 6, fallback: false }, 8, 6)).toEqual([0, 0, 1, 1]);
  });
});

describe('sampleViewParams', () => {
  it('draws crop boxes that match their pixel crops and lie inside the source', () => {
    const [H, W] = [28, 28];
    const params = sampleViewParams(createRng(1), 64, H, W, 1, presetPipeline('crop-only'), 16);
    const crop = stepOf(params, 'crop');
    if (crop.kind !== 'crop') throw new Error('no crop step');
    for (let b = 0; b < 64; b++) {
      const [top, left, height, width] = crop.crops.subarray(b * 4, b * 4 + 4);
      expect(top + height).toBeLessThanOrEqual(H);
      expect(left + width).toBeLessThanOrEqual(W);
      const box = Array.from(crop.boxes.subarray(b * 4, b * 4 + 4));
      const expected = pixelCropToBox({ top, left, height, width, fallback: false }, H, W);
      box.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 6));
      expect((height * width) / (H * W)).toBeGreaterThan(0.2 - 0.04);
    }
  });

  it('draws SimCLR’s jitter factors: b, c, s in [1 − 0.8s, 1 + 0.8s], |h| ≤ 0.2s, a permutation per image, identity where it does not fire', () => {
    const strength = 0.5;
    const params = sampleViewParams(createRng(2), 200, 8, 8, 3, presetPipeline('crop-color'), 8);
    const jitter = stepOf(params, 'colorJitter');
    if (jitter.kind !== 'colorJitter') throw new Error('no jitter step');
    let fired = 0;
    for (let b = 0; b < 200; b++) {
      expect([...jitter.order.subarray(b * 4, b * 4 + 4)].sort()).toEqual([0, 1, 2, 3]);
      if (!jitter.mask[b]) {
        expect([jitter.brightness[b], jitter.contrast[b], jitter.saturation[b], jitter.hue[b]]).toEqual([1, 1, 1, 0]);
        continue;
      }
      fired++;
      for (const f of [jitter.brightness[b], jitter.contrast[b], jitter.saturation[b]]) {
        expect(f).toBeGreaterThanOrEqual(1 - 0.8 * strength - 1e-6);
        expect(f).toBeLessThanOrEqual(1 + 0.8 * strength + 1e-6);
      }
      expect(Math.abs(jitter.hue[b])).toBeLessThanOrEqual(0.2 * strength + 1e-6);
    }
    // p = 0.8
    expect(fired / 200).toBeGreaterThan(0.7);
    expect(fired / 200).toBeLessThan(0.9);
  });

  it('fires each operator with probability p', () => {
    const pipeline = withOperators((op) => { op.p = 0.3; });
    const params = sampleViewParams(createRng(4), 2000, 8, 8, 3, pipeline, 8);
    for (const step of params.steps) {
      const fired = step.kind === 'rotate' ? step.quarterTurns : 'mask' in step ? step.mask : null;
      if (!fired) continue;
      const rate = fired.reduce((n: number, v: number) => n + (v ? 1 : 0), 0) / 2000;
      expect(rate, step.kind).toBeGreaterThan(0.25);
      expect(rate, step.kind).toBeLessThan(0.35);
    }
  });

  it('gives the same parameters for the same seed and different ones for another seed', () => {
    const a = sampleViewParams(createRng(5), 8, 12, 12, 3, everything(), 10);
    const b = sampleViewParams(createRng(5), 8, 12, 12, 3, everything(), 10);
    const c = sampleViewParams(createRng(6), 8, 12, 12, 3, everything(), 10);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('toggling, retuning or moving one operator leaves the other operators’ draws and the rng’s next value unchanged', () => {
    const draw = (pipeline: AugmentPipeline) => {
      const rng = createRng(11);
      const params = sampleViewParams(rng, 16, 12, 12, 3, pipeline, 12);
      return { params, next: rng() };
    };
    const reference = draw(everything());
    for (const kind of OPERATOR_KINDS) {
      const variants: AugmentPipeline[] = [
        withOperators((op) => { if (op.kind === kind) op.enabled = false; }),
        withOperators((op) => { if (op.kind === kind) op.p = 0.1; }),
        { operators: everything().operators.filter((op) => op.kind !== kind) },
        // moved to the end (source and view are both 12 px, so sizes do not change)
        { operators: [...everything().operators.filter((op) => op.kind !== kind), everything().operators.find((op) => op.kind === kind)!] },
      ];
      for (const variant of variants) {
        const changed = draw(variant);
        expect(changed.next).toBe(reference.next);
        for (const step of changed.params.steps) {
          if (step.kind === kind) continue;
          expect(step, `${step.kind} after changing ${kind}`).toEqual(stepOf(reference.params, step.kind));
        }
      }
    }
  });

  it('keeps the first cutout squares when count grows', () => {
    const one = withOperators((op) => { if (op.kind === 'cutout') op.p = 1; });
    const three = withOperators((op) => {
      if (op.kind === 'cutout') Object.assign(op, { p: 1, count: 3 });
    });
    const a = stepOf(sampleViewParams(createRng(1), 4, 10, 10, 1, one, 10), 'cutout');
    const b = stepOf(sampleViewParams(createRng(1), 4, 10, 10, 1, three, 10), 'cutout');
    if (a.kind !== 'cutout' || b.kind !== 'cutout') throw new Error('no cutout step');
    for (let i = 0; i < 4; i++) expect(a.squares.subarray(i * 4, i * 4 + 4)).toEqual(b.squares.subarray(i * 12, i * 12 + 4));
    // squares are inside the 10×10 view, side round(0.25·10) = 3 (rounds half up)
    for (let i = 0; i < b.squares.length; i += 4) {
      expect(b.squares[i + 2]).toBe(3);
      expect(b.squares[i] + b.squares[i + 2]).toBeLessThanOrEqual(10);
      expect(b.squares[i + 1] + b.squares[i + 3]).toBeLessThanOrEqual(10);
    }
  });

  it('refuses an invalid pipeline with its messages', () => {
    const bad = withOperators((op) => { if (op.kind === 'crop') op.scale = [0.9, 0.1]; });
    expect(() => sampleViewParams(createRng(1), 2, 8, 8, 1, bad, 8)).toThrow(/scale/);
  });
});

describe('applyViews / augmentViews', () => {
  it('the `none` preset at the source size returns the images unchanged (C = 1 and 3)', () => {
    for (const C of [1, 3]) {
      const x = randomImages(4, 16, 16, C);
      const before = tf.memory().numTensors;
      const views = augmentViews(x, createRng(1), presetPipeline('none'), 16);
      expect(views.shape).toEqual([4, 16, 16, C]);
      expect(maxAbsDiff(views, x)).toBeLessThan(1e-6);
      views.dispose();
      expect(tf.memory().numTensors).toBe(before);
      x.dispose();
    }
  });

  it('with the crop disabled, resizes the whole image (align corners: corners kept)', () => {
    const x = randomImages(2, 16, 16, 1);
    const views = augmentViews(x, createRng(1), presetPipeline('none'), 7);
    expect(views.shape).toEqual([2, 7, 7, 1]);
    const [v, s] = [views.arraySync(), x.arraySync()];
    expect(v[1][0][0][0]).toBeCloseTo(s[1][0][0][0], 6);
    expect(v[1][6][6][0]).toBeCloseTo(s[1][15][15][0], 6);
    tf.dispose([x, views]);
  });

  it('zero-strength jitter, σ = 0 blur and noise, p = 0 rotation and sobel are the identity', () => {
    const pipeline = withOperators((op) => {
      if (op.kind === 'crop' || op.kind === 'flip' || op.kind === 'grayscale' || op.kind === 'cutout') op.enabled = false;
      if (op.kind === 'colorJitter') Object.assign(op, { p: 1, strength: 0 });
      if (op.kind === 'blur') Object.assign(op, { p: 1, sigma: [0, 0] });
      if (op.kind === 'noise') Object.assign(op, { p: 1, sigma: 0 });
      if (op.kind === 'rotate' || op.kind === 'sobel') op.p = 0;
    });
    const x = randomImages(6, 12, 12, 3);
    const views = augmentViews(x, createRng(3), pipeline, 12);
    expect(maxAbsDiff(views, x)).toBe(0);
    tf.dispose([x, views]);
  });

  it('every operator on, strong settings: views have the right shape and stay in [0, 1], without leaks', () => {
    const strong = withOperators((op) => {
      op.p = 1;
      if (op.kind === 'colorJitter') op.strength = 2;
      if (op.kind === 'blur') op.sigma = [1, 4];
      if (op.kind === 'noise') op.sigma = 0.5;
      if (op.kind === 'cutout') op.count = 3;
    });
    for (const [pipeline, C] of [[everything(), 3], [strong, 3], [strong, 1]] as const) {
      const x = randomImages(8, 20, 20, C, C);
      const before = tf.memory().numTensors;
      const views = augmentViews(x, createRng(C), pipeline, 14);
      expect(views.shape).toEqual([8, 14, 14, C]);
      const [lo, hi] = tf.tidy(() => [tf.min(views).dataSync()[0], tf.max(views).dataSync()[0]]);
      expect(lo).toBeGreaterThanOrEqual(0);
      expect(hi).toBeLessThanOrEqual(1);
      views.dispose();
      expect(tf.memory().numTensors).toBe(before);
      x.dispose();
    }
  });

  it('is deterministic for a seed and differs for another seed', () => {
    const x = randomImages(6, 16, 16, 3);
    const a = augmentViews(x, createRng(9), everything(), 12);
    const b = augmentViews(x, createRng(9), everything(), 12);
    const c = augmentViews(x, createRng(10), everything(), 12);
    expect(maxAbsDiff(a, b)).toBe(0);
    expect(maxAbsDiff(a, c)).toBeGreaterThan(0.1);
    tf.dispose([x, a, b, c]);
  });

  it('applies the sampled crop: a crop-only view equals the sampled box resized', () => {
    const x = randomImages(3, 16, 16, 1);
    const params = sampleViewParams(createRng(2), 3, 16, 16, 1, presetPipeline('crop-only'), 8);
    const crop = stepOf(params, 'crop');
    if (crop.kind !== 'crop') throw new Error('no crop step');
    const views = applyViews(x, params);
    const expected = tf.tidy(() => tf.image.cropAndResize(x, tf.tensor2d(crop.boxes, [3, 4]), tf.tensor1d([0, 1, 2], 'int32'), [8, 8]));
    expect(maxAbsDiff(views, expected)).toBeLessThan(1e-6);
    tf.dispose([x, views, expected]);
  });

  it('runs operators placed before the crop at the source size, even on a non-square source', () => {
    const pipeline = withOperators((op) => { op.p = 1; });
    // move rotate, noise and cutout in front of the crop
    const front = pipeline.operators.filter((op) => ['rotate', 'noise', 'cutout'].includes(op.kind));
    pipeline.operators = [...front, ...pipeline.operators.filter((op) => !front.includes(op))];
    const params = sampleViewParams(createRng(4), 3, 12, 9, 3, pipeline, 8);
    const noise = stepOf(params, 'noise');
    const rotate = stepOf(params, 'rotate');
    if (noise.kind !== 'noise' || rotate.kind !== 'rotate') throw new Error('missing steps');
    expect(noise.noise!.length).toBe(3 * 12 * 9 * 3);
    expect([...rotate.quarterTurns]).toEqual([2, 2, 2]); // only half turns keep a 12×9 image's shape
    const x = randomImages(3, 12, 9, 3);
    const views = applyViews(x, params);
    expect(views.shape).toEqual([3, 8, 8, 3]);
    tf.dispose([x, views]);
  });

  it('refuses parameters drawn for another batch', () => {
    const x = randomImages(2, 8, 8, 1);
    const params = sampleViewParams(createRng(1), 3, 8, 8, 1, everything(), 8);
    expect(() => applyViews(x, params)).toThrow(/sample them again/);
    x.dispose();
  });
});
