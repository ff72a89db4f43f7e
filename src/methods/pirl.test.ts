import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../core/config';
import { METHOD_CATALOG, lossReference, methodUnfitReason } from '../core/methods';
import { presetPipeline } from '../core/pipeline';
import { JIGSAW_MIN_VIEW } from '../core/pretext/jigsaw';
import { createRng } from '../core/random';
import { taskSnapshotProblem } from '../core/taskSnapshot';
import { expectGradientsMatchReference, lossValue, randomMatrix, toTensor, unitRows, type Matrix } from '../loss/lossCheck.testutil';
import { memoryBankReference, memoryBankReferenceMetrics } from '../loss/sslReferences';
import { toyDataset } from '../train/toyDataset.testutil';
import { Trainer } from '../train/trainer';
import type { MethodState } from './method';
import { checkMethodBasics, checkResumesExactly, methodConfig, trainSteps } from './methodHarness.testutil';
import { writeBankEntries } from './memoryBank';
import { jigsawTransform, ownEntryRanks, pirlGrid, pirlLoss } from './pirl';
import { JIGSAW_LAYOUT, cropArray, pictureGap, smallestGridView } from './tiles';

await tf.setBackend('cpu');

/** 24 px views: the toy set's 12 px images are too small for the tiles (20 px at least), so the views are resized. */
const VIEW = 24;

/** A bank of n unit rows, B indices, and the two embeddings near their entries (the image's) or noisier (the tiles'). */
function randomInputs(seed: number, b: number, d: number, n: number) {
  const rng = createRng(seed);
  const bank = unitRows(randomMatrix(rng, n, d));
  const indices = Int32Array.from({ length: b }, () => Math.floor(rng() * n));
  const image = randomMatrix(rng, b, d, 0.5).map((row, r) => row.map((x, c) => x + 2 * bank[indices[r]][c]));
  const tiles = randomMatrix(rng, b, d, 1).map((row, r) => row.map((x, c) => x + bank[indices[r]][c]));
  return { image, tiles, indices, bank };
}

/** λ·L_bank(tiles) + (1 − λ)·L_bank(image), in float64. */
const pirlReference = (image: Matrix, tiles: Matrix, indices: Int32Array, bank: Matrix, temperature: number, lambda: number) =>
  lambda * memoryBankReference(tiles, indices, bank, { temperature }) + (1 - lambda) * memoryBankReference(image, indices, bank, { temperature });

const pirlOf = (indices: Int32Array, bank: Matrix, temperature: number, lambda: number) => (image: tf.Tensor2D, tiles: tf.Tensor2D) =>
  tf.tidy(() => {
    const out = pirlLoss(image, tiles, indices, toTensor(bank), { temperature, lambda });
    return out.loss;
  });

