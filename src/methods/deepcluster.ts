/**
 * DeepCluster (Caron et al. 2018): alternate between clustering the features
 * and learning to predict the clusters.
 *
 *   a round:   h_i = f(x_i) of the training images, inference mode (running
 *              batch-norm statistics), in chunks of ENCODE_CHUNK; whitened and
 *              ℓ2-normalized as the paper does (its PCA-whitening, here with
 *              every dimension kept: see zcaWhitening); k-means (src/methods/
 *              kmeans.ts, 20 Lloyd iterations from k-means++ seeds) fitted on
 *              at most DEEPCLUSTER_FIT_MAX images, a sample drawn from the
 *              run's seed, and every training image then assigned to its
 *              nearest centroid: the pseudo-labels y_i. The classifier head
 *              (linear, k-way, on h) starts afresh, with new weights per round,
 *              as the paper re-initializes its top layer: the cluster numbers
 *              of two rounds have nothing to do with each other.
 *   a step:    one view t(x_b) of each batch image; the head names its
 *              cluster; the loss is the cross-entropy against y_b, weighted
 *              by 1 / |C_{y_b}| (see clusterBalancedCrossEntropy).
 *   when:      the first round while the method is built (the features of the
 *              random-init network, as the paper's first epoch clusters them;
 *              building is synchronous and the k-means has no read-back, so no
 *              step runs without pseudo-labels), then after every clusterEvery
 *              steps, after the optimizer step (afterUpdate).
 *
 * Every training image gets a label, so the loss can read any batch; encoding
 * all n images costs one inference pass over the training set per round (the
 * paper's once per epoch): with the 12,000 Fashion-MNIST training images,
 * clusterEvery 50 and N = 256, about as many images as the 50 steps train on,
 * at about a third of the cost each (no backward pass). A round holds h of
 * all n on the device while it runs (n × 8w floats: 12 MB for 12,000 images
 * at width 32).
 */
import * as tf from '@tensorflow/tfjs';
import { DEEPCLUSTER_FIT_MAX } from '../core/entries/deepcluster';
import { createRng, permutation, type Rng } from '../core/random';
import { TASK_SNAPSHOT_EXAMPLES, type TaskSnapshot } from '../core/taskSnapshot';
import { classificationAccuracy } from '../loss/classification';
import type { EncoderNetwork } from '../model/encoderNetwork';
import { ASSIGN_CHUNK, clusterSizes, kMeans, nearestCentroid, normalizedMutualInformation } from './kmeans';
import type { MethodFactory, MethodState, SslMethod } from './method';
import { CaptureSlot, ClassifierHead, pretextStateReader, readCapture } from './pretextHead';
import { readStateArray, typedStateArray } from './state';

export { DEEPCLUSTER_FIT_MAX };
/** Images encoded at once while clustering (inference: no activations kept for a gradient). */
export const ENCODE_CHUNK = 256;
/** The whitening's ridge λ, relative to the mean variance: (C + λ·tr(C)/d · I)^{−1/2}. Keeps dimensions with next to no variance from being blown up to unit variance. */
export const WHITENING_RIDGE = 1e-3;
/** Newton–Schulz iterations for C^{−1/2}; enough for a condition number of d/ridge (tested against an eigendecomposition). */
export const NEWTON_SCHULZ_ITERATIONS = 30;
/** Member images the instrument shows of each of its clusters. */
export const DEEPCLUSTER_MEMBERS_SHOWN = 4;

/** The head's seed offset (plus the round's number) and the rounds' random stream's (the fit sample, the k-means++ draws, the members shown). */
export const HEAD_SALT = 0xdc1;
export const ROUND_SALT = 0xdc2;

