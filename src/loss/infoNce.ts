import * as tf from '@tensorflow/tfjs';
import { l2NormalizeRows } from './normalize';

/** Options of {@link infoNce} and {@link infoNceWithMetrics}. */
export interface InfoNceOptions {
  /** τ in MoCo: logits are similarities / τ (MoCo uses 0.07, MoCo v2 0.2). Must be finite and > 0. */
  temperature: number;
}

/** Result of {@link infoNceWithMetrics}; the caller disposes all four scalars. */
export interface InfoNceWithMetrics {
  loss: tf.Scalar;
  /** mean over b of l_pos(b) = q̂_b·k̂_b / τ */
  positiveLogit: tf.Scalar;
  /** mean over b and j of l_neg(b, j) = q̂_b·queue_j / τ; 0 when the queue is empty */
  negativeLogit: tf.Scalar;
  /** share of rows b with l_pos(b) > l_neg(b, j) for every j (ties count as misses); 1 when the queue is empty */
  accuracy: tf.Scalar;
}

/**
 * InfoNCE with a queue of negatives, the loss of MoCo (He, Fan, Wu, Xie,
 * Girshick, "Momentum Contrast for Unsupervised Visual Representation
 * Learning", CVPR 2020, https://arxiv.org/abs/1911.05722, Eq. 1 and
 * Algorithm 1).
 *
 * q holds the queries (online encoder), k the keys of the same images under
 * another augmentation (momentum encoder), queue the K keys of earlier
 * batches. With q̂ = q/‖q‖ and k̂ = k/‖k‖ row-wise (‖·‖ clamped to ≥ 1e-12),
 *
 *     l_pos(b)    = q̂_b·k̂_b / τ
 *     l_neg(b, j) = q̂_b·queue_j / τ                        (j = 1..K)
 *     L           = 1/B Σ_b −log( e^{l_pos(b)} / (e^{l_pos(b)} + Σ_j e^{l_neg(b, j)}) )
 *                 = 1/B Σ_b [ logsumexp(l_pos(b), l_neg(b, ·)) − l_pos(b) ]
 *
 * i.e. cross-entropy with label 0 over the logits [l_pos, l_neg], as in
 * Algorithm 1; the log-sum-exp subtracts the row maximum, so τ = 0.01 does
 * not overflow.
 *
 * Conventions:
 * - The queue rows are used as given: MoCo stores them already normalized
 *   (they are earlier k̂), so normalizing again would only cost time.
 * - An empty queue ([0, d]) is allowed (the first step, before any key has
 *   been enqueued): each row's only logit is its positive, so L = −log 1 = 0.
 * - No stop-gradient here: differentiated, the loss sends gradients to q, k
 *   and queue. MoCo's method stops them on k and the queue (k comes from the
 *   momentum encoder); that is the method's job, not the loss's.
 *
 * Differentiable, made of tf ops only (any backend), temporaries inside tf.tidy.
 *
 * @param q [B, d] queries, B ≥ 1.
 * @param k [B, d] keys; row b is the positive of query row b.
 * @param queue [K, d] negative keys (unit rows), K ≥ 0.
 * @param opts temperature τ > 0.
 * @returns the scalar loss L; the caller disposes it.
 * @throws Error when the shapes do not fit or τ is not finite and positive.
 *
 * @example
 * ```ts
 * // Keys from the momentum encoder, computed outside the closure: to the
 * // optimizer they are constants (tfjs has no stop-gradient op).
 * const k = tf.tidy(() => momentumProjector.apply(momentumEncoder.apply(view2)) as tf.Tensor2D);
 * const loss = optimizer.minimize(() => {
 *   const q = projector.apply(encoder.apply(view1)) as tf.Tensor2D;
 *   return infoNce(q, k, queue, { temperature: 0.2 });
 * }, true);
 * ```
 */
export function infoNce(
  q: tf.Tensor2D,
  k: tf.Tensor2D,
  queue: tf.Tensor2D,
  opts: InfoNceOptions,
): tf.Scalar {
  validateInfoNceInputs(q, k, queue, opts);
  return tf.tidy(() => infoNceForward(q, k, queue, opts.temperature).loss);
}

