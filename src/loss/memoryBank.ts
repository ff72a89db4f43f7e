import * as tf from '@tensorflow/tfjs';
import { l2NormalizeRows } from './normalize';

/** Options of {@link memoryBankLoss} and {@link memoryBankWithMetrics}. */
export interface MemoryBankOptions {
  /** τ in Wu et al.: logits are v̂·bank_j / τ (the paper uses 0.07). Must be finite and > 0. */
  temperature: number;
}

/** Result of {@link memoryBankWithMetrics}; the caller disposes all three scalars. */
export interface MemoryBankWithMetrics {
  loss: tf.Scalar;
  /**
   * mean over b of the 0-based rank of bank entry indices[b] among row b's
   * similarities: the number of other entries j with v̂_b·bank_j ≥ v̂_b·bank_{indices[b]}
   * (0 = strictly the most similar; ties count against the positive).
   */
  positiveRank: tf.Scalar;
  /** mean over b of v̂_b·bank_{indices[b]} */
  positiveSimilarity: tf.Scalar;
}

/**
 * Instance discrimination with a memory bank (Wu, Xiong, Yu, Lin,
 * "Unsupervised Feature Learning via Non-Parametric Instance
 * Discrimination", CVPR 2018, https://arxiv.org/abs/1805.01978, Eq. 2),
 * with the exact non-parametric softmax over all n bank entries (no NCE
 * approximation: n is small in the playground).
 *
 * Every training image i is its own class; bank row j holds the last
 * embedding seen for image j. With v̂_b = v_b/‖v_b‖ (‖·‖ clamped to ≥ 1e-12),
 *
 *     P(j | v_b) = exp(v̂_b·bank_j / τ) / Σ_{m=1}^{n} exp(v̂_b·bank_m / τ)
 *     L          = 1/B Σ_b −log P(indices[b] | v_b)
 *
 * evaluated as log-sum-exp (max subtracted) minus the positive logit.
 *
 * Conventions:
 * - Bank rows are used as given (the method stores them normalized).
 * - No stop-gradient here: differentiated, the loss sends gradients to v
 *   and bank. The method treats the bank as a constant and updates it
 *   outside the gradient (bank_i ← normalize(m·bank_i + (1 − m)·v_i)).
 * - With all bank entries equal every P(j | v) is 1/n, so L = log n (chance).
 *
 * @param v [B, d] embeddings of the batch, B ≥ 1.
 * @param indices length B: indices[b] is the bank row of the image in v's row b, 0 ≤ indices[b] < n.
 * @param bank [n, d] the memory bank, n ≥ 1.
 * @param opts temperature τ > 0.
 * @returns the scalar loss L; the caller disposes it.
 * @throws Error when the shapes do not fit, an index is not an integer in
 *   [0, n), or τ is not finite and positive.
 */
export function memoryBankLoss(
  v: tf.Tensor2D,
  indices: Int32Array,
  bank: tf.Tensor2D,
  opts: MemoryBankOptions,
): tf.Scalar {
  validateMemoryBankInputs(v, indices, bank, opts);
  return tf.tidy(() => memoryBankForward(v, indices, bank, opts.temperature).loss);
}

/**
 * {@link memoryBankLoss} plus the instruments' step metrics, read from the
 * same similarities (see {@link MemoryBankWithMetrics}). The loss is the
 * same code path and is differentiable; the metrics are not meant to be.
 * The caller disposes all three scalars.
 */
