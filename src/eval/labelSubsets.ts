/**
 * Class-balanced label subsets for the label-efficiency table (SimCLR, Chen
 * et al. 2020, §6 / Table 7: fine-tuning or probing with 1% and 10% of the
 * ImageNet labels, sampled class-balanced as in Zhai et al. 2019, S4L).
 *
 * Each class is shuffled once by a seeded permutation and a subset takes a
 * prefix of it, so for one seed the subsets are nested:
 *   subset(1%) ⊂ subset(10%) ⊂ subset(100%) = every index,
 * and a larger fraction only adds images (a fair label-efficiency curve).
 */
import { createRng, permutation } from '../core/random';
import { validateLabels, validateNumClasses } from './validate';

/**
 * The images of every class in a seeded random order: result[c] lists the
 * indices i with labels[i] = c, shuffled by Fisher–Yates. One rng, seeded by
 * `seed`, draws the permutations for classes 0, 1, …, numClasses−1 in turn, so
 * the order depends only on (labels, numClasses, seed), never on how many
 * images a caller then takes. Labels must already be validated.
 */
export function shuffledClassIndices(labels: Int32Array, numClasses: number, seed: number): Int32Array[] {
  const counts = new Int32Array(numClasses);
  for (let i = 0; i < labels.length; i++) counts[labels[i]]++;
  const byClass = Array.from({ length: numClasses }, (_, c) => new Int32Array(counts[c]));
  const filled = new Int32Array(numClasses);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i];
    byClass[c][filled[c]++] = i;
  }
  const rng = createRng(seed);
  return byClass.map((members) => {
    const order = permutation(rng, members.length);
    return order.map((j) => members[j]);
  });
}

/**
 * Number of images class c contributes: m_c = round(fraction · n_c), at least 1
 * (so every class stays represented at 1%), and all n_c when fraction = 1.
 * Math.round rounds halves up; round(f·n) ≤ n for f ≤ 1, so m_c never exceeds n_c.
 */
function subsetSize(fraction: number, nc: number): number {
  return fraction === 1 ? nc : Math.min(nc, Math.max(1, Math.round(fraction * nc)));
}

/**
 * A class-balanced subset of the images: for each class c with n_c images,
 * the first round(fraction·n_c) (at least 1) of its seeded permutation.
 *
 * @param labels class index per image, in [0, numClasses).
 * @param fraction share of each class to keep, in (0, 1]; 1 returns every index.
 * @param numClasses number of classes; every class must have at least one image.
 * @param seed the same seed gives the same, nested, subsets for every fraction.
 * @returns the chosen image indices, sorted ascending.
 * @throws Error when fraction is not in (0, 1], a label is out of range, or a
 *   class has no images (it would get none in the subset).
 */
export function classBalancedSubset(labels: Int32Array, fraction: number, numClasses: number, seed: number): Int32Array {
  validateNumClasses(numClasses);
  if (!(Number.isFinite(fraction) && fraction > 0 && fraction <= 1)) {
    throw new Error(`the label fraction must be in (0, 1], got ${fraction}`);
  }
  validateLabels(labels, numClasses);
  const byClass = shuffledClassIndices(labels, numClasses, seed);
  let total = 0;
  byClass.forEach((members, c) => {
    if (members.length === 0) {
      throw new Error(
        `class ${c} has no images, so a class-balanced ${Number((fraction * 100).toPrecision(6))}% (fraction ${fraction}) label subset would contain none of it`,
      );
    }
    total += subsetSize(fraction, members.length);
  });
  const out = new Int32Array(total);
  let offset = 0;
  for (const members of byClass) {
    const m = subsetSize(fraction, members.length);
    out.set(members.subarray(0, m), offset);
    offset += m;
  }
  return out.sort();
}

/**
 * Per-class image counts of a subset: counts[c] = #{i ∈ indices : labels[i] = c}.
 * @throws Error when an index is outside [0, labels.length) or a label outside [0, numClasses).
 */
export function describeSubset(labels: Int32Array, indices: Int32Array, numClasses: number): number[] {
  validateNumClasses(numClasses);
  const counts = new Array<number>(numClasses).fill(0);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    if (!(Number.isInteger(i) && i >= 0 && i < labels.length)) {
      throw new Error(`subset index ${i} at position ${k} is outside [0, ${labels.length})`);
    }
    const y = labels[i];
    if (!(y >= 0 && y < numClasses)) throw new Error(`label ${y} at index ${i} is outside [0, ${numClasses})`);
    counts[y]++;
  }
  return counts;
}
