/**
 * Training sets that mix real images with images made by a generative model
 * trained on them (issue 19: when real images are few, does adding generated
 * ones help self-supervised pretraining?). Pure TypeScript on ImageDataset and
 * ImageSplit: usable in the worker and in Node tests.
 *
 * A setting is a real budget X (a seeded subset of the training split, see
 * realBudget) and a set Z of |Z| = ratio · |X| generated images. The mixed
 * set's `train` holds X then Z; `test` and `probeTrain` hold real images only,
 * because the encoders are compared on how well they describe REAL images.
 * Every row of every split carries its provenance (real and its index in the
 * original split, or generated and its index in Z), and
 * assertNoGeneratedInEvaluation checks that no generated row reached an
 * evaluation split.
 */
import { createRng, permutation } from '../core/random';
import { imageBytes, UNLABELLED, type ImageDataset, type ImageSplit } from './dataset';

/**
 * The label of a generated image: it has no class. UNLABELLED (−1) is the
 * value the code base already reads as "no class" (unlabelled uploads; the
 * worker's gallery skips negative labels), so no new marker is introduced.
 * A generated row is told apart from a real unlabelled one by its provenance.
 */
export const GENERATED_LABEL = UNLABELLED;

/** Where the rows of one split of a mixed set come from. */
export interface SplitProvenance {
  /** the split of the original dataset that the real rows' `index` points into */
  source: 'train' | 'test' | 'probeTrain';
  /** one per row: 1 when the row is a generated image, 0 when it is a real one */
  generated: Uint8Array;
  /** one per row: the real row's index in the original `source` split, or the generated row's index in Z */
  index: Int32Array;
}

export interface MixProvenance {
  /** id of the dataset the real images come from */
  sourceDatasetId: string;
  /** |X|: real rows of `train` (they come first) */
  realCount: number;
  /** |Z|: generated rows of `train` (they follow the real ones) */
  generatedCount: number;
  train: SplitProvenance;
  test: SplitProvenance;
  probeTrain: SplitProvenance;
}

/**
 * A dataset whose training split mixes real and generated images. probeTrain
 * is always present, so the trainer (which fits the probe and kNN on
 * `probeTrain ?? train`) never falls back to the mixed training split.
 */
export interface MixedDataset extends ImageDataset {
  probeTrain: ImageSplit;
  provenance: MixProvenance;
}

/** Whether a dataset is a mixed one (it carries a provenance record). */
export function isMixedDataset(dataset: ImageDataset): dataset is MixedDataset {
  return 'provenance' in dataset && typeof (dataset as { provenance?: unknown }).provenance === 'object';
}

function checkFraction(fraction: number): void {
  if (!(Number.isFinite(fraction) && fraction > 0 && fraction <= 1)) {
    throw new RangeError(`The real-data budget must be a fraction in (0, 1] of the training images, got ${fraction}.`);
  }
}

/**
 * Every training index in the order the budgets take them: any prefix of it
 * is class-balanced, holding about the same fraction of every class.
 *
 * Each class is shuffled once by a seeded permutation (one rng, classes in
 * ascending label order) and gives its images in that order. The first K
 * picks take one image of each of the K classes present (ascending label),
 * so every prefix of length ≥ K has every class; after that each pick goes
 * to the class c whose next image is most overdue by Sainte-Laguë's divisor
 * rule, the largest n_c / (2 t_c + 1) with t_c its images taken so far
 * (ties: the lower label). A sequence rule, unlike rounding each class's
 * share separately, gives a prefix of exactly the length asked and never
 * takes an image away when the prefix grows (no Alabama paradox), so the
 * budgets it cuts are nested.
 */
function budgetOrder(labels: Int32Array, count: number, seed: number): Int32Array {
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < count; i++) {
    const members = byClass.get(labels[i]);
    if (members) members.push(i);
    else byClass.set(labels[i], [i]);
  }
  const classes = [...byClass.keys()].sort((a, b) => a - b);
  const rng = createRng(seed);
  const shuffled = classes.map((c) => {
    const members = byClass.get(c)!;
    return Array.from(permutation(rng, members.length), (j) => members[j]);
  });
  const sizes = shuffled.map((members) => members.length);
  const taken = new Array<number>(classes.length).fill(0);
  const order = new Int32Array(count);
  let filled = 0;
  for (let k = 0; k < classes.length; k++) order[filled++] = shuffled[k][taken[k]++];
  while (filled < count) {
    let best = -1;
    for (let k = 0; k < classes.length; k++) {
      if (taken[k] === sizes[k]) continue;
      // n_k / (2 t_k + 1) > n_best / (2 t_best + 1), in integers so that ties are exact
      if (best < 0 || sizes[k] * (2 * taken[best] + 1) > sizes[best] * (2 * taken[k] + 1)) best = k;
    }
    order[filled++] = shuffled[best][taken[best]++];
  }
  return order;
}

