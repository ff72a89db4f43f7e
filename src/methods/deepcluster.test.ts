import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { lossReference, METHOD_SETTING_FIELDS, methodUnfitReason } from '../core/methods';
import { createRng, normal } from '../core/random';
import type { ImageDataset } from '../data/dataset';
import { ClassifierHead } from './pretextHead';
import { toyDataset } from '../train/toyDataset.testutil';
import { Trainer } from '../train/trainer';
import {
  clusterBalancedCrossEntropy, clusterTrainImages, DEEPCLUSTER_FIT_MAX, DEEPCLUSTER_MEMBERS_SHOWN, fitSample, HEAD_SALT,
  inverseSquareRoot, ROUND_SALT, shownClusters, whitenAndNormalize, zcaWhitening,
} from './deepcluster';
import type { MethodBatch, MethodState } from './method';
import { checkMethodBasics, checkResumesExactly, methodConfig, trainSteps } from './methodHarness.testutil';
import { decodeCheckpointFile, EMPTY_HISTORY, encodeCheckpointFile } from '../train/checkpoint';

await tf.setBackend('cpu');

/** Eigenvalues and eigenvectors (columns) of a symmetric matrix by cyclic Jacobi rotations, in float64. */
function symmetricEigen(a: number[][]): { values: number[]; vectors: number[][] } {
  const d = a.length;
  const m = a.map((r) => [...r]);
  const v: number[][] = Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) off += m[p][q] ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < d; p++) {
      for (let q = p + 1; q < d; q++) {
        if (Math.abs(m[p][q]) < 1e-300) continue;
        const theta = (m[q][q] - m[p][p]) / (2 * m[p][q]);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < d; k++) {
          const [mkp, mkq] = [m[k][p], m[k][q]];
          m[k][p] = c * mkp - s * mkq;
          m[k][q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < d; k++) {
          const [mpk, mqk] = [m[p][k], m[q][k]];
          m[p][k] = c * mpk - s * mqk;
          m[q][k] = s * mpk + c * mqk;
        }
        for (let k = 0; k < d; k++) {
          const [vkp, vkq] = [v[k][p], v[k][q]];
          v[k][p] = c * vkp - s * vkq;
          v[k][q] = s * vkp + c * vkq;
        }
      }
    }
  }
  return { values: m.map((r, i) => r[i]), vectors: v };
}

/** A^{−1/2} = V diag(λ^{−1/2}) Vᵀ in float64. */
function inverseSqrtReference(a: number[][]): number[][] {
  const { values, vectors } = symmetricEigen(a);
  const d = a.length;
  return Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => values.reduce((s, l, k) => s + (vectors[i][k] * vectors[j][k]) / Math.sqrt(l), 0)));
}

/** Features of n points in d dimensions with variances spread over `decades` orders of magnitude, correlated by a random rotation. */
function illConditioned(n: number, d: number, decades: number, seed: number): number[][] {
  const rng = createRng(seed);
  const mix = Array.from({ length: d }, () => Array.from({ length: d }, () => normal(rng)));
  return Array.from({ length: n }, () => {
    const z = Array.from({ length: d }, (_, j) => normal(rng) * 10 ** (-(decades * j) / (2 * (d - 1))));
    return mix.map((row) => row.reduce((s, w, j) => s + w * z[j], 3));
  });
}

function toyImages(dataset: ImageDataset): tf.Tensor4D {
  const { imageSize: s, channels, train } = dataset;
  return tf.tidy(() => tf.div(tf.tensor4d(train.images, [train.count, s, s, channels], 'int32'), 255));
}

