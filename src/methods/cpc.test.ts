import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../core/config';
import { CPC_GRID, CPC_MIN_VIEW, CPC_OFFSETS } from '../core/entries/cpc';
import { METHOD_CATALOG, lossReference, methodUnfitReason } from '../core/methods';
import { presetPipeline } from '../core/pipeline';
import { createRng, normal } from '../core/random';
import { taskSnapshotProblem } from '../core/taskSnapshot';
import { toyDataset } from '../train/toyDataset.testutil';
import { Trainer } from '../train/trainer';
import {
  CONTEXT_FRAME, CpcContextNetwork, FOUND_FRAME, MISSED_FRAME, composePatchGrid, cpcBoxes, cpcGrid, cpcPredictionLayout, patchGridCellCorner,
  patchGridPictureSize, patchRow, topRowFrames, topRowPrediction,
} from './cpc';
import { checkMethodBasics, checkResumesExactly, methodConfig, trainSteps } from './methodHarness.testutil';
import { MIN_PATCH_SIDE, cropArray, cutTiles } from './tiles';

await tf.setBackend('cpu');

/** 24 px views: the toy set's 12 px images resized, 8 px patches every 4 px. */
const VIEW = 24;
const G = CPC_GRID;

describe('the patch grid', () => {
  it('cuts G×G patches of side 2s every s px, centred, each overlapping its neighbours by half', () => {
    expect(cpcGrid(24)).toEqual({ viewSize: 24, stride: 4, patch: 8, origin: 2 });
    expect(cpcGrid(28)).toEqual({ viewSize: 28, stride: 5, patch: 10, origin: 1 });
    expect(cpcGrid(16)).toEqual({ viewSize: 16, stride: 3, patch: 6, origin: 0 });
    for (let s = CPC_MIN_VIEW; s <= 64; s++) {
      const grid = cpcGrid(s);
      const boxes = cpcBoxes(grid);
      expect(boxes.length).toBe(G * G);
      expect(grid.patch).toBeGreaterThanOrEqual(MIN_PATCH_SIDE);
      for (const box of boxes) {
        expect(box.top).toBeGreaterThanOrEqual(0);
        expect(box.top + box.size).toBeLessThanOrEqual(s);
        expect(box.left + box.size).toBeLessThanOrEqual(s);
      }
      // centred: the margins left of the first and right of the last column differ by at most 1 px
      const last = boxes[G * G - 1];
      expect(Math.abs(grid.origin - (s - last.left - last.size))).toBeLessThanOrEqual(1);
      // patch (i, j) at (origin + i·s, origin + j·s): the one below starts half a patch down
      expect(boxes[patchRow(0, 1, 2)]).toEqual({ top: grid.origin + grid.stride, left: grid.origin + 2 * grid.stride, size: 2 * grid.stride });
    }
  });

  it('cuts exactly the boxes’ pixels, and the lower half of a patch is the upper half of the one below', () => {
    const [n, c] = [2, 3];
    const views = tf.tensor4d(Float32Array.from({ length: n * VIEW * VIEW * c }, (_, i) => i), [n, VIEW, VIEW, c]);
    const pixels = views.dataSync();
    const grid = cpcGrid(VIEW);
    const boxes = cpcBoxes(grid);
    const cut = cutTiles(views, [boxes, boxes]);
    const values = cut.dataSync();
    const p = grid.patch;
    const per = p * p * c;
    const patchOf = (b: number, i: number, j: number) => values.subarray(patchRow(b, i, j) * per, (patchRow(b, i, j) + 1) * per);
    for (let b = 0; b < n; b++) {
      for (let cell = 0; cell < G * G; cell++) {
        const expected = cropArray(pixels.subarray(b * VIEW * VIEW * c, (b + 1) * VIEW * VIEW * c), VIEW, c, boxes[cell]);
        expect(Array.from(values.subarray((b * G * G + cell) * per, (b * G * G + cell + 1) * per))).toEqual(Array.from(expected));
      }
    }
    const half = (p / 2) * p * c;
    expect(Array.from(patchOf(1, 0, 3).subarray(half))).toEqual(Array.from(patchOf(1, 1, 3).subarray(0, half)));
    tf.dispose([views, cut]);
  });

  it('refuses views under the minimum, which keeps every patch at 4 px or more', () => {
    expect(CPC_MIN_VIEW).toBe((G + 1) * (MIN_PATCH_SIDE / 2));
    expect(() => cpcGrid(CPC_MIN_VIEW - 1)).toThrow(`CPC needs views of at least ${CPC_MIN_VIEW} px`);
    expect(cpcGrid(CPC_MIN_VIEW).patch).toBe(MIN_PATCH_SIDE);
  });
});

