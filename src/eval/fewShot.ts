/**
 * Few-shot evaluation by nearest class centroid (the "nearest class mean"
 * classifier of Mensink et al. 2013; with normalized features the classifier
 * of Prototypical Networks, Snell et al. 2017, and SimpleShot, Wang et al.
 * 2019, which ℓ2-normalizes before averaging):
 *
 *     normalize (default):  x̂ = x / max(‖x‖, 1e-12),
 *                           μ_c = mean_{i: y_i = c} x̂_i,
 *                           ŷ = argmax_c  x̂_q · μ_c / max(‖μ_c‖, 1e-12)      (cosine to the centroid)
 *     Euclidean:            μ_c = mean_{i: y_i = c} x_i,
 *                           ŷ = argmin_c ‖x_q − μ_c‖² = argmax_c (2 x_q·μ_c − ‖μ_c‖²)
 *
 * Ties go to the lowest class index (argmax). The support images are picked
 * by {@link fewShotSupport}: `shots` per class, seeded.
 */
import * as tf from '@tensorflow/tfjs';
import { l2NormalizeRows } from './geometry';
import { shuffledClassIndices } from './labelSubsets';
import { validateLabels, validateNumClasses } from './validate';

export interface NearestCentroidOptions {
  /** Labels lie in [0, numClasses); every class needs at least one support row. */
  numClasses: number;
  /** true (default): cosine to centroids of ℓ2-normalized rows; false: Euclidean distance to raw means. */
  normalize?: boolean;
}

/**
 * Accuracy of the nearest-centroid classifier (see the module comment) built
 * from the support set, on the query set.
 *
 * @param support [nSupport, d] support features (not modified, not disposed).
 * @param supportLabels nSupport labels in [0, numClasses).
 * @param query [nQuery, d] query features.
 * @param queryLabels nQuery labels in [0, numClasses).
 * @returns the fraction of query rows classified correctly.
 * @throws Error when shapes or labels do not match, a set is empty, or a class
 *   has no support row (its centroid is undefined).
 */
export async function nearestCentroidAccuracy(
  support: tf.Tensor2D,
  supportLabels: Int32Array,
  query: tf.Tensor2D,
  queryLabels: Int32Array,
  opts: NearestCentroidOptions,
): Promise<number> {
  const { numClasses } = opts;
  const normalize = opts.normalize ?? true;
  if (support.rank !== 2 || query.rank !== 2) throw new Error('features must be rank-2 [n, d] tensors');
  const [nSupport, d] = support.shape;
  const [nQuery, dQuery] = query.shape;
  validateNumClasses(numClasses);
  if (d !== dQuery) throw new Error(`support features have ${d} dims but query features have ${dQuery}`);
  if (d < 1) throw new Error('features must have at least one dimension');
  if (supportLabels.length !== nSupport) throw new Error(`${nSupport} support feature rows but ${supportLabels.length} support labels`);
  if (queryLabels.length !== nQuery) throw new Error(`${nQuery} query feature rows but ${queryLabels.length} query labels`);
  if (nSupport < 1) throw new Error('the support set is empty');
  if (nQuery < 1) throw new Error('the query set is empty');
  validateLabels(supportLabels, numClasses, 'support');
  validateLabels(queryLabels, numClasses, 'query');
  const counts = new Float32Array(numClasses);
  for (let i = 0; i < nSupport; i++) counts[supportLabels[i]]++;
  for (let c = 0; c < numClasses; c++) {
    if (counts[c] === 0) throw new Error(`class ${c} has no support images, so it has no centroid; give every class at least one`);
  }

  const predicted = tf.tidy(() => {
    const x = normalize ? l2NormalizeRows(support) : support;
    const q = normalize ? l2NormalizeRows(query) : query;
    // μ = diag(1/n_c) · onehot(y)ᵀ · x   ([numClasses, d]).
    const onehot = tf.oneHot(tf.tensor1d(supportLabels, 'int32'), numClasses, 1, 0, 'float32');
    const centroids = tf.div(tf.matMul(onehot, x, true, false), tf.tensor2d(counts, [numClasses, 1]));
    const scores = normalize
      ? tf.matMul(q, l2NormalizeRows(centroids as tf.Tensor2D), false, true)
      : tf.sub(tf.mul(2, tf.matMul(q, centroids, false, true)), tf.transpose(tf.sum(tf.square(centroids), 1, true)));
    return tf.argMax(scores, 1);
  });
  let values: Int32Array;
  try {
    values = (await predicted.data()) as Int32Array;
  } finally {
    predicted.dispose();
  }
  let correct = 0;
  for (let i = 0; i < nQuery; i++) if (values[i] === queryLabels[i]) correct++;
  return correct / nQuery;
}

/**
 * A seeded few-shot support set: exactly `shotsPerClass` image indices of every
 * class, the first ones of a seeded per-class permutation (the same
 * permutations as {@link classBalancedSubset}), so the same seed gives the same
 * choice and the 1-shot set ⊂ the 5-shot set.
 *
 * @returns sorted indices, numClasses · shotsPerClass of them.
 * @throws Error when shotsPerClass is not an integer ≥ 1, a label is out of
 *   range, or a class has fewer than shotsPerClass images.
 */
export function fewShotSupport(labels: Int32Array, shotsPerClass: number, numClasses: number, seed: number): Int32Array {
  validateNumClasses(numClasses);
  if (!Number.isInteger(shotsPerClass) || shotsPerClass < 1) throw new Error(`shots per class must be an integer ≥ 1, got ${shotsPerClass}`);
  validateLabels(labels, numClasses, 'image');
  const byClass = shuffledClassIndices(labels, numClasses, seed);
  byClass.forEach((members, c) => {
    if (members.length < shotsPerClass) {
      throw new Error(`class ${c} has only ${members.length} images, fewer than the ${shotsPerClass} shots per class requested`);
    }
  });
  const out = new Int32Array(numClasses * shotsPerClass);
  byClass.forEach((members, c) => out.set(members.subarray(0, shotsPerClass), c * shotsPerClass));
  return out.sort();
}
