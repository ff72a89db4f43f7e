import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { generatorSettingErrors, generatorUnfitReason } from '../core/generatorSettings';
import { imageBytes, type ImageDataset } from '../data/dataset';
import { mixTrainingSet, pixelsToBytes, realBudget } from '../data/generatedMix';
import type { GeneratorToSave, StoredGenerator } from '../data/generatorDb';
import { generateSyntheticShapes } from '../data/syntheticShapes';
import { DEFAULT_PRECISION_RECALL_K } from '../eval/sampleQuality';
import { Dcgan } from '../generative/dcgan';
import { setWeights } from '../generative/weights';
import { GeneratorSession } from './generatorSession';
import { GENERATOR_GRID_COUNT, type GeneratorSamples, type GeneratorSettings, type GeneratorStepMetrics } from './protocol';

await tf.setBackend('cpu');

const SIZE = 16;

/** 80 training and 20 test images of the coloured shapes at 16 px (RGB), and 20 probe images. */
function shapes(trainPerClass = 8, testPerClass = 2): ImageDataset {
  return generateSyntheticShapes({ seed: 3, imageSize: SIZE, trainPerClass, testPerClass, probePerClass: 2 });
}

const DATA = shapes();
const ROW = imageBytes(SIZE, 3);

const DCGAN: GeneratorSettings = { kind: 'dcgan', steps: 3, batchSize: 8, width: 4, zDim: 8, seed: 5 };
const VAE: GeneratorSettings = { kind: 'vae', steps: 3, batchSize: 8, width: 4, zDim: 4, seed: 5 };

const noop = () => {};

/** Trains `steps` steps and returns what the callbacks received. */
async function run(session: GeneratorSession, steps: number, extra: Partial<Parameters<GeneratorSession['train']>[2]> = {}) {
  const metrics: GeneratorStepMetrics[] = [];
  const grids: GeneratorSamples[] = [];
  const result = await session.train(steps, 8, { shouldStop: () => false, onStep: (m) => metrics.push(m), onSamples: (s) => grids.push(s), ...extra });
  return { metrics, grids, result };
}

function asStored(saved: GeneratorToSave): StoredGenerator {
  return {
    ...saved, id: 'generator-1', weightCount: saved.weights.length,
    parameterCount: saved.weights.reduce((n, w) => n + w.values.length, 0),
  };
}

/** The plain reference: every real row's RMS pixel difference, sorted by (distance, index), the first k. */
function bruteForceNeighbours(sample: Uint8Array, train: Uint8Array, rows: number[], k: number): { index: number; distance: number }[] {
  return rows
    .map((index) => {
      let sum = 0;
      for (let p = 0; p < ROW; p++) sum += (sample[p] / 255 - train[index * ROW + p] / 255) ** 2;
      return { index, distance: Math.sqrt(sum / ROW) };
    })
    .sort((a, b) => a.distance - b.distance || a.index - b.index)
    .slice(0, k);
}

describe('GeneratorSession refusals', () => {
  it('refuses a dataset of 40 images with the unfit message', () => {
    const small = shapes(4);
    expect(small.train.count).toBe(40);
    const reason = generatorUnfitReason({ name: small.name, imageSize: SIZE, channels: 3, trainCount: 40 });
    expect(reason).toMatch(/40 training images.*at least 64/);
    expect(() => GeneratorSession.create(small, DCGAN)).toThrow(reason!);
  });

  it('refuses 12 px images', () => {
    const twelve = generateSyntheticShapes({ seed: 3, imageSize: 12, trainPerClass: 8, testPerClass: 1, probePerClass: 0 });
    expect(() => GeneratorSession.create(twelve, VAE)).toThrow(/12 px images; the generators are built for 16–32 px/);
  });

  it('refuses out-of-range settings, with every field’s message', () => {
    const bad = { ...DCGAN, width: 0, zDim: 999 };
    const errors = generatorSettingErrors(bad, 80);
    expect(() => GeneratorSession.create(DATA, bad)).toThrow(`${errors.width} ${errors.zDim}`);
    expect(() => GeneratorSession.create(DATA, { ...DCGAN, batchSize: 81 })).toThrow(/at most the 80 training images/);
  });

  it('refuses a mixed dataset', () => {
    const mixed = mixTrainingSet(DATA, { realIndices: [0, 1, 2], generated: { images: new Uint8Array(ROW), count: 1 } });
    expect(() => GeneratorSession.create(mixed, DCGAN)).toThrow(/already holds generated images/);
  });

  it('refuses a saved generator of another image size, and a batch larger than the split at train time', async () => {
    const session = GeneratorSession.create(DATA, DCGAN);
    const stored = asStored(await session.toSave());
    const gray = { ...DATA, channels: 1 as const };
    expect(() => GeneratorSession.fromStored(gray, stored)).toThrow(/16×16 px with 3 channels.*16×16 px with 1 channel\b/);
    await expect(session.train(1, 81, { shouldStop: () => false, onStep: noop, onSamples: noop })).rejects.toThrow(/at most the 80 training images/);
    session.dispose();
  });
});