describe('the predictions and the context network', () => {
  it('lays out every prediction: offset k from each context row with k rows below it, in the same image and column', () => {
    const n = 3;
    const layout = cpcPredictionLayout(n);
    for (let k = 1; k <= CPC_OFFSETS; k++) expect(layout.offset.filter((o) => o === k).length).toBe(n * (G - k) * G);
    layout.context.forEach((context, p) => {
      const [b, i, j] = [Math.floor(context / (G * G)), Math.floor((context % (G * G)) / G), context % G];
      expect([b, i]).toEqual([layout.image[p], layout.row[p]]);
      expect(layout.target[p]).toBe(patchRow(b, i + layout.offset[p], j));
    });
    // offsets in order, so the predictions of one W_k are one block
    expect(Array.from(layout.offset)).toEqual([...layout.offset].sort((a, b) => a - b));
    for (let b = 0; b < n; b++) {
      for (let k = 1; k <= CPC_OFFSETS; k++) {
        for (let j = 0; j < G; j++) {
          const p = topRowPrediction(n, b, j, k);
          expect([layout.context[p], layout.target[p]]).toEqual([patchRow(b, 0, j), patchRow(b, k, j)]);
        }
      }
    }
  });

  it('computes c_{i,j} = ReLU(W_c [z_{i,j}; mean of rows ≤ i] + b_c), which never reads a row below i', () => {
    const [n, d] = [2, 3];
    const net = new CpcContextNetwork(d, 5, 11);
    const rng = createRng(3);
    const codes = Array.from({ length: n * G * G }, () => Array.from({ length: d }, () => normal(rng)));
    const context = tf.tidy(() => net.context(tf.tensor2d(codes)).arraySync());
    const w = net.contextWeight.arraySync() as number[][];
    const bias = net.contextBias.arraySync() as number[];
    for (let b = 0; b < n; b++) {
      for (let i = 0; i < G; i++) {
        const above = Array.from({ length: d }, (_, c) => {
          let sum = 0;
          for (let i2 = 0; i2 <= i; i2++) for (let j2 = 0; j2 < G; j2++) sum += codes[patchRow(b, i2, j2)][c];
          return sum / ((i + 1) * G);
        });
        for (let j = 0; j < G; j++) {
          const input = [...codes[patchRow(b, i, j)], ...above];
          const expected = bias.map((bo, o) => Math.max(0, input.reduce((s, x, r) => s + x * w[r][o], bo)));
          context[patchRow(b, i, j)].forEach((v, o) => expect(v).toBeCloseTo(expected[o], 5));
        }
      }
    }
    // changing the codes of rows 2 and 3 leaves the context of rows 0 and 1 as it was
    const changed = codes.map((row, r) => (Math.floor((r % (G * G)) / G) >= 2 ? row.map((x) => x + 5) : row));
    const again = tf.tidy(() => net.context(tf.tensor2d(changed)).arraySync());
    for (let r = 0; r < n * G * G; r++) {
      if (Math.floor((r % (G * G)) / G) < 2) expect(again[r]).toEqual(context[r]);
    }
    net.dispose();
  });

  it('predicts ẑ_p = W_k c for the context and offset of each prediction of the layout, in its order', () => {
    const [n, d, dc] = [2, 3, 4];
    const net = new CpcContextNetwork(d, dc, 5);
    const rng = createRng(8);
    // W_k start at zero: give them values to tell them apart
    net.predictors.forEach((w) => w.assign(tf.tensor2d(Array.from({ length: dc * d }, () => normal(rng)), [dc, d])));
    const context = Array.from({ length: n * G * G }, () => Array.from({ length: dc }, () => normal(rng)));
    const predictions = tf.tidy(() => net.predict(tf.tensor2d(context)).arraySync());
    const layout = cpcPredictionLayout(n);
    expect(predictions.length).toBe(layout.target.length);
    const weights = net.predictors.map((w) => w.arraySync() as number[][]);
    predictions.forEach((row, p) => {
      const w = weights[layout.offset[p] - 1];
      const c = context[layout.context[p]];
      row.forEach((v, o) => expect(v).toBeCloseTo(c.reduce((sum, x, r) => sum + x * w[r][o], 0), 5));
    });
    net.dispose();
  });

  it('draws the loss chart’s line at log(16N), where W_k = 0 starts it (the training-loop test sees the first loss there)', () => {
    const reference = lossReference('cpc', { batchSize: 16, queueSize: 1, projectionDim: 8 }, 100)!;
    expect(reference.label).toBe('log(16N) = 5.55');
    expect(reference.value).toBeCloseTo(Math.log(256), 12);
    const net = new CpcContextNetwork(4, 4, 1);
    for (const w of net.predictors) expect(Array.from(w.dataSync()).every((v) => v === 0)).toBe(true);
    net.dispose();
  });
});

