/**
 * k-means as DeepCluster runs it (Caron et al. 2018, on faiss): Lloyd
 * iterations from k-means++ seeds, with faiss's repair of empty clusters, and
 * the float64 plain-array reference the tests hold it to. Pure: points in,
 * centroids and assignments out, every random choice drawn from the Rng
 * handed in.
 *
 * Every step is a tfjs op on the device, with no read-back: the first
 * clustering of a DeepCluster run happens while the method is built, which is
 * synchronous, and a read-back there would stall the GPU (WebGPU reads
 * synchronously only through a canvas).
 *
 *   seeds:      k-means++ (Arthur & Vassilvitskii 2007): the first centroid a
 *               uniform draw, each next one drawn with probability ∝ D(x)²,
 *               the squared distance to the nearest centroid so far. faiss,
 *               and so the paper, seeds with k random points; k-means++ makes
 *               a merged pair of clusters with a split one far less likely.
 *   iteration:  a_i = argmin_j ‖x_i − c_j‖²    (‖c_j‖² − 2 x_i·c_j: a matMul)
 *               c_j = mean of the points with a_i = j
 *               then the empty clusters are repaired (splitEmptyClusters)
 *   end:        a final assignment to the final centroids, as DeepCluster
 *               searches the trained index once more for its labels.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../core/random';

/** Lloyd iterations per clustering: DeepCluster's clus.niter. */
export const KMEANS_ITERATIONS = 20;

/** faiss's relative perturbation of a split centroid (EPS = 1/1024). */
export const SPLIT_EPSILON = 1 / 1024;

/** Rows of points scored against the centroids at once: the distances then stay at most this many × k numbers. */
export const ASSIGN_CHUNK = 4096;

export interface KMeansFit {
  /** [k, d] */
  centroids: tf.Tensor2D;
  /** int32 [n]: the nearest final centroid of each point */
  assignments: tf.Tensor1D;
  /** int32 [k]: points per cluster (0 for a cluster left empty) */
  sizes: tf.Tensor1D;
  /** Σ_i ‖x_i − c_{a_i}‖², the sum the iterations lower */
  objective: tf.Scalar;
}

/** The sign pattern faiss perturbs a split centroid with: +1 on even dimensions, −1 on odd ones. */
function splitSigns(d: number): Float32Array {
  return Float32Array.from({ length: d }, (_, j) => (j % 2 === 0 ? 1 : -1));
}

/**
 * k-means++ seeds, [k, d]. Draw u from `rng`, once for the first centroid
 * (index ⌊u·n⌋) and once for each next one: the index is the number of points
 * whose running sum of D² lies below u·ΣD². Duplicate points give D² = 0 and
 * are never drawn again while another point is left; when all D² are 0 (fewer
 * distinct points than k) the draw falls on point 0.
 */
export function kMeansPlusPlus(points: tf.Tensor2D, k: number, rng: Rng): tf.Tensor2D {
  const n = points.shape[0];
  if (!(k >= 1 && k <= n)) throw new Error(`k-means needs 1 ≤ k ≤ n points: asked for k = ${k} clusters of ${n} points.`);
  const chosen: tf.Scalar[] = [tf.scalar(Math.min(Math.floor(rng() * n), n - 1), 'int32')];
  let nearest = tf.tidy(() => squaredDistancesTo(points, chosen[0]));
  try {
    for (let t = 1; t < k; t++) {
      const u = rng();
      const next = tf.tidy(() => {
        const running = tf.cumsum(nearest);
        const threshold = tf.mul(tf.slice(running, [n - 1], [1]), u);
        const below = tf.sum(tf.cast(tf.less(running, threshold), 'int32'));
        return tf.minimum(below, tf.scalar(n - 1, 'int32')) as tf.Scalar;
      });
      chosen.push(next);
      const updated = tf.tidy(() => tf.minimum(nearest, squaredDistancesTo(points, next)) as tf.Tensor1D);
      nearest.dispose();
      nearest = updated;
    }
    return tf.tidy(() => tf.gather(points, tf.stack(chosen) as tf.Tensor1D) as tf.Tensor2D);
  } finally {
    nearest.dispose();
    tf.dispose(chosen);
  }
}

/** ‖x_i − x_index‖² for every row i, as a sum of squared differences (exactly 0 for a copy of the point). */
function squaredDistancesTo(points: tf.Tensor2D, index: tf.Scalar): tf.Tensor1D {
  return tf.tidy(() => tf.sum(tf.squaredDifference(points, tf.gather(points, tf.reshape(index, [1]))), 1) as tf.Tensor1D);
}

