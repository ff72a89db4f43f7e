import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../core/config';
import { lossReference, methodUnfitReason } from '../core/methods';
import { presetPipeline } from '../core/pipeline';
import { RELATIVE_PATCH_MIN_VIEW } from '../core/pretext/relative-patch';
import { softmaxCrossEntropy } from '../loss/classification';
import { toyDataset } from '../train/toyDataset.testutil';
import { Trainer } from '../train/trainer';
import { taskSnapshotProblem } from '../core/taskSnapshot';
import type { StepMetrics } from '../train/protocol';
import type { MethodState } from './method';
import { checkMethodBasics, checkResumesExactly, methodConfig, trainSteps } from './methodHarness.testutil';
import { CENTRE_CELL, NEIGHBOUR_CELLS, POSITION_LABELS, pairFeatures, pairLabels, relativePatchGrid, shownPairRows } from './relativePatch';
import { FusionHead, cellBox, cropArray } from './tiles';

await tf.setBackend('cpu');

/** 24 px views: the toy set's 12 px images are too small for the grid (20 px at least), so the views are resized. */
const VIEW = 24;

describe('the pairs and their head', () => {
  it('pairs each view’s centre with its 8 neighbours: row 8b + k is [h_centre, h_neighbour k], labelled k', () => {
    const [n, d] = [3, 2];
    const h = tf.tensor2d(Float32Array.from({ length: 9 * n * d }, (_, i) => i), [9 * n, d]);
    const values = h.arraySync();
    const pairs = pairFeatures(h).arraySync();
    const labels = Array.from(pairLabels(n).dataSync());
    expect(pairs.length).toBe(8 * n);
    for (let b = 0; b < n; b++) {
      for (let k = 0; k < 8; k++) {
        expect(pairs[8 * b + k]).toEqual([...values[9 * b + CENTRE_CELL], ...values[9 * b + NEIGHBOUR_CELLS[k]]]);
        expect(labels[8 * b + k]).toBe(k);
      }
    }
    expect(() => pairFeatures(tf.zeros([10, 2]) as tf.Tensor2D)).toThrow(/9 patches/);
    h.dispose();
  });

  it('starts at log 8 exactly, a head that cannot tell the positions apart, as the loss chart’s line says', () => {
    const n = 4;
    const head = new FusionHead(6, 3, 8, 1, 0x5e1a);
    const h = tf.randomNormal([9 * n, 3]) as tf.Tensor2D;
    const loss = tf.tidy(() => softmaxCrossEntropy(head.logits(pairFeatures(h)), pairLabels(n)));
    expect(loss.dataSync()[0]).toBeCloseTo(Math.log(8), 6);
    expect(lossReference('relative-patch', { batchSize: 16, queueSize: 1, projectionDim: 8 }, 100)!.label).toBe('log 8 = 2.08');
    tf.dispose([h, loss]);
    head.dispose();
  });

  it('shows view e with its neighbour at position e mod 8', () => {
    expect(shownPairRows(16)).toEqual({ rows: [0, 9, 18, 27, 36, 45, 54, 63], positions: [0, 1, 2, 3, 4, 5, 6, 7] });
    expect(shownPairRows(3).rows).toEqual([0, 9, 18]);
  });
});

describe('which views fit', () => {
  it('refuses views under 20 px with a sentence saying the minimum, and takes 20 px and more', () => {
    const data = { name: 'toy', channels: 1 as const, imageSize: 12, trainCount: 100 };
    const reason = methodUnfitReason('relative-patch', data, { ...DEFAULT_CONFIG, imageSize: 12 });
    expect(reason).toMatch(/^Relative patch location .* at least 20 px \(the view size is 12 px\).*\.$/);
    expect(methodUnfitReason('relative-patch', data, { ...DEFAULT_CONFIG, imageSize: RELATIVE_PATCH_MIN_VIEW })).toBeNull();
    expect(methodUnfitReason('relative-patch', data, { ...DEFAULT_CONFIG, imageSize: 28 })).toBeNull();
    expect(() => relativePatchGrid(19)).toThrow(/at least 20 px/);
  });
});

