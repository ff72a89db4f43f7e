import * as tf from '@tensorflow/tfjs';
import { l2NormalizeRows } from './normalize';

/** Options of {@link cmcLoss} and {@link cmcLossWithMetrics}. */
export interface CmcLossOptions {
  /** τ: the critic's cosines are divided by it before the softmax (the paper uses 0.07). Finite and > 0. */
  temperature: number;
}

/** Result of {@link cmcLossWithMetrics}; the caller disposes every tensor. */
export interface CmcLossWithMetrics {
  /** ½ (L^{V1,V2} + L^{V2,V1}) */
  loss: tf.Scalar;
  /** L^{V1,V2}: each view-1 anchor picks its partner among the N view-2 embeddings */
  oneToTwo: tf.Scalar;
  /** L^{V2,V1}: each view-2 anchor picks its partner among the N view-1 embeddings */
  twoToOne: tf.Scalar;
  /** share of rows i whose own partner scores strictly above every other column: s_ii > s_ij for all j ≠ i */
  accuracyOneToTwo: tf.Scalar;
  /** share of columns j whose own partner scores strictly above every other row: s_jj > s_ij for all i ≠ j */
  accuracyTwoToOne: tf.Scalar;
  /** the N × N cosines s_ij = ẑ1_i · ẑ2_j (before / τ): row i a view-1 embedding, column j a view-2 one */
  similarities: tf.Tensor2D;
}

/**
 * The cross-view contrastive loss of Contrastive Multiview Coding (Tian,
 * Krishnan, Isola, "Contrastive Multiview Coding", ECCV 2020,
 * https://arxiv.org/abs/1906.05849, Eqs. 2–3), with the N images of the batch
 * as the candidates (in-batch, where the paper draws its negatives from a
 * memory bank). z1 holds the embeddings f_θ1(v1) of one view of N images (CMC
 * on colour images: the lightness L), z2 those f_θ2(v2) of the other view of
 * the same images (the colour channels ab), row i of each the same image.
 * The critic is h(v1, v2) = exp(ẑ1 · ẑ2 / τ) on unit rows ẑ = z / ‖z‖ (‖·‖
 * clamped to ≥ 1e-12). With s_ij = ẑ1_i · ẑ2_j,
 *
 *     L^{V1,V2} = 1/N Σ_i −log( e^{s_ii/τ} / Σ_j e^{s_ij/τ} )   (anchor v1_i, candidates v2_1 … v2_N)
 *     L^{V2,V1} = 1/N Σ_j −log( e^{s_jj/τ} / Σ_i e^{s_ij/τ} )   (anchor v2_j, candidates v1_1 … v1_N)
 *     L         = ½ (L^{V1,V2} + L^{V2,V1})
 *
 * so each direction is a softmax cross-entropy over one row (or column) of
 * the N × N matrix, its label the diagonal. The paper sums the two
 * directions; the mean here is the same objective at half the scale, so that
 * encoders that cannot tell the images apart score log N, as the other
 * in-batch losses do. Unlike SimCLR's NT-Xent, a view is never compared with
 * the other images' views of its own kind: the candidates all come from the
 * other channel. The log-sum-exps subtract the maximum, so small τ does not
 * overflow.
 *
 * No stop-gradient: both z1 and z2 receive gradients (CMC trains both
 * encoders). Differentiable, tf ops only, temporaries inside tf.tidy.
 *
 * @param z1 [N, d] view-1 embeddings, N ≥ 1.
 * @param z2 [N, d] view-2 embeddings; row i is the partner of z1's row i.
 * @param opts temperature τ > 0.
 * @returns the scalar loss L; the caller disposes it.
 * @throws Error when the shapes do not fit or τ is not finite and positive.
 *
 * @example
 * ```ts
 * const loss = optimizer.minimize(() => {
 *   const zL = network.project(network.encode(lightness, true));
 *   const zAb = abNetwork.project(abNetwork.encode(ab, true));
 *   return cmcLoss(zL, zAb, { temperature: 0.07 });
 * }, true);
 * ```
 */
