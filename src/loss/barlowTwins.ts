import * as tf from '@tensorflow/tfjs';

/** Options of {@link barlowTwinsLoss} and {@link barlowTwinsWithMetrics}. */
export interface BarlowTwinsOptions {
  /** λ, the weight of the redundancy-reduction term. Must be finite and > 0; see {@link defaultBarlowLambda}. */
  lambda: number;
}

/** Result of {@link barlowTwinsWithMetrics}; the caller disposes all four tensors. */
export interface BarlowTwinsWithMetrics {
  loss: tf.Scalar;
  /** C = ẑ1ᵀẑ2 / B, d×d (the instruments draw it as a heatmap) */
  crossCorrelation: tf.Tensor2D;
  /** invariance term Σ_i (1 − C_ii)² */
  onDiagonal: tf.Scalar;
  /** redundancy-reduction term Σ_{i≠j} C_ij², not multiplied by λ */
  offDiagonal: tf.Scalar;
}

/**
 * Added to the batch variance before the square root, as torch's
 * BatchNorm1d (eps = 1e-5) does in the paper's implementation; keeps a
 * constant column finite (it standardizes to 0).
 */
const VARIANCE_EPSILON = 1e-5;

/**
 * λ for a d-dimensional projector: 1/d (0.0078 at d = 128, 0.031 at d = 32).
 *
 * Why 1/d. The invariance term Σ_i (1 − C_ii)² has d terms, the redundancy
 * term Σ_{i≠j} C_ij² has d(d − 1). A fully redundant representation (every
 * feature a copy of one, all C_ij = 1) costs λ·d(d − 1) in the second term;
 * λ = 1/d makes that d − 1 ≈ d, the same scale as the first term at
 * initialization (C_ii ≈ 0, so Σ_i (1 − C_ii)² ≈ d). Both terms then grow
 * like d and their balance does not depend on the projector size, which the
 * config lets the user change (2–512). The paper's λ = 5e-3 was chosen at
 * d = 8192 (where 1/d = 1.2e-4, about 40× less), and the paper reports the
 * method is not very sensitive to λ; carried unchanged to our small d it
 * would shrink the redundancy term relative to the invariance term
 * (λ·d(d − 1) = 20 at d = 64, against ≈ d = 64 for the invariance term).
 * At the config's default d = 128 this gives 1/128 = 0.0078125.
 *
 * @throws Error when d is not a positive integer.
 */
export function defaultBarlowLambda(d: number): number {
  if (!Number.isInteger(d) || d < 1) {
    throw new Error(`defaultBarlowLambda: d is the projector's output size and must be a positive integer, got ${d}`);
  }
  return 1 / d;
}

/**
 * Barlow Twins' redundancy-reduction loss (Zbontar, Jing, Misra, LeCun,
 * Deny, "Barlow Twins: Self-Supervised Learning via Redundancy Reduction",
 * ICML 2021, https://arxiv.org/abs/2103.03230, Eq. 1–2 and Algorithm 1).
 *
 * Each column (feature) of z1 and z2 is standardized over the batch with the
 * biased variance (torch's BatchNorm1d without affine, as Algorithm 1):
 *
 *     ẑ_bi = (z_bi − μ_i) / sqrt(σ_i² + 1e-5),   μ_i = 1/B Σ_b z_bi,   σ_i² = 1/B Σ_b (z_bi − μ_i)²
 *     C    = ẑ1ᵀ ẑ2 / B                                     (d×d cross-correlation)
 *     L    = Σ_i (1 − C_ii)² + λ Σ_i Σ_{j≠i} C_ij²
 *
 * Differentiable (gradients flow through the batch statistics too), tf ops
 * only, temporaries inside tf.tidy.
 *
 * @param z1 [B, d] projections of the first views, B ≥ 2 (one row has no variance).
 * @param z2 [B, d] projections of the second views; row b pairs with z1's row b.
 * @param opts λ > 0, e.g. {@link defaultBarlowLambda}(d).
 * @returns the scalar loss L; the caller disposes it.
 * @throws Error when the shapes differ, are not [B ≥ 2, d ≥ 1], or λ is not finite and positive.
 */
