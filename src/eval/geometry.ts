/**
 * Geometry of the embedding on the unit hypersphere: the alignment and
 * uniformity of Wang & Isola, "Understanding Contrastive Representation
 * Learning through Alignment and Uniformity on the Hypersphere", ICML 2020
 * (https://arxiv.org/abs/2005.10242, §4.1), plus the per-dimension std
 * "collapse meter" that lightly and solo-learn log.
 *
 * Everything is made of tf ops (any backend), differentiable (tf.grad gives
 * finite gradients, also at identical views and fully collapsed batches), and
 * every temporary lives inside tf.tidy; the caller disposes the returned scalar.
 * Rows are ℓ2-normalized first: ẑ = z / max(‖z‖, 1e-12).
 */
import * as tf from '@tensorflow/tfjs';

/** ‖z‖ is clamped to at least this before dividing (a zero row stays zero instead of NaN). */
const MIN_NORM = 1e-12;
/** We clamp ‖z‖² at MIN_NORM², so z·rsqrt(max(‖z‖², 1e-24)) = z / max(‖z‖, 1e-12) with no sqrt at 0 in the gradient. */
const MIN_SQUARED_NORM = MIN_NORM * MIN_NORM;

function checkMatrix(z: tf.Tensor, name: string): void {
  if (z.rank !== 2) throw new Error(`${name} must be a rank-2 [n, d] tensor, got rank ${z.rank}`);
  const [n, d] = z.shape as [number, number];
  if (n < 1) throw new Error(`${name} has no rows`);
  if (d < 1) throw new Error(`${name} must have at least one dimension`);
}

/**
 * Row-wise ℓ2 normalization ẑ_b = z_b / max(‖z_b‖, 1e-12).
 * Computed as z · rsqrt(max(‖z‖², 1e-24)) so a zero row gives a zero row and a
 * zero (not NaN) gradient. Returns a new tensor; use inside tf.tidy or dispose it.
 */
export function l2NormalizeRows(z: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const squaredNorm = tf.sum(tf.square(z), 1, true);
    return tf.mul(z, tf.rsqrt(tf.maximum(squaredNorm, MIN_SQUARED_NORM))) as tf.Tensor2D;
  });
}

/**
 * Safe x^p for x ≥ 0 with an explicit gradient: d/dx x^p = p·x^(p−1) where
 * x > 0, and 0 where x = 0 (the subgradient torch's norm uses), so p < 1
 * (‖·‖^α with α < 2, or the sqrt of a zero variance) never gives ∞·0 = NaN.
 * tf.customGrad because tf.greater has no registered gradient.
 */
function safePow(x: tf.Tensor, p: number): tf.Tensor {
  const f = tf.customGrad((input: tf.Tensor | tf.GradSaveFunc, save: tf.Tensor | tf.GradSaveFunc) => {
    const xIn = input as tf.Tensor;
    (save as tf.GradSaveFunc)([xIn]);
    const positive = tf.greater(xIn, 0);
    // The pow branch never sees 0 (where selects 1 there instead).
    const safe = tf.where(positive, xIn, tf.onesLike(xIn));
    return {
      value: tf.where(positive, tf.pow(safe, p), tf.zerosLike(xIn)),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const xs = saved[0];
        const pos = tf.greater(xs, 0);
        const base = tf.where(pos, xs, tf.onesLike(xs));
        return [tf.mul(dy, tf.where(pos, tf.mul(p, tf.pow(base, p - 1)), tf.zerosLike(xs)))];
      },
    };
  });
  return f(x);
}

/**
 * Alignment loss of Wang & Isola 2020 (eq. 4, `align_loss` in their code):
 *
 *     L_align(α) = (1/B) Σ_b ‖ẑ1_b − ẑ2_b‖₂^α,     α = 2 by default,
 *
 * the mean distance between the two views of the same image; 0 when the
 * views map to the same point, at most 2^α (antipodal views).
 *
 * @param z1 [B, d] embeddings of the first views.
 * @param z2 [B, d] embeddings of the second views; row b pairs with z1 row b.
 * @param opts alpha: the exponent α > 0.
 * @returns a scalar; the caller disposes it.
 * @throws Error when the shapes differ or are empty, or α is not finite and positive.
 */