describe('DeepCluster’s whitening', () => {
  it('Newton–Schulz gives A^{−1/2} of an SPD matrix with eigenvalues over four decades, as an eigendecomposition does', () => {
    const d = 24;
    const x = illConditioned(400, d, 4, 3);
    const mean = x[0].map((_, j) => x.reduce((s, r) => s + r[j], 0) / x.length);
    const a = Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => x.reduce((s, r) => s + (r[i] - mean[i]) * (r[j] - mean[j]), 0) / x.length + (i === j ? 1e-3 : 0)));
    const expected = inverseSqrtReference(a);
    const at = tf.tensor2d(a);
    const got = inverseSquareRoot(at).arraySync();
    const scale = Math.max(...expected.flat().map(Math.abs));
    got.forEach((row, i) => row.forEach((v, j) => expect(Math.abs(v - expected[i][j]) / scale).toBeLessThan(2e-3)));
    at.dispose();
  });

  it('whitens a sample to (nearly) unit covariance and puts every row on the unit sphere', () => {
    const d = 16;
    const points = illConditioned(500, d, 2, 5);
    const x = tf.tensor2d(points);
    const { mean, transform } = zcaWhitening(x);
    const covariance = tf.tidy(() => {
      const w = tf.matMul(tf.sub(x, mean), transform);
      return tf.div(tf.matMul(w, w, true, false), 500).arraySync() as number[][];
    });
    // float64: C, λ = 10⁻³ tr(C)/d, and (C + λI)^{−1/2} C (C + λI)^{−1/2}, which is I but for λ/(λ_i + λ) along each eigenvector
    const mu = points[0].map((_, j) => points.reduce((s, r) => s + r[j], 0) / points.length);
    const c = mu.map((_, i) => mu.map((__, j) => points.reduce((s, r) => s + (r[i] - mu[i]) * (r[j] - mu[j]), 0) / points.length));
    const lambda = (1e-3 * c.reduce((s, r, i) => s + r[i], 0)) / d;
    const w = inverseSqrtReference(c.map((r, i) => r.map((v, j) => v + (i === j ? lambda : 0))));
    const product = (a: number[][], b: number[][]) => a.map((r) => b[0].map((_, j) => r.reduce((s, v, m) => s + v * b[m][j], 0)));
    const expected = product(product(w, c), w);
    covariance.forEach((row, i) => row.forEach((v, j) => expect(Math.abs(v - expected[i][j])).toBeLessThan(2e-3)));
    // and it is close to I: the ridge matters only along the weakest directions
    expect(Math.min(...covariance.map((r, i) => r[i]))).toBeGreaterThan(0.75);
    const norms = tf.tidy(() => tf.norm(whitenAndNormalize(x, mean, transform), 2, 1).arraySync() as number[]);
    norms.forEach((n) => expect(n).toBeCloseTo(1, 5));
    // identical features (C = 0) stay finite: zero rows
    const same = tf.ones([10, d]) as tf.Tensor2D;
    const flat = zcaWhitening(same);
    expect((whitenAndNormalize(same, flat.mean, flat.transform).arraySync() as number[][]).flat().every((v) => v === 0)).toBe(true);
    tf.dispose([x, mean, transform, same, flat.mean, flat.transform]);
  });
});

