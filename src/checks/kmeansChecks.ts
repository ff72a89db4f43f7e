/**
 * DeepCluster's k-means on a browser backend (checks.html?check=kmeans):
 * the same fit as the float64 reference (src/methods/kmeans.ts) on seeded
 * blobs, the cluster sizes of a known assignment, and the time each stage of
 * one clustering round takes (encode, whiten, k-means++, Lloyd, assign), for
 * the bench.
 */
import * as tf from '@tensorflow/tfjs';
import { createRng, normal } from '../core/random';
import { clusterSizes, kMeans, kMeansReference, kMeansPlusPlus, nearestCentroid, splitEmptyClusters, splitEmptyReference } from '../methods/kmeans';
import { whitenAndNormalize, zcaWhitening } from '../methods/deepcluster';

/** k Gaussian blobs in d dimensions (centres in [−10, 10]^d, spread σ), row by row. */
function blobs(k: number, perBlob: number, d: number, sigma: number, seed: number): number[][] {
  const rng = createRng(seed);
  const centres = Array.from({ length: k }, () => Array.from({ length: d }, () => 20 * rng() - 10));
  const points: number[][] = [];
  for (let i = 0; i < k * perBlob; i++) points.push(centres[i % k].map((c) => c + sigma * normal(rng)));
  return points;
}

export async function kMeansMatches(backend: string, seed: number) {
  if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} is not available`);
  await tf.ready();
  const before = tf.memory().numTensors;
  // sizes of a known assignment: 10,000 labels, label i mod 7 (+ the first 5 labelled 3 again)
  const labels = Int32Array.from({ length: 10000 }, (_, i) => (i < 5 ? 3 : i % 7));
  const expectedSizes = new Array(7).fill(0);
  labels.forEach((a) => (expectedSizes[a] += 1));
  const labelTensor = tf.tensor1d(labels, 'int32');
  const sizesTensor = clusterSizes(labelTensor, 7);
  const sizes = Array.from(await sizesTensor.data());
  tf.dispose([labelTensor, sizesTensor]);
  // a fit on blobs against the float64 reference, from the same seed
  const points = blobs(8, 60, 16, 1.5, seed);
  const reference = kMeansReference(points, 8, createRng(seed));
  const x = tf.tensor2d(points);
  const fit = kMeans(x, 8, createRng(seed));
  const assignments = Array.from(await fit.assignments.data());
  const fitSizes = Array.from(await fit.sizes.data());
  const [objective] = await fit.objective.data();
  tf.dispose([x, fit.centroids, fit.assignments, fit.sizes, fit.objective]);
  const disagreements = assignments.filter((a, i) => a !== reference.assignments[i]).length;
  // the repair of empty clusters: 6 centroids, two of them empty, against the reference's
  const centroidRows = Array.from({ length: 6 }, (_, j) => Float64Array.from({ length: 4 }, (_, c) => j + 0.25 * c + 1));
  const emptySizes = Int32Array.from([5, 0, 9, 1, 0, 7]);
  const splitTensor = tf.tidy(() => splitEmptyClusters(tf.tensor2d(centroidRows.map((r) => Array.from(r))), tf.tensor1d(emptySizes, 'int32')));
  const split = Array.from(await splitTensor.data());
  splitTensor.dispose();
  const splitReference = splitEmptyReference(centroidRows, emptySizes).flatMap((r) => Array.from(r));
  const splitError = split.reduce((m, v, i) => Math.max(m, Math.abs(v - splitReference[i])), 0);
  return {
    backend, sizes, expectedSizes,
    fit: { disagreements, sizes: fitSizes, referenceSizes: Array.from(reference.sizes), objective, referenceObjective: reference.objective },
    splitError,
    leakedTensors: tf.memory().numTensors - before,
  };
}

/** Median ms of each stage of a round on n points of dimension d into k clusters (random features: the cost, not the fit). */
export async function kMeansTiming(backend: string, n: number, d: number, k: number, seed: number) {
  if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} is not available`);
  await tf.ready();
  const rng = createRng(seed);
  const h = tf.tensor2d(Float32Array.from({ length: n * d }, () => Math.max(0, normal(rng))), [n, d]);
  const time = async (what: () => tf.Tensor | tf.Tensor[]) => {
    const t0 = performance.now();
    const out = what();
    const list = Array.isArray(out) ? out : [out];
    await Promise.all(list.map((t) => t.data()));
    tf.dispose(list);
    return performance.now() - t0;
  };
  const stages: Record<string, number> = {};
  let whitened = null as tf.Tensor2D | null;
  let seeds = null as tf.Tensor2D | null;
  // twice: the first run compiles the shaders; the second is what a later round costs
  for (let run = 0; run < 2; run++) {
    whitened?.dispose();
    seeds?.dispose();
    stages.whiten = await time(() => {
      const { mean, transform } = zcaWhitening(h);
      whitened = whitenAndNormalize(h, mean, transform);
      tf.dispose([mean, transform]);
      return tf.clone(whitened);
    });
    stages.seeds = await time(() => (seeds = kMeansPlusPlus(whitened!, k, createRng(seed))).clone());
    stages.fit = await time(() => {
      const fit = kMeans(whitened!, k, createRng(seed));
      return [fit.centroids, fit.assignments, fit.sizes, fit.objective];
    });
    stages.assign = await time(() => nearestCentroid(whitened!, seeds!));
  }
  h.dispose();
  whitened?.dispose();
  seeds?.dispose();
  return { backend, n, d, k, ms: stages };
}