describe('relative patch location through the training loop', () => {
  it('trains with a finite, falling loss from log 8, learns to place neighbours, leaks nothing and repeats for one seed', async () => {
    // no augmentation: the toy set's bars and blobs then sit where they were drawn, which is enough to learn from in 20 steps
    const steps = await checkMethodBasics(methodConfig('relative-patch', { imageSize: VIEW, augmentation: presetPipeline('none') }));
    expect(steps[0].loss).toBeCloseTo(Math.log(8), 5);
    for (const m of steps) {
      expect(m.values.taskAccuracy).toBeGreaterThanOrEqual(0);
      expect(m.values.taskAccuracy).toBeLessThanOrEqual(1);
      // no positive pairs: alignment is not defined, uniformity is
      expect(Number.isNaN(m.alignment)).toBe(true);
      expect(Number.isFinite(m.uniformity)).toBe(true);
    }
    // chance is 1/8; the last five steps reach about 0.3
    const late = steps.slice(-5).reduce((sum, m) => sum + m.values.taskAccuracy, 0) / 5;
    expect(late).toBeGreaterThan(0.2);
  });

  it('captures an instrument: each view with its grid, the centre and the neighbour, captions, marks and an 8×8 confusion matrix over all 8N pairs', async () => {
    const before = tf.memory().numTensors;
    const config = methodConfig('relative-patch', { imageSize: VIEW });
    const trainer = new Trainer(toyDataset(64, 16), config);
    await trainSteps(trainer, 2);
    trainer.captureAffinity = true;
    await trainer.trainStep();
    const snapshot = trainer.taskSnapshot!;
    expect(snapshot.method).toBe('relative-patch');
    expect(snapshot.count).toBe(8);
    expect(taskSnapshotProblem(snapshot)).toBeNull();
    expect(snapshot.rows.map((r) => r.label)).toEqual(['view: the grid, centre and neighbour framed', 'centre patch', 'neighbour patch']);
    const grid = relativePatchGrid(VIEW);
    expect(snapshot.rows.map((r) => r.size)).toEqual([VIEW, grid.patch, grid.patch]);
    expect(snapshot.rows.every((r) => r.channels === 1)).toBe(true);
    // 8 positions × N = 16 views, each position 16 times
    const counts = snapshot.confusion!.counts;
    expect(snapshot.confusion!.labels).toEqual([...POSITION_LABELS]);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(8 * 16);
    for (let k = 0; k < 8; k++) expect(counts.slice(8 * k, 8 * k + 8).reduce((a, b) => a + b, 0)).toBe(16);
    const right = counts.filter((_, i) => Math.floor(i / 8) === i % 8).reduce((a, b) => a + b, 0);
    expect(snapshot.summary).toBe(`${right} of 128 neighbour positions named correctly (${((100 * right) / 128).toFixed(0)}%; chance 12.5%).`);
    const p = grid.patch;
    const [framed, centres, neighbours] = snapshot.rows;
    snapshot.captions.forEach((caption, e) => {
      const match = /^true: ([a-z-]+) · said: ([a-z-]+)$/.exec(caption)!;
      expect(match, caption).not.toBeNull();
      expect(match[1]).toBe(POSITION_LABELS[e % 8]);
      expect(snapshot.correct![e]).toBe(match[1] === match[2]);
      // the centre and the neighbour are shown at full brightness in the framed view, each in its own cell (some jitter within ±j)
      const view = framed.images.subarray(e * VIEW * VIEW, (e + 1) * VIEW * VIEW);
      const foundAt = (patch: Float32Array, cell: number) => {
        const j = grid.jitter;
        for (let dy = -j; dy <= j; dy++) {
          for (let dx = -j; dx <= j; dx++) {
            const crop = cropArray(view, VIEW, 1, cellBox(grid, cell, dy, dx));
            if (crop.every((v, i) => v === patch[i])) return true;
          }
        }
        return false;
      };
      expect(foundAt(centres.images.subarray(e * p * p, (e + 1) * p * p), CENTRE_CELL)).toBe(true);
      expect(foundAt(neighbours.images.subarray(e * p * p, (e + 1) * p * p), NEIGHBOUR_CELLS[e % 8])).toBe(true);
    });
    trainer.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('relative patch location resumes from a checkpoint', () => {
  const config = methodConfig('relative-patch', { imageSize: VIEW });

  it('saves its jitter stream where it stands; resumed, the patches are cut and the losses come out as if never interrupted', async () => {
    const settings = { ...config, batchSize: 8 };
    const dataset = toyDataset(24, 8);
    const fresh = new Trainer(dataset, settings);
    const trained = new Trainer(dataset, settings);
    await trainSteps(trained, 1);
    const [before, after] = [await fresh.method.saveState(), await trained.method.saveState()];
    expect(Object.keys(after.values)).toEqual(['jitterRng']);
    expect(after.arrays).toEqual({});
    // the stream has moved on by the step's draws: a checkpoint holds where it stands, not the seed
    expect(after.values.jitterRng).not.toBe(before.values.jitterRng);
    fresh.dispose();
    trained.dispose();
    // every step after the checkpoint draws new jitters (the first step's loss is log 8 whatever the patches: resume after
    // it); 24 images in batches of 8, so the batch order is drawn afresh at step 4 too
    await checkResumesExactly(settings, { before: 2, after: 2, dataset });
  }, 20_000);

  it('refuses another method’s state or a broken stream, naming the entry, and changes nothing', async () => {
    const settings = { ...config, batchSize: 8 };
    const dataset = toyDataset(32, 8);
    const jigsaw = new Trainer(dataset, methodConfig('jigsaw', { imageSize: VIEW }));
    const jigsawState = await jigsaw.method.saveState();
    jigsaw.dispose();
    const refused = new Trainer(dataset, settings);
    const untouched = new Trainer(dataset, settings);
    const cases: [MethodState, RegExp][] = [
      [jigsawState, /“shuffleRng”, which Relative patch location does not keep/],
      // its own stream beside a foreign entry: refused before the stream is touched
      [{ arrays: {}, values: { jitterRng: 12345, queuePointer: 3 } }, /“queuePointer”, which Relative patch location does not keep/],
      [{ arrays: {}, values: { jitterRng: -1 } }, /Relative patch location’s “jitterRng” in the checkpoint is not a random-number state/],
      [{ arrays: {}, values: { jitterRng: 'seed' } }, /lacks Relative patch location’s “jitterRng”/],
    ];
    for (const [state, entry] of cases) expect(() => refused.method.loadState(state)).toThrow(entry);
    // the first step's z (the mean of f over the 9 patches) shows the patches, the second's loss too
    const seen = (m: StepMetrics) => [m.loss, m.values, m.uniformity, m.collapseStd];
    expect((await trainSteps(refused, 2)).map(seen)).toEqual((await trainSteps(untouched, 2)).map(seen));
    refused.dispose();
    untouched.dispose();
  }, 20_000);
});
