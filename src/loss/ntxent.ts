import * as tf from '@tensorflow/tfjs';

/** Options shared by {@link ntXent} and {@link ntXentWithMetrics}. */
export interface NtXentOptions {
  /** τ in SimCLR: logits are s_ij / τ. Must be finite and > 0. */
  temperature: number;
  /**
   * true: s_ij is the cosine similarity (SimCLR's sim(u, v)); false: the plain
   * dot product z_i·z_j (only sensible if the projection head already
   * bounds its outputs).
   */
  normalize: boolean;
}

/** Result of {@link ntXentWithMetrics}; the caller disposes all three tensors. */
export interface NtXentWithMetrics {
  loss: tf.Scalar;
  /** [meanPositiveCosine, meanNegativeCosine, contrastiveAccuracy] */
  metrics: tf.Tensor1D;
  /** the 2N×2N similarity matrix s (cosine if normalize, else dot product), diagonal left as computed */
  affinityMatrix: tf.Tensor2D;
}

/**
 * ‖z‖ is clamped to at least this before dividing (guards a zero-norm row).
 * We clamp ‖z‖² at its square, 1e-24, which float32 represents exactly
 * enough (normal range ends near 1.2e-38).
 */
const MIN_NORM = 1e-12;
const MIN_SQUARED_NORM = MIN_NORM * MIN_NORM;

/**
 * NT-Xent, the normalized temperature-scaled cross-entropy loss of SimCLR
 * (Chen, Kornblith, Norouzi, Hinton, "A Simple Framework for Contrastive
 * Learning of Visual Representations", ICML 2020,
 * https://arxiv.org/abs/2002.05709, Algorithm 1).
 *
 * A minibatch of N images gives two augmented views each; their projections
 * are z1 (first views) and z2 (second views). With z = concat(z1, z2) (2N
 * rows), Algorithm 1 computes
 *
 *     s_{i,j} = z_iᵀ z_j / (‖z_i‖ ‖z_j‖)                      (the affinity matrix)
 *     ℓ(i,j)  = −log( exp(s_{i,j}/τ) / Σ_{k=1}^{2N} 1[k≠i] exp(s_{i,k}/τ) )
 *     L       = 1/(2N) Σ_{k=1}^{N} [ ℓ(2k−1, 2k) + ℓ(2k, 2k−1) ]
 *
 * Conventions used here:
 * - Rows are concatenated, not interleaved as in the paper: row k of z1 and
 *   row k of z2 are a positive pair, so the positive of anchor i is
 *   positiveIndex(i) = (i + N) mod 2N. This is only a permutation of the 2N
 *   anchors, so L is identical to the paper's; L is the mean of
 *   ℓ(i, positiveIndex(i)) over all 2N anchors.
 * - `normalize: true` uses the cosine above (‖z‖ clamped to ≥ 1e-12);
 *   `normalize: false` uses the plain dot product s_{i,j} = z_iᵀ z_j.
 * - The 1[k≠i] term is implemented by setting the diagonal logits to −∞
 *   (tf.where), so they contribute exp(−∞) = 0 exactly; the denominator is
 *   evaluated as a max-subtracted log-sum-exp (tf.logSumExp) whose max
 *   therefore ignores the self-similarity.
 * - The loss uses natural logarithms, so with all 2N embeddings identical
 *   it equals log(2N − 1) (chance level).
 *
 * Differentiable (tf.grad / tf.variableGrads / optimizer.minimize), made of
 * tf ops only (any backend), and every temporary lives inside tf.tidy.
 *
 * @param z1 [N, d] projections of the first augmented views, N ≥ 1.
 * @param z2 [N, d] projections of the second views; row k pairs with z1 row k.
 * @param opts temperature τ (> 0, SimCLR uses 0.1–0.5) and normalize.
 * @returns the scalar loss L; the caller disposes it.
 * @throws Error when the shapes differ, are not [N ≥ 1, d ≥ 1], or τ is not
 *   finite and positive.
 *
 * @example
 * ```ts
 * const optimizer = tf.train.adam(1e-3);
 * const loss = optimizer.minimize(() => {
 *   const z1 = projector.apply(encoder.apply(view1)) as tf.Tensor2D;
 *   const z2 = projector.apply(encoder.apply(view2)) as tf.Tensor2D;
 *   return ntXent(z1, z2, { temperature: 0.5, normalize: true });
 * }, true);
 * console.log(loss?.dataSync()[0]);
 * loss?.dispose();
 * ```
 */
export function ntXent(z1: tf.Tensor2D, z2: tf.Tensor2D, opts: NtXentOptions): tf.Scalar {
  validateInputs(z1, z2, opts);
  return tf.tidy(() => contrastiveForward(z1, z2, opts).loss);
}