/**
 * a_i = argmin_j (‖c_j‖² − 2 x_i·c_j), ‖x_i‖² being the same for every j;
 * ties go to the lower j (argMin). In chunks of ASSIGN_CHUNK rows. int32 [n].
 */
export function nearestCentroid(points: tf.Tensor2D, centroids: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const centroidNorms = tf.sum(tf.square(centroids), 1);
    const n = points.shape[0];
    const parts: tf.Tensor1D[] = [];
    for (let start = 0; start < n; start += ASSIGN_CHUNK) {
      const rows = tf.slice(points, [start, 0], [Math.min(ASSIGN_CHUNK, n - start), -1]);
      parts.push(tf.argMin(tf.sub(centroidNorms, tf.mul(tf.matMul(rows, centroids, false, true), 2)), 1) as tf.Tensor1D);
    }
    return (parts.length === 1 ? parts[0] : tf.concat(parts)) as tf.Tensor1D;
  });
}

/**
 * Σ_{i: ids_i = j} values_i per segment j, int32 [k], summed in float32 (exact
 * below 2²⁴). Never tf.unsortedSegmentSum on int32: tfjs-backend-webgpu 4.22
 * returns garbage for it (the bit patterns of floats, 905969664 for 1,428 on
 * SwiftShader; checks.html?check=kmeans), which sized every cluster wrongly
 * and so moved every centroid; its float32 kernel is right.
 */
export function segmentCounts(values: tf.Tensor1D, ids: tf.Tensor1D, k: number): tf.Tensor1D {
  return tf.tidy(() => tf.cast(tf.round(tf.unsortedSegmentSum(tf.cast(values, 'float32'), ids, k)), 'int32') as tf.Tensor1D);
}

/** Points per cluster, int32 [k]. */
export function clusterSizes(assignments: tf.Tensor1D, k: number): tf.Tensor1D {
  return tf.tidy(() => segmentCounts(tf.onesLike(assignments), assignments, k));
}

/**
 * Each cluster's mean, c_j = Σ_{a_i = j} x_i / |C_j|, summed by a matMul with
 * the one-hot assignments (a fixed order of additions: the same sums on every
 * run, where a scatter-add on the GPU would add in any order). A cluster with
 * no points keeps its centroid, for splitEmptyClusters to replace.
 */
export function updateCentroids(points: tf.Tensor2D, assignments: tf.Tensor1D, sizes: tf.Tensor1D, centroids: tf.Tensor2D): tf.Tensor2D {
  const k = centroids.shape[0];
  return tf.tidy(() => {
    const sums = tf.matMul(tf.oneHot(assignments, k, 1, 0, 'float32'), points, true, false);
    const counts = tf.reshape(tf.cast(sizes, 'float32'), [k, 1]);
    return tf.where(tf.greater(counts, 0), tf.div(sums, tf.maximum(counts, 1)), centroids) as tf.Tensor2D;
  });
}

/**
 * The paper's repair of empty clusters (faiss): an empty cluster takes the
 * centroid of a non-empty one, the two are pushed apart by a small relative
 * perturbation, c_donor ⊙ (1 + ε s) and c_donor ⊙ (1 − ε s) with s = (+1, −1,
 * +1, …) and ε = 1/1024, and the next assignment splits the donor's points
 * between them. faiss draws the donor at random with probability ∝ its size;
 * here, so that it needs no read-back and no random draw, the e-th empty
 * cluster (in index order) takes the e-th largest cluster (ties to the lower
 * index), when that one holds at least two points. Empty clusters left without
 * a donor stay as they are and are repaired at a later iteration.
 */
