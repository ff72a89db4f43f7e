/**
 * Train/test split of an upload. Pure and seeded: the same labels, share and
 * seed give the same split.
 */
import { createRng, permutation } from '../../core/random';

export interface SplitIndices {
  /** indices into the images, ascending */
  train: Int32Array;
  /** indices into the images, ascending */
  test: Int32Array;
}

/**
 * Stratified split: each class (and the unlabelled images, label −1, as one
 * group) is shuffled and round(testShare · n_c) of it goes to test, kept
 * between 1 and n_c − 1: a class of one image stays in train, and a class of
 * two or more gives at least one image to test and keeps at least one for
 * training. So a labelled set has test images unless every class has a
 * single image. A share of 0 holds nothing out. Classes are visited in
 * ascending label order, all drawing from one generator seeded with `seed`.
 */
export function stratifiedSplit(labels: Int32Array, testShare: number, seed: number): SplitIndices {
  if (!(testShare >= 0 && testShare < 1)) {
    throw new RangeError(`The test share must be in [0, 1), got ${testShare}.`);
  }
  const groups = new Map<number, number[]>();
  labels.forEach((label, i) => {
    const group = groups.get(label);
    if (group) group.push(i);
    else groups.set(label, [i]);
  });

  const rng = createRng(seed);
  const isTest = new Uint8Array(labels.length);
  for (const label of [...groups.keys()].sort((a, b) => a - b)) {
    const members = groups.get(label)!;
    const n = members.length;
    // at 20%, round(0.2 · 2) would be 0: a class of two would never be tested
    const nTest = n < 2 || testShare === 0 ? 0 : Math.min(Math.max(Math.round(testShare * n), 1), n - 1);
    const order = permutation(rng, n);
    for (let k = 0; k < nTest; k++) isTest[members[order[k]]] = 1;
  }

  const test: number[] = [];
  const train: number[] = [];
  isTest.forEach((t, i) => (t ? test : train).push(i));
  return { train: Int32Array.from(train), test: Int32Array.from(test) };
}
