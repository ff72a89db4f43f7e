import * as tf from '@tensorflow/tfjs';
import { alignment, collapseStd, uniformity } from '../eval/geometry';

/**
 * The embedding's geometry on one training batch, as [alignment, uniformity,
 * collapse std] (Wang & Isola 2020; the collapse meter of lightly/solo-learn).
 * z holds the 2N projections, rows 0…N−1 the first views and N…2N−1 the
 * second: alignment pairs row b with row b + N; uniformity is averaged over
 * the two views' sets, as in the paper's code; the collapse meter reads all 2N.
 */
export function batchGeometry(z: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const [z1, z2] = tf.split(z, 2, 0) as [tf.Tensor2D, tf.Tensor2D];
    const uniform = z1.shape[0] >= 2 ? tf.div(tf.add(uniformity(z1), uniformity(z2)), 2) : tf.scalar(Number.NaN);
    return tf.stack([alignment(z1, z2), uniform, collapseStd(z)]) as tf.Tensor1D;
  });
}

/**
 * The geometry of a method with no positive pairs (a pretext task): z holds
 * one embedding per image, so alignment is undefined (NaN, shown as "—") and
 * uniformity and the collapse meter read all rows.
 */
export function rowGeometry(z: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const uniform = z.shape[0] >= 2 ? uniformity(z) : tf.scalar(Number.NaN);
    return tf.stack([tf.scalar(Number.NaN), uniform, collapseStd(z)]) as tf.Tensor1D;
  });
}
