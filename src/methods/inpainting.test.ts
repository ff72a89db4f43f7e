import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { methodUnfitReason, METHOD_SETTING_DEFAULTS } from '../core/methods';
import { createRng } from '../core/random';
import { toyDataset } from '../train/toyDataset.testutil';
import { Trainer } from '../train/trainer';
import {
  cropArray, cropRegions, inpaintingBaselines, inpaintRegions, MapDecoder, maskViews, pasteRegion, regionMaskArray,
  regionMasks, regionMse, regionSide, upsampleMap, visibleMean, type Region,
} from './inpainting';
import type { StepMetrics } from '../train/protocol';
import type { MethodState } from './method';
import { checkMethodBasics, checkResumesExactly, methodConfig, trainSteps } from './methodHarness.testutil';

await tf.setBackend('cpu');

/** A [n, s, s, c] batch of random values in [0, 1) from a seed. */
function randomBatch(n: number, s: number, c: number, seed = 5): tf.Tensor4D {
  const rng = createRng(seed);
  return tf.tensor4d(Float32Array.from({ length: n * s * s * c }, () => rng()), [n, s, s, c]);
}

const inside = (region: Region, side: number, i: number, j: number) =>
  i >= region.top && i < region.top + side && j >= region.left && j < region.left + side;

describe('context encoder views', () => {
  it('hides half the side: the central square is centred (an odd margin puts the extra pixel below and right)', () => {
    expect(regionSide(12)).toBe(6);
    expect(inpaintRegions(3, 12, 'central', createRng(1))).toEqual([{ top: 3, left: 3 }, { top: 3, left: 3 }, { top: 3, left: 3 }]);
    // 28 px, the default view: the central 14 × 14, margins of 7 on every side
    expect(inpaintRegions(1, 28, 'central', createRng(1))).toEqual([{ top: 7, left: 7 }]);
    const [odd] = inpaintRegions(1, 13, 'central', createRng(1));
    expect(regionSide(13)).toBe(6);
    expect(odd).toEqual({ top: 3, left: 3 });
    expect(13 - (odd.top + 6) - odd.top).toBe(1);
  });

  it('places random squares inside the view, everywhere it can, the same for one seed', () => {
    const size = 12;
    const side = regionSide(size);
    const regions = inpaintRegions(2000, size, 'random', createRng(9));
    for (const { top, left } of regions) {
      expect(Number.isInteger(top) && Number.isInteger(left)).toBe(true);
      expect(top).toBeGreaterThanOrEqual(0);
      expect(left).toBeGreaterThanOrEqual(0);
      expect(top + side).toBeLessThanOrEqual(size);
      expect(left + side).toBeLessThanOrEqual(size);
    }
    // all 7 × 7 places occur
    expect(new Set(regions.map((r) => `${r.top},${r.left}`)).size).toBe((size - side + 1) ** 2);
    expect(inpaintRegions(20, size, 'random', createRng(9))).toEqual(regions.slice(0, 20));
  });

  it('masks exactly the region: side² ones at its rows and columns, nothing else', () => {
    const size = 12;
    const side = regionSide(size);
    const regions = [...inpaintRegions(2, size, 'central', createRng(2)), ...inpaintRegions(3, size, 'random', createRng(2))];
    const masks = regionMasks(regions, size);
    expect(masks.shape).toEqual([5, size, size, 1]);
    const values = masks.dataSync();
    regions.forEach((region, b) => {
      const reference = regionMaskArray(region, size);
      for (let i = 0; i < size; i++) {
        for (let j = 0; j < size; j++) {
          const expected = inside(region, side, i, j) ? 1 : 0;
          expect(reference[i * size + j]).toBe(expected);
          expect(values[(b * size + i) * size + j]).toBe(expected);
        }
      }
    });
    expect(Array.from(values).reduce((a, v) => a + v, 0)).toBe(5 * side * side);
    masks.dispose();
  });

  it('fills the region with the visible pixels’ mean colour and leaves every other pixel as it was', () => {
    const [n, size, c] = [3, 12, 3];
    const side = regionSide(size);
    const views = randomBatch(n, size, c);
    const regions = inpaintRegions(n, size, 'random', createRng(4));
    const masks = regionMasks(regions, size);
    const fill = visibleMean(views, masks);
    const masked = maskViews(views, masks, fill);
    const x = views.dataSync();
    const out = masked.dataSync();
    // the fill: float64 mean of each channel over the pixels outside the regions
    const sums = [0, 0, 0];
    let visible = 0;
    regions.forEach((region, b) => {
      for (let i = 0; i < size; i++) {
        for (let j = 0; j < size; j++) {
          if (inside(region, side, i, j)) continue;
          visible += 1;
          for (let k = 0; k < c; k++) sums[k] += x[((b * size + i) * size + j) * c + k];
        }
      }
    });
    const expectedFill = sums.map((s) => s / visible);
    Array.from(fill.dataSync()).forEach((v, k) => expect(v).toBeCloseTo(expectedFill[k], 5));
    regions.forEach((region, b) => {
      for (let i = 0; i < size; i++) {
        for (let j = 0; j < size; j++) {
          for (let k = 0; k < c; k++) {
            const at = ((b * size + i) * size + j) * c + k;
            if (inside(region, side, i, j)) expect(out[at]).toBeCloseTo(expectedFill[k], 5);
            else expect(out[at]).toBe(x[at]);
          }
        }
      }
    });
    tf.dispose([views, masks, fill, masked]);
  });

  it('cuts the hidden squares out pixel for pixel, and pastes a patch back over them only', () => {
    const [n, size, c] = [4, 12, 3];
    const views = tf.tensor4d(Float32Array.from({ length: n * size * size * c }, (_, i) => i), [n, size, size, c]);
    const regions = inpaintRegions(n, size, 'random', createRng(6));
    const crops = cropRegions(views, regions);
    const side = regionSide(size);
    expect(crops.shape).toEqual([n, side, side, c]);
    const x = views.dataSync();
    const per = size * size * c;
    const perRegion = side * side * c;
    regions.forEach((region, b) => {
      const image = x.subarray(b * per, (b + 1) * per);
      const crop = crops.dataSync().subarray(b * perRegion, (b + 1) * perRegion);
      expect(Array.from(crop)).toEqual(Array.from(cropArray(image, size, c, region)));
      // the top-left of the crop is the region's corner
      expect(crop[0]).toBe(image[(region.top * size + region.left) * c]);
      const patch = Float32Array.from({ length: perRegion }, () => -1);
      const pasted = pasteRegion(image, size, c, region, patch);
      for (let i = 0; i < size; i++) {
        for (let j = 0; j < size; j++) {
          for (let k = 0; k < c; k++) {
            const at = (i * size + j) * c + k;
            expect(pasted[at]).toBe(inside(region, side, i, j) ? -1 : image[at]);
          }
        }
      }
    });
    tf.dispose([views, crops]);
  });
});

