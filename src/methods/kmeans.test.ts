import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createRng, normal, permutation } from '../core/random';
import {
  kMeans, kMeansPlusPlus, kMeansPlusPlusReference, kMeansReference, lloyd, lloydReference, normalizedMutualInformation,
  splitEmptyClusters, splitEmptyReference, SPLIT_EPSILON,
} from './kmeans';

await tf.setBackend('cpu');

/** k well-separated Gaussian blobs in d dimensions (centres in [−10, 10]^d, spread σ), shuffled: the points and each one's blob. */
function blobs(k: number, perBlob: number, d: number, sigma: number, seed: number): { points: number[][]; truth: number[] } {
  const rng = createRng(seed);
  const centres = Array.from({ length: k }, () => Array.from({ length: d }, () => 20 * rng() - 10));
  const order = permutation(rng, k * perBlob);
  const points: number[][] = [];
  const truth: number[] = [];
  for (const r of order) {
    const blob = r % k;
    points.push(centres[blob].map((c) => c + sigma * normal(rng)));
    truth.push(blob);
  }
  return { points, truth };
}

/** The labels agree up to a renaming: a one-to-one map takes every label of `a` to the matching label of `b`. */
function agreeUpToPermutation(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  const forward = new Map<number, number>();
  const backward = new Map<number, number>();
  for (let i = 0; i < a.length; i++) {
    if ((forward.get(a[i]) ?? b[i]) !== b[i] || (backward.get(b[i]) ?? a[i]) !== a[i]) return false;
    forward.set(a[i], b[i]);
    backward.set(b[i], a[i]);
  }
  return true;
}

const rows = (t: tf.Tensor2D) => t.arraySync();