/**
 * The real-data budget X: a seeded subset of the training split holding
 * round(fraction · count) images.
 *
 * Labelled split (every label ≥ 0): class-balanced, each class contributing
 * about `fraction` of its images (within one image), and at least one image
 * of every class present, so a 1% budget of a small class still has it (the
 * budget then holds max(round(fraction · count), number of classes) images).
 * Unlabelled split (every label UNLABELLED): a seeded random subset.
 *
 * Nested: for one seed, realBudget(f₁) ⊂ realBudget(f₂) whenever f₁ ≤ f₂, and
 * realBudget(1) is every index. A larger budget only adds images to a smaller
 * one, so a difference between the 1%, 10% and 100% settings comes from how
 * many real images there are, not from which ones were drawn: the budgets
 * compare like with like (as the label fractions of src/eval/labelSubsets.ts).
 *
 * @param train the training split of the original (real) dataset
 * @param fraction the share of the training images to keep, in (0, 1]
 * @param seed the same seed gives the same subsets, nested across fractions
 * @returns the chosen indices into `train`, ascending
 * @throws RangeError when fraction is outside (0, 1], the split is empty, or
 *   it mixes labelled and unlabelled rows
 */
export function realBudget(train: ImageSplit, fraction: number, seed: number): Int32Array {
  checkFraction(fraction);
  const { count, labels } = train;
  if (!Number.isInteger(count) || count < 1 || labels.length < count) {
    throw new RangeError(`The training split has ${count} images and ${labels.length} labels; a real-data budget needs at least one labelled row per image.`);
  }
  let unlabelled = 0;
  const classes = new Set<number>();
  for (let i = 0; i < count; i++) {
    if (labels[i] === UNLABELLED) unlabelled++;
    else if (labels[i] >= 0) classes.add(labels[i]);
    else throw new RangeError(`Label ${labels[i]} at index ${i} is neither a class index nor UNLABELLED (${UNLABELLED}).`);
  }
  if (unlabelled > 0 && unlabelled < count) {
    throw new RangeError(`The training split mixes ${count - unlabelled} labelled and ${unlabelled} unlabelled images; a budget needs one or the other.`);
  }
  const size = Math.min(count, Math.max(Math.round(fraction * count), 1, classes.size));
  const order = unlabelled === count ? permutation(createRng(seed), count) : budgetOrder(labels, count, seed);
  return order.slice(0, size).sort();
}

/**
 * Generated pixels, float in [0, 1] (NHWC, as the generators' sample()
 * returns them), as the uint8 rows ImageSplit holds: round(255 · p), with p
 * clamped to [0, 1] first (a sigmoid output is inside it; the clamp guards the
 * rounding at the ends). Halves round up, as Math.round does.
 * @throws RangeError naming the first pixel that is NaN (a diverged generator)
 */
export function pixelsToBytes(pixels: Float32Array): Uint8Array {
  const bytes = new Uint8Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) {
    const p = pixels[i];
    if (Number.isNaN(p)) {
      throw new RangeError(`Generated pixel ${i} is NaN: the generator has diverged. Train it again (a lower learning rate or fewer steps) before sampling.`);
    }
    bytes[i] = Math.round(Math.min(1, Math.max(0, p)) * 255);
  }
  return bytes;
}

/** uint8 rows as float pixels b / 255 in [0, 1], as the trainer feeds them to a network; pixelsToBytes inverts it exactly. */
export function bytesToPixels(bytes: Uint8Array): Float32Array {
  return Float32Array.from(bytes, (b) => b / 255);
}

/** The rows `indices` of a split, copied into a new split. */
function pickRows(split: ImageSplit, indices: ArrayLike<number>, rowBytes: number): ImageSplit {
  const images = new Uint8Array(indices.length * rowBytes);
  const labels = new Int32Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    images.set(split.images.subarray(i * rowBytes, (i + 1) * rowBytes), k * rowBytes);
    labels[k] = split.labels[i];
  }
  return { images, labels, count: indices.length };
}

/** A copy of a split (the mixed set owns all its arrays: sending it to the worker cannot empty the original's). */
function copySplit(split: ImageSplit, rowBytes: number): ImageSplit {
  return {
    images: split.images.slice(0, split.count * rowBytes),
    labels: split.labels.slice(0, split.count),
    count: split.count,
  };
}