/** h = f(x) of every image in inference mode, resized to f's input side first, in chunks. [n, d] */
export function encodeImages(network: EncoderNetwork, images: tf.Tensor4D, size: number): tf.Tensor2D {
  const n = images.shape[0];
  const parts: tf.Tensor2D[] = [];
  try {
    for (let start = 0; start < n; start += ENCODE_CHUNK) {
      parts.push(tf.tidy(() => {
        let x = tf.slice(images, [start, 0, 0, 0], [Math.min(ENCODE_CHUNK, n - start), -1, -1, -1]);
        // as the probes see the training images (Trainer.imagesOf): bilinear, corners on corners
        if (x.shape[1] !== size) x = tf.image.resizeBilinear(x, [size, size], true);
        return network.encode(x, false);
      }));
    }
    return parts.length === 1 ? tf.clone(parts[0]) : (tf.concat(parts) as tf.Tensor2D);
  } finally {
    tf.dispose(parts);
  }
}

/**
 * A^{−1/2} of a symmetric positive definite A by the coupled Newton–Schulz
 * iteration (Higham 2008): Y₀ = A/‖A‖_F, Z₀ = I, T = (3I − Z Y)/2, Y ← Y T,
 * Z ← T Z; Z → (A/‖A‖_F)^{−1/2}. Only matMuls, so it runs on the device
 * without a read-back (tfjs has no eigendecomposition).
 */
export function inverseSquareRoot(a: tf.Tensor2D, iterations = NEWTON_SCHULZ_ITERATIONS): tf.Tensor2D {
  const d = a.shape[0];
  return tf.tidy(() => {
    const norm = tf.norm(a);
    const identity = tf.eye(d);
    let y = tf.div(a, norm) as tf.Tensor2D;
    let z = identity as tf.Tensor2D;
    for (let t = 0; t < iterations; t++) {
      const [nextY, nextZ] = tf.tidy(() => {
        const step = tf.mul(tf.sub(tf.mul(identity, 3), tf.matMul(z, y)), 0.5) as tf.Tensor2D;
        return [tf.matMul(y, step), tf.matMul(step, z)];
      });
      if (t > 0) tf.dispose([y, z]);
      [y, z] = [nextY, nextZ];
    }
    return tf.div(z, tf.sqrt(norm)) as tf.Tensor2D;
  });
}

/**
 * The paper's PCA-whitening fitted on `sample` [m, d]: x̃ = (x − μ) W with
 * W = (C + λI)^{−1/2}, C the covariance and λ = WHITENING_RIDGE · tr(C)/d.
 * This is ZCA whitening: PCA-whitening (project on the eigenvectors, divide
 * by √eigenvalue) followed by the rotation back, which ℓ2-normalization and
 * Euclidean k-means cannot see. The paper also keeps only 256 components
 * of its 4,096; h here has 8w ≤ 512, and every dimension is kept.
 */
export function zcaWhitening(sample: tf.Tensor2D): { mean: tf.Tensor2D; transform: tf.Tensor2D } {
  const [m, d] = sample.shape;
  return tf.tidy(() => {
    const mean = tf.mean(sample, 0, true) as tf.Tensor2D;
    const centred = tf.sub(sample, mean) as tf.Tensor2D;
    const covariance = tf.div(tf.matMul(centred, centred, true, false), m) as tf.Tensor2D;
    // a floor on the ridge keeps a set of identical features (C = 0) finite
    const ridge = tf.maximum(tf.mul(tf.div(tf.sum(tf.mul(covariance, tf.eye(d))), d), WHITENING_RIDGE), 1e-12);
    const transform = inverseSquareRoot(tf.add(covariance, tf.mul(tf.eye(d), ridge)) as tf.Tensor2D);
    return { mean, transform };
  });
}

/** x̃ / ‖x̃‖ with x̃ = (h − μ) W (a zero row stays zero). */
export function whitenAndNormalize(h: tf.Tensor2D, mean: tf.Tensor2D, transform: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const x = tf.matMul(tf.sub(h, mean), transform);
    return tf.div(x, tf.maximum(tf.norm(x, 2, 1, true), 1e-12)) as tf.Tensor2D;
  });
}