describe('k-means', () => {
  it('recovers well-separated blobs exactly, and matches the float64 reference’s seeds, labels, centroids and objective', () => {
    const before = tf.memory().numTensors;
    const { points, truth } = blobs(6, 30, 5, 0.4, 3);
    const x = tf.tensor2d(points);
    const fit = kMeans(x, 6, createRng(11));
    const reference = kMeansReference(points, 6, createRng(11));
    const assignments = Array.from(fit.assignments.dataSync());
    expect(agreeUpToPermutation(assignments, truth)).toBe(true);
    expect(Array.from(fit.sizes.dataSync())).toEqual(Array.from(reference.sizes));
    expect(assignments).toEqual(Array.from(reference.assignments));
    const objective = fit.objective.dataSync()[0];
    expect(Math.abs(objective - reference.objective) / reference.objective).toBeLessThan(1e-4);
    // the objective of the true partition: the blobs' own spread, about n·d·σ² = 180·5·0.16
    expect(reference.objective).toBeGreaterThan(100);
    expect(reference.objective).toBeLessThan(200);
    rows(fit.centroids).forEach((c, j) => c.forEach((v, m) => expect(v).toBeCloseTo(reference.centroids[j][m], 4)));
    tf.dispose([x, fit.centroids, fit.assignments, fit.sizes, fit.objective]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('draws k-means++ seeds from the same uniforms as the reference: one per blob on separated blobs', () => {
    // blobs at the corners of a cube of side 20, so that no two lie close
    const rng = createRng(5);
    const truth = Array.from({ length: 160 }, (_, i) => i % 8);
    const points = truth.map((b) => [0, 1, 2].map((m) => 20 * ((b >> m) & 1) + 0.3 * normal(rng)));
    const x = tf.tensor2d(points);
    const seeds = kMeansPlusPlus(x, 8, createRng(2));
    const chosen = kMeansPlusPlusReference(points, 8, createRng(2));
    expect(rows(seeds)).toEqual(chosen.map((i) => Array.from(Float32Array.from(points[i]))));
    // D² sampling all but never picks a second point of a blob already seeded
    expect(new Set(chosen.map((i) => truth[i])).size).toBe(8);
    tf.dispose([x, seeds]);
  });

  it('repairs an empty cluster as the paper does: it takes a centroid pushed apart from its donor, and the next assignments split the points', () => {
    // two blobs; one seed between them takes every point, the other far away takes none
    const { points, truth } = blobs(2, 40, 4, 0.5, 8);
    const mid = points[0].map((_, m) => points.reduce((s, p) => s + p[m], 0) / points.length);
    const initial = [mid, mid.map(() => 1000)];
    const x = tf.tensor2d(points);
    const c0 = tf.tensor2d(initial);
    const fit = lloyd(x, c0, 10);
    const reference = lloydReference(points, initial, 10);
    expect(agreeUpToPermutation(Array.from(fit.assignments.dataSync()), truth)).toBe(true);
    expect(Array.from(fit.assignments.dataSync())).toEqual(Array.from(reference.assignments));
    expect(Math.abs(fit.objective.dataSync()[0] - reference.objective) / reference.objective).toBeLessThan(1e-4);
    tf.dispose([x, c0, fit.centroids, fit.assignments, fit.sizes, fit.objective]);
  });

  it('gives the e-th empty cluster the e-th largest cluster’s centroid ⊙ (1 − ε s), the donor ⊙ (1 + ε s), and skips a donor of one point', () => {
    const centroids = Array.from({ length: 6 }, (_, j) => [j + 1, 10 * (j + 1), -(j + 1)]);
    // sizes: largest are 1 (5 points), 3 (3), 4 (1); empty are 0, 2 and 5
    const sizes = Int32Array.from([0, 5, 0, 3, 1, 0]);
    const c = tf.tensor2d(centroids);
    const s = tf.tensor1d(sizes, 'int32');
    const out = rows(splitEmptyClusters(c, s));
    const reference = splitEmptyReference(centroids.map((r) => Float64Array.from(r)), sizes);
    out.forEach((r, j) => r.forEach((v, m) => expect(v).toBeCloseTo(reference[j][m], 5)));
    const e = SPLIT_EPSILON;
    // cluster 0 takes cluster 1's centroid, cluster 2 takes cluster 3's; cluster 5's donor (4) has one point: both stay
    expect(reference[0]).toEqual(Float64Array.from([2 * (1 - e), 20 * (1 + e), -2 * (1 - e)]));
    expect(reference[1]).toEqual(Float64Array.from([2 * (1 + e), 20 * (1 - e), -2 * (1 + e)]));
    expect(reference[2]).toEqual(Float64Array.from([4 * (1 - e), 40 * (1 + e), -4 * (1 - e)]));
    expect(Array.from(reference[4])).toEqual(centroids[4]);
    expect(Array.from(reference[5])).toEqual(centroids[5]);
    tf.dispose([c, s]);
  });

  it('stays finite with fewer distinct points than clusters: the copies cannot be split, and the rest stay empty', () => {
    const points = [0, 1, 2].flatMap((p) => Array.from({ length: 10 }, () => [p, 2 * p, 1 - p]));
    const x = tf.tensor2d(points);
    const fit = kMeans(x, 5, createRng(4));
    const sizes = Array.from(fit.sizes.dataSync());
    expect(sizes.filter((n) => n > 0).sort()).toEqual([10, 10, 10]);
    expect(rows(fit.centroids).flat().every(Number.isFinite)).toBe(true);
    // the copies sit on their centroid, up to the last iteration's split pushing a donor away by ε of its length
    expect(fit.objective.dataSync()[0]).toBeLessThan(30 * (SPLIT_EPSILON * 5) ** 2);
    tf.dispose([x, fit.centroids, fit.assignments, fit.sizes, fit.objective]);
  });

  it('refuses more clusters than points', () => {
    const x = tf.zeros([3, 2]) as tf.Tensor2D;
    expect(() => kMeans(x, 4, createRng(1))).toThrow(/k = 4 clusters of 3 points/);
    x.dispose();
  });
});

describe('normalized mutual information', () => {
  it('is 1 for the same partition under any renaming, 0 for independent ones, and I/√(H H) in between', () => {
    expect(normalizedMutualInformation([0, 0, 1, 1, 2], [7, 7, 3, 3, 5])).toBeCloseTo(1, 12);
    expect(normalizedMutualInformation([0, 0, 1, 1], [0, 1, 0, 1])).toBeCloseTo(0, 12);
    // a = (0, 0, 1, 1), b = (0, 0, 0, 1): H(a) = ln 2, H(b) = −(¾ ln ¾ + ¼ ln ¼), I = H(b) − H(b | a) = H(b) − ½ ln 2
    const hb = -(0.75 * Math.log(0.75) + 0.25 * Math.log(0.25));
    expect(normalizedMutualInformation([0, 0, 1, 1], [0, 0, 0, 1])).toBeCloseTo((hb - 0.5 * Math.log(2)) / Math.sqrt(Math.log(2) * hb), 12);
    expect(normalizedMutualInformation([3, 3, 3], [1, 1, 1])).toBe(1);
    expect(normalizedMutualInformation([3, 3, 3], [0, 1, 1])).toBe(0);
  });
});