function allReal(source: SplitProvenance['source'], indices: ArrayLike<number>): SplitProvenance {
  return { source, generated: new Uint8Array(indices.length), index: Int32Array.from(indices) };
}

/** FNV-1a, 32 bits, over bytes: a short fingerprint that tells mixes of equal sizes apart in their ids. */
function fnv1a(hash: number, bytes: Uint8Array): number {
  let h = hash;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return h >>> 0;
}

/** A share or ratio with at most three significant digits and no trailing zeros: 1, 10, 0.5, 1.02. */
function shortNumber(x: number): string {
  return String(Number(x.toPrecision(3)));
}

/**
 * A new dataset whose `train` is the real images `realIndices` of
 * `dataset.train` (in that order) followed by the `generated` ones, with a
 * provenance record for every row of every split.
 *
 * - Generated rows are labelled GENERATED_LABEL (UNLABELLED): they have no class.
 * - `test` is a copy of the original test split: real and untouched.
 * - `probeTrain` is a copy of the original's when it has one (real images kept
 *   apart for the probe, e.g. the coloured shapes' colour-neutral set); else
 *   the real budget's images (rows `realIndices`, in that order). The trainer
 *   fits the probe and kNN on `probeTrain ?? train`, taking its first
 *   probeTrainSize rows: without a probeTrain of its own, a budget smaller
 *   than probeTrainSize would let the probe fit on generated rows labelled −1.
 *   The budget, not the whole training split, because the setting says only
 *   X is there: fitting on the other real images would bring in the data the
 *   budget withholds. Within one budget every ratio then shares one probe set,
 *   and at 100% real + 0× generated it is the original set's own probe set.
 * - The id is `mixed:<original id>:r<|X|>g<|Z|>-<fingerprint>`, the
 *   fingerprint an FNV-1a hash of the real indices and the generated pixels
 *   (two mixes of the same sizes get different ids); it is not a config
 *   dataset id (src/core/datasets.ts isDatasetId), so it can never be picked
 *   or saved as an upload by mistake. The name says the mix:
 *   "Fashion-MNIST: 10% real + 1× generated".
 *
 * @param dataset the original, real dataset (not a mixed one)
 * @param mix.realIndices distinct indices into dataset.train, at least one (realBudget's)
 * @param mix.generated Z as uint8 HWC rows of the dataset's image size and channels (pixelsToBytes)
 * @throws RangeError when an index is out of range or repeated, the generated
 *   bytes do not make `count` images, or the dataset is already mixed
 */
export function mixTrainingSet(
  dataset: ImageDataset,
  mix: { realIndices: ArrayLike<number>; generated: { images: Uint8Array; count: number } },
): MixedDataset {
  if (isMixedDataset(dataset)) {
    throw new RangeError(`“${dataset.name}” already holds generated images; mix generated images into the original dataset instead.`);
  }
  const rowBytes = imageBytes(dataset.imageSize, dataset.channels);
  const { realIndices, generated } = mix;
  const trainCount = dataset.train.count;
  if (realIndices.length < 1) throw new RangeError('A mixed training set needs at least one real image.');
  const seen = new Uint8Array(trainCount);
  for (let k = 0; k < realIndices.length; k++) {
    const i = realIndices[k];
    if (!(Number.isInteger(i) && i >= 0 && i < trainCount)) {
      throw new RangeError(`Real index ${i} at position ${k} is outside the training split’s 0..${trainCount - 1}.`);
    }
    if (seen[i]) throw new RangeError(`Real index ${i} is chosen twice (again at position ${k}); each real image enters the mix once.`);
    seen[i] = 1;
  }
  if (!(Number.isInteger(generated.count) && generated.count >= 0)) {
    throw new RangeError(`The number of generated images must be a whole number ≥ 0, got ${generated.count}.`);
  }
  if (generated.images.length !== generated.count * rowBytes) {
    throw new RangeError(
      `${generated.count} generated images of ${dataset.imageSize}×${dataset.imageSize}×${dataset.channels} need ` +
        `${generated.count * rowBytes} bytes, got ${generated.images.length}: sample them at the dataset’s image size and channels.`,
    );
  }

  const realCount = realIndices.length;
  const real = pickRows(dataset.train, realIndices, rowBytes);
  const images = new Uint8Array((realCount + generated.count) * rowBytes);
  images.set(real.images);
  images.set(generated.images, realCount * rowBytes);
  const labels = new Int32Array(realCount + generated.count).fill(GENERATED_LABEL);
  labels.set(real.labels);

  const trainProvenance: SplitProvenance = {
    source: 'train',
    generated: new Uint8Array(realCount + generated.count).fill(1, realCount),
    index: new Int32Array(realCount + generated.count),
  };
  trainProvenance.index.set(Int32Array.from(realIndices));
  for (let j = 0; j < generated.count; j++) trainProvenance.index[realCount + j] = j;

  const ownProbe = dataset.probeTrain;
  const probeTrain = ownProbe ? copySplit(ownProbe, rowBytes) : real;
  const probeProvenance = ownProbe
    ? allReal('probeTrain', Int32Array.from({ length: ownProbe.count }, (_, i) => i))
    : allReal('train', realIndices);

  const fingerprint = fnv1a(fnv1a(0x811c9dc5, new Uint8Array(Int32Array.from(realIndices).buffer)), generated.images);
  const realShare = shortNumber((100 * realCount) / trainCount);
  const ratio = shortNumber(generated.count / realCount);
  const mixed: MixedDataset = {
    id: `mixed:${dataset.id}:r${realCount}g${generated.count}-${fingerprint.toString(16).padStart(8, '0')}`,
    name: `${dataset.name}: ${realShare}% real + ${ratio}× generated`,
    imageSize: dataset.imageSize,
    channels: dataset.channels,
    classNames: [...dataset.classNames],
    train: { images, labels, count: realCount + generated.count },
    test: copySplit(dataset.test, rowBytes),
    probeTrain,
    provenance: {
      sourceDatasetId: dataset.id,
      realCount,
      generatedCount: generated.count,
      train: trainProvenance,
      test: allReal('test', Int32Array.from({ length: dataset.test.count }, (_, i) => i)),
      probeTrain: probeProvenance,
    },
  };
  if (dataset.credit !== undefined) mixed.credit = dataset.credit;
  return mixed;
}

