import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../core/config';
import { METHOD_SETTING_FIELDS, lossReference, methodUnfitReason } from '../core/methods';
import { presetPipeline } from '../core/pipeline';
import { JIGSAW_MAX_PERMUTATIONS, JIGSAW_MIN_VIEW } from '../core/pretext/jigsaw';
import { createRng } from '../core/random';
import { softmaxCrossEntropy } from '../loss/classification';
import { toyDataset } from '../train/toyDataset.testutil';
import { Trainer } from '../train/trainer';
import { taskSnapshotProblem } from '../core/taskSnapshot';
import { concatenatedTiles, jigsawGrid, jigsawPictures } from './jigsaw';
import type { StepMetrics } from '../train/protocol';
import type { MethodState } from './method';
import { checkMethodBasics, checkResumesExactly, methodConfig, trainSteps } from './methodHarness.testutil';
import { FusionHead, cropArray, cutTiles, hammingPermutations, inversePermutation, jitteredBoxes, permuteItems, pictureGap } from './tiles';

await tf.setBackend('cpu');

/** 24 px views: the toy set's 12 px images are too small for the tiles (20 px at least), so the views are resized. */
const VIEW = 24;

/** The 9 tiles of a composed 3×3 picture (side 3t + 2·gap), in cell order. */
function tilesOf(picture: Float32Array, tile: number, channels: number): Float32Array[] {
  const gap = pictureGap(tile);
  const side = 3 * tile + 2 * gap;
  return Array.from({ length: 9 }, (_, i) => cropArray(picture, side, channels, { top: Math.floor(i / 3) * (tile + gap), left: (i % 3) * (tile + gap), size: tile }));
}

const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => v === b[i]);

describe('the shuffled tiles and their head', () => {
  it('shuffles by cutting in shuffled order: slot i of each view is its tile σ[i], and the features sit side by side in slot order', () => {
    const [n, c] = [2, 3];
    const views = tf.tensor4d(Float32Array.from({ length: n * VIEW * VIEW * c }, (_, i) => i), [n, VIEW, VIEW, c]);
    const pixels = views.dataSync();
    const grid = jigsawGrid(VIEW);
    const rng = createRng(4);
    const boxes = [jitteredBoxes(grid, rng), jitteredBoxes(grid, rng)];
    const sigmas = hammingPermutations(30).slice(7, 9);
    const cut = cutTiles(views, boxes.map((perView, b) => permuteItems(perView, sigmas[b])));
    const values = cut.dataSync();
    const per = grid.patch * grid.patch * c;
    for (let b = 0; b < n; b++) {
      for (let i = 0; i < 9; i++) {
        const tile = cropArray(pixels.subarray(b * VIEW * VIEW * c, (b + 1) * VIEW * VIEW * c), VIEW, c, boxes[b][sigmas[b][i]]);
        expect(Array.from(values.subarray((9 * b + i) * per, (9 * b + i + 1) * per))).toEqual(Array.from(tile));
      }
    }
    // h of the 9n tiles (rows 9b + slot) → one row per view, [h_slot0, …, h_slot8]
    const h = tf.tensor2d(Float32Array.from({ length: 9 * n * 2 }, (_, i) => i), [9 * n, 2]);
    const rows = concatenatedTiles(h).arraySync();
    expect(rows[1]).toEqual(Array.from({ length: 18 }, (_, i) => 18 + i));
    expect(() => concatenatedTiles(tf.zeros([10, 2]) as tf.Tensor2D)).toThrow(/9 tiles/);
    tf.dispose([views, cut, h]);
  });

  it('starts at log P exactly, a head that cannot tell the permutations apart, as the loss chart’s line says', () => {
    const [n, d, p] = [5, 4, 30];
    const head = new FusionHead(9 * d, d, p, 2, 0x1195);
    const h = tf.randomNormal([9 * n, d]) as tf.Tensor2D;
    const labels = tf.tensor1d([0, 3, 29, 7, 12], 'int32');
    const loss = tf.tidy(() => softmaxCrossEntropy(head.logits(concatenatedTiles(h)), labels));
    expect(loss.dataSync()[0]).toBeCloseTo(Math.log(p), 5);
    const settings = { batchSize: 16, queueSize: 1, projectionDim: 8 };
    expect(lossReference('jigsaw', { ...settings, jigsawPermutations: 30 }, 100)!.label).toBe('log P = 3.40');
    expect(lossReference('jigsaw', { ...settings, jigsawPermutations: 100 }, 100)!.value).toBeCloseTo(Math.log(100), 12);
    tf.dispose([h, labels, loss]);
    head.dispose();
  });

  it('puts the tiles back by the inverse of the head’s answer: the original exactly when the answer is right', () => {
    const rng = createRng(6);
    const tiles = Array.from({ length: 9 }, () => Float32Array.from({ length: 4 * 4 }, () => rng()));
    const [sigma, other] = hammingPermutations(30).slice(12, 14);
    const right = jigsawPictures(tiles, 4, 1, sigma, sigma);
    expect(same(right.reassembled, right.original)).toBe(true);
    tilesOf(right.shuffled, 4, 1).forEach((t, i) => expect(same(t, tiles[sigma[i]])).toBe(true));
    tilesOf(right.original, 4, 1).forEach((t, j) => expect(same(t, tiles[j])).toBe(true));
    const wrong = jigsawPictures(tiles, 4, 1, sigma, other);
    expect(same(wrong.reassembled, wrong.original)).toBe(false);
    // slot j of the re-assembly holds shuffled slot σ̂⁻¹[j]
    const shuffled = tilesOf(wrong.shuffled, 4, 1);
    tilesOf(wrong.reassembled, 4, 1).forEach((t, j) => expect(same(t, shuffled[inversePermutation(other)[j]])).toBe(true));
  });
});