describe('PIRL’s loss: λ · NCE(m, v_I_t) + (1 − λ) · NCE(m, v_I) over the bank', () => {
  it('matches the float64 reference for λ ∈ {0, 0.3, 0.5, 1} and τ ∈ {0.07, 0.5}, with the own entry’s rank for each term', () => {
    let seed = 10;
    for (const lambda of [0, 0.3, 0.5, 1]) {
      for (const temperature of [0.07, 0.5]) {
        const { image, tiles, indices, bank } = randomInputs(seed++, 6, 5, 13);
        const expected = pirlReference(image, tiles, indices, bank, temperature, lambda);
        const out = tf.tidy(() => {
          const r = pirlLoss(toTensor(image), toTensor(tiles), indices, toTensor(bank), { temperature, lambda });
          return [r.loss, r.tilesRank, r.imageRank].map((t) => t.dataSync()[0]);
        });
        expect(Math.abs(out[0] - expected), `λ=${lambda} τ=${temperature}`).toBeLessThanOrEqual(1e-4 * Math.abs(expected) + 1e-5);
        expect(out[1]).toBeCloseTo(memoryBankReferenceMetrics(tiles, indices, bank).positiveRank, 6);
        expect(out[2]).toBeCloseTo(memoryBankReferenceMetrics(image, indices, bank).positiveRank, 6);
      }
    }
  });

  it('is log n for any λ when every bank entry is alike (the loss chart’s line), and refuses a λ outside [0, 1]', () => {
    const bank: Matrix = Array.from({ length: 9 }, () => [0.6, 0.8]);
    const { image, tiles, indices } = randomInputs(40, 4, 2, 9);
    for (const lambda of [0, 0.5, 1]) expect(lossValue(pirlOf(indices, bank, 0.07, lambda), [image, tiles])).toBeCloseTo(Math.log(9), 5);
    expect(lossReference('pirl', { batchSize: 16, queueSize: 1, projectionDim: 8 }, 256)!.label).toBe('log n = 5.55');
    expect(() => tf.tidy(() => {
      pirlLoss(toTensor(image), toTensor(tiles), indices, toTensor(bank), { temperature: 0.1, lambda: 1.5 });
    })).toThrow(/must lie in \[0, 1\]; it is 1.5/);
  });

  it('sends gradients to both embeddings as central finite differences of the reference say', () => {
    let seed = 60;
    for (const lambda of [0.5, 0.2]) {
      const { image, tiles, indices, bank } = randomInputs(seed++, 3, 4, 7);
      expectGradientsMatchReference(
        pirlOf(indices, bank, 0.5, lambda),
        ([i, t]) => pirlReference(i, t, indices, bank, 0.5, lambda),
        [image, tiles],
        ['∂L/∂v_I', '∂L/∂v_I_t'],
        `λ=${lambda}`,
      );
    }
  });

  it('ranks each row’s own entry as the metrics do, and names its nearest entry', () => {
    const { image, indices, bank } = randomInputs(70, 8, 4, 11);
    const { ranks, nearest } = tf.tidy(() => {
      const out = ownEntryRanks(toTensor(image), indices, toTensor(bank));
      return { ranks: Array.from(out.ranks.dataSync()), nearest: Array.from(out.nearest.dataSync()) };
    });
    image.forEach((row, b) => {
      expect(ranks[b]).toBe(memoryBankReferenceMetrics([row], [indices[b]], bank).positiveRank);
      const s = bank.map((entry) => entry.reduce((sum, x, c) => sum + x * row[c], 0));
      expect(nearest[b]).toBe(s.indexOf(Math.max(...s)));
    });
  });
});

describe('the bank write', () => {
  it('writes normalize(m·m_x + (1 − m)·v̂_x) into each image’s entry once (its first row) and leaves the others', () => {
    const rng = createRng(80);
    const start = unitRows(randomMatrix(rng, 6, 3));
    const features = unitRows(randomMatrix(rng, 4, 3));
    const bank = tf.variable(toTensor(start), false);
    const entries = writeBankEntries(bank, Int32Array.from([2, 5, 2, 0]), toTensor(features), 0.5);
    expect(entries).toEqual([2, 5, 0]);
    const after = bank.arraySync();
    const expected = (old: number[], v: number[]) => {
      const mixed = old.map((x, c) => 0.5 * x + 0.5 * v[c]);
      return mixed.map((x) => x / Math.hypot(...mixed));
    };
    [[2, 0], [5, 1], [0, 3]].forEach(([entry, row]) => after[entry].forEach((v, c) => expect(v).toBeCloseTo(expected(start[entry], features[row])[c], 6)));
    for (const untouched of [1, 3, 4]) after[untouched].forEach((v, c) => expect(v).toBeCloseTo(start[untouched][c], 6));
    bank.dispose();
  });
});