describe('GeneratorSession training', () => {
  it('DCGAN: finite losses and scores under the step result’s names, steps counted', async () => {
    const session = GeneratorSession.create(DATA, DCGAN);
    const { metrics, result } = await run(session, 3);
    expect(result.cancelled).toBe(false);
    expect(metrics.map((m) => m.step)).toEqual([1, 2, 3]);
    expect(session.step).toBe(3);
    expect(session.config.stepsTrained).toBe(3);
    for (const m of metrics) {
      expect(m.kind).toBe('dcgan');
      expect(Object.keys(m.values).sort()).toEqual(['discriminatorLoss', 'fakeScore', 'generatorLoss', 'realScore']);
      for (const v of Object.values(m.values)) expect(Number.isFinite(v)).toBe(true);
      expect(m.values.realScore).toBeGreaterThan(0);
      expect(m.values.realScore).toBeLessThan(1);
    }
    session.dispose();
  });

  it('VAE: finite ELBO terms, −ELBO = reconstruction + KL', async () => {
    const session = GeneratorSession.create(DATA, VAE);
    const { metrics } = await run(session, 3);
    expect(metrics.map((m) => m.step)).toEqual([1, 2, 3]);
    for (const m of metrics) {
      expect(m.kind).toBe('vae');
      expect(Object.keys(m.values).sort()).toEqual(['kl', 'negativeElbo', 'reconstruction']);
      expect(m.values.negativeElbo).toBeCloseTo(m.values.reconstruction + m.values.kl, 3);
      expect(m.values.kl).toBeGreaterThanOrEqual(0);
    }
    session.dispose();
  });

  it('the same seed gives the same metrics and the same grid; another seed does not', async () => {
    const outcomes = [];
    for (const seed of [5, 5, 6]) {
      const session = GeneratorSession.create(DATA, { ...DCGAN, seed });
      const { metrics, grids } = await run(session, 2);
      outcomes.push({ values: metrics.map((m) => m.values), grid: grids.at(-1)!.images });
      session.dispose();
    }
    expect(outcomes[1].values).toEqual(outcomes[0].values);
    expect(outcomes[1].grid).toEqual(outcomes[0].grid);
    expect(outcomes[2].values).not.toEqual(outcomes[0].values);
  });

  it('two requests of 2 steps take the same steps as one of 4 (batches and noise follow the step number)', async () => {
    const once = GeneratorSession.create(DATA, VAE);
    const twice = GeneratorSession.create(DATA, VAE);
    const all = (await run(once, 4)).metrics;
    const parts = [...(await run(twice, 2)).metrics, ...(await run(twice, 2)).metrics];
    expect(parts).toHaveLength(4);
    expect(parts.map((m) => [m.step, m.values])).toEqual(all.map((m) => [m.step, m.values]));
    once.dispose();
    twice.dispose();
  });

  it('the grid changes after training, is sent every samplesEvery steps and after the last, and samples() repeats itself', async () => {
    const session = GeneratorSession.create(DATA, DCGAN);
    const before = await session.samples();
    expect(before.count).toBe(GENERATOR_GRID_COUNT);
    expect(before.images.length).toBe(GENERATOR_GRID_COUNT * ROW);
    expect(before.step).toBe(0);
    expect((await session.samples()).images).toEqual(before.images);
    const { grids } = await run(session, 5, { samplesEvery: 2 });
    expect(grids.map((g) => g.step)).toEqual([2, 4, 5]);
    const after = await session.samples();
    expect(after.images).toEqual(grids[2].images);
    let changed = 0;
    for (let i = 0; i < after.images.length; i++) changed += after.images[i] !== before.images[i] ? 1 : 0;
    expect(changed).toBeGreaterThan(after.images.length / 10);
    session.dispose();
  });

  it('shouldStop stops after the step in progress, and the last grid is still sent', async () => {
    const session = GeneratorSession.create(DATA, VAE);
    const stepsSeen: number[] = [];
    const grids: GeneratorSamples[] = [];
    const result = await session.train(10, 8, {
      shouldStop: () => stepsSeen.length >= 2,
      onStep: (m) => stepsSeen.push(m.step),
      onSamples: (s) => grids.push(s),
    });
    expect(result.cancelled).toBe(true);
    expect(stepsSeen).toEqual([1, 2]);
    expect(session.step).toBe(2);
    expect(grids.map((g) => g.step)).toEqual([2]);
    session.dispose();
  });

  it('a NaN loss stops training with a message saying it diverged and what to try', async () => {
    const session = GeneratorSession.create(DATA, DCGAN);
    const saved = await session.toSave();
    session.dispose();
    const poisoned = asStored({ ...saved, weights: saved.weights.map((w) => ({ ...w, values: new Float32Array(w.values.length).fill(NaN) })) });
    const broken = GeneratorSession.fromStored(DATA, poisoned);
    const seen: GeneratorStepMetrics[] = [];
    await expect(broken.train(3, 8, { shouldStop: () => false, onStep: (m) => seen.push(m), onSamples: noop }))
      .rejects.toThrow(/The DCGAN diverged at step 1: its \w+ became NaN.*another seed/);
    expect(seen).toHaveLength(0);
    broken.dispose();
  });
});

