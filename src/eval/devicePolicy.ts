/**
 * Where the frozen-encoder evaluations (the linear probe's fit, kNN) run once
 * the features exist: as tfjs ops on the backend ('tensors'), or as plain
 * float64 JavaScript on the features read back ('arrays').
 *
 * Both are small, many-step computations: a probe is a few hundred full-batch
 * steps of some forty kernel launches each, kNN a top-k per test row. On a GPU
 * a launch costs microseconds, but at these sizes the launches, not the
 * arithmetic, set the time; on a CPU emulation of a GPU (SwiftShader,
 * llvmpipe, WARP) a launch costs milliseconds, and a 100-step probe of 300
 * images took 10 s where the same fit as arrays takes a few ms.
 */
import * as tf from '@tensorflow/tfjs';

export type ComputeOn = 'auto' | 'tensors' | 'arrays';

/**
 * Up to this many multiply-adds a computation runs as arrays even on a real
 * GPU: about 0.3 s of one CPU core. (A probe of 300 images, d 32, K 10 and
 * 100 steps: 2·300·32·10·100 = 1.9e7; kNN of 2,000 against 5,000 at d 32: 3.2e8.)
 */
export const ARRAYS_MAX_MULTIPLY_ADDS = 3e8;

let cpuEmulation = false;

/** The worker says once it knows the device whether it is a CPU emulation of a GPU (or tfjs's cpu backend). */
export function setEvaluationDevicePolicy(policy: { cpuEmulation: boolean }): void {
  cpuEmulation = policy.cpuEmulation;
}

/** Whether a computation of `multiplyAdds` runs as arrays: always on a CPU or a CPU emulation, else when it is small. */
export function runsOnArrays(computeOn: ComputeOn | undefined, multiplyAdds: number): boolean {
  if (computeOn === 'arrays') return true;
  if (computeOn === 'tensors') return false;
  return cpuEmulation || tf.getBackend() === 'cpu' || multiplyAdds <= ARRAYS_MAX_MULTIPLY_ADDS;
}