export function barlowTwinsLoss(z1: tf.Tensor2D, z2: tf.Tensor2D, opts: BarlowTwinsOptions): tf.Scalar {
  validateBarlowInputs(z1, z2, opts);
  return tf.tidy(() => barlowForward(z1, z2, opts.lambda).loss);
}

/**
 * {@link barlowTwinsLoss} plus C and the two unweighted terms, from the same
 * pass. The loss is the same code path and is differentiable. The caller
 * disposes all four tensors.
 */
export function barlowTwinsWithMetrics(
  z1: tf.Tensor2D,
  z2: tf.Tensor2D,
  opts: BarlowTwinsOptions,
): BarlowTwinsWithMetrics {
  validateBarlowInputs(z1, z2, opts);
  return tf.tidy(() => {
    // Rebuilt as a literal: tf.tidy's TensorContainer needs an index signature, which an interface lacks.
    const { loss, crossCorrelation, onDiagonal, offDiagonal } = barlowForward(z1, z2, opts.lambda);
    return { loss, crossCorrelation, onDiagonal, offDiagonal };
  });
}

/** The single Barlow Twins code path. Must be called inside tf.tidy. */
function barlowForward(z1: tf.Tensor2D, z2: tf.Tensor2D, lambda: number): BarlowTwinsWithMetrics {
  const [batchSize, dim] = z1.shape;
  const crossCorrelation = tf.div(
    tf.matMul(standardizeColumns(z1), standardizeColumns(z2), true, false),
    batchSize,
  ) as tf.Tensor2D; // C: [d, d]
  const identity = tf.eye(dim);
  const diagonal = tf.sum(tf.mul(crossCorrelation, identity), 1); // C_ii: [d]
  const onDiagonal = tf.sum(tf.square(tf.sub(1, diagonal))) as tf.Scalar;
  // Masked rather than Σ C² − Σ C_ii², which would cancel in float32 when the diagonal dominates.
  const offDiagonal = tf.sum(tf.mul(tf.square(crossCorrelation), tf.sub(1, identity))) as tf.Scalar;
  const loss = tf.add(onDiagonal, tf.mul(lambda, offDiagonal)) as tf.Scalar;
  return { loss, crossCorrelation, onDiagonal, offDiagonal };
}

/** (z − μ) / sqrt(σ² + 1e-5) per column, μ and the biased σ² taken over the batch (rows). */
function standardizeColumns(z: tf.Tensor2D): tf.Tensor2D {
  const centered = tf.sub(z, tf.mean(z, 0, true));
  const variance = tf.mean(tf.square(centered), 0, true);
  return tf.mul(centered, tf.rsqrt(tf.add(variance, VARIANCE_EPSILON)));
}

function validateBarlowInputs(z1: tf.Tensor, z2: tf.Tensor, { lambda }: BarlowTwinsOptions): void {
  if (z1.rank !== 2 || z2.rank !== 2) {
    throw new Error(
      `barlowTwinsLoss: z1 and z2 must be rank-2 [B, d] tensors, got shapes [${z1.shape}] and [${z2.shape}]`,
    );
  }
  const [batchSize, dim] = z1.shape;
  if (z2.shape[0] !== batchSize || z2.shape[1] !== dim) {
    throw new Error(
      `barlowTwinsLoss: z1 and z2 must have the same shape [B, d] (row b of each is one image), got [${z1.shape}] and [${z2.shape}]`,
    );
  }
  if (batchSize < 2 || dim < 1) {
    throw new Error(
      `barlowTwinsLoss: need a batch of B ≥ 2 rows (features are standardized over the batch) and d ≥ 1 dimensions, got shape [${z1.shape}]`,
    );
  }
  if (!Number.isFinite(lambda) || lambda <= 0) {
    throw new Error(`barlowTwinsLoss: lambda must be finite and > 0, got ${lambda}`);
  }
}
