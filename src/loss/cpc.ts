import * as tf from '@tensorflow/tfjs';

/** Result of {@link cpcInfoNceWithMetrics}; the caller disposes all four tensors. */
export interface CpcInfoNceWithMetrics {
  loss: tf.Scalar;
  /**
   * [K]: for each offset k = 1 … K, the share of its predictions whose true
   * code scores strictly above every other candidate (ties count as misses,
   * so predictions that score every candidate alike read 0, not 1/M).
   */
  offsetAccuracy: tf.Tensor1D;
  /** [P]: 1 where prediction p scores its true code strictly above every other candidate, else 0 */
  hits: tf.Tensor1D;
  /** [P] int32: the candidate each prediction scores highest (its answer; the first on ties) */
  best: tf.Tensor1D;
}

/**
 * The InfoNCE loss of contrastive predictive coding (van den Oord, Li,
 * Vinyals, "Representation Learning with Contrastive Predictive Coding",
 * 2018, https://arxiv.org/abs/1807.03748, Eq. 4), with every patch code of
 * the batch as a candidate.
 *
 * Row p of `predictions` is ẑ_p = W_k c, the prediction of one patch's code
 * from a context c, k rows ahead; `codes` holds all M patch codes z_m of the
 * batch, and targets[p] is the row of the true one. The score is the paper's
 * log-bilinear f_k(z, c) = exp(zᵀ W_k c), i.e. a plain dot product with no
 * normalization and no temperature:
 *
 *     s_pm = ẑ_p · z_m
 *     L    = 1/P Σ_p −log( e^{s_p,target(p)} / Σ_{m=1}^{M} e^{s_pm} )
 *          = 1/P Σ_p [ logsumexp_m(s_pm) − s_p,target(p) ]
 *
 * Every other code is a negative: the other patches of the same image (other
 * positions, the context's own patches included) and every patch of the
 * other images. The mean runs over all predictions of all offsets alike, so
 * offsets with more predictions (k = 1) weigh more, as in the paper's sum
 * over k and positions.
 *
 * Conventions:
 * - With all scores equal (zero predictions) L = log M exactly: the loss
 *   chart's line.
 * - No stop-gradient: the loss sends gradients to the predictions and to
 *   every code, target and negatives alike.
 *
 * Differentiable, tf ops only (any backend), temporaries inside tf.tidy.
 *
 * @param predictions [P, d] the predicted codes ẑ_p, P ≥ 1.
 * @param codes [M, d] every patch code of the batch, M ≥ 1.
 * @param targets length P: the row of codes each prediction must pick, integers in [0, M).
 * @returns the scalar loss L; the caller disposes it.
 * @throws Error when the shapes do not fit or a target is not a row of codes.
 */
export function cpcInfoNce(predictions: tf.Tensor2D, codes: tf.Tensor2D, targets: Int32Array): tf.Scalar {
  validateCpcInputs(predictions, codes, targets);
  return tf.tidy(() => cpcForward(predictions, codes, targets).loss);
}

/**
 * {@link cpcInfoNce} plus the per-offset accuracy and each prediction's
 * answer, read from the same scores (see {@link CpcInfoNceWithMetrics}).
 * The loss is the same code path and is differentiable; the rest is not
 * meant to be.
 *
 * @param offsets length P: the offset k ∈ 1 … K of each prediction; every k must occur.
 * @param offsetCount K.
 */
export function cpcInfoNceWithMetrics(
  predictions: tf.Tensor2D,
  codes: tf.Tensor2D,
  targets: Int32Array,
  offsets: Int32Array,
  offsetCount: number,
): CpcInfoNceWithMetrics {
  validateCpcInputs(predictions, codes, targets);
  const perOffset = validateOffsets(offsets, targets.length, offsetCount);
  return tf.tidy(() => {
    const { loss, scores, targetMask } = cpcForward(predictions, codes, targets);
    const positive = tf.sum(tf.where(targetMask, scores, tf.zerosLike(scores)), 1); // [P]
    // the best other candidate; −∞ at the target so it never competes with itself
    const others = tf.where(targetMask, tf.fill(scores.shape, -Infinity), scores);
    const hits = tf.cast(tf.greater(positive, tf.max(others, 1)), 'float32') as tf.Tensor1D;
    // [P, K] one-hot of the offsets: accuracy_k = Σ_p hit_p [k_p = k] / #{p : k_p = k}
    const oneHot = tf.oneHot(tf.tensor1d(Int32Array.from(offsets, (k) => k - 1), 'int32'), offsetCount);
    const counts = tf.tensor1d(perOffset);
    const offsetAccuracy = tf.div(tf.squeeze(tf.matMul(tf.reshape(hits, [1, -1]), tf.cast(oneHot, 'float32')), [0]), counts) as tf.Tensor1D;
    const best = tf.argMax(scores, 1) as tf.Tensor1D;
    return { loss, offsetAccuracy, hits, best };
  });
}

