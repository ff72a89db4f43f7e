import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { createRng } from '../core/random';
import { imageBytes, type ImageDataset } from '../data/dataset';
import { GENERATED_LABEL, mixTrainingSet, realBudget } from '../data/generatedMix';
import { generateSyntheticShapes } from '../data/syntheticShapes';
import { GeneratorSession, mixSampleSeed } from './generatorSession';
import { buildMixedDataset, MAX_MIX_RATIO } from './mixDataset';
import type { GeneratorSettings } from './protocol';

await tf.setBackend('cpu');

const SIZE = 16;
const ROW = imageBytes(SIZE, 3);

/** The coloured shapes at 16 px: 100 training images (10 classes), 20 test, 20 probe. */
const SOURCE = generateSyntheticShapes({ seed: 4, imageSize: SIZE, trainPerClass: 10, testPerClass: 2, probePerClass: 2 });
/** The same images without a probe split of their own: the mix's probeTrain is then the budget X. */
const NO_PROBE: ImageDataset = { ...SOURCE, id: 'shapes-no-probe', probeTrain: undefined };

const SETTINGS: GeneratorSettings = { kind: 'dcgan', steps: 1, batchSize: 8, width: 4, zDim: 8, seed: 2 };
const tensorsBefore = tf.memory().numTensors;
const GENERATOR = GeneratorSession.create(SOURCE, SETTINGS);
await GENERATOR.train(1, 8, { shouldStop: () => false, onStep: () => {}, onSamples: () => {} });

afterAll(() => {
  GENERATOR.dispose();
  expect(tf.memory().numTensors).toBe(tensorsBefore);
});

/** A grayscale 16 px set of `count` seeded noise images, one class. */
function grayNoise(count: number): ImageDataset {
  const rng = createRng(9);
  const images = Uint8Array.from({ length: count * SIZE * SIZE }, () => Math.floor(rng() * 256));
  const split = { images, labels: new Int32Array(count), count };
  return { id: 'gray', name: 'Gray noise', imageSize: SIZE, channels: 1, classNames: ['noise', 'other'], train: split, test: split };
}

