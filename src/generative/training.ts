/**
 * One training step for each generative model, each read top to bottom.
 *
 * ganStep: Goodfellow et al., "Generative Adversarial Nets" (NeurIPS 2014,
 * https://arxiv.org/abs/1406.2661), Algorithm 1 with k = 1 D step per G step
 * and the non-saturating G loss of its §3; the optimizer of DCGAN (Radford
 * et al., ICLR 2016, https://arxiv.org/abs/1511.06434, §4): Adam with
 * learning rate 2·10⁻⁴ and β₁ = 0.5 for each network.
 *
 *   1. z_D, z_G ~ N(0, I): n rows each from the step's seed, n the real batch's size
 *      (Algorithm 1 samples noise afresh for the G step)
 *   2. D step: x̃ = G(z_D) made outside D's gradient (a constant: detached),
 *      L_D = −mean log D(x) − mean log(1 − D(x̃)), Adam on D's variables
 *   3. G step: L_G = −mean log D(G(z_G)) through the D just updated, Adam on G's variables
 *
 * Real and fake images go through D as separate batches (as DCGAN's
 * reference code does), and both networks run in training mode, batch
 * statistics, throughout: G's running statistics take two batches per step.
 *
 * vaeStep: Kingma & Welling, "Auto-Encoding Variational Bayes" (ICLR 2014,
 * https://arxiv.org/abs/1312.6114), Algorithm 1 with one sample per image:
 * μ, logVar = q(x); z = μ + e^{logVar/2}·ε with ε from the step's seed;
 * −ELBO = Σ_pixels Bernoulli cross-entropy of p(x|z) + β·KL(q ‖ N(0, I)),
 * averaged over the batch (src/loss/vae.ts); one Adam step (learning rate
 * 10⁻³; the paper used Adagrad) on every variable.
 *
 * Each step reads its numbers back once, and leaves no tensor behind: the
 * only tensors that outlive it are the optimizers' moments, created at their
 * first step and freed by the optimizers' dispose(), which the caller owns.
 */
import * as tf from '@tensorflow/tfjs';
import { discriminatorLoss, nonSaturatingGeneratorLoss, type DiscriminatorLossOptions } from '../loss/gan';
import { bernoulliReconstruction, gaussianKl, negativeElbo, reparameterize } from '../loss/vae';
import { fixedNoise, type Dcgan } from './dcgan';
import type { ConvVae } from './vae';

/** Adam's learning rate and β₁ for G and D (Radford et al. 2016, §4: 10⁻³ was too high, β₁ = 0.9 oscillated). */
export const DCGAN_LEARNING_RATE = 2e-4;
export const DCGAN_BETA1 = 0.5;
/** Adam's learning rate for the VAE (β₁ = 0.9, β₂ = 0.999: Adam's defaults). */
export const VAE_LEARNING_RATE = 1e-3;

export interface GanOptimizers {
  generator: tf.Optimizer;
  discriminator: tf.Optimizer;
}

/** One Adam per network, DCGAN's settings: the caller disposes both (optimizer.dispose()) when the run ends. */
export function createGanOptimizers(learningRate = DCGAN_LEARNING_RATE, beta1 = DCGAN_BETA1): GanOptimizers {
  return { generator: tf.train.adam(learningRate, beta1), discriminator: tf.train.adam(learningRate, beta1) };
}

/** Adam for the VAE: the caller disposes it. */
export function createVaeOptimizer(learningRate = VAE_LEARNING_RATE): tf.Optimizer {
  return tf.train.adam(learningRate);
}

export interface GanStepResult {
  /** L_D at this step's D step, before D's update */
  discriminatorLoss: number;
  /** L_G at this step's G step, after D's update */
  generatorLoss: number;
  /** mean D(x) over the real batch, in the D step */
  realScore: number;
  /** mean D(G(z_D)) over the fake batch, in the D step */
  fakeScore: number;
}

