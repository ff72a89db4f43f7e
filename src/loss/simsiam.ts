import * as tf from '@tensorflow/tfjs';
import { cosinePerRow } from './normalize';
import { validatePairShapes } from './pairShapes';

/**
 * SimSiam's negative cosine similarity (Chen & He, "Exploring Simple
 * Siamese Representation Learning", CVPR 2021,
 * https://arxiv.org/abs/2011.10566, Eq. 1 and Algorithm 1's D(p, z)):
 *
 *     D(p, z) = −1/B Σ_b (p_b / ‖p_b‖)·(z_b / ‖z_b‖)
 *
 * with ‖·‖ clamped to ≥ 1e-12. L is in [−1, 1]; −1 when every p_b ∥ z_b.
 * The paper's symmetric loss ½D(p1, z2) + ½D(p2, z1) is assembled by the
 * method, which also applies the stop-gradient to z; differentiated, this
 * sends gradients to both p and z.
 *
 * @param p [B, d] predictor outputs, B ≥ 1.
 * @param z [B, d] projections of the other view; row b pairs with p's row b.
 * @returns the scalar D; the caller disposes it.
 * @throws Error when the shapes differ or are not [B ≥ 1, d ≥ 1].
 */
export function negativeCosine(p: tf.Tensor2D, z: tf.Tensor2D): tf.Scalar {
  validatePairShapes(p, z, 'negativeCosine');
  return tf.tidy(() => {
    const cosine = cosinePerRow(p, z); // [B]
    return tf.neg(tf.mean(cosine)) as tf.Scalar;
  });
}