describe('DeepCluster’s pieces', () => {
  it('weights each image’s cross-entropy by 1/|cluster|: the float64 value, and log k for a uniform head', () => {
    const logits = [[2, 0, -1], [0.5, 0.5, 0], [-1, 3, 0], [0, 0, 1]];
    const labels = [0, 0, 1, 2];
    const sizes = [4, 1, 2];
    const ce = logits.map((l, b) => Math.log(l.reduce((s, v) => s + Math.exp(v), 0)) - l[labels[b]]);
    const w = labels.map((y) => 1 / sizes[y]);
    const expected = ce.reduce((s, v, b) => s + w[b] * v, 0) / w.reduce((a, b) => a + b, 0);
    const args = [tf.tensor2d(logits), tf.tensor1d(labels, 'int32'), tf.tensor1d(sizes, 'int32')] as const;
    expect(clusterBalancedCrossEntropy(...args).dataSync()[0]).toBeCloseTo(expected, 5);
    const uniform = tf.zeros([4, 3]) as tf.Tensor2D;
    expect(clusterBalancedCrossEntropy(uniform, args[1], args[2]).dataSync()[0]).toBeCloseTo(Math.log(3), 6);
    tf.dispose([...args, uniform]);
  });

  it('fits k-means on all images up to the cap, else on a seeded sample of the cap', () => {
    expect(fitSample(DEEPCLUSTER_FIT_MAX, createRng(1))).toBeNull();
    const sample = fitSample(10000, createRng(1))!;
    expect(sample).toHaveLength(DEEPCLUSTER_FIT_MAX);
    expect(new Set(sample).size).toBe(DEEPCLUSTER_FIT_MAX);
    expect(Array.from(sample).every((v, i) => v >= 0 && v < 10000 && (i === 0 || v > sample[i - 1]))).toBe(true);
    expect(Array.from(fitSample(10000, createRng(1))!)).toEqual(Array.from(sample));
  });

  it('shows the largest clusters, with members drawn from each', () => {
    const assignments = Int32Array.from([2, 0, 2, 1, 2, 0, 2, 3, 0, 2]);
    const sizes = Int32Array.from([3, 1, 5, 1, 0]);
    const shown = shownClusters(assignments, sizes, createRng(3), 3, 2);
    expect(shown.map((c) => [c.cluster, c.size])).toEqual([[2, 5], [0, 3], [1, 1]]);
    shown.forEach((c) => {
      expect(c.members).toHaveLength(Math.min(2, c.size));
      c.members.forEach((i) => expect(assignments[i]).toBe(c.cluster));
    });
  });

  it('clusters all training images, fitting on a sample beyond the cap, with every label in 0…k−1', () => {
    const dataset = toyDataset(DEEPCLUSTER_FIT_MAX + 300, 4);
    const trainer = new Trainer(toyDataset(64, 16), methodConfig('deepcluster', { clusterCount: 8 }));
    const images = toyImages(dataset);
    const before = tf.memory().numTensors;
    const { assignments, sizes } = clusterTrainImages(trainer.model, images, 12, 12, createRng(9));
    expect(assignments.shape).toEqual([DEEPCLUSTER_FIT_MAX + 300]);
    const labels = assignments.dataSync();
    expect(labels.every((a) => a >= 0 && a < 12)).toBe(true);
    const counts = Array.from(sizes.dataSync());
    expect(counts.reduce((a, b) => a + b, 0)).toBe(DEEPCLUSTER_FIT_MAX + 300);
    expect(counts.filter((c) => c > 0).length).toBeGreaterThan(6);
    tf.dispose([assignments, sizes]);
    expect(tf.memory().numTensors).toBe(before);
    images.dispose();
    trainer.dispose();
  });
});

describe('DeepCluster fits the dataset', () => {
  const shape = (trainCount: number) => ({ name: 'toy', channels: 1 as const, imageSize: 12, trainCount });

  it('is unfit with more clusters than training images, naming both numbers, and fits otherwise', () => {
    const reason = methodUnfitReason('deepcluster', shape(40), methodConfig('deepcluster', { clusterCount: 50 }));
    expect(reason).toMatch(/asks for k = 50 clusters and this dataset has 40 training images/);
    expect(reason).toMatch(/\.$/);
    expect(methodUnfitReason('deepcluster', shape(50), methodConfig('deepcluster', { clusterCount: 50 }))).toBeNull();
    expect(METHOD_SETTING_FIELDS.clusterCount).toMatchObject({ kind: 'number', min: 2, integer: true });
  });

  it('draws the loss chart’s line at log k', () => {
    const line = lossReference('deepcluster', methodConfig('deepcluster', { clusterCount: 50 }), 256);
    expect(line?.value).toBeCloseTo(Math.log(50), 10);
    expect(line?.label).toBe('log k = 3.91');
  });
});