/** The images k-means is fitted on: all n in order, or DEEPCLUSTER_FIT_MAX of them drawn from `rng`, ascending. */
export function fitSample(n: number, rng: Rng): Int32Array | null {
  if (n <= DEEPCLUSTER_FIT_MAX) return null;
  return permutation(rng, n).slice(0, DEEPCLUSTER_FIT_MAX).sort();
}

/**
 * One clustering of the training images: every image's pseudo-label and the
 * cluster sizes. The whitening and k-means are fitted on the sample; beyond
 * it the images are whitened and assigned a chunk at a time, so only h of
 * all n is held at once.
 */
export function clusterTrainImages(network: EncoderNetwork, images: tf.Tensor4D, size: number, k: number, rng: Rng): { assignments: tf.Tensor1D; sizes: tf.Tensor1D } {
  return tf.tidy(() => {
    const h = encodeImages(network, images, size);
    const n = h.shape[0];
    const sample = fitSample(n, rng);
    const hFit = sample ? tf.gather(h, sample) : h;
    const { mean, transform } = zcaWhitening(hFit);
    const fit = kMeans(whitenAndNormalize(hFit, mean, transform), k, rng);
    let assignments = fit.assignments;
    if (sample) {
      const parts: tf.Tensor1D[] = [];
      for (let start = 0; start < n; start += ASSIGN_CHUNK) {
        parts.push(tf.tidy(() => nearestCentroid(whitenAndNormalize(tf.slice(h, [start, 0], [Math.min(ASSIGN_CHUNK, n - start), -1]), mean, transform), fit.centroids)));
      }
      assignments = tf.concat(parts) as tf.Tensor1D;
    }
    return { assignments, sizes: clusterSizes(assignments, k) };
  });
}

/**
 * The cross-entropy of the head against the pseudo-labels, each image
 * weighted by the inverse size of its cluster:
 *   L = Σ_b w_b ℓ_b / Σ_b w_b,  ℓ_b = −log softmax(l_b)_{y_b},  w_b = 1 / |C_{y_b}|.
 * The paper samples images uniformly over the clusters, so that a huge
 * cluster cannot take over the loss (k-means readily makes one); the trainer
 * here draws images uniformly, and this weighting gives each cluster the same
 * share of the loss in expectation instead. A uniform head scores log k.
 */
export function clusterBalancedCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D, sizes: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const k = logits.shape[1];
    const picked = tf.sum(tf.mul(tf.logSoftmax(logits), tf.oneHot(labels, k)), 1);
    const weights = tf.div(1, tf.maximum(tf.cast(tf.gather(sizes, labels), 'float32'), 1));
    return tf.neg(tf.div(tf.sum(tf.mul(picked, weights)), tf.sum(weights))) as tf.Scalar;
  });
}

/** What a round leaves on the page's side: read back once per round. */
interface RoundSummary {
  round: number;
  /** the step after which it ran (0: before the first) */
  step: number;
  assignments: Int32Array;
  sizes: Int32Array;
  inUse: number;
  largestShare: number;
  /** NMI with the previous round's clusters (absent for the first round) */
  nmi?: number;
  /** the instrument's clusters, largest first, with a few members each drawn from the run's seed */
  shown: { cluster: number; size: number; members: number[] }[];
  /** wall time of the round (encode, k-means, read-back), absent for the first */
  ms?: number;
}

/** The `count` largest clusters that hold images, largest first (ties to the lower number). */
export function largestClusters(sizes: Int32Array, count = TASK_SNAPSHOT_EXAMPLES): { cluster: number; size: number }[] {
  return Array.from(sizes, (size, cluster) => ({ cluster, size })).filter((c) => c.size > 0).sort((a, b) => b.size - a.size || a.cluster - b.cluster).slice(0, count);
}

