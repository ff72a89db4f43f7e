/**
 * The encoder f on the project's WGSL kernels against tfjs's stock kernels,
 * in the real trainer (issue 20): the same seeded run twice on webgpu, once
 * per kernel path, per-step losses side by side, plus h of the trained encoder
 * in inference mode (running statistics) on both paths. Run by the e2e tests
 * through checks.html?check=encoder-training.
 */
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_CONFIG, type ExperimentConfig } from '../core/config';
import { generateSyntheticShapes } from '../data/syntheticShapes';
import { setFusedEncoderKernels } from '../model/encoderNetwork';
import { Trainer } from '../train/trainer';
import { relativeError } from './relativeError';

export interface EncoderTrainingOptions {
  steps: number;
  seed: number;
  /** encoder width: 3 is not a multiple of 4, so the scalar paths of the kernels run too */
  width: number;
  size: number;
  batch: number;
}

export async function encoderTrainingMatches(o: EncoderTrainingOptions) {
  if (!(await tf.setBackend('webgpu'))) throw new Error('webgpu is not available in this browser');
  await tf.ready();
  // RGB images: the first conv has 3 input channels
  const dataset = generateSyntheticShapes({ seed: o.seed, imageSize: o.size, trainPerClass: 12, testPerClass: 2 });
  const config: ExperimentConfig = {
    ...DEFAULT_CONFIG, seed: o.seed, batchSize: o.batch, imageSize: o.size, encoderWidth: o.width, projectionDim: 32, learningRate: 0.003,
  };
  const probeImages = tf.tidy(() => tf.randomUniform([5, o.size, o.size, 3], 0, 1, 'float32', o.seed) as tf.Tensor4D);
  const run = async (fusedEncoder: boolean) => {
    const trainer = new Trainer(dataset, { ...config, fusedEncoder });
    const losses: number[] = [];
    const paths: string[] = [];
    for (let s = 0; s < o.steps; s++) {
      const metrics = await trainer.trainStep();
      losses.push(metrics.loss);
      paths.push(metrics.encoderPath ?? 'unknown');
    }
    // inference mode: batch norm on the running statistics the run accumulated
    const h = tf.tidy(() => trainer.model.encode(probeImages, false));
    const features = Array.from(await h.data());
    h.dispose();
    trainer.dispose();
    return { losses, paths, features };
  };
  const tensorsBefore = tf.memory().numTensors;
  const fused = await run(true);
  const stock = await run(false);
  setFusedEncoderKernels(true);
  const leakedTensors = tf.memory().numTensors - tensorsBefore;
  probeImages.dispose();
  return {
    ...o,
    fused: { losses: fused.losses, paths: fused.paths },
    stock: { losses: stock.losses, paths: stock.paths },
    lossMaxRelativeDiff: Math.max(...fused.losses.map((l, i) => Math.abs(l - stock.losses[i]) / Math.abs(stock.losses[i]))),
    /** max |Δh| / max |h| of the trained encoders in inference mode */
    featuresRelativeDiff: relativeError(fused.features, stock.features),
    leakedTensors,
  };
}