describe('context encoder loss and decoder', () => {
  it('scores the mean squared error over the hidden pixels only, as a float64 sum over the masks does', () => {
    const [n, size, c] = [3, 12, 3];
    const side = regionSide(size);
    const views = randomBatch(n, size, c, 7);
    const regions = inpaintRegions(n, size, 'random', createRng(8));
    const predicted = randomBatch(n, side, c, 9);
    const truth = cropRegions(views, regions);
    const loss = regionMse(predicted, truth).dataSync()[0];
    // float64: paste each prediction into its view, then sum over the pixels the mask marks
    const x = views.dataSync();
    const p = predicted.dataSync();
    let sum = 0;
    let count = 0;
    regions.forEach((region, b) => {
      const mask = regionMaskArray(region, size);
      const pasted = pasteRegion(x.subarray(b * size * size * c, (b + 1) * size * size * c), size, c, region, p.subarray(b * side * side * c, (b + 1) * side * side * c));
      for (let q = 0; q < size * size; q++) {
        if (!mask[q]) continue;
        for (let k = 0; k < c; k++) {
          sum += (pasted[q * c + k] - x[b * size * size * c + q * c + k]) ** 2;
          count += 1;
        }
      }
    });
    expect(count).toBe(n * side * side * c);
    expect(loss).toBeCloseTo(sum / count, 6);
    // a perfect painting scores 0
    expect(regionMse(truth, truth).dataSync()[0]).toBe(0);
    tf.dispose([views, predicted, truth]);
  });

  it('gives the blind and flat baselines of a float64 reference: per-pixel and per-region variances', () => {
    const [n, side, c] = [4, 5, 3];
    const truth = randomBatch(n, side, c, 12);
    const { blind, flat } = inpaintingBaselines(truth);
    const t = Array.from(truth.dataSync());
    const at = (b: number, q: number, k: number) => t[(b * side * side + q) * c + k];
    let blindSum = 0;
    let flatSum = 0;
    for (let q = 0; q < side * side; q++) {
      for (let k = 0; k < c; k++) {
        let mean = 0;
        for (let b = 0; b < n; b++) mean += at(b, q, k) / n;
        for (let b = 0; b < n; b++) blindSum += (at(b, q, k) - mean) ** 2;
      }
    }
    for (let b = 0; b < n; b++) {
      for (let k = 0; k < c; k++) {
        let mean = 0;
        for (let q = 0; q < side * side; q++) mean += at(b, q, k) / (side * side);
        for (let q = 0; q < side * side; q++) flatSum += (at(b, q, k) - mean) ** 2;
      }
    }
    expect(blind.dataSync()[0]).toBeCloseTo(blindSum / t.length, 6);
    expect(flat.dataSync()[0]).toBeCloseTo(flatSum / t.length, 6);
    tf.dispose([truth, blind, flat]);
  });

  it('decodes h to a g×g grid of maps and upsamples it bilinearly, corners on corners', () => {
    const decoder = new MapDecoder(8, 8, 4, 3, 1, 0x11);
    const rng = createRng(3);
    const h = tf.tensor2d(Float32Array.from({ length: 40 }, () => rng()), [5, 8]);
    const grid = decoder.gridMap(h);
    expect(grid.shape).toEqual([5, 4, 4, 3]);
    const up = upsampleMap(grid, 10);
    expect(up.shape).toEqual([5, 10, 10, 3]);
    // alignCorners: the corners of the map are the corners of the grid
    const g = grid.arraySync();
    const u = up.arraySync();
    expect(u[0][0][0][0]).toBeCloseTo(g[0][0][0][0], 6);
    expect(u[2][9][9][2]).toBeCloseTo(g[2][3][3][2], 6);
    // a grid as large as the map is passed through
    expect(Array.from(upsampleMap(grid, 4).dataSync())).toEqual(Array.from(grid.dataSync()));
    expect(decoder.bytes).toBe(4 * (8 * 8 + 8 + 8 * 16 * 16 + 16 * 16 + 16 * 3 + 3));
    tf.dispose([h, grid, up]);
    decoder.dispose();
  });

  it('refuses views too small for a region worth painting, in a sentence', () => {
    const shape = { name: 'toy', channels: 1 as const, imageSize: 12, trainCount: 64 };
    const settings = { ...METHOD_SETTING_DEFAULTS, batchSize: 16, imageSize: 6 };
    expect(methodUnfitReason('inpainting', shape, settings)).toMatch(/^Inpainting needs views of at least 8 px.*\.$/);
    expect(methodUnfitReason('inpainting', shape, { ...settings, imageSize: 8 })).toBeNull();
  });
});

