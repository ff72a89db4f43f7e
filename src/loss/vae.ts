/**
 * The variational autoencoder's terms (Kingma & Welling, "Auto-Encoding
 * Variational Bayes", ICLR 2014, https://arxiv.org/abs/1312.6114). The
 * encoder q(z|x) = N(μ, diag(e^{logVar})) and the prior p(z) = N(0, I); the
 * negative evidence lower bound per image is
 *
 *     −ELBO(x) = E_{q(z|x)}[−log p(x|z)] + β·KL(q(z|x) ‖ p(z))
 *
 * (β = 1 is the bound itself; β ≠ 1 is Higgins et al.'s β-VAE, ICLR 2017),
 * with, per image,
 *
 *     KL = ½ Σ_j (μ_j² + e^{logVar_j} − 1 − logVar_j)          (Appendix B)
 *     −log p(x|z) = Σ_pixels [softplus(ℓ) − x·ℓ]                  (Bernoulli, logits ℓ of the decoder)
 *
 * the expectation estimated with one sample z = μ + e^{logVar/2}·ε,
 * ε ~ N(0, I) (the reparameterization trick, §2.4), so the gradient reaches μ
 * and logVar. Both terms are summed over the image (latent units, pixels and
 * channels) and averaged over the batch: the per-image bound, which is what
 * makes β = 1 the ELBO (a per-pixel mean would weight the KL by H·W·C).
 *
 * The reconstruction term is Bernoulli cross-entropy on pixels in [0, 1]:
 * −[x log σ(ℓ) + (1 − x) log(1 − σ(ℓ))] = softplus(ℓ) − x·ℓ, as the paper's
 * MNIST experiments use. For grey levels strictly between 0 and 1 it is not a
 * normalized likelihood (the continuous Bernoulli of Loaiza-Ganem & Cunningham
 * 2019 is), and its minimum over ℓ is the entropy of x, not 0: it still peaks
 * at σ(ℓ) = x, which is what the decoder needs, and it is the usual choice.
 *
 * Each term twice over: as tfjs ops and in float64 on plain arrays (the
 * tests' references). No code is shared between the two.
 */
import * as tf from '@tensorflow/tfjs';
import { createRng, normal } from '../core/random';

function checkLatents(mu: tf.Tensor2D, logVar: tf.Tensor2D, caller: string): void {
  if (mu.rank !== 2 || !tf.util.arraysEqual(mu.shape, logVar.shape)) {
    throw new Error(`${caller}: μ [${mu.shape}] and logVar [${logVar.shape}] must both be [B, J], the same shape`);
  }
  if (mu.shape[0] === 0 || mu.shape[1] === 0) throw new Error(`${caller}: μ [${mu.shape}] needs B ≥ 1 images and J ≥ 1 latent units`);
}

/**
 * KL(N(μ, diag(e^{logVar})) ‖ N(0, I)) = ½ Σ_j (μ_j² + e^{logVar_j} − 1 − logVar_j)
 * per image, then the mean over the batch. 0 exactly when μ = 0, logVar = 0.
 * @param mu [B, J] the encoder's means
 * @param logVar [B, J] the encoder's log-variances
 * @returns the scalar; the caller disposes it
 * @throws Error when the shapes differ or are empty
 */
export function gaussianKl(mu: tf.Tensor2D, logVar: tf.Tensor2D): tf.Scalar {
  checkLatents(mu, logVar, 'gaussianKl');
  return tf.tidy(() => {
    const perUnit = tf.sub(tf.add(tf.square(mu), tf.exp(logVar)), tf.add(1, logVar));
    return tf.mean(tf.mul(0.5, tf.sum(perUnit, 1))) as tf.Scalar;
  });
}

/**
 * −log p(x|z) for a Bernoulli decoder: Σ_pixels [softplus(ℓ) − x·ℓ] per image
 * (every pixel and channel), then the mean over the batch.
 * @param logits [B, H, W, C] the decoder's logits ℓ (its image is σ(ℓ))
 * @param images [B, H, W, C] the targets x, pixels in [0, 1]
 * @returns the scalar; the caller disposes it
 * @throws Error when the shapes differ or hold no image
 */
export function bernoulliReconstruction(logits: tf.Tensor4D, images: tf.Tensor4D): tf.Scalar {
  if (!tf.util.arraysEqual(logits.shape, images.shape)) {
    throw new Error(`bernoulliReconstruction: the logits [${logits.shape}] and the images [${images.shape}] must have the same shape`);
  }
  if (images.size === 0) throw new Error(`bernoulliReconstruction: the images [${images.shape}] hold no pixel`);
  return tf.tidy(() => {
    const perPixel = tf.sub(tf.softplus(logits), tf.mul(images, logits));
    return tf.mean(tf.sum(perPixel, [1, 2, 3])) as tf.Scalar;
  });
}

/** −ELBO = reconstruction + β·KL, from the two terms above (scalars); the caller disposes the result. */
export function negativeElbo(reconstruction: tf.Scalar, kl: tf.Scalar, beta = 1): tf.Scalar {
  if (!(beta >= 0) || !Number.isFinite(beta)) throw new Error(`negativeElbo: β must be a finite number ≥ 0, got ${beta}; use 1 for the ELBO itself`);
  return tf.tidy(() => tf.add(reconstruction, tf.mul(beta, kl)) as tf.Scalar);
}

/**
 * z = μ + e^{logVar/2} ⊙ ε, ε ~ N(0, I) drawn row by row from `seed`
 * (createRng + Box–Muller): the same seed gives the same ε, so the same z.
 * Differentiable in μ and logVar; ε is a constant.
 * @returns [B, J]; the caller disposes it
 */
export function reparameterize(mu: tf.Tensor2D, logVar: tf.Tensor2D, seed: number): tf.Tensor2D {
  checkLatents(mu, logVar, 'reparameterize');
  const rng = createRng(seed);
  const epsilon = Float32Array.from({ length: mu.size }, () => normal(rng));
  return tf.tidy(() => tf.add(mu, tf.mul(tf.exp(tf.mul(0.5, logVar)), tf.tensor2d(epsilon, mu.shape))) as tf.Tensor2D);
}

/** The same KL in float64: rows are images. */
export function gaussianKlReference(mu: readonly (readonly number[])[], logVar: readonly (readonly number[])[]): number {
  let total = 0;
  mu.forEach((row, b) => {
    let kl = 0;
    row.forEach((m, j) => {
      const s = logVar[b][j];
      kl += 0.5 * (m * m + Math.exp(s) - 1 - s);
    });
    total += kl;
  });
  return total / mu.length;
}

/** The same Bernoulli term in float64: one flat array of pixels per image, logits and targets alike. */
export function bernoulliReconstructionReference(logits: readonly (readonly number[])[], images: readonly (readonly number[])[]): number {
  let total = 0;
  logits.forEach((row, b) => {
    row.forEach((l, p) => {
      const x = images[b][p];
      // −x log σ(ℓ) − (1 − x) log(1 − σ(ℓ)) with −log σ(ℓ) = softplus(−ℓ) = log1p(e^{−|ℓ|}) + max(−ℓ, 0)
      const minusLogP = Math.log1p(Math.exp(-Math.abs(l))) + Math.max(-l, 0);
      const minusLogQ = Math.log1p(Math.exp(-Math.abs(l))) + Math.max(l, 0);
      total += x * minusLogP + (1 - x) * minusLogQ;
    });
  });
  return total / logits.length;
}