export function alignment(z1: tf.Tensor2D, z2: tf.Tensor2D, opts: { alpha?: number } = {}): tf.Scalar {
  const alpha = opts.alpha ?? 2;
  checkMatrix(z1, 'z1');
  checkMatrix(z2, 'z2');
  if (z1.shape[0] !== z2.shape[0] || z1.shape[1] !== z2.shape[1]) {
    throw new Error(`the two views must have the same shape, got [${z1.shape}] and [${z2.shape}]`);
  }
  if (!(Number.isFinite(alpha) && alpha > 0)) throw new Error(`alpha must be finite and positive, got ${alpha}`);
  return tf.tidy(() => {
    const diff = tf.sub(l2NormalizeRows(z1), l2NormalizeRows(z2));
    const squaredDistance = tf.sum(tf.square(diff), 1);
    // ‖·‖^α = (‖·‖²)^(α/2); for α = 2 no power is needed at all.
    const distanceToAlpha = alpha === 2 ? squaredDistance : safePow(squaredDistance, alpha / 2);
    return tf.mean(distanceToAlpha) as tf.Scalar;
  });
}

/**
 * Uniformity loss of Wang & Isola 2020 (eq. 5, `uniform_loss` in their code,
 * `torch.pdist(x).pow(2).mul(-t).exp().mean().log()`):
 *
 *     L_unif(t) = log( (2 / (B(B−1))) Σ_{i<j} exp(−t ‖ẑ_i − ẑ_j‖²) ),   t = 2 by default,
 *
 * the log of the mean Gaussian potential over distinct pairs. Lower is more
 * uniform; −4t is the minimum (every pair antipodal, only possible for B = 2),
 * 0 is total collapse.
 *
 * Evaluated stably: ‖ẑ_i − ẑ_j‖² = 2 − 2 ẑ_i·ẑ_j, clamped at ≥ 0, and the log
 * of the mean as a max-subtracted log-mean-exp over the upper triangle
 * (v_ij = −t‖ẑ_i − ẑ_j‖², m = max_{i<j} v_ij,
 *  L = m + log( Σ_{i<j} exp(v_ij − m) / P ),  P = B(B−1)/2), with masking by
 * tf.where (no infinities, so it behaves the same on every backend).
 *
 * @param z [B, d] embeddings, B ≥ 2.
 * @param opts t: the kernel scale t > 0.
 * @returns a scalar; the caller disposes it.
 * @throws Error when z has fewer than 2 rows or t is not finite and positive.
 */
export function uniformity(z: tf.Tensor2D, opts: { t?: number } = {}): tf.Scalar {
  const t = opts.t ?? 2;
  checkMatrix(z, 'z');
  const b = z.shape[0];
  if (b < 2) throw new Error(`uniformity needs at least 2 embeddings (pairs), got ${b}`);
  if (!(Number.isFinite(t) && t > 0)) throw new Error(`t must be finite and positive, got ${t}`);
  const pairs = (b * (b - 1)) / 2;
  return tf.tidy(() => {
    const zHat = l2NormalizeRows(z);
    const gram = tf.matMul(zHat, zHat, false, true);
    const squaredDistance = tf.relu(tf.sub(2, tf.mul(2, gram)));
    const v = tf.mul(-t, squaredDistance);
    // Strict upper triangle i < j: (row < col).
    const idx = tf.range(0, b, 1, 'int32');
    const upper = tf.less(tf.expandDims(idx, 1), tf.expandDims(idx, 0));
    // Every v_ij lies in [−4t, 0], so −4t is a safe fill for the masked max.
    const m = tf.max(tf.where(upper, v, tf.fill([b, b], -4 * t)));
    const shifted = tf.where(upper, tf.sub(v, m), tf.zerosLike(v));
    const summed = tf.sum(tf.where(upper, tf.exp(shifted), tf.zerosLike(v)));
    return tf.add(m, tf.log(tf.div(summed, pairs))) as tf.Scalar;
  });
}

/**
 * Collapse meter: the mean over dimensions of the (biased, over the batch)
 * std of the ℓ2-normalized embeddings,
 *
 *     collapseStd(z) = (1/d) Σ_k sqrt( (1/B) Σ_b (ẑ_bk − μ_k)² ),   μ_k = (1/B) Σ_b ẑ_bk.
 *
 * A healthy, spread-out embedding sits near 1/√d (each coordinate of a
 * uniform point on S^{d−1} has variance 1/d); a collapsed one (every row the
 * same direction) gives 0. (Logged as the std of the normalized output by
 * lightly and solo-learn; cf. SimSiam, Chen & He 2021, §4.1.)
 *
 * @param z [B, d] embeddings, B ≥ 1.
 * @returns a scalar; the caller disposes it.
 */
export function collapseStd(z: tf.Tensor2D): tf.Scalar {
  checkMatrix(z, 'z');
  return tf.tidy(() => {
    const zHat = l2NormalizeRows(z);
    const { variance } = tf.moments(zHat, 0);
    // sqrt with a zero gradient at variance 0 (a collapsed batch) instead of ∞·0 = NaN.
    return tf.mean(safePow(variance, 0.5)) as tf.Scalar;
  });
}