describe('which settings fit', () => {
  const data = { name: 'toy', channels: 1 as const, imageSize: 12, trainCount: 100 };

  it('refuses views under 20 px with a sentence saying the minimum, and takes 20 px and more', () => {
    expect(methodUnfitReason('jigsaw', data, { ...DEFAULT_CONFIG, imageSize: 12 })).toMatch(/^The jigsaw .* at least 20 px \(the view size is 12 px\).*\.$/);
    expect(methodUnfitReason('jigsaw', data, { ...DEFAULT_CONFIG, imageSize: JIGSAW_MIN_VIEW })).toBeNull();
    expect(methodUnfitReason('jigsaw', data, { ...DEFAULT_CONFIG, imageSize: 28 })).toBeNull();
    expect(() => jigsawGrid(19)).toThrow(/at least 20 px/);
  });

  it('takes 2 to 100 permutations, the setting’s own limits, and says so beyond them', () => {
    const field = METHOD_SETTING_FIELDS.jigsawPermutations;
    expect(field.kind === 'number' && field.min === 2 && field.max === JIGSAW_MAX_PERMUTATIONS).toBe(true);
    expect(methodUnfitReason('jigsaw', data, { ...DEFAULT_CONFIG, jigsawPermutations: 100 })).toBeNull();
    for (const p of [1, 101, 2.5]) {
      expect(methodUnfitReason('jigsaw', data, { ...DEFAULT_CONFIG, jigsawPermutations: p })).toMatch(/^The jigsaw tells apart between 2 and 100 permutations .*\.$/);
    }
  });
});