describe('DeepCluster through the training loop', () => {
  it('trains with a finite, falling loss from near log k, leaks nothing and repeats for one seed', async () => {
    const steps = await checkMethodBasics(methodConfig('deepcluster', { clusterCount: 16 }));
    expect(Math.abs(steps[0].loss - Math.log(16))).toBeLessThan(0.6);
    for (const m of steps) {
      expect(m.values.pseudoLabelAccuracy).toBeGreaterThanOrEqual(0);
      expect(m.values.pseudoLabelAccuracy).toBeLessThanOrEqual(1);
      expect(m.values.clustersInUse).toBeGreaterThan(8);
      expect(m.values.largestClusterShare).toBeLessThan(0.5);
      // one round so far: nothing to compare with
      expect(m.values.clusterNmi).toBeUndefined();
      expect(Number.isNaN(m.alignment)).toBe(true);
    }
  });

  it('labels each batch image with its cluster: a uniform head scores log k, one naming cluster j is right for the batch’s members of j', () => {
    const k = 10;
    const dataset = toyDataset(64, 16);
    const trainer = new Trainer(dataset, methodConfig('deepcluster', { clusterCount: k }));
    const config = trainer.currentConfig;
    // the method's first round, made again from the same seed on the same untrained network
    const images = toyImages(dataset);
    const round = clusterTrainImages(trainer.model, images, 12, k, createRng((config.seed ^ ROUND_SALT) >>> 0));
    const assignments = round.assignments.dataSync();
    const [w, b] = trainer.method.trainableVariables.slice(-2);
    expect(w.shape).toEqual([trainer.model.hDim, k]);
    const indices = Int32Array.from([3, 17, 40, 41, 5, 63]);
    const views = tf.tidy(() => tf.gather(images, indices));
    const batch: MethodBatch = { views, indices, n: indices.length };
    const lossAndAccuracy = () => tf.tidy(() => {
      const out = trainer.method.forward(batch, { config, capture: false, lossPath: 'composed' });
      return [out.loss.dataSync()[0], out.metrics!.dataSync()[0]];
    });
    tf.tidy(() => {
      w.assign(tf.zerosLike(w));
      b.assign(tf.zerosLike(b));
    });
    expect(lossAndAccuracy()[0]).toBeCloseTo(Math.log(k), 5);
    const j = assignments[indices[2]];
    tf.tidy(() => b.assign(tf.mul(tf.oneHot(tf.tensor1d([j], 'int32'), k).reshape([k]), 10)));
    expect(lossAndAccuracy()[1]).toBeCloseTo(Array.from(indices).filter((i) => assignments[i] === j).length / indices.length, 6);
    tf.dispose([images, views, round.assignments, round.sizes]);
    trainer.dispose();
  });

  it('re-clusters every clusterEvery steps: a fresh head each round, new labels, the NMI between rounds, no tensor more', async () => {
    const k = 8;
    const trainer = new Trainer(toyDataset(64, 16), methodConfig('deepcluster', { clusterCount: k, clusterEvery: 4 }));
    const config = trainer.currentConfig;
    const headOf = () => trainer.method.trainableVariables.slice(-2).map((v) => Array.from(v.dataSync()));
    const steps = await trainSteps(trainer, 3);
    const tensors = tf.memory().numTensors;
    steps.push(...(await trainSteps(trainer, 5)));
    // rounds ran after steps 4 and 8: the head holds round 2's fresh weights, untouched by any step yet
    const fresh = new ClassifierHead(trainer.model.hDim, k, config.seed, HEAD_SALT + 2);
    expect(headOf()).toEqual(fresh.variables.map((v) => Array.from(v.dataSync())));
    fresh.dispose();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(steps.slice(0, 3).every((m) => m.values.clusterNmi === undefined)).toBe(true);
    for (const m of steps.slice(3)) {
      expect(m.values.clusterNmi).toBeGreaterThanOrEqual(0);
      expect(m.values.clusterNmi).toBeLessThanOrEqual(1);
    }
    // the round after step 4 changed the clusters (training moved f), so NMI < 1
    expect(steps[3].values.clusterNmi).toBeLessThan(1);
    // the fresh head of step 5 starts near log k again
    expect(Math.abs(steps[4].loss - Math.log(k))).toBeLessThan(0.6);
    // and a fresh Adam state with it (the paper's new optimizer for the new top layer): the first step of a fresh Adam
    // moves each weight by lr · ĝ/√(ĝ²) = ±lr, where moments carried over from round 1 would not
    const before = headOf();
    await trainSteps(trainer, 1);
    const after = headOf();
    const biasSteps = after[1].map((v, j) => Math.abs(v - before[1][j]));
    for (const step of biasSteps) expect(step / config.learningRate).toBeCloseTo(1, 2);
    trainer.dispose();
  });

  it('captures an instrument: members of the largest clusters, their sizes, and the head’s score on the batch', async () => {
    const before = tf.memory().numTensors;
    const dataset = toyDataset(64, 16);
    const trainer = new Trainer(dataset, methodConfig('deepcluster', { clusterCount: 6 }));
    await trainSteps(trainer, 2);
    trainer.captureAffinity = true;
    const step = await trainer.trainStep();
    const snapshot = trainer.taskSnapshot!;
    expect(snapshot.method).toBe('deepcluster');
    expect(snapshot.rows.map((r) => r.label)).toEqual(Array.from({ length: DEEPCLUSTER_MEMBERS_SHOWN }, (_, r) => `member ${r + 1}`));
    expect(snapshot.count).toBe(step.values.clustersInUse);
    const sizes = snapshot.captions.map((c) => Number(c.match(/^#\d+ · (\d+) \(\d+(\.\d)?%\)$/)![1]));
    // largest first, and together every training image
    expect(sizes).toEqual([...sizes].sort((a, b) => b - a));
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(64);
    expect(sizes[0] / 64).toBeCloseTo(step.values.largestClusterShare, 10);
    // each member shown is a training image itself (blank where its cluster has fewer members)
    const { size, channels } = snapshot.rows[0];
    const per = size * size * channels;
    const train = Array.from({ length: 64 }, (_, i) => Array.from(dataset.train.images.subarray(i * per, (i + 1) * per), (v) => v / 255));
    snapshot.rows.forEach((row, r) => sizes.forEach((clusterSize, e) => {
      const image = Array.from(row.images.subarray(e * per, (e + 1) * per));
      if (r < clusterSize) expect(train.some((t) => t.every((v, p) => Math.abs(v - image[p]) < 1e-6))).toBe(true);
      else expect(image.every((v) => v === 0)).toBe(true);
    }));
    const right = Number(snapshot.summary.match(/names the pseudo-label of (\d+) of the batch’s 16 images/)![1]);
    expect(right / 16).toBeCloseTo(step.values.pseudoLabelAccuracy, 6);
    expect(snapshot.summary).toMatch(/^k-means round 0 \(after step 0\): \d+ of 6 clusters hold images/);
    trainer.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('DeepCluster checkpoints', () => {
  const config = methodConfig('deepcluster', { clusterCount: 8, clusterEvery: 2 });
  const dataset = toyDataset(64, 16);

  it('resumes between clustering rounds: the next rounds, their NMI with the saved round and the head’s Adam restarts follow the uninterrupted run', async () => {
    // rounds after steps 2 (before the checkpoint at 3), 4 and 6 (after it): step 4's NMI compares with round 1's saved labels,
    // and the trainer's restarted Adam (saved with round 1) is kept at step 4 and restarted at step 5 only if the round was put back
    const { straight, resumed } = await checkResumesExactly(config, { before: 3, after: 3, dataset });
    expect(resumed.every((m) => m.values.clusterNmi !== undefined)).toBe(true);
    expect(straight[3].values.clusterNmi).toBeLessThan(1);
    // a checkpoint right after round 1: the trainer saved the head's Adam of round 0, so the first step after resuming restarts it
    await checkResumesExactly(config, { before: 2, after: 2, dataset });
    // a checkpoint before the first step: the round made while building has not been read back yet
    await checkResumesExactly(config, { before: 0, after: 2, dataset });
  }, 60_000);

  it('puts back the last round’s members shown, so the instrument after resuming is the uninterrupted run’s', async () => {
    const straight = new Trainer(dataset, config);
    await trainSteps(straight, 4);
    const uninterrupted = await straight.method.saveState();
    straight.dispose();
    const first = new Trainer(dataset, config);
    await trainSteps(first, 3);
    const file = encodeCheckpointFile({ trainer: await first.saveCheckpoint(), history: EMPTY_HISTORY, savedAt: new Date(0).toISOString(), reason: 'manual' });
    first.dispose();
    const second = new Trainer(dataset, config);
    await second.loadCheckpoint(decodeCheckpointFile(file).trainer);
    const loaded = await second.method.saveState();
    await trainSteps(second, 1);
    const resumed = await second.method.saveState();
    second.dispose();
    // the round's wall time is measured anew by the run that makes it
    const withoutTime = (state: MethodState) => ({ arrays: state.arrays, values: { ...state.values, roundMs: undefined } });
    expect(withoutTime(resumed)).toEqual(withoutTime(uninterrupted));
    expect(loaded.values.round).toBe(1);
    expect(loaded.arrays.shownMembers.data.length).toBeGreaterThan(0);
  }, 60_000);

  it('refuses another method’s, another dataset’s or a damaged state, naming the entry, and changes nothing', async () => {
    const before = tf.memory().numTensors;
    const pirl = new Trainer(toyDataset(32, 8), methodConfig('pirl', { imageSize: 24 }));
    const foreign = await pirl.method.saveState();
    pirl.dispose();
    const larger = new Trainer(toyDataset(80, 8), config);
    const otherDataset = await larger.method.saveState();
    larger.dispose();
    const trained = new Trainer(dataset, config);
    await trainSteps(trained, 3);
    const saved = await trained.method.saveState();
    trained.dispose();
    const members = saved.arrays.shownMembers;
    const labels = saved.arrays.assignments.data as Int32Array;
    const outsider = Array.from(labels.keys()).find((i) => labels[i] !== labels[members.data[0]])!;
    const untouched = new Trainer(dataset, config);
    const trainer = new Trainer(dataset, config);
    const own = await trainer.method.saveState();
    const refusals: [MethodState, RegExp][] = [
      [foreign, /holds “bank”, which DeepCluster does not keep/],
      [otherDataset, /DeepCluster’s “assignments” in the checkpoint is \[80\], not \[64\]/],
      [{ ...saved, arrays: { ...saved.arrays, assignments: { ...saved.arrays.assignments, data: labels.map((a) => a + 8) } } }, /“assignments” in the checkpoint name clusters outside 0…7/],
      // the labels and the round right, what is read after them wrong: none of them may have been put back
      [{ ...saved, arrays: { ...saved.arrays, shownMembers: { ...members, shape: [members.data.length - 1], data: members.data.slice(1) } } }, /DeepCluster’s “shownMembers” in the checkpoint is \[\d+\], not \[\d+\]/],
      [{ ...saved, arrays: { ...saved.arrays, shownMembers: { ...members, data: Int32Array.from(members.data, (m, i) => (i === 0 ? outsider : m)) } } }, /“shownMembers” in the checkpoint are not members of cluster/],
      [{ ...saved, values: { ...saved.values, roundStep: 4 } }, /DeepCluster’s round 1 after step 4 of 3/],
    ];
    for (const [state, message] of refusals) expect(() => trainer.method.loadState(state)).toThrow(message);
    expect(await trainer.method.saveState()).toEqual(own);
    const [reference] = await trainSteps(untouched, 1);
    const [next] = await trainSteps(trainer, 1);
    expect(next.loss).toBe(reference.loss);
    untouched.dispose();
    trainer.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }, 60_000);
});