describe('the instrument’s pictures', () => {
  it('lays the patches out G×G with a frame of its colour around each, grey repeated into RGB', () => {
    const t = 3;
    const tiles = Array.from({ length: G * G }, (_, cell) => new Float32Array(t * t).fill(cell / 20));
    const frames = topRowFrames(Array.from({ length: (G - 1) * G }, (_, r) => r % 2 === 0));
    const picture = composePatchGrid(tiles, t, 1, frames);
    const side = patchGridPictureSize(t);
    expect(picture.length).toBe(side * side * 3);
    const rgb = (y: number, x: number) => Array.from(picture.subarray((y * side + x) * 3, (y * side + x) * 3 + 3));
    for (let cell = 0; cell < G * G; cell++) {
      const top = patchGridCellCorner(t, Math.floor(cell / G));
      const left = patchGridCellCorner(t, cell % G);
      expect(rgb(top + 1, left + 2)).toEqual([cell / 20, cell / 20, cell / 20].map(Math.fround));
      const expected = cell < G ? CONTEXT_FRAME : (cell - G) % 2 === 0 ? FOUND_FRAME : MISSED_FRAME;
      expect(rgb(top - 1, left - 1)).toEqual([...expected].map(Math.fround));
      expect(rgb(top + t, left + 1)).toEqual([...expected].map(Math.fround));
    }
    expect(patchGridCellCorner(t, G - 1) + t + 1).toBe(side);
  });
});

describe('which settings fit', () => {
  const data = { name: 'toy', channels: 1 as const, imageSize: 12, trainCount: 100 };

  it(`refuses views under ${CPC_MIN_VIEW} px with a sentence saying the minimum, and takes ${CPC_MIN_VIEW} px and more`, () => {
    expect(methodUnfitReason('cpc', data, { ...DEFAULT_CONFIG, imageSize: 8 })).toMatch(/^CPC cuts .* at least 10 px \(the view size is 8 px\).*\.$/);
    expect(methodUnfitReason('cpc', data, { ...DEFAULT_CONFIG, imageSize: CPC_MIN_VIEW })).toBeNull();
    expect(methodUnfitReason('cpc', data, { ...DEFAULT_CONFIG, imageSize: 28 })).toBeNull();
  });

  it('names a metric per offset, each with a test id of its own', () => {
    const entry = METHOD_CATALOG.cpc;
    expect(entry.metrics.map((m) => m.key)).toEqual(['accuracyOffset1', 'accuracyOffset2', 'accuracyOffset3']);
    const others = Object.values(METHOD_CATALOG).filter((e) => e.id !== 'cpc').flatMap((e) => e.metrics.map((m) => m.testId));
    for (const m of entry.metrics) expect(others).not.toContain(m.testId);
  });
});