export function splitEmptyClusters(centroids: tf.Tensor2D, sizes: tf.Tensor1D): tf.Tensor2D {
  const [k, d] = centroids.shape;
  return tf.tidy(() => {
    const counts = tf.cast(sizes, 'int32') as tf.Tensor1D;
    const index = tf.range(0, k, 1, 'int32');
    // a unique key per cluster: larger first, ties to the lower index (k · n < 2³¹ for the sizes used here)
    const order = tf.topk(tf.add(tf.mul(counts, k), tf.sub(k - 1, index)), k).indices as tf.Tensor1D;
    const sortedCounts = tf.gather(counts, order);
    const empty = tf.cast(tf.equal(counts, 0), 'int32');
    // e: the rank of each empty cluster among the empty ones
    const emptyRank = tf.sub(tf.cumsum(empty), empty);
    const donor = tf.gather(order, emptyRank);
    const takesCopy = tf.logicalAnd(tf.cast(empty, 'bool'), tf.greaterEqual(tf.gather(counts, donor), 2));
    // the donors, in sorted position e: e < number of empty clusters and at least two points
    const donorSorted = tf.logicalAnd(tf.less(index, tf.sum(empty)), tf.greaterEqual(sortedCounts, 2));
    const isDonor = tf.greater(segmentCounts(tf.cast(donorSorted, 'int32') as tf.Tensor1D, order, k), 0);
    const signs = tf.tensor1d(splitSigns(d));
    const copies = tf.mul(tf.gather(centroids, donor), tf.sub(1, tf.mul(signs, SPLIT_EPSILON)));
    const pushed = tf.mul(centroids, tf.add(1, tf.mul(signs, SPLIT_EPSILON)));
    const column = (mask: tf.Tensor) => tf.reshape(mask, [k, 1]);
    return tf.where(column(isDonor), pushed, tf.where(column(takesCopy), copies, centroids)) as tf.Tensor2D;
  });
}

/** Σ_i ‖x_i − c_{a_i}‖². */
export function kMeansObjective(points: tf.Tensor2D, centroids: tf.Tensor2D, assignments: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => tf.sum(tf.squaredDifference(points, tf.gather(centroids, assignments))) as tf.Scalar);
}

/** Lloyd's iterations from the given centroids (assign, update, repair empty clusters), then a final assignment. */
export function lloyd(points: tf.Tensor2D, initial: tf.Tensor2D, iterations = KMEANS_ITERATIONS): KMeansFit {
  const k = initial.shape[0];
  let centroids = tf.clone(initial);
  for (let t = 0; t < iterations; t++) {
    const next = tf.tidy(() => {
      const assignments = nearestCentroid(points, centroids);
      const sizes = clusterSizes(assignments, k);
      return splitEmptyClusters(updateCentroids(points, assignments, sizes, centroids), sizes);
    });
    centroids.dispose();
    centroids = next;
  }
  // centroids is returned as it is: made outside this tidy, it is not freed by it
  return tf.tidy(() => {
    const assignments = nearestCentroid(points, centroids);
    return { centroids, assignments, sizes: clusterSizes(assignments, k), objective: kMeansObjective(points, centroids, assignments) };
  });
}

/** k-means: k-means++ seeds from `rng`, then Lloyd's iterations. */
export function kMeans(points: tf.Tensor2D, k: number, rng: Rng, iterations = KMEANS_ITERATIONS): KMeansFit {
  const seeds = kMeansPlusPlus(points, k, rng);
  try {
    return lloyd(points, seeds, iterations);
  } finally {
    seeds.dispose();
  }
}

// ---------------------------------------------------------------------------
// The float64 reference: the same steps on plain arrays, one point a row

export interface KMeansReferenceFit {
  centroids: Float64Array[];
  assignments: Int32Array;
  sizes: Int32Array;
  objective: number;
}

const squaredDistance = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let sum = 0;
  for (let j = 0; j < a.length; j++) sum += (a[j] - b[j]) ** 2;
  return sum;
};

/** kMeansPlusPlus on plain arrays, drawing from `rng` in the same order: the seeds' row indices. */
export function kMeansPlusPlusReference(points: ArrayLike<number>[], k: number, rng: Rng): number[] {
  const n = points.length;
  const chosen = [Math.min(Math.floor(rng() * n), n - 1)];
  const nearest = points.map((x) => squaredDistance(x, points[chosen[0]]));
  for (let t = 1; t < k; t++) {
    const u = rng();
    const running: number[] = [];
    nearest.reduce((sum, v) => (running.push(sum + v), sum + v), 0);
    const threshold = u * running[n - 1];
    const next = Math.min(running.filter((s) => s < threshold).length, n - 1);
    chosen.push(next);
    points.forEach((x, i) => (nearest[i] = Math.min(nearest[i], squaredDistance(x, points[next]))));
  }
  return chosen;
}

function nearestReference(points: ArrayLike<number>[], centroids: Float64Array[]): Int32Array {
  const norms = centroids.map((c) => c.reduce((s, v) => s + v * v, 0));
  return Int32Array.from(points, (x) => {
    let best = 0;
    let bestScore = Infinity;
    centroids.forEach((c, j) => {
      let dot = 0;
      for (let m = 0; m < c.length; m++) dot += x[m] * c[m];
      const score = norms[j] - 2 * dot;
      if (score < bestScore) [best, bestScore] = [j, score];
    });
    return best;
  });
}

