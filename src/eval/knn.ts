/**
 * Weighted k-nearest-neighbour evaluation of a frozen encoder, as in
 * InstDisc (Wu, Xiong, Yu, Lin, "Unsupervised Feature Learning via
 * Non-Parametric Instance Discrimination", CVPR 2018, §3.4) and solo-learn's
 * `weighted_knn`. With ℓ2-normalized rows f̂ = f / max(‖f‖, 1e-12):
 *
 *     s_i      = f̂_test · f̂_i                     (cosine similarity to train point i)
 *     N_k      = the k train points with the largest s_i
 *     w_c      = Σ_{i ∈ N_k, y_i = c} exp(s_i / τ)  (total vote of class c)
 *     ŷ        = argmax_c w_c
 *
 * Ties: in the vote the lowest class index wins (tf.argMax returns the first
 * maximum); among equal similarities at the k-th place the neighbour set is
 * whatever tf.topk keeps (the lower train index on the CPU backend).
 *
 * Runs on the active tfjs backend in chunks of test rows (the similarity
 * chunk is chunk × nTrain), awaiting each chunk's predictions and yielding to
 * the event loop between chunks so a Web Worker stays responsive.
 */
import * as tf from '@tensorflow/tfjs';
import { l2NormalizeRows } from './geometry';
import { runsOnArrays, type ComputeOn } from './devicePolicy';
import { knnPredictArrays } from './knnArrays';
import { validateLabels } from './validate';

export interface KnnOptions {
  /** tfjs ops ('tensors') or float64 arrays on the read-back features ('arrays'); 'auto' (default): see devicePolicy.ts */
  computeOn?: ComputeOn;
  /** called between chunks of test rows with the rows done; it may throw to stop the computation (a cancel) */
  onProgress?: (done: number, total: number) => void;
  /** Number of neighbours k, 1 ≤ k ≤ number of training points (InstDisc uses 200). */
  k: number;
  /** τ in the vote weight exp(s/τ), finite and > 0 (InstDisc uses 0.07). */
  temperature: number;
  /** Labels lie in [0, numClasses). */
  numClasses: number;
}

/** Test rows per chunk: 256 × 10,000 train points is a 10 MB float32 similarity chunk. */
export const KNN_CHUNK_ROWS = 256;

function validate(train: tf.Tensor2D, trainLabels: Int32Array, test: tf.Tensor2D, opts: KnnOptions, chunkRows: number): void {
  if (train.rank !== 2 || test.rank !== 2) throw new Error('features must be rank-2 [n, d] tensors');
  const [nTrain, d] = train.shape;
  const [nTest, dTest] = test.shape;
  if (d !== dTest) throw new Error(`train features have ${d} dims but test features have ${dTest}`);
  if (d < 1) throw new Error('features must have at least one dimension');
  if (trainLabels.length !== nTrain) throw new Error(`${nTrain} train feature rows but ${trainLabels.length} train labels`);
  if (nTrain < 1) throw new Error('kNN needs at least one training point, but the train split is empty');
  if (nTest < 1) throw new Error('the test split is empty');
  const { k, temperature, numClasses } = opts;
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new Error(`numClasses must be an integer ≥ 1, got ${numClasses}`);
  if (!Number.isInteger(k) || k < 1) throw new Error(`k must be an integer ≥ 1, got ${k}`);
  if (k > nTrain) throw new Error(`k = ${k} is larger than the number of training points (${nTrain}); choose k ≤ ${nTrain}`);
  if (!(Number.isFinite(temperature) && temperature > 0)) throw new Error(`temperature must be finite and positive, got ${temperature}`);
  if (!Number.isInteger(chunkRows) || chunkRows < 1) throw new Error(`chunkRows must be an integer ≥ 1, got ${chunkRows}`);
  validateLabels(trainLabels, numClasses, 'train');
}

