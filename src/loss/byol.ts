import * as tf from '@tensorflow/tfjs';
import { cosinePerRow } from './normalize';
import { validatePairShapes } from './pairShapes';

/**
 * BYOL's regression loss (Grill et al., "Bootstrap Your Own Latent: A New
 * Approach to Self-Supervised Learning", NeurIPS 2020,
 * https://arxiv.org/abs/2006.07733, Eq. 2): the squared distance between
 * the ℓ2-normalized prediction and target,
 *
 *     ℓ(b) = ‖p̂_b − ẑ_b‖² = 2 − 2·cos(p_b, z_b)
 *     L    = 1/B Σ_b ℓ(b)
 *
 * with p̂ = p / max(‖p‖, 1e-12) (likewise ẑ). L is in [0, 4]: 0 when p_b ∥ z_b,
 * 4 when p_b = −z_b. BYOL symmetrizes by also swapping the two views; the
 * method adds the two calls.
 *
 * No stop-gradient here: the target z comes from the momentum network, and
 * the method stops its gradient; differentiated, this sends gradients to both.
 *
 * @param p [B, d] online predictions q_θ(z_θ), B ≥ 1.
 * @param z [B, d] target projections z'_ξ of the other view; row b pairs with p's row b.
 * @returns the scalar loss L; the caller disposes it.
 * @throws Error when the shapes differ or are not [B ≥ 1, d ≥ 1].
 */
export function byolLoss(p: tf.Tensor2D, z: tf.Tensor2D): tf.Scalar {
  validatePairShapes(p, z, 'byolLoss');
  return tf.tidy(() => {
    const cosine = cosinePerRow(p, z); // [B]
    return tf.mean(tf.sub(2, tf.mul(2, cosine))) as tf.Scalar;
  });
}
