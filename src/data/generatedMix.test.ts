import { describe, expect, it } from 'vitest';
import { createRng } from '../core/random';
import { imageBytes, UNLABELLED, type ImageDataset, type ImageSplit } from './dataset';
import { tinyDataset } from './dataset.testutil';
import {
  assertNoGeneratedInEvaluation, bytesToPixels, GENERATED_LABEL, isMixedDataset, mixTrainingSet, pixelsToBytes, realBudget, trainRowOrigin,
  type MixedDataset,
} from './generatedMix';

/** A split of `counts[c]` images of class c in a seeded shuffled order; each image's bytes are its index mod 256 (pixels are not read by the budget). */
function splitWithCounts(counts: number[], seed: number): ImageSplit {
  const labels: number[] = [];
  counts.forEach((n, c) => {
    for (let i = 0; i < n; i++) labels.push(c);
  });
  const rng = createRng(seed);
  for (let i = labels.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [labels[i], labels[j]] = [labels[j], labels[i]];
  }
  return { images: new Uint8Array(labels.length), labels: Int32Array.from(labels), count: labels.length };
}

function perClass(split: ImageSplit, indices: Int32Array, numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  for (const i of indices) counts[split.labels[i]]++;
  return counts;
}

const isSubset = (small: Int32Array, large: Int32Array) => {
  const set = new Set(large);
  return small.every((i) => set.has(i));
};

/** A 4×4 RGB set whose train image i is filled with byte 10 + i, test image i with 200 + i, labels i mod 2. */
function numberedDataset(train = 10, test = 4, probe?: number): ImageDataset {
  const bytes = imageBytes(4, 3);
  const split = (n: number, base: number): ImageSplit => {
    const images = new Uint8Array(n * bytes);
    for (let i = 0; i < n; i++) images.fill(base + i, i * bytes, (i + 1) * bytes);
    return { images, labels: Int32Array.from({ length: n }, (_, i) => i % 2), count: n };
  };
  return {
    ...tinyDataset('shapes', 'Shapes'), credit: 'made here',
    train: split(train, 10), test: split(test, 200), ...(probe ? { probeTrain: split(probe, 100) } : {}),
  };
}

/** n generated 4×4 RGB images, image j filled with byte 150 + j. */
function generatedImages(n: number): { images: Uint8Array; count: number } {
  const bytes = imageBytes(4, 3);
  const images = new Uint8Array(n * bytes);
  for (let j = 0; j < n; j++) images.fill(150 + j, j * bytes, (j + 1) * bytes);
  return { images, count: n };
}

/** The fill byte of each image of a split. */
const fills = (split: ImageSplit) => Array.from({ length: split.count }, (_, i) => split.images[i * imageBytes(4, 3)]);