/**
 * {@link infoNce} plus the instruments' step metrics, read from the same
 * logits (see {@link InfoNceWithMetrics}). The loss is the same code path as
 * {@link infoNce} and is differentiable; the metrics are not meant to be.
 * The caller disposes all four scalars (inside optimizer.minimize, tf.keep
 * the metrics that should outlive the closure).
 */
export function infoNceWithMetrics(
  q: tf.Tensor2D,
  k: tf.Tensor2D,
  queue: tf.Tensor2D,
  opts: InfoNceOptions,
): InfoNceWithMetrics {
  validateInfoNceInputs(q, k, queue, opts);
  return tf.tidy(() => {
    const { loss, positiveLogits, negativeLogits } = infoNceForward(q, k, queue, opts.temperature);
    const queueSize = queue.shape[0];
    const positiveLogit = tf.mean(positiveLogits) as tf.Scalar;
    if (queueSize === 0) {
      // No negatives: nothing to average (0, not 0/0 = NaN), and the positive
      // beats every one of none (the max over an empty row would be NaN).
      return { loss, positiveLogit, negativeLogit: tf.scalar(0), accuracy: tf.scalar(1) };
    }
    const negativeLogit = tf.mean(negativeLogits) as tf.Scalar;
    // Strictly greater: a collapsed encoder (q̂ = k̂ = every queue key) ties
    // everywhere and must read 0, not 1.
    const beatsQueue = tf.greater(tf.squeeze(positiveLogits, [1]), tf.max(negativeLogits, 1));
    const accuracy = tf.mean(tf.cast(beatsQueue, 'float32')) as tf.Scalar;
    return { loss, positiveLogit, negativeLogit, accuracy };
  });
}

/** The single InfoNCE code path. Must be called inside tf.tidy. */
function infoNceForward(
  q: tf.Tensor2D,
  k: tf.Tensor2D,
  queue: tf.Tensor2D,
  temperature: number,
): { loss: tf.Scalar; positiveLogits: tf.Tensor2D; negativeLogits: tf.Tensor2D } {
  const qHat = l2NormalizeRows(q);
  const kHat = l2NormalizeRows(k);
  // l_pos = q̂_b·k̂_b / τ: [B, 1]
  const positiveLogits = tf.div(tf.sum(tf.mul(qHat, kHat), 1, true), temperature) as tf.Tensor2D;
  // l_neg = q̂ queueᵀ / τ: [B, K]; [B, 0] for an empty queue, which concat,
  // logSumExp and their gradients handle (the queue's gradient is then [0, d]).
  const negativeLogits = tf.div(tf.matMul(qHat, queue, false, true), temperature) as tf.Tensor2D;
  const logits = tf.concat2d([positiveLogits, negativeLogits], 1); // [B, 1 + K], label 0
  // −log softmax_0 = logsumexp(row) − l_pos
  const perRow = tf.sub(tf.logSumExp(logits, 1), tf.squeeze(positiveLogits, [1]));
  return { loss: tf.mean(perRow) as tf.Scalar, positiveLogits, negativeLogits };
}

function validateInfoNceInputs(
  q: tf.Tensor,
  k: tf.Tensor,
  queue: tf.Tensor,
  { temperature }: InfoNceOptions,
): void {
  if (q.rank !== 2 || k.rank !== 2 || queue.rank !== 2) {
    throw new Error(
      `infoNce: q, k and queue must be rank-2 [rows, d] tensors, got shapes [${q.shape}], [${k.shape}] and [${queue.shape}]`,
    );
  }
  const [batchSize, dim] = q.shape;
  if (k.shape[0] !== batchSize || k.shape[1] !== dim) {
    throw new Error(
      `infoNce: q and k must have the same shape [B, d] (row b of k is the key of query b), got [${q.shape}] and [${k.shape}]`,
    );
  }
  if (batchSize < 1 || dim < 1) {
    throw new Error(`infoNce: need B ≥ 1 queries and d ≥ 1 dimensions, got shape [${q.shape}]`);
  }
  if (queue.shape[1] !== dim) {
    throw new Error(
      `infoNce: the queue's rows must have the embedding size d = ${dim} of q and k, got queue shape [${queue.shape}]`,
    );
  }
  if (!Number.isFinite(temperature) || temperature <= 0) {
    throw new Error(`infoNce: temperature must be finite and > 0, got ${temperature}`);
  }
}