/**
 * Weighted-kNN class predictions for every test row (see the module comment).
 *
 * @param train [nTrain, d] training features (not modified, not disposed).
 * @param trainLabels nTrain labels in [0, numClasses).
 * @param test [nTest, d] test features.
 * @param opts k, temperature τ, numClasses, and chunkRows (test rows per chunk, default 256).
 * @returns nTest predicted class indices.
 * @throws Error when shapes or labels do not match, a split is empty, k < 1 or
 *   k > nTrain, or τ is not finite and positive.
 */
export async function knnPredict(
  train: tf.Tensor2D,
  trainLabels: Int32Array,
  test: tf.Tensor2D,
  opts: KnnOptions & { chunkRows?: number },
): Promise<Int32Array> {
  const chunkRows = opts.chunkRows ?? KNN_CHUNK_ROWS;
  validate(train, trainLabels, test, opts, chunkRows);
  const { k, temperature, numClasses } = opts;
  const [nTest, d] = test.shape;
  const nTrain = train.shape[0];
  if (runsOnArrays(opts.computeOn, nTest * nTrain * d)) {
    const [trainValues, testValues] = await Promise.all([train.data(), test.data()]);
    return knnPredictArrays({ values: trainValues, n: nTrain, d }, trainLabels, { values: testValues, n: nTest, d }, { k, temperature, numClasses, onProgress: opts.onProgress });
  }

  const [trainHat, labels] = tf.tidy(() => [l2NormalizeRows(train), tf.tensor1d(trainLabels, 'int32')] as const);
  const predictions = new Int32Array(nTest);
  try {
    for (let start = 0; start < nTest; start += chunkRows) {
      const rows = Math.min(chunkRows, nTest - start);
      const chunkPrediction = tf.tidy(() => {
        const queryHat = l2NormalizeRows(tf.slice(test, [start, 0], [rows, d]));
        const similarity = tf.matMul(queryHat, trainHat, false, true); // [rows, nTrain]
        const { values, indices } = tf.topk(similarity, k, true); // sorted: values[:, 0] is the row max
        // exp((s − s_max)/τ) = exp(s/τ)·const per row: same argmax, and no float32
        // overflow for small τ (exp(1/0.01) would be inf).
        const weights = tf.exp(tf.div(tf.sub(values, tf.slice(values, [0, 0], [rows, 1])), temperature));
        const neighbourLabels = tf.gather(labels, indices); // [rows, k]
        const votes = tf.sum(tf.mul(tf.oneHot(neighbourLabels, numClasses, 1, 0, 'float32'), tf.expandDims(weights, 2)), 1);
        return tf.argMax(votes, 1); // first maximum: the lowest class index wins a tie
      });
      try {
        predictions.set(await chunkPrediction.data(), start);
      } finally {
        chunkPrediction.dispose();
      }
      if (start + rows < nTest) {
        opts.onProgress?.(start + rows, nTest);
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
    }
  } finally {
    tf.dispose([trainHat, labels]);
  }
  return predictions;
}

/**
 * Weighted-kNN top-1 accuracy: the fraction of test rows whose
 * {@link knnPredict} class equals its label.
 *
 * @throws Error as {@link knnPredict}, and when the test labels do not match
 *   the test rows or lie outside [0, numClasses).
 */
export async function knnAccuracy(
  train: tf.Tensor2D,
  trainLabels: Int32Array,
  test: tf.Tensor2D,
  testLabels: Int32Array,
  opts: KnnOptions,
): Promise<number> {
  if (test.rank === 2 && testLabels.length !== test.shape[0]) {
    throw new Error(`${test.shape[0]} test feature rows but ${testLabels.length} test labels`);
  }
  if (Number.isInteger(opts.numClasses) && opts.numClasses >= 1) validateLabels(testLabels, opts.numClasses, 'test');
  const predicted = await knnPredict(train, trainLabels, test, opts);
  let correct = 0;
  for (let i = 0; i < predicted.length; i++) if (predicted[i] === testLabels[i]) correct++;
  return correct / predicted.length;
}