describe('realBudget', () => {
  const COUNTS = [1000, 600, 55, 7, 1, 150, 149, 251, 3, 2];
  const train = splitWithCounts(COUNTS, 1);

  it('holds round(fraction × count) images, about that fraction of every class and at least one of each', () => {
    for (const fraction of [0.1, 0.37, 0.5]) {
      const budget = realBudget(train, fraction, 7);
      expect(budget.length).toBe(Math.round(fraction * train.count));
      expect(new Set(budget).size).toBe(budget.length);
      expect(budget.every((v, k) => k === 0 || v > budget[k - 1])).toBe(true);
      perClass(train, budget, COUNTS.length).forEach((taken, c) => {
        expect(taken).toBeGreaterThanOrEqual(1);
        // within one image of the class's share, except where the one-per-class floor lifts it
        if (taken > 1) expect(Math.abs(taken - fraction * COUNTS[c])).toBeLessThanOrEqual(1);
      });
    }
    expect(Array.from(realBudget(train, 1, 7))).toEqual(Array.from({ length: train.count }, (_, i) => i));
  });

  it('lets the one-per-class floor take its seats from the large classes at 1%, keeping the total exact', () => {
    // shares 10, 6, 0.55, 0.07, 0.01, 1.5, 1.49, 2.51, 0.03, 0.02 of 22 images: the ten floor picks leave 12, which
    // the largest n_c / (2 t_c + 1) (worked by hand: 1000/3, 1000/5 = 600/3 tie to the lower label, …) gives to
    // classes 0, 0, 1, 0, 1, 0, 0, 1, 7, 0, 0 (1000/15 = 600/9, a tie), 1
    const budget = realBudget(train, 0.01, 7);
    expect(budget.length).toBe(22);
    expect(perClass(train, budget, COUNTS.length)).toEqual([8, 5, 1, 1, 1, 1, 1, 2, 1, 1]);
  });

  it('takes exactly the same share of equal classes: 1% of 10 × 1000 is 10 per class', () => {
    const even = splitWithCounts(new Array(10).fill(1000), 3);
    expect(perClass(even, realBudget(even, 0.01, 5), 10)).toEqual(new Array(10).fill(10));
    expect(perClass(even, realBudget(even, 0.1, 5), 10)).toEqual(new Array(10).fill(100));
  });

  it('keeps one image per class when the share rounds to fewer images than classes', () => {
    const budget = realBudget(train, 0.001, 2);
    expect(budget.length).toBe(10);
    expect(perClass(train, budget, 10)).toEqual(new Array(10).fill(1));
  });

  it('is deterministic for a seed, differs between seeds, and nests: 1% ⊂ 10% ⊂ 50% ⊂ 100%', () => {
    for (const seed of [0, 1, 99]) {
      const budgets = [0.01, 0.1, 0.5, 1].map((f) => realBudget(train, f, seed));
      for (let k = 1; k < budgets.length; k++) expect(isSubset(budgets[k - 1], budgets[k])).toBe(true);
      expect(Array.from(realBudget(train, 0.1, seed))).toEqual(Array.from(budgets[1]));
    }
    expect(Array.from(realBudget(train, 0.1, 1))).not.toEqual(Array.from(realBudget(train, 0.1, 2)));
  });

  it('draws a plain seeded subset of an unlabelled split, nested too', () => {
    const unlabelled: ImageSplit = { images: new Uint8Array(500), labels: new Int32Array(500).fill(UNLABELLED), count: 500 };
    const small = realBudget(unlabelled, 0.01, 4);
    const large = realBudget(unlabelled, 0.1, 4);
    expect([small.length, large.length]).toEqual([5, 50]);
    expect(isSubset(small, large)).toBe(true);
    expect(realBudget(unlabelled, 0.0001, 4).length).toBe(1);
  });

  it('refuses a fraction outside (0, 1], an empty split, and a split mixing labelled and unlabelled rows', () => {
    for (const fraction of [0, -0.1, 1.01, Number.NaN]) expect(() => realBudget(train, fraction, 1)).toThrow(/fraction in \(0, 1\]/);
    expect(() => realBudget({ images: new Uint8Array(0), labels: new Int32Array(0), count: 0 }, 0.5, 1)).toThrow(/at least one/);
    const mixedLabels: ImageSplit = { images: new Uint8Array(3), labels: Int32Array.of(0, UNLABELLED, 1), count: 3 };
    expect(() => realBudget(mixedLabels, 0.5, 1)).toThrow('The training split mixes 2 labelled and 1 unlabelled images; a budget needs one or the other.');
    expect(() => realBudget({ images: new Uint8Array(2), labels: Int32Array.of(0, -3), count: 2 }, 0.5, 1)).toThrow(/Label -3 at index 1/);
  });
});

describe('pixelsToBytes and bytesToPixels', () => {
  it('round 255 · p after clamping to [0, 1], halves up', () => {
    const pixels = Float32Array.of(0, 1, 0.5, 1 / 255, 0.5 / 255, 0.49 / 255, 0.999, -0.3, 1.7, -Infinity, Infinity);
    expect(Array.from(pixelsToBytes(pixels))).toEqual([0, 255, 128, 1, 1, 0, 255, 0, 255, 0, 255]);
  });

  it('invert each other exactly on every byte value', () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const pixels = bytesToPixels(bytes);
    expect(pixels[0]).toBe(0);
    expect(pixels[255]).toBe(1);
    expect(pixels[51]).toBe(Math.fround(0.2));
    expect(Array.from(pixelsToBytes(pixels))).toEqual(Array.from(bytes));
  });

  it('refuse a NaN pixel, naming it', () => {
    expect(() => pixelsToBytes(Float32Array.of(0.2, 0.4, Number.NaN))).toThrow(/^Generated pixel 2 is NaN: the generator has diverged/);
  });
});