describe('the jigsaw through the training loop', () => {
  it('trains with a finite, falling loss from log P, learns to place tiles, leaks nothing and repeats for one seed', async () => {
    // no augmentation and P = 8: the toy set's bars and blobs then say where a tile belongs often enough to learn in 20 steps
    const steps = await checkMethodBasics(methodConfig('jigsaw', { imageSize: VIEW, jigsawPermutations: 8, augmentation: presetPipeline('none') }));
    expect(steps[0].loss).toBeCloseTo(Math.log(8), 5);
    for (const m of steps) {
      expect(m.values.taskAccuracy).toBeGreaterThanOrEqual(0);
      expect(m.values.taskAccuracy).toBeLessThanOrEqual(1);
      // no positive pairs: alignment is not defined, uniformity is
      expect(Number.isNaN(m.alignment)).toBe(true);
      expect(Number.isFinite(m.uniformity)).toBe(true);
    }
    // chance is 1/8; the last five steps reach about 0.5
    const late = steps.slice(-5).reduce((sum, m) => sum + m.values.taskAccuracy, 0) / 5;
    expect(late).toBeGreaterThan(0.25);
  });

  it('captures an instrument: shuffled tiles, their re-assembly by the head’s answer, the original, captions, marks and a P×P confusion matrix', async () => {
    const before = tf.memory().numTensors;
    const trainer = new Trainer(toyDataset(64, 16), methodConfig('jigsaw', { imageSize: VIEW }));
    await trainSteps(trainer, 2);
    trainer.captureAffinity = true;
    await trainer.trainStep();
    const snapshot = trainer.taskSnapshot!;
    expect(snapshot.method).toBe('jigsaw');
    expect(snapshot.count).toBe(8);
    expect(taskSnapshotProblem(snapshot)).toBeNull();
    expect(snapshot.rows.map((r) => r.label)).toEqual(['shuffled tiles', 're-assembled by the head’s answer', 'original']);
    const p = jigsawGrid(VIEW).patch;
    const side = 3 * p + 2 * pictureGap(p);
    expect(snapshot.rows.every((r) => r.size === side && r.channels === 1)).toBe(true);
    // P = 30 (the default): 30 × 30 counts over the N = 16 views
    const { labels, counts } = snapshot.confusion!;
    expect(labels.length).toBe(30);
    expect(counts.length).toBe(900);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(16);
    const right = counts.filter((_, i) => Math.floor(i / 30) === i % 30).reduce((a, b) => a + b, 0);
    expect(snapshot.summary).toBe(`${right} of 16 permutations named correctly (${((100 * right) / 16).toFixed(0)}%; chance 1/30 = 3.3%).`);
    const permutations = hammingPermutations(30);
    const per = side * side;
    const [shuffledRow, reassembledRow, originalRow] = snapshot.rows.map((r) => r.images);
    snapshot.captions.forEach((caption, e) => {
      const match = /^perm (\d+) · said (\d+)$/.exec(caption)!;
      expect(match, caption).not.toBeNull();
      const [truth, said] = [Number(match[1]), Number(match[2])];
      expect(snapshot.correct![e]).toBe(truth === said);
      const [shuffled, reassembled, original] = [shuffledRow, reassembledRow, originalRow].map((row) => row.subarray(e * per, (e + 1) * per));
      // the shuffled picture is the original's tiles in the order of the caption's permutation
      const originalTiles = tilesOf(original, p, 1);
      tilesOf(shuffled, p, 1).forEach((t, i) => expect(same(t, originalTiles[permutations[truth][i]])).toBe(true));
      // re-assembled by the answer: the original exactly when the mark says right (the toy's noise makes every tile distinct)
      expect(same(reassembled, original)).toBe(snapshot.correct![e]);
    });
    trainer.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('the jigsaw resumes from a checkpoint', () => {
  // N = 8 on 24 images: three batches an epoch, so the batch order is drawn afresh at step 4
  const config = methodConfig('jigsaw', { imageSize: VIEW, jigsawPermutations: 8, batchSize: 8 });

  it('saves its stream of jitters and permutations where it stands; resumed, the puzzles and losses are the uninterrupted run’s', async () => {
    const dataset = toyDataset(24, 8);
    const fresh = new Trainer(dataset, config);
    const trained = new Trainer(dataset, config);
    await trainSteps(trained, 1);
    const [before, after] = [await fresh.method.saveState(), await trained.method.saveState()];
    expect(Object.keys(after.values)).toEqual(['shuffleRng']);
    expect(after.arrays).toEqual({});
    // the P permutations are fixed by P and not saved; the stream that picks among them has moved on
    expect(after.values.shuffleRng).not.toBe(before.values.shuffleRng);
    fresh.dispose();
    trained.dispose();
    // each step after the checkpoint shuffles each view by a newly drawn permutation (the first step's loss is log P
    // whatever the puzzles: resume after it)
    await checkResumesExactly(config, { before: 2, after: 2, dataset });
  }, 20_000);

  it('refuses another method’s state or a broken stream, naming the entry, and changes nothing', async () => {
    const dataset = toyDataset(32, 8);
    const patches = new Trainer(dataset, methodConfig('relative-patch', { imageSize: VIEW }));
    const patchState = await patches.method.saveState();
    patches.dispose();
    const refused = new Trainer(dataset, config);
    const untouched = new Trainer(dataset, config);
    const cases: [MethodState, RegExp][] = [
      [patchState, /“jitterRng”, which Jigsaw does not keep/],
      // its own stream beside a foreign entry: refused before the stream is touched
      [{ arrays: {}, values: { shuffleRng: 12345, membersSeen: 3 } }, /“membersSeen”, which Jigsaw does not keep/],
      [{ arrays: {}, values: { shuffleRng: 2 ** 32 } }, /Jigsaw’s “shuffleRng” in the checkpoint is not a random-number state/],
      [{ arrays: {}, values: {} }, /lacks Jigsaw’s “shuffleRng”/],
    ];
    for (const [state, entry] of cases) expect(() => refused.method.loadState(state)).toThrow(entry);
    // the first step's z (the mean of f over the 9 tiles) shows the tiles, the second's loss the permutations too
    const seen = (m: StepMetrics) => [m.loss, m.values, m.uniformity, m.collapseStd];
    expect((await trainSteps(refused, 2)).map(seen)).toEqual((await trainSteps(untouched, 2)).map(seen));
    refused.dispose();
    untouched.dispose();
  }, 20_000);
});