describe('CPC through the training loop', () => {
  it('trains with a finite, falling loss from log(16N), leaks nothing and repeats for one seed', async () => {
    // N = 8 (128 patches a step) keeps the 23 steps quick on the cpu backend
    const steps = await checkMethodBasics(methodConfig('cpc', { imageSize: VIEW, batchSize: 8, augmentation: presetPipeline('none') }), 0, toyDataset(128, 16));
    expect(steps[0].loss).toBeCloseTo(Math.log(16 * 8), 5);
    for (const m of steps) {
      for (let k = 1; k <= CPC_OFFSETS; k++) {
        expect(m.values[`accuracyOffset${k}`]).toBeGreaterThanOrEqual(0);
        expect(m.values[`accuracyOffset${k}`]).toBeLessThanOrEqual(1);
      }
      // no pairs of views: alignment is not defined, uniformity is
      expect(Number.isNaN(m.alignment)).toBe(true);
      expect(Number.isFinite(m.uniformity)).toBe(true);
    }
    const late = (k: number) => steps.slice(-5).reduce((sum, m) => sum + m.values[`accuracyOffset${k}`], 0) / 5;
    console.info(`CPC: loss ${steps[0].loss.toFixed(3)} → ${steps[19].loss.toFixed(3)}; late accuracy k=1 ${late(1).toFixed(2)}, k=2 ${late(2).toFixed(2)}, k=3 ${late(3).toFixed(2)}`);
    // chance is 1/128: the half-overlapping row below is found far more often
    expect(late(1)).toBeGreaterThan(0.05);
  });

  it('captures an instrument: the views, their patch grids framed by the predictions from the top row, the patches picked, and per-offset accuracy', async () => {
    const before = tf.memory().numTensors;
    const config = methodConfig('cpc', { imageSize: VIEW, batchSize: 8 });
    const trainer = new Trainer(toyDataset(64, 16), config);
    await trainSteps(trainer, 3);
    trainer.captureAffinity = true;
    const metrics = await trainer.trainStep();
    const snapshot = trainer.taskSnapshot!;
    expect(snapshot.method).toBe('cpc');
    expect(snapshot.count).toBe(8);
    expect(taskSnapshotProblem(snapshot)).toBeNull();
    const grid = cpcGrid(VIEW);
    const side = patchGridPictureSize(grid.patch);
    expect(snapshot.rows.map((r) => [r.size, r.channels])).toEqual([[VIEW, 1], [side, 3], [side, 3]]);
    // the summary's per-offset shares are the step's metrics
    const n = config.batchSize;
    for (let k = 1; k <= CPC_OFFSETS; k++) {
      const total = n * (G - k) * G;
      expect(snapshot.summary).toContain(`k = ${k}: ${(100 * metrics.values[`accuracyOffset${k}`]).toFixed(0)}% of ${total}`);
    }
    expect(snapshot.summary).toMatch(/^Predictions that picked their true patch among the batch’s 128 patch codes: k = 1: .* \(chance 1\/128 = 0\.78%\)\.$/);
    const [viewRow, patchRowImages, pickedRow] = snapshot.rows.map((r) => r.images);
    const p = grid.patch;
    const boxes = cpcBoxes(grid);
    const perPicture = side * side * 3;
    const at = (images: Float32Array, e: number, y: number, x: number) => Array.from(images.subarray(e * perPicture + (y * side + x) * 3, e * perPicture + (y * side + x) * 3 + 3));
    snapshot.captions.forEach((caption, e) => {
      const match = /^(\d+)\/(\d+) found$/.exec(caption);
      expect(match, caption).not.toBeNull();
      // every prediction of one image: (3 + 2 + 1) context rows × 4 columns
      expect(Number(match![2])).toBe(24);
      const view = viewRow.subarray(e * VIEW * VIEW, (e + 1) * VIEW * VIEW);
      for (let cell = 0; cell < G * G; cell++) {
        const top = patchGridCellCorner(p, Math.floor(cell / G));
        const left = patchGridCellCorner(p, cell % G);
        // the patch grid shows the view's own patches; the picked grid repeats the top row and shows what was picked below
        const pixel = cropArray(view, VIEW, 1, boxes[cell])[p + 1];
        expect(at(patchRowImages, e, top + 1, left + 1)).toEqual([pixel, pixel, pixel]);
        const frame = at(patchRowImages, e, top - 1, left - 1);
        expect(at(pickedRow, e, top - 1, left - 1)).toEqual(frame);
        if (cell < G) {
          expect(frame).toEqual([...CONTEXT_FRAME].map(Math.fround));
          expect(at(pickedRow, e, top + 1, left + 1)).toEqual([pixel, pixel, pixel]);
        } else {
          const found = frame[1] === Math.fround(FOUND_FRAME[1]);
          expect(found || frame[0] === Math.fround(MISSED_FRAME[0])).toBe(true);
          // a found patch is its own: the pick is then the true patch, pixel for pixel
          if (found) {
            for (let y = 0; y < p; y++) {
              for (let x = 0; x < p; x++) expect(at(pickedRow, e, top + y, left + x)).toEqual(at(patchRowImages, e, top + y, left + x));
            }
          }
        }
      }
    });
    trainer.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('CPC checkpoints', () => {
  const config = methodConfig('cpc', { imageSize: VIEW, batchSize: 8 });
  const dataset = toyDataset(32, 8);

  it('keeps nothing of its own: the context network and W_k are trained variables and the grid is fixed: across an epoch’s end (4 steps of 8 on 32 images), the resumed losses and per-offset accuracies are the uninterrupted run’s', async () => {
    await checkResumesExactly(config, { before: 3, after: 2, dataset });
  }, 60_000);

  it('refuses another method’s state, naming its first entry, and changes nothing', async () => {
    const before = tf.memory().numTensors;
    const other = new Trainer(dataset, methodConfig('autoencoder', { denoise: true }));
    const foreign = await other.method.saveState();
    other.dispose();
    const untouched = new Trainer(dataset, config);
    const trainer = new Trainer(dataset, config);
    expect(() => trainer.method.loadState(foreign)).toThrow(/holds “noiseRng”, which CPC does not keep: it was saved by another method/);
    const [reference] = await trainSteps(untouched, 1);
    const [next] = await trainSteps(trainer, 1);
    expect(next.loss).toBe(reference.loss);
    untouched.dispose();
    trainer.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }, 60_000);
});