describe('mixTrainingSet', () => {
  it('puts the chosen real images first, then the generated ones, each marked in the provenance', () => {
    const dataset = numberedDataset();
    const mixed = mixTrainingSet(dataset, { realIndices: Int32Array.of(1, 4, 6), generated: generatedImages(2) });
    expect(fills(mixed.train)).toEqual([11, 14, 16, 150, 151]);
    expect(Array.from(mixed.train.labels)).toEqual([1, 0, 0, GENERATED_LABEL, GENERATED_LABEL]);
    expect(GENERATED_LABEL).toBe(UNLABELLED);
    expect(mixed.train.count).toBe(5);
    expect(mixed.provenance.realCount).toBe(3);
    expect(mixed.provenance.generatedCount).toBe(2);
    expect(mixed.provenance.sourceDatasetId).toBe('shapes');
    expect(Array.from(mixed.provenance.train.generated)).toEqual([0, 0, 0, 1, 1]);
    expect(Array.from(mixed.provenance.train.index)).toEqual([1, 4, 6, 0, 1]);
    expect([0, 3, 4].map((row) => trainRowOrigin(mixed, row))).toEqual([
      { kind: 'real', index: 1 }, { kind: 'generated', index: 0 }, { kind: 'generated', index: 1 },
    ]);
    expect(() => trainRowOrigin(mixed, 5)).toThrow(/outside 0..4/);
    expect(isMixedDataset(mixed)).toBe(true);
    expect(isMixedDataset(dataset)).toBe(false);
    expect(mixed.credit).toBe('made here');
  });

  it('keeps test real and untouched, in arrays of its own, and the original unchanged', () => {
    const dataset = numberedDataset();
    const before = structuredClone(dataset);
    const mixed = mixTrainingSet(dataset, { realIndices: [0, 2], generated: generatedImages(3) });
    expect(fills(mixed.test)).toEqual([200, 201, 202, 203]);
    expect(Array.from(mixed.test.labels)).toEqual([0, 1, 0, 1]);
    expect(mixed.test.images.buffer).not.toBe(dataset.test.images.buffer);
    expect(Array.from(mixed.provenance.test.generated)).toEqual([0, 0, 0, 0]);
    expect(Array.from(mixed.provenance.test.index)).toEqual([0, 1, 2, 3]);
    expect(dataset).toEqual(before);
  });

  it('fits the probe on the real budget when the set has no probeTrain of its own', () => {
    const mixed = mixTrainingSet(numberedDataset(), { realIndices: Int32Array.of(3, 5, 8, 9), generated: generatedImages(8) });
    expect(fills(mixed.probeTrain)).toEqual([13, 15, 18, 19]);
    expect(Array.from(mixed.probeTrain.labels)).toEqual([1, 1, 0, 1]);
    expect(mixed.provenance.probeTrain.source).toBe('train');
    expect(Array.from(mixed.provenance.probeTrain.index)).toEqual([3, 5, 8, 9]);
    expect(Array.from(mixed.provenance.probeTrain.generated)).toEqual([0, 0, 0, 0]);
    expect(mixed.probeTrain.images.buffer).not.toBe(mixed.train.images.buffer);
  });

  it('keeps a probeTrain of the set’s own as it is', () => {
    const mixed = mixTrainingSet(numberedDataset(10, 4, 3), { realIndices: [0], generated: generatedImages(1) });
    expect(fills(mixed.probeTrain)).toEqual([100, 101, 102]);
    expect(mixed.provenance.probeTrain.source).toBe('probeTrain');
    expect(Array.from(mixed.provenance.probeTrain.index)).toEqual([0, 1, 2]);
  });

  it('names the mix and gives it an id of its own per subset and per generated set', () => {
    const dataset = { ...numberedDataset(20), name: 'Fashion-MNIST' };
    const indices = Int32Array.of(0, 1);
    const a = mixTrainingSet(dataset, { realIndices: indices, generated: generatedImages(2) });
    expect(a.name).toBe('Fashion-MNIST: 10% real + 1× generated');
    expect(a.id).toMatch(/^mixed:shapes:r2g2-[0-9a-f]{8}$/);
    expect(mixTrainingSet(dataset, { realIndices: indices, generated: generatedImages(2) }).id).toBe(a.id);
    expect(mixTrainingSet(dataset, { realIndices: Int32Array.of(0, 2), generated: generatedImages(2) }).id).not.toBe(a.id);
    const otherZ = generatedImages(2);
    otherZ.images[5] = 0;
    expect(mixTrainingSet(dataset, { realIndices: indices, generated: otherZ }).id).not.toBe(a.id);
    expect(mixTrainingSet(dataset, { realIndices: indices, generated: generatedImages(1) }).name).toBe('Fashion-MNIST: 10% real + 0.5× generated');
    expect(mixTrainingSet(dataset, { realIndices: indices, generated: generatedImages(0) }).name).toBe('Fashion-MNIST: 10% real + 0× generated');
    expect(mixTrainingSet(dataset, { realIndices: Array.from({ length: 20 }, (_, i) => i), generated: generatedImages(40) }).name)
      .toBe('Fashion-MNIST: 100% real + 2× generated');
  });

  it('refuses indices out of range or repeated, no real image, generated bytes of the wrong size, and a set already mixed', () => {
    const dataset = numberedDataset();
    const none = generatedImages(0);
    expect(() => mixTrainingSet(dataset, { realIndices: [0, 10], generated: none })).toThrow('Real index 10 at position 1 is outside the training split’s 0..9.');
    expect(() => mixTrainingSet(dataset, { realIndices: [0, 1.5], generated: none })).toThrow(/Real index 1.5/);
    expect(() => mixTrainingSet(dataset, { realIndices: [3, 1, 3], generated: none })).toThrow('Real index 3 is chosen twice (again at position 2); each real image enters the mix once.');
    expect(() => mixTrainingSet(dataset, { realIndices: [], generated: none })).toThrow(/at least one real image/);
    expect(() => mixTrainingSet(dataset, { realIndices: [0], generated: { images: new Uint8Array(47), count: 1 } }))
      .toThrow('1 generated images of 4×4×3 need 48 bytes, got 47: sample them at the dataset’s image size and channels.');
    expect(() => mixTrainingSet(dataset, { realIndices: [0], generated: { images: new Uint8Array(0), count: -1 } })).toThrow(/whole number ≥ 0/);
    const mixed = mixTrainingSet(dataset, { realIndices: [0], generated: generatedImages(1) });
    expect(() => mixTrainingSet(mixed, { realIndices: [0], generated: none })).toThrow(/already holds generated images/);
  });

  it('mixes an unlabelled set: every training label is UNLABELLED and the provenance still tells them apart', () => {
    const base = numberedDataset();
    const unlabelled: ImageDataset = {
      ...base, classNames: [],
      train: { ...base.train, labels: new Int32Array(10).fill(UNLABELLED) },
      test: { ...base.test, labels: new Int32Array(4).fill(UNLABELLED) },
    };
    const budget = realBudget(unlabelled.train, 0.3, 1);
    const mixed = mixTrainingSet(unlabelled, { realIndices: budget, generated: generatedImages(3) });
    expect(Array.from(mixed.train.labels)).toEqual(new Array(6).fill(UNLABELLED));
    expect(Array.from(mixed.provenance.train.generated)).toEqual([0, 0, 0, 1, 1, 1]);
    expect(() => assertNoGeneratedInEvaluation(mixed)).not.toThrow();
  });
});