/**
 * {@link ntXent} plus the training loop's step metrics, all read from the
 * same affinity matrix s (no second pass over z):
 *
 * - meanPositiveCosine = 1/(2N) Σ_i cos(z_i, z_{positiveIndex(i)}) — always the
 *   cosine, also when `normalize` is false (then recovered from s as
 *   s_ij / √(s_ii s_jj), since the diagonal of s holds ‖z_i‖²).
 * - meanNegativeCosine = mean of cos(z_i, z_j) over the 2N(2N−2) ordered pairs
 *   with j ≠ i and j ≠ positiveIndex(i); reported as 0 when N = 1 (no negatives).
 * - contrastiveAccuracy = fraction of the 2N anchors whose positive is the
 *   argmax over j ≠ i of s_ij (the first index wins ties), in [0, 1].
 *
 * The loss is the same code path as {@link ntXent} and is differentiable; the
 * metrics are not meant to be differentiated. The caller disposes `loss`,
 * `metrics` and `affinityMatrix`. Inside optimizer.minimize /
 * tf.variableGrads, tf.keep the tensors you want to outlive the closure:
 *
 * @example
 * ```ts
 * let metrics: tf.Tensor1D | undefined;
 * const loss = optimizer.minimize(() => {
 *   const out = ntXentWithMetrics(z1Of(batch), z2Of(batch), { temperature: 0.5, normalize: true });
 *   metrics = tf.keep(out.metrics);
 *   out.affinityMatrix.dispose();
 *   return out.loss;
 * }, true);
 * const [meanPositiveCosine, meanNegativeCosine, contrastiveAccuracy] = await metrics!.data();
 * tf.dispose([loss!, metrics!]);
 * ```
 */
export function ntXentWithMetrics(
  z1: tf.Tensor2D,
  z2: tf.Tensor2D,
  opts: NtXentOptions,
): NtXentWithMetrics {
  validateInputs(z1, z2, opts);
  return tf.tidy(() => {
    const forward = contrastiveForward(z1, z2, opts);
    return {
      loss: forward.loss,
      metrics: stepMetrics(forward, opts.normalize),
      affinityMatrix: forward.affinityMatrix,
    };
  });
}

/** Everything the loss and the metrics share; only valid inside a tf.tidy. */
interface ContrastiveForward {
  loss: tf.Scalar;
  /** s, 2N×2N, diagonal as computed (1 for cosine, ‖z_i‖² for dot product). */
  affinityMatrix: tf.Tensor2D;
  /** s with the diagonal set to −∞. */
  maskedAffinity: tf.Tensor2D;
  /** true at (i, i). */
  diagonalMask: tf.Tensor2D;
  /** positiveIndex(i) = (i + N) mod 2N, int32 [2N]. */
  positiveIndex: tf.Tensor1D;
  /** true at (i, positiveIndex(i)). */
  positiveMask: tf.Tensor2D;
  /** 2N */
  numAnchors: number;
}

/** The single NT-Xent code path. Must be called inside tf.tidy. */
function contrastiveForward(
  z1: tf.Tensor2D,
  z2: tf.Tensor2D,
  { temperature, normalize }: NtXentOptions,
): ContrastiveForward {
  const batchSize = z1.shape[0]; // N
  const numAnchors = 2 * batchSize; // 2N

  const z = tf.concat2d([z1, z2], 0); // [2N, d]
  const zForSimilarity = normalize ? l2NormalizeRows(z) : z;
  // s_ij = z_i·z_j (cosine if the rows were normalized): [2N, 2N]
  const affinityMatrix = tf.matMul(zForSimilarity, zForSimilarity, false, true) as tf.Tensor2D;

  // positiveIndex(i) = (i + N) mod 2N
  const positiveIndex = tf.concat1d([
    tf.range(batchSize, numAnchors, 1, 'int32'),
    tf.range(0, batchSize, 1, 'int32'),
  ]);
  const positiveMask = tf.cast(tf.oneHot(positiveIndex, numAnchors), 'bool') as tf.Tensor2D;
  const diagonalMask = tf.cast(tf.eye(numAnchors), 'bool') as tf.Tensor2D;

  // 1[k≠i]: exp(−∞) = 0 exactly, and the −∞ entries never win the max inside
  // logSumExp, so the max subtraction ignores the self-similarity (which
  // would otherwise dominate: s_ii = 1 for cosine, ‖z_i‖² for dot products).
  // A large finite constant (say s_ii := −1e9) only works while every real
  // similarity stays far above it, which fails with normalize off and large z.
  // The gradient of tf.where routes nothing into the −∞ branch.
  const negativeInfinity = tf.fill([numAnchors, numAnchors], -Infinity) as tf.Tensor2D;
  const maskedAffinity = tf.where(diagonalMask, negativeInfinity, affinityMatrix);
  const logits = tf.div(maskedAffinity, temperature); // s_ij / τ (−∞ on the diagonal)

  // log Σ_{k≠i} exp(s_ik/τ), evaluated as max_i + log Σ exp(logit − max_i)
  const logDenominator = tf.logSumExp(logits, 1); // [2N]
  // s_{i,positiveIndex(i)}/τ; tf.where (not mask·logits) avoids 0·(−∞) = NaN.
  const positiveLogit = tf.sum(tf.where(positiveMask, logits, tf.zerosLike(logits)), 1); // [2N]
  // ℓ(i) = −log softmax_{positiveIndex(i)} = logDenominator − positiveLogit
  const loss = tf.mean(tf.sub(logDenominator, positiveLogit)) as tf.Scalar;

  return { loss, affinityMatrix, maskedAffinity, diagonalMask, positiveIndex, positiveMask, numAnchors };
}

