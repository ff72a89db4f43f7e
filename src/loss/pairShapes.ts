import type * as tf from '@tensorflow/tfjs';

/**
 * Checks the (prediction, target) pair of BYOL's and SimSiam's losses: both
 * [B, d] with B ≥ 1 and d ≥ 1, row b of z the target of row b of p.
 * Errors start with `caller`.
 *
 * @throws Error when either is not rank 2, the shapes differ, or B or d is 0.
 */
export function validatePairShapes(p: tf.Tensor, z: tf.Tensor, caller: string): void {
  if (p.rank !== 2 || z.rank !== 2) {
    throw new Error(`${caller}: p and z must be rank-2 [B, d] tensors, got shapes [${p.shape}] and [${z.shape}]`);
  }
  const [rows, dim] = p.shape;
  if (z.shape[0] !== rows || z.shape[1] !== dim) {
    throw new Error(
      `${caller}: p and z must have the same shape [B, d] (row b of z is the target of prediction b), got [${p.shape}] and [${z.shape}]`,
    );
  }
  if (rows < 1 || dim < 1) {
    throw new Error(`${caller}: need B ≥ 1 rows and d ≥ 1 dimensions, got shape [${p.shape}]`);
  }
}