describe('assertNoGeneratedInEvaluation', () => {
  const fresh = (): MixedDataset => mixTrainingSet(numberedDataset(10, 4, 2), { realIndices: [1, 2], generated: generatedImages(2) });

  it('passes a mix made by mixTrainingSet, with or without a probeTrain of its own, at every ratio', () => {
    for (const probe of [undefined, 3]) {
      for (const generated of [0, 1, 2, 4]) {
        const dataset = numberedDataset(10, 4, probe);
        const mixed = mixTrainingSet(dataset, { realIndices: realBudget(dataset.train, 0.5, 3), generated: generatedImages(generated) });
        expect(() => assertNoGeneratedInEvaluation(mixed)).not.toThrow();
      }
    }
  });

  it('throws when a test or probeTrain row is generated', () => {
    const inTest = fresh();
    inTest.provenance.test.generated[2] = 1;
    expect(() => assertNoGeneratedInEvaluation(inTest)).toThrow(
      '“Shapes: 20% real + 1× generated” breaks the rule that generated images never enter an evaluation: test row 2 is generated image 2.',
    );
    const inProbe = fresh();
    inProbe.provenance.probeTrain.generated[1] = 1;
    inProbe.provenance.probeTrain.index[1] = 0;
    expect(() => assertNoGeneratedInEvaluation(inProbe)).toThrow(/probeTrain row 1 is generated image 0\.$/);
  });

  it('throws when probeTrain is missing, so the trainer would fit the probe on the mixed train split', () => {
    const mixed = fresh();
    Reflect.deleteProperty(mixed, 'probeTrain');
    expect(() => assertNoGeneratedInEvaluation(mixed)).toThrow(/no probeTrain split, so the probe would be fitted on the mixed training split/);
  });

  it('throws when an evaluation row of a labelled set has no class, a generated row has one, or the provenance does not cover the rows', () => {
    const unlabelledTest = fresh();
    unlabelledTest.test.labels[3] = UNLABELLED;
    expect(() => assertNoGeneratedInEvaluation(unlabelledTest)).toThrow(/test row 3 has label -1, not a class/);
    const labelledGenerated = fresh();
    labelledGenerated.train.labels[3] = 1;
    expect(() => assertNoGeneratedInEvaluation(labelledGenerated)).toThrow(/generated training row 3 carries the class label 1/);
    const short = fresh();
    short.provenance.probeTrain.generated = new Uint8Array(1);
    expect(() => assertNoGeneratedInEvaluation(short)).toThrow(/the provenance of probeTrain does not have one entry per row \(2 rows\)/);
    const miscounted = fresh();
    miscounted.provenance.generatedCount = 1;
    expect(() => assertNoGeneratedInEvaluation(miscounted)).toThrow(/2 generated rows of 4, but the record says 1 generated and 2 real/);
  });
});