export function memoryBankWithMetrics(
  v: tf.Tensor2D,
  indices: Int32Array,
  bank: tf.Tensor2D,
  opts: MemoryBankOptions,
): MemoryBankWithMetrics {
  validateMemoryBankInputs(v, indices, bank, opts);
  return tf.tidy(() => {
    const { loss, similarity, positiveMask } = memoryBankForward(v, indices, bank, opts.temperature);
    const zeros = tf.zerosLike(similarity);
    const positive = tf.sum(tf.where(positiveMask, similarity, zeros), 1, true); // [B, 1]
    // rank = #{j ≠ indices[b] : s_bj ≥ s_b,indices[b]}. Ties count against the
    // positive so that a collapsed bank (all s equal) reads n − 1, not 0.
    const atLeastAsSimilar = tf.cast(tf.greaterEqual(similarity, positive), 'float32');
    const rank = tf.sum(tf.where(positiveMask, zeros, atLeastAsSimilar), 1);
    return {
      loss,
      positiveRank: tf.mean(rank) as tf.Scalar,
      positiveSimilarity: tf.mean(positive) as tf.Scalar,
    };
  });
}

/** The single memory-bank code path. Must be called inside tf.tidy. */
function memoryBankForward(
  v: tf.Tensor2D,
  indices: Int32Array,
  bank: tf.Tensor2D,
  temperature: number,
): { loss: tf.Scalar; similarity: tf.Tensor2D; positiveMask: tf.Tensor2D } {
  const bankSize = bank.shape[0];
  const vHat = l2NormalizeRows(v);
  const similarity = tf.matMul(vHat, bank, false, true) as tf.Tensor2D; // s_bj = v̂_b·bank_j: [B, n]
  const logits = tf.div(similarity, temperature);
  // true at (b, indices[b]): column number == indices[b], broadcast [1, n] against [B, 1]
  // (tf.oneHot would refuse a bank of n = 1).
  const positiveMask = tf.equal(
    tf.range(0, bankSize, 1, 'int32').reshape([1, bankSize]),
    tf.tensor2d(indices, [indices.length, 1], 'int32'),
  ) as tf.Tensor2D;
  const positiveLogit = tf.sum(tf.where(positiveMask, logits, tf.zerosLike(logits)), 1); // [B]
  // −log P(indices[b] | v_b) = logsumexp_j(logit_bj) − logit_{b, indices[b]}
  const loss = tf.mean(tf.sub(tf.logSumExp(logits, 1), positiveLogit)) as tf.Scalar;
  return { loss, similarity, positiveMask };
}

function validateMemoryBankInputs(
  v: tf.Tensor,
  indices: Int32Array,
  bank: tf.Tensor,
  { temperature }: MemoryBankOptions,
): void {
  if (v.rank !== 2 || bank.rank !== 2) {
    throw new Error(
      `memoryBankLoss: v and bank must be rank-2 [rows, d] tensors, got shapes [${v.shape}] and [${bank.shape}]`,
    );
  }
  const [batchSize, dim] = v.shape;
  const [bankSize, bankDim] = bank.shape;
  if (batchSize < 1 || dim < 1) {
    throw new Error(`memoryBankLoss: need B ≥ 1 embeddings and d ≥ 1 dimensions, got v shape [${v.shape}]`);
  }
  if (bankSize < 1) {
    throw new Error('memoryBankLoss: the memory bank is empty; it needs one row per training image');
  }
  if (bankDim !== dim) {
    throw new Error(
      `memoryBankLoss: the bank's rows must have the embedding size d = ${dim} of v, got bank shape [${bank.shape}]`,
    );
  }
  if (indices.length !== batchSize) {
    throw new Error(
      `memoryBankLoss: need one bank index per row of v (${batchSize}), got ${indices.length} indices`,
    );
  }
  for (let b = 0; b < indices.length; b++) {
    const index = indices[b];
    if (!Number.isInteger(index) || index < 0 || index >= bankSize) {
      throw new Error(
        `memoryBankLoss: indices[${b}] = ${index} is not a row of the bank; indices must be integers in [0, ${bankSize - 1}]`,
      );
    }
  }
  if (!Number.isFinite(temperature) || temperature <= 0) {
    throw new Error(`memoryBankLoss: temperature must be finite and > 0, got ${temperature}`);
  }
}