export function cmcLoss(z1: tf.Tensor2D, z2: tf.Tensor2D, opts: CmcLossOptions): tf.Scalar {
  validateCmcInputs(z1, z2, opts);
  return tf.tidy(() => cmcForward(z1, z2, opts.temperature).loss);
}

/**
 * {@link cmcLoss} plus both directions' terms, the cross-view accuracies and
 * the cosine matrix, read from the same logits (see {@link CmcLossWithMetrics}).
 * The loss is the same code path and differentiable; the rest are for display.
 */
export function cmcLossWithMetrics(z1: tf.Tensor2D, z2: tf.Tensor2D, opts: CmcLossOptions): CmcLossWithMetrics {
  validateCmcInputs(z1, z2, opts);
  return tf.tidy(() => {
    const { loss, oneToTwo, twoToOne, similarities } = cmcForward(z1, z2, opts.temperature);
    const n = similarities.shape[0];
    const diagonal = tf.cast(tf.eye(n), 'bool');
    const positives = tf.sum(tf.mul(similarities, tf.cast(diagonal, 'float32')), 1);
    // the diagonal masked out: with N = 1 no competitor is left, and the own partner wins against −∞
    const others = tf.where(diagonal, tf.fill([n, n], -Infinity), similarities);
    // strictly greater: a collapsed pair of encoders ties everywhere and must read 0, not 1
    const accuracy = (best: tf.Tensor) => tf.mean(tf.cast(tf.greater(positives, best), 'float32')) as tf.Scalar;
    return {
      loss, oneToTwo, twoToOne, similarities,
      accuracyOneToTwo: accuracy(tf.max(others, 1)),
      // column j's best among the other rows i ≠ j, against the same diagonal entry s_jj
      accuracyTwoToOne: accuracy(tf.max(others, 0)),
    };
  });
}

/** s = ẑ1 ẑ2ᵀ, then the two directions' cross-entropies over its rows and columns. Call inside tf.tidy. */
function cmcForward(z1: tf.Tensor2D, z2: tf.Tensor2D, temperature: number) {
  const similarities = tf.matMul(l2NormalizeRows(z1), l2NormalizeRows(z2), false, true) as tf.Tensor2D;
  const logits = tf.div(similarities, temperature);
  const n = similarities.shape[0];
  const positiveLogits = tf.sum(tf.mul(logits, tf.eye(n)), 1);
  // −log softmax at the diagonal = logsumexp over the candidates − the positive's logit
  const oneToTwo = tf.mean(tf.sub(tf.logSumExp(logits, 1), positiveLogits)) as tf.Scalar;
  const twoToOne = tf.mean(tf.sub(tf.logSumExp(logits, 0), positiveLogits)) as tf.Scalar;
  const loss = tf.mul(tf.add(oneToTwo, twoToOne), 0.5) as tf.Scalar;
  return { loss, oneToTwo, twoToOne, similarities };
}

function validateCmcInputs(z1: tf.Tensor2D, z2: tf.Tensor2D, { temperature }: CmcLossOptions): void {
  if (z1.rank !== 2 || z2.rank !== 2) {
    throw new Error(`cmcLoss: z1 and z2 must be rank-2 [N, d] tensors, got shapes [${z1.shape}] and [${z2.shape}]`);
  }
  if (z1.shape[0] !== z2.shape[0] || z1.shape[1] !== z2.shape[1]) {
    throw new Error(`cmcLoss: z1 and z2 must have the same shape [N, d] (row i of each is the same image), got [${z1.shape}] and [${z2.shape}]`);
  }
  if (z1.shape[0] < 1 || z1.shape[1] < 1) {
    throw new Error(`cmcLoss: need N ≥ 1 images and d ≥ 1 dimensions, got shape [${z1.shape}]`);
  }
  if (!Number.isFinite(temperature) || temperature <= 0) {
    throw new Error(`cmcLoss: temperature must be finite and > 0, got ${temperature}`);
  }
}