describe('buildMixedDataset', () => {
  it('holds X = realBudget and |Z| = round(ratio·|X|) generated images, Z being the generator’s samples', async () => {
    const request = { sourceDatasetId: SOURCE.id, realFraction: 0.3, ratio: 1.5, generatorId: null, seed: 7 };
    const mixed = await buildMixedDataset(SOURCE, request, GENERATOR);
    const budget = realBudget(SOURCE.train, 0.3, 7);
    expect(budget.length).toBe(30);
    expect(mixed.provenance.realCount).toBe(30);
    expect(mixed.provenance.generatedCount).toBe(45);
    expect(mixed.train.count).toBe(75);
    expect(Array.from(mixed.provenance.train.index.subarray(0, 30))).toEqual(Array.from(budget));
    budget.forEach((i, row) => expect(mixed.train.images.subarray(row * ROW, (row + 1) * ROW)).toEqual(SOURCE.train.images.subarray(i * ROW, (i + 1) * ROW)));
    const z = await GENERATOR.sampleBytes(45, mixSampleSeed(7));
    expect(mixed.train.images.subarray(30 * ROW)).toEqual(z);
    expect(Array.from(mixed.train.labels.subarray(30))).toEqual(new Array(45).fill(GENERATED_LABEL));
    // a half rounds up: 0.25 · 30 = 7.5 → 8
    const quarter = await buildMixedDataset(SOURCE, { ...request, ratio: 0.25 }, GENERATOR);
    expect([quarter.provenance.realCount, quarter.provenance.generatedCount]).toEqual([30, 8]);
  });

  it('keeps every generated row out of test and probeTrain, with or without a probe split of its own', async () => {
    for (const source of [SOURCE, NO_PROBE]) {
      const mixed = await buildMixedDataset(source, { sourceDatasetId: source.id, realFraction: 0.2, ratio: 2, generatorId: null, seed: 1 }, GENERATOR);
      expect(mixed.provenance.generatedCount).toBe(40);
      expect(mixed.test.count).toBe(20);
      expect(mixed.provenance.test.generated.every((g) => g === 0)).toBe(true);
      expect(mixed.provenance.probeTrain.generated.every((g) => g === 0)).toBe(true);
      expect(mixed.test.images).toEqual(source.test.images);
      expect(Array.from(mixed.probeTrain.labels).every((l) => l >= 0)).toBe(true);
      if (source.probeTrain) {
        expect(mixed.probeTrain.images).toEqual(source.probeTrain.images);
      } else {
        // no probe split of its own: the probe fits on X, never on Z
        expect(mixed.provenance.probeTrain.source).toBe('train');
        expect(Array.from(mixed.provenance.probeTrain.index)).toEqual(Array.from(realBudget(source.train, 0.2, 1)));
      }
    }
  });

  it('is deterministic for a seed, and another seed draws another X and Z', async () => {
    const request = { sourceDatasetId: SOURCE.id, realFraction: 0.5, ratio: 1, generatorId: null, seed: 3 };
    const a = await buildMixedDataset(SOURCE, request, GENERATOR);
    const b = await buildMixedDataset(SOURCE, request, GENERATOR);
    const c = await buildMixedDataset(SOURCE, { ...request, seed: 4 }, GENERATOR);
    expect(b.id).toBe(a.id);
    expect(b.train.images).toEqual(a.train.images);
    expect(b.train.labels).toEqual(a.train.labels);
    expect(c.id).not.toBe(a.id);
    expect(c.train.images.subarray(50 * ROW)).not.toEqual(a.train.images.subarray(50 * ROW));
  });

  it('at ratio 0 needs no generator and holds the real budget only', async () => {
    const mixed = await buildMixedDataset(SOURCE, { sourceDatasetId: SOURCE.id, realFraction: 1, ratio: 0, generatorId: null, seed: 1 }, null);
    expect(mixed.provenance.generatedCount).toBe(0);
    expect(mixed.train.count).toBe(100);
    expect(mixed.train.images).toEqual(SOURCE.train.images);
  });

  it('refuses each bad request with a reason', async () => {
    const ok = { sourceDatasetId: SOURCE.id, realFraction: 0.5, ratio: 1, generatorId: null, seed: 1 };
    const refusal = (source: ImageDataset, request: typeof ok, generator: GeneratorSession | null) =>
      expect(buildMixedDataset(source, request, generator)).rejects;
    const mixedSource = mixTrainingSet(SOURCE, { realIndices: [0, 1], generated: { images: new Uint8Array(ROW), count: 1 } });
    await refusal(mixedSource, ok, GENERATOR).toThrow(/already holds generated images/);
    for (const realFraction of [0, -0.1, 1.5, NaN]) await refusal(SOURCE, { ...ok, realFraction }, GENERATOR).toThrow(/real-data budget must be/);
    for (const ratio of [-1, MAX_MIX_RATIO + 0.5, Infinity, NaN]) await refusal(SOURCE, { ...ok, ratio }, GENERATOR).toThrow(/ratio \|Z\|\/\|X\| must be a number from 0 to 8/);
    await refusal(SOURCE, ok, null).toThrow(/needs a generator to sample Z from/);
    await refusal(grayNoise(80), ok, GENERATOR).toThrow(/16×16 images with 3 channels.*with 1\. Use a generator trained on this dataset/);
    // 140 000 real images × 8 × 256 bytes ≈ 273 MB of Z: refused before anything is sampled
    const huge = grayNoise(0);
    huge.train = { images: new Uint8Array(140_000 * SIZE * SIZE), labels: new Int32Array(140_000), count: 140_000 };
    const gray = GeneratorSession.create(grayNoise(80), { ...SETTINGS, kind: 'vae', zDim: 4 });
    await refusal(huge, { ...ok, realFraction: 1, ratio: 8 }, gray).toThrow(/1,120,000 generated images would take 273 MB, more than the 256 MB allowed/);
    gray.dispose();
  });
});
