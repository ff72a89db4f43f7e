/**
 * The pretext tasks' classification loss: softmax cross-entropy of K-way
 * logits against integer labels, L = 1/M Σ_m (logsumexp(l_m) − l_m,y_m), and
 * the head's accuracy and confusion matrix on the same batch. A head that
 * cannot tell the K classes apart (equal logits) scores log K exactly.
 */
import * as tf from '@tensorflow/tfjs';

function checkShapes(logits: tf.Tensor2D, labels: tf.Tensor1D): void {
  if (logits.rank !== 2) throw new Error(`softmaxCrossEntropy: logits must be [M, K], got rank ${logits.rank}`);
  if (labels.rank !== 1 || labels.shape[0] !== logits.shape[0]) {
    throw new Error(`softmaxCrossEntropy: ${labels.shape[0]} labels for ${logits.shape[0]} rows of logits`);
  }
  if (logits.shape[0] === 0) throw new Error('softmaxCrossEntropy: an empty batch has no mean loss');
}

/** Mean softmax cross-entropy; labels are int32 class indices in [0, K). Differentiable in the logits. */
export function softmaxCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  checkShapes(logits, labels);
  return tf.tidy(() => {
    const k = logits.shape[1];
    // log-softmax subtracts the row maximum, so large logits do not overflow
    const logProbabilities = tf.logSoftmax(logits);
    const picked = tf.sum(tf.mul(logProbabilities, tf.oneHot(tf.cast(labels, 'int32'), k)), 1);
    return tf.neg(tf.mean(picked)) as tf.Scalar;
  });
}

/** Share of rows whose largest logit is at their label (ties go to the first index, as argMax does). */
export function classificationAccuracy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  checkShapes(logits, labels);
  return tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), tf.cast(labels, 'int32')), 'float32')) as tf.Scalar);
}

/** K × K counts, row-major: entry (t, p) counts rows with label t predicted as p. */
export function confusionCounts(truth: ArrayLike<number>, predicted: ArrayLike<number>, k: number): number[] {
  if (truth.length !== predicted.length) throw new Error(`confusionCounts: ${truth.length} labels for ${predicted.length} predictions`);
  const counts = new Array<number>(k * k).fill(0);
  for (let m = 0; m < truth.length; m++) {
    const t = truth[m];
    const p = predicted[m];
    if (!(Number.isInteger(t) && t >= 0 && t < k && Number.isInteger(p) && p >= 0 && p < k)) {
      throw new Error(`confusionCounts: class ${t} or ${p} outside 0…${k - 1}`);
    }
    counts[t * k + p] += 1;
  }
  return counts;
}