/** The largest clusters (ties to the lower number), with up to `members` of each drawn from `rng`. */
export function shownClusters(assignments: Int32Array, sizes: Int32Array, rng: Rng, count = TASK_SNAPSHOT_EXAMPLES, members = DEEPCLUSTER_MEMBERS_SHOWN) {
  const largest = largestClusters(sizes, count);
  const byCluster = new Map<number, number[]>(largest.map((c) => [c.cluster, []]));
  assignments.forEach((a, i) => byCluster.get(a)?.push(i));
  return largest.map(({ cluster, size }) => {
    const all = byCluster.get(cluster)!;
    const order = permutation(rng, all.length);
    return { cluster, size, members: Array.from(order.slice(0, members), (r) => all[r]) };
  });
}

/** A round's summary from its labels and cluster sizes: the counts derived from them, the rest as given. */
function roundSummary(round: number, step: number, assignments: Int32Array, sizes: Int32Array, rest: Pick<RoundSummary, 'nmi' | 'shown' | 'ms'>): RoundSummary {
  const largest = sizes.reduce((a, b) => Math.max(a, b), 0);
  return { round, step, assignments, sizes, inUse: sizes.filter((c) => c > 0).length, largestShare: largest / assignments.length, ...rest };
}

export const deepcluster: MethodFactory = {
  id: 'deepcluster',
  create({ network, config, trainCount, trainImages }): SslMethod {
    // the fit rule refuses k > n; clamped all the same, since k-means cannot make more clusters than it has points
    const k = Math.min(config.clusterCount, trainCount);
    const size = config.imageSize;
    const rng = createRng((config.seed ^ ROUND_SALT) >>> 0);
    const head = new ClassifierHead(network.hDim, k, config.seed, HEAD_SALT);
    const captured = new CaptureSlot<{ labels: tf.Tensor1D; predicted: tf.Tensor1D }>();
    let capturedN = 0;
    let capturedRound = 0;

    // the first round, before any step: the random-init network's features
    let { assignments, sizes } = clusterTrainImages(network, trainImages, size, k, rng);
    let round = 0;
    let roundStep = 0;
    let stepsDone = 0;
    let unread = true;
    let roundStarted = 0;
    let latest: RoundSummary | null = null;

    const recluster = () => {
      tf.dispose([assignments, sizes]);
      ({ assignments, sizes } = clusterTrainImages(network, trainImages, size, k, rng));
      round += 1;
      roundStep = stepsDone;
      unread = true;
      // a fresh head: new weights from the seed offset by the round, written into the same variables; the trainer sees the round change (restartedVariables) and gives them a fresh Adam state
      const fresh = new ClassifierHead(network.hDim, k, config.seed, HEAD_SALT + round);
      head.variables.forEach((v, i) => v.assign(fresh.variables[i]));
      fresh.dispose();
    };

    const readRound = async () => {
      const labels = Int32Array.from(await assignments.data());
      const counts = Int32Array.from(await sizes.data());
      const previous = latest;
      latest = roundSummary(round, roundStep, labels, counts, {
        nmi: previous ? normalizedMutualInformation(previous.assignments, labels) : undefined,
        shown: shownClusters(labels, counts, rng),
        ms: round > 0 ? performance.now() - roundStarted : undefined,
      });
      unread = false;
    };

    return {
      id: 'deepcluster',
      // f and the k-way head: the projection head g plays no part
      trainableVariables: [...network.encoderVariables, ...head.variables],
      // the head's Adam moments start afresh with its weights each round
      restartedVariables: { variables: head.variables, restarts: () => round },
      lossPath: () => 'composed',
      forward(batch, { capture }) {
        const labels = tf.tidy(() => tf.gather(assignments, tf.tensor1d(batch.indices, 'int32')) as tf.Tensor1D);
        const h = network.encode(batch.views, true);
        const logits = head.logits(h);
        const loss = clusterBalancedCrossEntropy(logits, labels, sizes);
        const metrics = tf.tidy(() => tf.stack([classificationAccuracy(logits, labels)]) as tf.Tensor1D);
        if (capture) {
          capturedN = batch.indices.length;
          capturedRound = round;
          captured.hold({ labels: tf.clone(labels), predicted: tf.argMax(logits, 1) as tf.Tensor1D });
        }
        tf.dispose([labels, logits]);
        // h of the one view of each image: no positive pairs
        return { loss, metrics, z: h, geometry: 'rows' };
      },
      async afterUpdate(_batch, current) {
        stepsDone += 1;
        // clusterEvery applies from the next step, no reset needed
        if (stepsDone - roundStep >= current.clusterEvery) {
          roundStarted = performance.now();
          recluster();
        }
        if (unread) await readRound();
        const values: Record<string, number> = { clustersInUse: latest!.inUse, largestClusterShare: latest!.largestShare };
        if (latest!.nmi !== undefined) values.clusterNmi = latest!.nmi;
        return values;
      },
      discardPending() {
        captured.clear();
      },
      extraBytes() {
        return head.bytes + 4 * (trainCount + k);
      },
      /*
       * f and the head train (the trainer saves them, and the head's own Adam
       * with the round it belongs to, which restarts() must then still
       * return). Besides: the pseudo-labels (the sizes are counted from them),
       * the round, the steps since it, the rounds' random stream, and the last
       * round's summary, which the next round's NMI compares with. Between
       * steps every round has been read back, but the one made while building
       * before step 1: the summary is then of the labels saved, and only its
       * random members, NMI and time are saved beside them.
       */
      async saveState() {
        if (unread !== (latest === null)) throw new Error('DeepCluster: a checkpoint is taken between steps, once the round has been read back.');
        const arrays: MethodState['arrays'] = { assignments: await readStateArray(assignments) };
        const values: MethodState['values'] = { roundRng: rng.state(), round, roundStep, stepsDone, roundRead: latest !== null };
        if (latest) {
          arrays.shownMembers = typedStateArray(Int32Array.from(latest.shown.flatMap((c) => c.members)));
          if (latest.nmi !== undefined) values.roundNmi = latest.nmi;
          if (latest.ms !== undefined) values.roundMs = latest.ms;
        }
        return { arrays, values };
      },
      loadState(state) {
        const reader = pretextStateReader(state, 'DeepCluster', {
          arrays: ['assignments', 'shownMembers'],
          values: ['roundRng', 'round', 'roundStep', 'stepsDone', 'roundRead', 'roundNmi', 'roundMs'],
        });
        const labels = Int32Array.from(reader.array('assignments', [trainCount], 'int32').data as Int32Array);
        if (labels.some((a) => a < 0 || a >= k)) throw new Error(`DeepCluster’s “assignments” in the checkpoint name clusters outside 0…${k - 1}: it was saved with another cluster count.`);
        const savedRound = reader.number('round');
        const savedRoundStep = reader.number('roundStep');
        const savedSteps = reader.number('stepsDone');
        if (savedRound < 0 || savedRoundStep < 0 || savedRoundStep > savedSteps) {
          throw new Error(`DeepCluster’s round ${savedRound} after step ${savedRoundStep} of ${savedSteps} in the checkpoint does not add up.`);
        }
        reader.restoreRng('roundRng', rng);
        const read = reader.boolean('roundRead');
        const counts = new Int32Array(k);
        for (const a of labels) counts[a] += 1;
        let summary: RoundSummary | null = null;
        if (read) {
          const largest = largestClusters(counts);
          const memberCounts = largest.map((c) => Math.min(DEEPCLUSTER_MEMBERS_SHOWN, c.size));
          const members = reader.array('shownMembers', [memberCounts.reduce((a, b) => a + b, 0)], 'int32').data as Int32Array;
          let at = 0;
          const shown = largest.map(({ cluster, size: clusterSize }, e) => {
            const mine = Array.from(members.subarray(at, at + memberCounts[e]));
            at += memberCounts[e];
            if (mine.some((i) => !(i >= 0 && i < trainCount) || labels[i] !== cluster)) throw new Error(`DeepCluster’s “shownMembers” in the checkpoint are not members of cluster ${cluster}.`);
            return { cluster, size: clusterSize, members: mine };
          });
          const optional = (name: string) => (name in state.values ? reader.number(name, false) : undefined);
          summary = roundSummary(savedRound, savedRoundStep, Int32Array.from(labels), counts, { nmi: optional('roundNmi'), shown, ms: optional('roundMs') });
        }
        reader.then(() => {
          captured.clear();
          tf.dispose([assignments, sizes]);
          assignments = tf.tensor1d(labels, 'int32');
          sizes = tf.tensor1d(Int32Array.from(counts), 'int32');
          round = savedRound;
          roundStep = savedRoundStep;
          stepsDone = savedSteps;
          latest = summary;
          unread = !read;
        });
        reader.commit();
      },
      dispose() {
        captured.clear();
        head.dispose();
        tf.dispose([assignments, sizes]);
      },
      taskSnapshot: (step) => readCapture(captured, async (held): Promise<TaskSnapshot | null> => {
        const labels = Int32Array.from(await held.labels.data());
        const predicted = Int32Array.from(await held.predicted.data());
        if (!latest) return null;
        const right = predicted.reduce((sum, p, b) => sum + (p === labels[b] ? 1 : 0), 0);
        const { shown } = latest;
        const count = shown.length;
        const [, side, , channels] = trainImages.shape;
        const perImage = side * side * channels;
        // member r of each shown cluster, a row per r; a blank where a cluster has fewer members
        const wanted = shown.flatMap((c) => c.members);
        const gathered = tf.tidy(() => tf.gather(trainImages, tf.tensor1d(Int32Array.from(wanted), 'int32')));
        let pixels: Float32Array;
        try {
          pixels = Float32Array.from(await gathered.data());
        } finally {
          gathered.dispose();
        }
        const rows = Array.from({ length: DEEPCLUSTER_MEMBERS_SHOWN }, (_, r) => {
          const images = new Float32Array(count * perImage);
          let offset = 0;
          shown.forEach((c, e) => {
            if (r < c.members.length) images.set(pixels.subarray((offset + r) * perImage, (offset + r + 1) * perImage), e * perImage);
            offset += c.members.length;
          });
          return { label: `member ${r + 1}`, images, size: side, channels: channels as 1 | 3 };
        });
        const n = latest.assignments.length;
        const percent = (share: number) => `${(100 * share).toFixed(share < 0.1 ? 1 : 0)}%`;
        const timing = latest.ms !== undefined ? ` in ${(latest.ms / 1000).toFixed(1)} s` : '';
        const nmi = latest.nmi !== undefined ? `; NMI with round ${latest.round - 1}’s clusters ${latest.nmi.toFixed(2)}` : '';
        const stale = capturedRound !== latest.round ? ` (against round ${capturedRound}’s clusters, replaced after this step)` : '';
        return {
          step, method: 'deepcluster', count,
          rows,
          captions: shown.map((c) => `#${c.cluster} · ${c.size.toLocaleString('en-US')} (${percent(c.size / n)})`),
          summary: `k-means round ${latest.round} (after step ${latest.step}${timing}): ${latest.inUse} of ${k} clusters hold images, the largest ${percent(latest.largestShare)} of the ${n.toLocaleString('en-US')}${nmi}. `
            + `The head names the pseudo-label of ${right} of the batch’s ${capturedN} images (${percent(right / capturedN)}; chance ${percent(1 / k)})${stale}. Shown: the ${count} largest clusters, ${DEEPCLUSTER_MEMBERS_SHOWN} members of each drawn at random.`,
        };
      }),
    };
  },
};