describe('GeneratorSession quality, neighbours and saving', () => {
  it('quality: finite figures on min(256, test count) real images and as many samples, its encoder stated as a proxy', async () => {
    const session = GeneratorSession.create(DATA, DCGAN);
    const points: Awaited<ReturnType<GeneratorSession['quality']>>[] = [];
    await run(session, 2, { onQuality: (q) => points.push(q) });
    expect(points.map((q) => q.step)).toEqual([2]);
    const q = points[0];
    expect(q.realCount).toBe(20);
    expect(q.generatedCount).toBe(20);
    expect(q.k).toBe(DEFAULT_PRECISION_RECALL_K);
    expect(Number.isFinite(q.frechet) && q.frechet >= 0).toBe(true);
    for (const share of [q.precision, q.recall]) expect(share >= 0 && share <= 1).toBe(true);
    expect(q.features).toMatch(/random-init encoder \(width 8, seed 0/);
    expect(q.features).toMatch(/20 held-out test images/);
    expect(q.features).toMatch(/proxy.*not ImageNet FID/);
    // the same model, the same figures: its samples and encoder are fixed
    const again = await session.quality();
    expect([again.frechet, again.precision, again.recall]).toEqual([q.frechet, q.precision, q.recall]);
    session.dispose();
  });

  it('quality on a set without a test split uses the last training images, and says so', async () => {
    const noTest = shapes(8, 0);
    const session = GeneratorSession.create(noTest, VAE);
    const q = await session.quality();
    expect(q.realCount).toBe(80);
    expect(q.generatedCount).toBe(80);
    expect(q.features).toMatch(/the last 80 training images \(the test split is empty, so these are not held out\)/);
    session.dispose();
  });

  it('neighbours equal a brute-force reference, packed sample then neighbours', async () => {
    const session = GeneratorSession.create(DATA, DCGAN);
    await run(session, 2);
    const grid = await session.samples();
    const result = session.neighbours(grid, 4, 3);
    expect(result.sampleIndices).toEqual([0, 1, 2, 3]);
    expect(result.k).toBe(3);
    const rows = Array.from({ length: DATA.train.count }, (_, i) => i);
    for (let s = 0; s < 4; s++) {
      const expected = bruteForceNeighbours(grid.images.subarray(s * ROW, (s + 1) * ROW), DATA.train.images, rows, 3);
      expect(result.neighbourIndices.slice(3 * s, 3 * s + 3)).toEqual(expected.map((e) => e.index));
      result.distances.slice(3 * s, 3 * s + 3).forEach((d, j) => expect(d).toBeCloseTo(expected[j].distance, 10));
      const block = result.images.subarray(s * 4 * ROW, (s + 1) * 4 * ROW);
      expect(block.subarray(0, ROW)).toEqual(grid.images.subarray(s * ROW, (s + 1) * ROW));
      expected.forEach((e, j) => expect(block.subarray((1 + j) * ROW, (2 + j) * ROW)).toEqual(DATA.train.images.subarray(e.index * ROW, (e.index + 1) * ROW)));
    }
    expect(result.images.length).toBe(4 * 4 * ROW);
    session.dispose();
  });

  it('neighbours skip the generated rows of a mixed set, even exact copies of the samples', async () => {
    const session = GeneratorSession.create(DATA, DCGAN);
    const grid = await session.samples();
    const plain = session.neighbours(grid);
    // Z = the grid itself: each sample's copy would be its nearest image at distance 0
    const realIndices = Array.from({ length: DATA.train.count }, (_, i) => i);
    const mixed = mixTrainingSet(DATA, { realIndices, generated: { images: grid.images, count: grid.count } });
    const onMixed = GeneratorSession.fromStored(mixed, asStored(await session.toSave()));
    const result = onMixed.neighbours(await onMixed.samples());
    expect(result.neighbourIndices.every((row) => row < DATA.train.count)).toBe(true);
    expect(Math.min(...result.distances)).toBeGreaterThan(0);
    expect(result.neighbourIndices).toEqual(plain.neighbourIndices);
    expect(result.distances).toEqual(plain.distances);
    await expect(onMixed.train(1, 8, { shouldStop: () => false, onStep: noop, onSamples: noop })).rejects.toThrow(/already holds generated images/);
    session.dispose();
    onMixed.dispose();
  });

  it('a budget: trains on X = realBudget(train, f, seed) only, neighbours come from X, and the budget is saved with it', async () => {
    // the lecture's set-up: the generator sees only the experiment's real images X, never the ones X withholds
    const x = realBudget(DATA.train, 0.8, 4);
    expect(x.length).toBe(64);
    const session = GeneratorSession.create(DATA, { ...DCGAN, budget: { realFraction: 0.8, seed: 4 } });
    expect(session.config.budget).toEqual({ realFraction: 0.8, seed: 4, count: 64 });
    await run(session, 1);
    const result = session.neighbours(await session.samples(), 4, 3);
    const inX = new Set(x);
    expect(result.neighbourIndices.every((row) => inX.has(row))).toBe(true);
    const expected = bruteForceNeighbours((await session.samples()).images.subarray(0, ROW), DATA.train.images, [...x], 3);
    expect(result.neighbourIndices.slice(0, 3)).toEqual(expected.map((e) => e.index));
    const restored = GeneratorSession.fromStored(DATA, asStored(await session.toSave()));
    expect(restored.config.budget).toEqual({ realFraction: 0.8, seed: 4, count: 64 });
    expect(restored.neighbours(await restored.samples(), 4, 3).neighbourIndices).toEqual(result.neighbourIndices);
    // a budget of fewer than 64 images cannot train one, and says which budget
    expect(() => GeneratorSession.create(DATA, { ...DCGAN, budget: { realFraction: 0.5, seed: 4 } })).toThrow(/50% of its training images.*40 training images.*at least 64/);
    session.dispose();
    restored.dispose();
  });

  it('toSave → stored → fromStored gives bit-identical samples and sampleBytes, and the step goes on', async () => {
    for (const settings of [DCGAN, VAE]) {
      const session = GeneratorSession.create(DATA, settings);
      await run(session, 3, { onQuality: noop });
      const saved = await session.toSave();
      expect(saved.datasetId).toBe(DATA.id);
      expect(saved.kind).toBe(settings.kind);
      expect(saved.config).toEqual({ size: SIZE, channels: 3, width: 4, zDim: settings.zDim, seed: 5, stepsTrained: 3 });
      expect(Object.keys(saved.quality ?? {}).sort()).toEqual(['frechet', 'precision', 'recall']);
      const restored = GeneratorSession.fromStored(DATA, asStored(saved));
      expect(restored.step).toBe(3);
      expect(restored.kind).toBe(settings.kind);
      expect((await restored.samples()).images).toEqual((await session.samples()).images);
      expect(await restored.sampleBytes(40, 9)).toEqual(await session.sampleBytes(40, 9));
      const { metrics } = await run(restored, 1);
      expect(metrics[0].step).toBe(4);
      expect(restored.config.stepsTrained).toBe(4);
      session.dispose();
      restored.dispose();
    }
  });

  it('sampleBytes: deterministic for a seed, prefixes agree, and chunks of 256 equal one pass of G', async () => {
    const session = GeneratorSession.create(DATA, DCGAN);
    await run(session, 1);
    const many = await session.sampleBytes(300, 11);
    expect(many.length).toBe(300 * ROW);
    expect(await session.sampleBytes(300, 11)).toEqual(many);
    expect(await session.sampleBytes(10, 11)).toEqual(many.subarray(0, 10 * ROW));
    expect(await session.sampleBytes(10, 12)).not.toEqual(many.subarray(0, 10 * ROW));
    // the reference: the same weights, G(fixedNoise(300, zDim, 11)) in one pass
    const reference = new Dcgan({ size: SIZE, channels: 3, width: 4, zDim: 8, seed: 0 });
    setWeights(reference, (await session.toSave()).weights);
    const images = reference.generator.sample(300, 11);
    const bytes = pixelsToBytes(await images.data<'float32'>());
    images.dispose();
    reference.dispose();
    // in inference mode each image depends on its own z only; the cpu backend sums each output in the same order at any batch size
    expect(many).toEqual(bytes);
    session.dispose();
  });

  it('leaves no tensor behind: training, grid, quality, neighbours, saving, loading, sampling and dispose', async () => {
    const before = tf.memory().numTensors;
    for (const settings of [DCGAN, VAE]) {
      const session = GeneratorSession.create(DATA, settings);
      await run(session, 2, { onQuality: noop, samplesEvery: 1, qualityEvery: 1 });
      session.neighbours(await session.samples());
      const restored = GeneratorSession.fromStored(DATA, asStored(await session.toSave()));
      await restored.sampleBytes(20, 1);
      await run(restored, 1);
      session.dispose();
      restored.dispose();
      session.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