/** ẑ = z / max(‖z‖, 1e-12), row-wise, as z · rsqrt(max(‖z‖², 1e-24)). */
function l2NormalizeRows(z: tf.Tensor2D): tf.Tensor2D {
  // Clamping the squared norm (rather than sqrt then clamp) keeps the
  // gradient finite for an all-zero row: the clamp passes zero gradient to
  // ‖z‖², so the infinite slope of sqrt at 0 is never multiplied in.
  const squaredNorm = tf.sum(tf.square(z), 1, true); // [2N, 1]
  return tf.mul(z, tf.rsqrt(tf.maximum(squaredNorm, MIN_SQUARED_NORM)));
}

/**
 * [meanPositiveCosine, meanNegativeCosine, contrastiveAccuracy] from the
 * shared affinity matrix. Must be called inside tf.tidy.
 */
function stepMetrics(forward: ContrastiveForward, normalize: boolean): tf.Tensor1D {
  const { affinityMatrix, maskedAffinity, diagonalMask, positiveIndex, positiveMask, numAnchors } =
    forward;

  // Cosine matrix: s itself if normalized; otherwise s_ij / (‖z_i‖‖z_j‖)
  // with ‖z_i‖² = s_ii read off the diagonal (same clamp as l2NormalizeRows).
  let cosine: tf.Tensor2D;
  if (normalize) {
    cosine = affinityMatrix;
  } else {
    const squaredNorm = tf.sum(tf.where(diagonalMask, affinityMatrix, tf.zerosLike(affinityMatrix)), 1);
    const inverseNorm = tf.rsqrt(tf.maximum(squaredNorm, MIN_SQUARED_NORM)); // [2N]
    cosine = tf.mul(tf.mul(affinityMatrix, inverseNorm.reshape([-1, 1])), inverseNorm.reshape([1, -1]));
  }
  const zeros = tf.zerosLike(cosine);

  const meanPositiveCosine = tf.div(tf.sum(tf.where(positiveMask, cosine, zeros)), numAnchors);

  const negativeMask = tf.logicalNot(tf.logicalOr(diagonalMask, positiveMask));
  const numNegativePairs = numAnchors * (numAnchors - 2); // 2N(2N−2), 0 when N = 1
  const meanNegativeCosine = tf.div(
    tf.sum(tf.where(negativeMask, cosine, zeros)),
    Math.max(numNegativePairs, 1),
  );

  // argmax_{j≠i} s_ij (diagonal is −∞ in maskedAffinity) == positiveIndex(i)
  const predicted = tf.argMax(maskedAffinity, 1); // [2N] int32
  const contrastiveAccuracy = tf.mean(tf.cast(tf.equal(predicted, positiveIndex), 'float32'));

  return tf.stack([meanPositiveCosine, meanNegativeCosine, contrastiveAccuracy]) as tf.Tensor1D;
}

/**
 * Checks NT-Xent's inputs (shared with the fused kernels); errors start with `caller`.
 * @throws Error when the shapes differ, are not [N ≥ 1, d ≥ 1], or τ is not finite and positive.
 */
export function validateInputs(z1: tf.Tensor, z2: tf.Tensor, { temperature }: NtXentOptions, caller = 'ntXent'): void {
  if (z1.rank !== 2 || z2.rank !== 2) {
    throw new Error(
      `${caller}: z1 and z2 must be rank-2 [N, d] tensors, got shapes [${z1.shape}] and [${z2.shape}]`,
    );
  }
  const [n1, d1] = z1.shape;
  const [n2, d2] = z2.shape;
  if (n1 !== n2 || d1 !== d2) {
    throw new Error(
      `${caller}: z1 and z2 must have the same shape [N, d], got [${z1.shape}] and [${z2.shape}]`,
    );
  }
  if (n1 < 1 || d1 < 1) {
    throw new Error(`${caller}: need N ≥ 1 pairs and d ≥ 1 dimensions, got shape [${z1.shape}]`);
  }
  if (!Number.isFinite(temperature) || temperature <= 0) {
    throw new Error(`${caller}: temperature must be finite and > 0, got ${temperature}`);
  }
}
