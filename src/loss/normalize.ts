import * as tf from '@tensorflow/tfjs';
import { normal, type Rng } from '../core/random';

/**
 * ‖x‖ is clamped to at least this before dividing, as torch's F.normalize
 * (eps = 1e-12) does, so an all-zero row gives a zero vector instead of NaN.
 */
const MIN_NORM = 1e-12;
/** The clamp applied to ‖x‖² instead: 1e-24 is a normal float32 (the normal range ends near 1.2e-38). */
const MIN_SQUARED_NORM = MIN_NORM * MIN_NORM;

/**
 * ℓ2-normalizes every row, with torch's F.normalize convention:
 *
 *     x̂_b = x_b / max(‖x_b‖, 1e-12)  =  x_b · rsqrt(max(‖x_b‖², 1e-24))
 *
 * The two forms agree for every row (sqrt is monotone); the second is the
 * one computed. The clamp sits on ‖x‖², not on ‖x‖, for the gradient: at an
 * all-zero row the clamp passes no gradient to ‖x‖², so sqrt's infinite
 * slope at 0 never enters and the gradient stays finite (sqrt then clamp
 * would multiply 0 by ∞ and give NaN). 1e-24 = (1e-12)² is still a normal
 * float32, so the clamp is exact.
 *
 * Differentiable, tf ops only. Makes temporaries: call it inside tf.tidy.
 *
 * @param x [B, d] rows to normalize.
 * @returns [B, d], unit rows (zero rows stay zero).
 */
export function l2NormalizeRows(x: tf.Tensor2D): tf.Tensor2D {
  const squaredNorm = tf.sum(tf.square(x), 1, true);
  return tf.mul(x, tf.rsqrt(tf.maximum(squaredNorm, MIN_SQUARED_NORM)));
}

/**
 * Cosine similarity of each row of a with the same row of b,
 *
 *     cos_b = â_b·b̂_b      (â, b̂ from {@link l2NormalizeRows})
 *
 * so a zero row has cosine 0 with anything. Differentiable, tf ops only.
 * Makes temporaries: call it inside tf.tidy.
 *
 * @param a [B, d]
 * @param b [B, d], the same shape as a (not checked here).
 * @returns [B], each in [−1, 1].
 */
export function cosinePerRow(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor1D {
  return tf.sum(tf.mul(l2NormalizeRows(a), l2NormalizeRows(b)), 1) as tf.Tensor1D;
}

/**
 * A non-trainable [rows, dim] variable of random unit vectors (Gaussian rows,
 * ℓ2-normalized: uniform on the sphere), drawn from `rng`: how MoCo's queue
 * and the memory bank start, as in the papers' code, before real keys or
 * features are written.
 */
export function randomUnitRows(rows: number, dim: number, rng: Rng): tf.Variable {
  return tf.tidy(() => {
    const raw = tf.tensor2d(Float32Array.from({ length: rows * dim }, () => normal(rng)), [rows, dim]);
    return tf.variable(l2NormalizeRows(raw), false);
  });
}