function sizesReference(assignments: Int32Array, k: number): Int32Array {
  const sizes = new Int32Array(k);
  for (const a of assignments) sizes[a] += 1;
  return sizes;
}

/** splitEmptyClusters on plain arrays: the e-th empty cluster takes the e-th largest one's centroid, when it has two points or more. */
export function splitEmptyReference(centroids: Float64Array[], sizes: Int32Array): Float64Array[] {
  const k = centroids.length;
  const order = Array.from({ length: k }, (_, j) => j).sort((a, b) => sizes[b] - sizes[a] || a - b);
  const out = centroids.map((c) => Float64Array.from(c));
  let e = 0;
  for (let j = 0; j < k; j++) {
    if (sizes[j] !== 0) continue;
    const donor = order[e++];
    if (sizes[donor] < 2) continue;
    const source = centroids[donor];
    out[j] = source.map((v, m) => v * (1 - (m % 2 === 0 ? 1 : -1) * SPLIT_EPSILON));
    out[donor] = source.map((v, m) => v * (1 + (m % 2 === 0 ? 1 : -1) * SPLIT_EPSILON));
  }
  return out;
}

/** lloyd on plain arrays in float64. */
export function lloydReference(points: ArrayLike<number>[], initial: ArrayLike<number>[], iterations = KMEANS_ITERATIONS): KMeansReferenceFit {
  const k = initial.length;
  const d = initial[0].length;
  let centroids: Float64Array[] = initial.map((c) => Float64Array.from(c));
  for (let t = 0; t < iterations; t++) {
    const assignments = nearestReference(points, centroids);
    const sizes = sizesReference(assignments, k);
    const sums = Array.from({ length: k }, () => new Float64Array(d));
    points.forEach((x, i) => {
      for (let m = 0; m < d; m++) sums[assignments[i]][m] += x[m];
    });
    const updated = centroids.map((c, j) => (sizes[j] > 0 ? sums[j].map((s) => s / sizes[j]) : c));
    centroids = splitEmptyReference(updated, sizes);
  }
  const assignments = nearestReference(points, centroids);
  const objective = points.reduce((sum, x, i) => sum + squaredDistance(x, centroids[assignments[i]]), 0);
  return { centroids, assignments, sizes: sizesReference(assignments, k), objective };
}

/** kMeans on plain arrays in float64, drawing the same seeds from the same `rng`. */
export function kMeansReference(points: ArrayLike<number>[], k: number, rng: Rng, iterations = KMEANS_ITERATIONS): KMeansReferenceFit {
  const seeds = kMeansPlusPlusReference(points, k, rng);
  return lloydReference(points, seeds.map((i) => points[i]), iterations);
}

// ---------------------------------------------------------------------------
// Comparing two clusterings

/**
 * Normalized mutual information, NMI(A; B) = I(A; B) / √(H(A) H(B)), the
 * paper's measure of how much one clustering tells of another (its Fig. 2b:
 * the clusters of epoch t against those of epoch t − 1). 1 for the same
 * partition under any relabelling, 0 for independent ones. When either has a
 * single cluster (an entropy of 0) it is 1 if both do, else 0.
 */
export function normalizedMutualInformation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  if (n !== b.length) throw new Error(`NMI: ${n} labels against ${b.length}`);
  if (n === 0) return Number.NaN;
  const joint = new Map<string, number>();
  const countA = new Map<number, number>();
  const countB = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const key = `${a[i]},${b[i]}`;
    joint.set(key, (joint.get(key) ?? 0) + 1);
    countA.set(a[i], (countA.get(a[i]) ?? 0) + 1);
    countB.set(b[i], (countB.get(b[i]) ?? 0) + 1);
  }
  const entropy = (counts: Map<number, number>) => [...counts.values()].reduce((h, c) => h - (c / n) * Math.log(c / n), 0);
  const hA = entropy(countA);
  const hB = entropy(countB);
  if (hA === 0 || hB === 0) return hA === hB ? 1 : 0;
  let mutual = 0;
  for (const [key, c] of joint) {
    const [i, j] = key.split(',').map(Number);
    mutual += (c / n) * Math.log((c * n) / (countA.get(i)! * countB.get(j)!));
  }
  return Math.min(1, Math.max(0, mutual / Math.sqrt(hA * hB)));
}