export interface VaeStepResult {
  /** E_q[−log p(x|z)]: Bernoulli cross-entropy summed over each image's pixels, mean over the batch */
  reconstruction: number;
  /** KL(q(z|x) ‖ N(0, I)) per image, mean over the batch */
  kl: number;
  /** reconstruction + β·kl, the loss minimized */
  negativeElbo: number;
}

/**
 * One D step then one G step (see the file's header).
 * @param gan G and D, updated in place
 * @param realImages x: [n, S, S, C], pixels in [0, 1]
 * @param optimizers from createGanOptimizers
 * @param seed draws z_D and z_G; the same seed, weights and images give the same step
 * @param options one-sided label smoothing of L_D's real term (none by default)
 */
export async function ganStep(gan: Dcgan, realImages: tf.Tensor4D, optimizers: GanOptimizers, seed: number, options: DiscriminatorLossOptions = {}): Promise<GanStepResult> {
  const { generator: G, discriminator: D } = gan;
  const n = realImages.shape[0];
  if (realImages.rank !== 4 || n < 1) throw new Error(`ganStep: the real batch must be [n ≥ 1, S, S, C] images, got [${realImages.shape}]`);
  const numbers = tf.tidy(() => {
    const [zD, zG] = tf.split(fixedNoise(2 * n, G.zDim, seed), 2) as tf.Tensor2D[];

    // D step: G(z_D) is computed here, outside the gradient, so D's step treats it as data
    const fake = G.generate(zD, true);
    let scores!: tf.Tensor1D;
    const dStep = tf.variableGrads(() => {
      const realLogits = D.logits(realImages, true);
      const fakeLogits = D.logits(fake, true);
      const loss = discriminatorLoss(realLogits, fakeLogits, options);
      // D(x) = σ(l): the scores outlive the gradient's scope
      scores = tf.keep(tf.stack([tf.mean(tf.sigmoid(realLogits)), tf.mean(tf.sigmoid(fakeLogits))]) as tf.Tensor1D);
      return loss;
    }, D.variables);
    optimizers.discriminator.applyGradients(dStep.grads);

    // G step: through the updated D, only G's variables move
    const gStep = tf.variableGrads(() => nonSaturatingGeneratorLoss(D.logits(G.generate(zG, true), true)), G.variables);
    optimizers.generator.applyGradients(gStep.grads);

    const all = tf.concat([tf.stack([dStep.value, gStep.value]), scores]);
    scores.dispose();
    return all;
  });
  const [lossD, lossG, realScore, fakeScore] = await numbers.data();
  numbers.dispose();
  return { discriminatorLoss: lossD, generatorLoss: lossG, realScore, fakeScore };
}

/**
 * One step on the negative ELBO (see the file's header).
 * @param vae updated in place
 * @param realImages x: [n, S, S, C], pixels in [0, 1]
 * @param optimizer from createVaeOptimizer
 * @param seed draws ε; the same seed, weights and images give the same step
 * @param beta the KL's weight β (1: the ELBO itself)
 */
export async function vaeStep(vae: ConvVae, realImages: tf.Tensor4D, optimizer: tf.Optimizer, seed: number, beta = 1): Promise<VaeStepResult> {
  const numbers = tf.tidy(() => {
    let terms!: tf.Tensor1D;
    const { value, grads } = tf.variableGrads(() => {
      const { mu, logVar } = vae.encode(realImages);
      const z = reparameterize(mu, logVar, seed);
      const logits = vae.decodeLogits(z);
      const reconstruction = bernoulliReconstruction(logits, realImages);
      const kl = gaussianKl(mu, logVar);
      const loss = negativeElbo(reconstruction, kl, beta);
      // the two terms outlive the gradient's scope
      terms = tf.keep(tf.stack([reconstruction, kl]) as tf.Tensor1D);
      return loss;
    }, vae.variables);
    optimizer.applyGradients(grads);
    const all = tf.concat([terms, tf.reshape(value, [1])]);
    terms.dispose();
    return all;
  });
  const [reconstruction, kl, elbo] = await numbers.data();
  numbers.dispose();
  return { reconstruction, kl, negativeElbo: elbo };
}
