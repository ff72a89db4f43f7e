/**
 * The autoencoder's reconstruction loss (Hinton & Salakhutdinov 2006; for
 * the denoising autoencoder, Vincent et al. 2008, the target is the clean
 * image while the encoder saw a corrupted one): the mean squared error over
 * every pixel and channel of the batch,
 *
 *     L = 1/(N·H·W·C) Σ_{b,i,j,c} (x̂_{bijc} − x_{bijc})²
 *
 * with pixels in [0, 1], so 0 is a perfect rebuild and PSNR = 10 log₁₀(1 / L)
 * dB. Twice over: as tfjs ops (differentiable, the training loss) and on
 * plain numbers in float64 (the tests' reference and the instrument's
 * per-example captions). No code is shared between the two.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * L = mean (x̂ − x)² over all entries. Differentiable, tf ops only,
 * temporaries inside tf.tidy.
 * @param reconstruction x̂, any shape
 * @param target x, the same shape
 * @throws Error when the shapes differ or hold no entry
 */
export function reconstructionMse(reconstruction: tf.Tensor, target: tf.Tensor): tf.Scalar {
  if (!tf.util.arraysEqual(reconstruction.shape, target.shape)) {
    throw new Error(`reconstructionMse: the reconstruction [${reconstruction.shape}] and its target [${target.shape}] must have the same shape`);
  }
  if (target.size === 0) throw new Error(`reconstructionMse: the target [${target.shape}] holds no pixel`);
  return tf.tidy(() => tf.mean(tf.squaredDifference(reconstruction, target)) as tf.Scalar);
}

/**
 * The MSE of a decoder that ignores its input and paints the batch's mean
 * image, pixel by pixel: mean over b of (x̄ − x_b)², x̄ = 1/N Σ_b x_b. The
 * best a constant output can do on this batch; the loss falling below it
 * shows that h tells the decoder which image it is. Not differentiated.
 */
export function meanImageMse(target: tf.Tensor4D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.squaredDifference(target, tf.mean(target, 0, true))) as tf.Scalar);
}

/** 10 log₁₀(1 / max(L, 1e-12)) in dB, for pixels in [0, 1]: as a tensor, from the loss. */
export function psnrOf(mse: tf.Scalar): tf.Scalar {
  return tf.tidy(() => tf.mul(tf.log(tf.maximum(mse, 1e-12)), -10 / Math.LN10) as tf.Scalar);
}

/** The same mean squared error in float64 on plain arrays of equal length. */
export function reconstructionMseReference(reconstruction: ArrayLike<number>, target: ArrayLike<number>): number {
  if (reconstruction.length !== target.length || target.length === 0) {
    throw new Error(`reconstructionMseReference: ${reconstruction.length} and ${target.length} values; they must be equal in number and not empty`);
  }
  let sum = 0;
  for (let k = 0; k < target.length; k++) sum += (reconstruction[k] - target[k]) ** 2;
  return sum / target.length;
}
