/**
 * The GAN losses (Goodfellow et al., "Generative Adversarial Nets", NeurIPS
 * 2014, https://arxiv.org/abs/1406.2661, Eq. 1 and §3), on the
 * discriminator's logits l, D(x) = σ(l):
 *
 *     L_D = −1/N Σ log D(x_i) − 1/M Σ log(1 − D(G(z_j)))
 *         =  1/N Σ softplus(−l_real,i) + 1/M Σ softplus(l_fake,j)
 *     L_G = −1/M Σ log D(G(z_j))             (the non-saturating form, §3)
 *         =  1/M Σ softplus(−l_fake,j)
 *
 * using −log σ(l) = softplus(−l) and −log(1 − σ(l)) = softplus(l). Written
 * with softplus (log(1 + eˡ), evaluated without overflow) so that a confident
 * D (|l| ≈ 50) gives a finite loss and gradient, where log σ(l) in float32
 * takes log(0) = −∞ once σ(l) rounds to 0 or 1. The gradients are
 * ∂softplus(l)/∂l = σ(l), finite everywhere.
 *
 * The non-saturating L_G is the paper's fix for early training: when D
 * rejects G's samples confidently (l_fake ≪ 0), log(1 − D(G(z))) is flat
 * (gradient σ(l_fake) ≈ 0) while −log D(G(z)) has gradient σ(l_fake) − 1 ≈ −1.
 *
 * One-sided label smoothing (Salimans et al., "Improved Techniques for
 * Training GANs", NeurIPS 2016, https://arxiv.org/abs/1606.03498, §3.4):
 * the real term's target 1 becomes α (e.g. 0.9), the fake term's target stays
 * 0. As binary cross-entropy with target α,
 *
 *     −α log σ(l) − (1 − α) log(1 − σ(l)) = α·softplus(−l) + (1 − α)·softplus(l),
 *
 * with gradient σ(l) − α: D is no longer pushed to make l_real ever larger
 * once D(x) ≥ α. α = 1 (the default) is the plain loss above.
 *
 * Each loss twice over: as tfjs ops (differentiable, the training losses) and
 * on plain numbers in float64 (the tests' references). No code is shared.
 */
import * as tf from '@tensorflow/tfjs';

export interface DiscriminatorLossOptions {
  /** α: the real images' target, in (0, 1]; 1 (no smoothing) by default, 0.9 as Salimans et al. suggest. */
  realLabel?: number;
}

function checkLogits(logits: tf.Tensor, which: string, caller: string): void {
  if (logits.size === 0) throw new Error(`${caller}: the ${which} logits [${logits.shape}] hold no entry; pass at least one image's logit`);
}

function checkRealLabel(alpha: number, caller: string): void {
  if (!(alpha > 0 && alpha <= 1)) throw new Error(`${caller}: the real label α must be in (0, 1], got ${alpha}; use 1 for no smoothing or e.g. 0.9`);
}

/**
 * L_D = mean_i [α·softplus(−l_real,i) + (1 − α)·softplus(l_real,i)] + mean_j softplus(l_fake,j),
 * which for α = 1 is −mean log D(x) − mean log(1 − D(G(z))). Minimized by D;
 * 2 log 2 when D says ½ everywhere (l = 0).
 * @param realLogits D's logits on real images, any shape (one per image)
 * @param fakeLogits D's logits on G's samples, any shape; its count may differ from the real one
 * @returns the scalar loss; the caller disposes it
 * @throws Error when either holds no logit or α is outside (0, 1]
 */
export function discriminatorLoss(realLogits: tf.Tensor, fakeLogits: tf.Tensor, options: DiscriminatorLossOptions = {}): tf.Scalar {
  const alpha = options.realLabel ?? 1;
  checkLogits(realLogits, 'real', 'discriminatorLoss');
  checkLogits(fakeLogits, 'fake', 'discriminatorLoss');
  checkRealLabel(alpha, 'discriminatorLoss');
  return tf.tidy(() => {
    let realTerm = tf.mul(alpha, tf.softplus(tf.neg(realLogits)));
    // with α < 1 the real images also carry the fake target's share, 1 − α
    if (alpha < 1) realTerm = tf.add(realTerm, tf.mul(1 - alpha, tf.softplus(realLogits)));
    return tf.add(tf.mean(realTerm), tf.mean(tf.softplus(fakeLogits))) as tf.Scalar;
  });
}

/**
 * L_G = −mean_j log D(G(z_j)) = mean_j softplus(−l_fake,j): the non-saturating
 * generator loss, minimized by G through D's logits on its samples.
 * @param fakeLogits D's logits on G's samples, any shape
 * @returns the scalar loss; the caller disposes it
 * @throws Error when it holds no logit
 */
export function nonSaturatingGeneratorLoss(fakeLogits: tf.Tensor): tf.Scalar {
  checkLogits(fakeLogits, 'fake', 'nonSaturatingGeneratorLoss');
  return tf.tidy(() => tf.mean(tf.softplus(tf.neg(fakeLogits))) as tf.Scalar);
}

/** softplus(x) = log(1 + eˣ) in float64 as max(x, 0) + log1p(e^{−|x|}): never exponentiates a positive number. */
export function softplusReference(x: number): number {
  return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}

function meanOf(values: readonly number[], f: (v: number) => number, caller: string, which: string): number {
  if (values.length === 0) throw new Error(`${caller}: the ${which} logits hold no entry`);
  let sum = 0;
  for (const v of values) sum += f(v);
  return sum / values.length;
}

/** The same L_D in float64 on plain arrays of logits. */
export function discriminatorLossReference(realLogits: readonly number[], fakeLogits: readonly number[], options: DiscriminatorLossOptions = {}): number {
  const alpha = options.realLabel ?? 1;
  checkRealLabel(alpha, 'discriminatorLossReference');
  const real = meanOf(realLogits, (l) => alpha * softplusReference(-l) + (1 - alpha) * softplusReference(l), 'discriminatorLossReference', 'real');
  return real + meanOf(fakeLogits, softplusReference, 'discriminatorLossReference', 'fake');
}

/** The same L_G in float64 on a plain array of logits. */
export function nonSaturatingGeneratorLossReference(fakeLogits: readonly number[]): number {
  return meanOf(fakeLogits, (l) => softplusReference(-l), 'nonSaturatingGeneratorLossReference', 'fake');
}