describe('context encoder through the training loop', () => {
  it('trains with a finite, falling loss, leaks nothing and repeats for one seed; the loss falls below the blind decoder', async () => {
    const steps = await checkMethodBasics(methodConfig('inpainting'));
    for (const m of steps) {
      expect(m.values.blindDecoderMse).toBeGreaterThan(0);
      expect(m.values.flatColourMse).toBeGreaterThan(0);
      expect(Number.isNaN(m.alignment)).toBe(true);
    }
    const late = steps.slice(-5);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(late.map((m) => m.loss))).toBeLessThan(mean(late.map((m) => m.values.blindDecoderMse)));
  });

  it('trains with random squares too (the setting applies without a reset)', async () => {
    const trainer = new Trainer(toyDataset(64, 16), methodConfig('inpainting', { inpaintMask: 'random' }));
    const steps = await trainSteps(trainer, 4);
    for (const m of steps) expect(Number.isFinite(m.loss)).toBe(true);
    trainer.dispose();
  });

  it('captures an instrument: masked inputs, the painting pasted in, the truth, per-example MSE; no tensor left', async () => {
    const before = tf.memory().numTensors;
    const trainer = new Trainer(toyDataset(64, 16), methodConfig('inpainting', { inpaintMask: 'random' }));
    await trainSteps(trainer, 2);
    trainer.captureAffinity = true;
    await trainer.trainStep();
    const snapshot = trainer.taskSnapshot!;
    expect(snapshot.method).toBe('inpainting');
    expect(snapshot.count).toBe(8);
    expect(snapshot.rows.map((r) => r.label)).toEqual(['masked input', 'prediction pasted in', 'truth']);
    const { size, channels } = snapshot.rows[0];
    expect([size, channels]).toEqual([12, 1]);
    for (const row of snapshot.rows) expect(row.images.length).toBe(8 * size * size * channels);
    expect(snapshot.correct).toBeUndefined();
    expect(snapshot.confusion).toBeUndefined();
    expect(snapshot.summary).toMatch(/^Hidden-region MSE \d\.\d{4} over the batch’s 16 regions of 6×6 px/);
    const per = size * size;
    const [masked, pasted, truth] = snapshot.rows.map((r) => r.images);
    snapshot.captions.forEach((caption, e) => {
      const m = masked.subarray(e * per, (e + 1) * per);
      const p = pasted.subarray(e * per, (e + 1) * per);
      const t = truth.subarray(e * per, (e + 1) * per);
      // the pixels that differ between the masked input and the truth, or between the painting and the masked input, are in one 6×6 square
      const changed = Array.from(p, (v, q) => (v !== m[q] ? q : -1)).filter((q) => q >= 0);
      const rows = changed.map((q) => Math.floor(q / size));
      const cols = changed.map((q) => q % size);
      expect(Math.max(...rows) - Math.min(...rows)).toBeLessThan(6);
      expect(Math.max(...cols) - Math.min(...cols)).toBeLessThan(6);
      const region = { top: Math.min(...rows), left: Math.min(...cols) };
      // outside the square the masked input is the view
      for (let q = 0; q < per; q++) if (!inside(region, 6, Math.floor(q / size), q % size)) expect(m[q]).toBe(t[q]);
      // the caption's MSE is that of the painting against the truth on the square
      const painted = cropArray(p, size, 1, region);
      const hidden = cropArray(t, size, 1, region);
      const mse = painted.reduce((s, v, k) => s + (v - hidden[k]) ** 2, 0) / 36;
      expect(caption).toBe(`MSE ${mse.toFixed(4)}`);
    });
    trainer.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('the context encoder resumes from a checkpoint', () => {
  // random squares: the central one never draws from the stream
  const config = methodConfig('inpainting', { inpaintMask: 'random' });

  it('saves the random squares’ stream where it stands; resumed, the squares and losses are the uninterrupted run’s', async () => {
    const dataset = toyDataset(48, 8);
    const fresh = new Trainer(dataset, config);
    const trained = new Trainer(dataset, config);
    await trainSteps(trained, 1);
    const [before, after] = [await fresh.method.saveState(), await trained.method.saveState()];
    expect(Object.keys(after.values)).toEqual(['regionRng']);
    expect(after.arrays).toEqual({});
    expect(after.values.regionRng).not.toBe(before.values.regionRng);
    fresh.dispose();
    trained.dispose();
    // every step after the checkpoint at step 2 hides new squares; 48 images in batches of 16, so the batch order is
    // drawn afresh at step 4 too
    await checkResumesExactly(config, { before: 2, after: 2, dataset });
  }, 20_000);

  it('saves the stream under the central square too, where the setting can turn to random squares mid-run', async () => {
    const trainer = new Trainer(toyDataset(32, 8), methodConfig('inpainting'));
    await trainSteps(trainer, 1);
    expect(Object.keys((await trainer.method.saveState()).values)).toEqual(['regionRng']);
    trainer.dispose();
  });

  it('refuses another method’s state or a broken stream, naming the entry, and changes nothing', async () => {
    const dataset = toyDataset(32, 8);
    const refused = new Trainer(dataset, config);
    const untouched = new Trainer(dataset, config);
    const bank = { dtype: 'float32' as const, shape: [32, 16], data: new Float32Array(32 * 16) };
    const cases: [MethodState, RegExp][] = [
      [{ arrays: { bank }, values: {} }, /“bank”, which Inpainting does not keep/],
      // its own stream beside a foreign entry: refused before the stream is touched
      [{ arrays: {}, values: { regionRng: 12345, jitterRng: 3 } }, /“jitterRng”, which Inpainting does not keep/],
      [{ arrays: {}, values: { regionRng: 0.5 } }, /lacks Inpainting’s “regionRng” \(a whole number\)/],
    ];
    for (const [state, entry] of cases) expect(() => refused.method.loadState(state)).toThrow(entry);
    // the squares show in the first step's loss and both baselines
    const seen = (m: StepMetrics) => [m.loss, m.values, m.uniformity, m.collapseStd];
    expect((await trainSteps(refused, 1)).map(seen)).toEqual((await trainSteps(untouched, 1)).map(seen));
    refused.dispose();
    untouched.dispose();
  });
});