/** The single CPC code path. Must be called inside tf.tidy. */
function cpcForward(
  predictions: tf.Tensor2D,
  codes: tf.Tensor2D,
  targets: Int32Array,
): { loss: tf.Scalar; scores: tf.Tensor2D; targetMask: tf.Tensor2D } {
  const candidates = codes.shape[0];
  const scores = tf.matMul(predictions, codes, false, true) as tf.Tensor2D; // s_pm = ẑ_p·z_m: [P, M]
  // true at (p, targets[p]), broadcast [1, M] against [P, 1] (tf.oneHot would refuse M = 1)
  const targetMask = tf.equal(
    tf.reshape(tf.range(0, candidates, 1, 'int32'), [1, candidates]),
    tf.tensor2d(targets, [targets.length, 1], 'int32'),
  ) as tf.Tensor2D;
  const positive = tf.sum(tf.where(targetMask, scores, tf.zerosLike(scores)), 1);
  const loss = tf.mean(tf.sub(tf.logSumExp(scores, 1), positive)) as tf.Scalar;
  return { loss, scores, targetMask };
}

function validateCpcInputs(predictions: tf.Tensor, codes: tf.Tensor, targets: Int32Array): void {
  if (predictions.rank !== 2 || codes.rank !== 2) {
    throw new Error(`cpcInfoNce: predictions and codes must be rank-2 [rows, d] tensors, got shapes [${predictions.shape}] and [${codes.shape}]`);
  }
  const [count, dim] = predictions.shape;
  const [candidates, codeDim] = codes.shape;
  if (count < 1 || dim < 1) throw new Error(`cpcInfoNce: need P ≥ 1 predictions and d ≥ 1 dimensions, got predictions of shape [${predictions.shape}]`);
  if (candidates < 1) throw new Error('cpcInfoNce: no patch codes to choose from; codes needs M ≥ 1 rows');
  if (codeDim !== dim) throw new Error(`cpcInfoNce: the codes must have the predictions' size d = ${dim}, got codes of shape [${codes.shape}]`);
  if (targets.length !== count) throw new Error(`cpcInfoNce: need one target per prediction (${count}), got ${targets.length}`);
  for (let p = 0; p < targets.length; p++) {
    const t = targets[p];
    if (!Number.isInteger(t) || t < 0 || t >= candidates) {
      throw new Error(`cpcInfoNce: targets[${p}] = ${t} is not a row of codes; targets must be integers in [0, ${candidates - 1}]`);
    }
  }
}

/** The predictions per offset, after checking every k is in 1 … K and occurs. */
function validateOffsets(offsets: Int32Array, count: number, offsetCount: number): Float32Array {
  if (!Number.isInteger(offsetCount) || offsetCount < 1) throw new Error(`cpcInfoNce: K must be a positive integer, got ${offsetCount}`);
  if (offsets.length !== count) throw new Error(`cpcInfoNce: need one offset per prediction (${count}), got ${offsets.length}`);
  const perOffset = new Float32Array(offsetCount);
  offsets.forEach((k, p) => {
    if (!Number.isInteger(k) || k < 1 || k > offsetCount) throw new Error(`cpcInfoNce: offsets[${p}] = ${k} is not an offset in 1 … ${offsetCount}`);
    perOffset[k - 1] += 1;
  });
  const missing = perOffset.findIndex((c) => c === 0);
  if (missing >= 0) throw new Error(`cpcInfoNce: no prediction has offset k = ${missing + 1}, so its accuracy is undefined`);
  return perOffset;
}