describe('the jigsaw transform', () => {
  it('cuts each view’s 9 jittered tiles in the order of its own random permutation: slot i shows tile σ[i]', () => {
    const [n, c] = [3, 2];
    const views = tf.tensor4d(Float32Array.from({ length: n * VIEW * VIEW * c }, (_, i) => i), [n, VIEW, VIEW, c]);
    const pixels = views.dataSync();
    const { boxes, shuffles, tiles } = jigsawTransform(views, createRng(4));
    const grid = pirlGrid(VIEW);
    const values = tiles.dataSync();
    const per = grid.patch * grid.patch * c;
    expect(tiles.shape).toEqual([9 * n, grid.patch, grid.patch, c]);
    for (let b = 0; b < n; b++) {
      expect([...shuffles[b]].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
      for (let i = 0; i < 9; i++) {
        const tile = cropArray(pixels.subarray(b * VIEW * VIEW * c, (b + 1) * VIEW * VIEW * c), VIEW, c, boxes[b][shuffles[b][i]]);
        expect(Array.from(values.subarray((9 * b + i) * per, (9 * b + i + 1) * per))).toEqual(Array.from(tile));
      }
    }
    // a new shuffle per view, the same ones for the same seed
    expect(new Set(shuffles.map((s) => s.join(''))).size).toBe(n);
    const again = jigsawTransform(views, createRng(4));
    expect(again.shuffles).toEqual(shuffles);
    tf.dispose([views, tiles, again.tiles]);
  });
});

describe('which settings fit', () => {
  const data = { name: 'toy', channels: 1 as const, imageSize: 12, trainCount: 100 };

  it('refuses views too small for the jigsaw’s 3×3 tiles with a sentence saying the minimum', () => {
    expect(smallestGridView(JIGSAW_LAYOUT)).toBe(JIGSAW_MIN_VIEW);
    expect(methodUnfitReason('pirl', data, { ...DEFAULT_CONFIG, imageSize: 12 })).toMatch(/^PIRL cuts .* at least 20 px \(the view size is 12 px\).*\.$/);
    expect(methodUnfitReason('pirl', data, { ...DEFAULT_CONFIG, imageSize: JIGSAW_MIN_VIEW })).toBeNull();
    expect(() => pirlGrid(JIGSAW_MIN_VIEW - 1)).toThrow(/at least 20 px/);
  });

  it('reads τ, the bank momentum and λ, and names its metrics with test ids of their own', () => {
    const entry = METHOD_CATALOG.pirl;
    expect(entry.settings).toEqual(['temperature', 'bankMomentum', 'pirlLambda']);
    const others = Object.values(METHOD_CATALOG).filter((e) => e.id !== 'pirl').flatMap((e) => e.metrics.map((m) => m.testId));
    for (const m of entry.metrics) expect(others).not.toContain(m.testId);
  });
});

describe('PIRL through the training loop', () => {
  it('trains with a finite, falling loss, leaks nothing, repeats for one seed, and visits N new bank entries a step', async () => {
    // N = 8 from 32 images keeps the 23 steps quick on the cpu backend; without augmentation the image's own term learns within them
    const steps = await checkMethodBasics(methodConfig('pirl', { imageSize: VIEW, batchSize: 8, augmentation: presetPipeline('none') }), 0, toyDataset(32, 8));
    // 32 images in batches of 8: every entry written by step 4
    expect(steps.slice(0, 5).map((m) => m.values.bankWritten)).toEqual([0.25, 0.5, 0.75, 1, 1]);
    for (const m of steps) {
      expect(m.values.tilesRank).toBeGreaterThanOrEqual(0);
      expect(m.values.imageRank).toBeLessThanOrEqual(31);
      // the image and its tiles are a positive pair: alignment is defined
      expect(Number.isFinite(m.alignment)).toBe(true);
    }
    const late = (key: string) => steps.slice(-5).reduce((sum, m) => sum + m.values[key], 0) / 5;
    console.info(`PIRL: loss ${steps[0].loss.toFixed(3)} → ${steps[19].loss.toFixed(3)}; late mean rank tiles ${late('tilesRank').toFixed(1)}, image ${late('imageRank').toFixed(1)} of 32; alignment ${steps[0].alignment.toFixed(3)} → ${steps[19].alignment.toFixed(3)}`);
    // a random guess ranks the own entry 15.5 of 32
    expect(late('imageRank')).toBeLessThan(10);
  });

  it('captures an instrument: x, I, its shuffled tiles, the images nearest in the bank, with ranks that match the marks', async () => {
    const before = tf.memory().numTensors;
    const dataset = toyDataset(32, 8);
    const trainer = new Trainer(dataset, methodConfig('pirl', { imageSize: VIEW, batchSize: 8 }));
    await trainSteps(trainer, 4);
    trainer.captureAffinity = true;
    const metrics = await trainer.trainStep();
    const snapshot = trainer.taskSnapshot!;
    expect(snapshot.method).toBe('pirl');
    expect(snapshot.count).toBe(8);
    expect(taskSnapshotProblem(snapshot)).toBeNull();
    const p = pirlGrid(VIEW).patch;
    const side = 3 * p + 2 * pictureGap(p);
    expect(snapshot.rows.map((r) => r.size)).toEqual([12, VIEW, side, 12, 12]);
    const [own, , , nearTiles] = snapshot.rows.map((r) => r.images);
    const per = 12 * 12;
    const image = (rows: Float32Array, e: number) => Array.from(rows.subarray(e * per, (e + 1) * per));
    snapshot.captions.forEach((caption, e) => {
      const match = /^#(\d+) · rank (\d+) \(tiles\), (\d+) \(image\)$/.exec(caption)!;
      expect(match, caption).not.toBeNull();
      const index = Number(match[1]);
      // x is the training image of that index, as the trainer holds it
      expect(image(own, e)).toEqual(Array.from(dataset.train.images.subarray(index * per, (index + 1) * per), (v) => Math.fround(v / 255)));
      // right exactly when the tiles find the own entry, and then the nearest image is x itself (the toy's noise makes every image distinct)
      expect(snapshot.correct![e]).toBe(match[2] === '0');
      if (snapshot.correct![e]) expect(image(nearTiles, e)).toEqual(image(own, e));
      else expect(image(nearTiles, e)).not.toEqual(image(own, e));
    });
    expect(snapshot.summary).toMatch(/^The own bank entry is the nearest of all 32 for \d+ of 8 images from their shuffled tiles and \d+ of 8 from the whole image \(mean rank [\d.]+ and [\d.]+; a random guess ranks it 15\.5\)\.$/);
    // the summary's mean ranks are the step's metrics
    expect(snapshot.summary).toContain(`mean rank ${metrics.values.tilesRank.toFixed(1)} and ${metrics.values.imageRank.toFixed(1)}`);
    trainer.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('PIRL checkpoints', () => {
  const config = methodConfig('pirl', { imageSize: VIEW, batchSize: 8 });
  const dataset = toyDataset(32, 8);

  it('resumes before the bank is fully visited and goes on past it with the uninterrupted run’s losses, ranks and bankWritten', async () => {
    // 32 images in batches of 8: the checkpoint at step 2 holds half the bank written, the last entries are written at step 4
    const { resumed } = await checkResumesExactly(config, { before: 2, after: 2, dataset });
    expect(resumed.map((m) => m.values.bankWritten)).toEqual([0.75, 1]);
  }, 60_000);

  it('refuses another dataset’s or a damaged state, naming the entry, and changes nothing', async () => {
    const before = tf.memory().numTensors;
    const larger = new Trainer(toyDataset(48, 8), config);
    const otherDataset = await larger.method.saveState();
    larger.dispose();
    const trained = new Trainer(dataset, config);
    await trainSteps(trained, 2);
    const saved = await trained.method.saveState();
    trained.dispose();
    const untouched = new Trainer(dataset, config);
    const trainer = new Trainer(dataset, config);
    const own = await trainer.method.saveState();
    const refusals: [MethodState, RegExp][] = [
      [otherDataset, /PIRL’s “bank” in the checkpoint is \[48, 16\], not \[32, 16\]/],
      // the bank right, what is read after it wrong: the bank must not have been written
      [{ ...saved, arrays: { ...saved.arrays, writtenAt: { ...saved.arrays.writtenAt, shape: [16], data: saved.arrays.writtenAt.data.slice(0, 16) } } }, /PIRL’s “writtenAt” in the checkpoint is \[16\], not \[32\]/],
      [{ ...saved, values: { ...saved.values, step: 1 } }, /PIRL’s “writtenAt” in the checkpoint holds steps outside −1…1/],
      [{ ...saved, values: { step: saved.values.step } }, /lacks PIRL’s “tilesRng”/],
    ];
    for (const [state, message] of refusals) expect(() => trainer.method.loadState(state)).toThrow(message);
    expect(await trainer.method.saveState()).toEqual(own);
    const [reference] = await trainSteps(untouched, 1);
    const [next] = await trainSteps(trainer, 1);
    expect(next.loss).toBe(reference.loss);
    untouched.dispose();
    trainer.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }, 60_000);
});