/** Where training row `row` of a mixed set comes from: a real image (its index in the original training split) or a generated one (its index in Z). */
export function trainRowOrigin(mixed: MixedDataset, row: number): { kind: 'real' | 'generated'; index: number } {
  const { train } = mixed.provenance;
  if (!(Number.isInteger(row) && row >= 0 && row < mixed.train.count)) {
    throw new RangeError(`Training row ${row} is outside 0..${mixed.train.count - 1}.`);
  }
  return { kind: train.generated[row] ? 'generated' : 'real', index: train.index[row] };
}

/**
 * Throws unless generated images stay out of every evaluation: `probeTrain`
 * is present (else the trainer would fit the probe on the mixed `train`),
 * each split's provenance has one entry per row, no `test` or `probeTrain`
 * row is generated, every generated training row is labelled
 * GENERATED_LABEL, and, in a labelled set, every `test` and `probeTrain`
 * label is a class (a −1 there would be a generated or unlabelled image
 * passing as real). The message names the split and row.
 */
export function assertNoGeneratedInEvaluation(mixed: MixedDataset): void {
  const fail = (what: string): never => {
    throw new Error(`“${mixed.name}” breaks the rule that generated images never enter an evaluation: ${what}.`);
  };
  const { provenance } = mixed;
  if (typeof provenance !== 'object' || provenance === null) fail('it has no provenance record');
  if (!mixed.probeTrain) fail('it has no probeTrain split, so the probe would be fitted on the mixed training split');
  const splits = [
    ['train', mixed.train, provenance.train],
    ['test', mixed.test, provenance.test],
    ['probeTrain', mixed.probeTrain, provenance.probeTrain],
  ] as const;
  for (const [name, split, origin] of splits) {
    if (!origin || origin.generated?.length !== split.count || origin.index?.length !== split.count) {
      fail(`the provenance of ${name} does not have one entry per row (${split.count} rows)`);
    }
  }
  const labelled = mixed.classNames.length >= 2;
  for (const [name, split, origin] of splits) {
    for (let row = 0; row < split.count; row++) {
      const label = split.labels[row];
      if (name === 'train') {
        if (origin.generated[row] && label !== GENERATED_LABEL) fail(`generated training row ${row} carries the class label ${label}`);
        continue;
      }
      if (origin.generated[row]) fail(`${name} row ${row} is generated image ${origin.index[row]}`);
      if (labelled && !(label >= 0 && label < mixed.classNames.length)) fail(`${name} row ${row} has label ${label}, not a class`);
    }
  }
  const generatedRows = provenance.train.generated.reduce((sum, g) => sum + g, 0);
  if (generatedRows !== provenance.generatedCount || mixed.train.count - generatedRows !== provenance.realCount) {
    fail(`its training split has ${generatedRows} generated rows of ${mixed.train.count}, but the record says ${provenance.generatedCount} generated and ${provenance.realCount} real`);
  }
}
