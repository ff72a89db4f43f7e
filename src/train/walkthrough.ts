/**
 * Lecture mode: one small minibatch through SimCLR's Algorithm 1, every
 * intermediate kept as plain numbers so the page can show it line by line.
 *
 *   for sampled minibatch {x_k}, k = 1…N
 *     draw t ~ T, t′ ~ T;  x̃ = t(x_k), t′(x_k);  h = f(x̃);  z = g(h)
 *     s_ij = z_iᵀz_j / (‖z_i‖‖z_j‖)
 *     ℓ(i, j) = −log exp(s_ij/τ) / Σ_{k≠i} exp(s_ik/τ)
 *     L = 1/(2N) Σ_k [ℓ(2k−1, 2k) + ℓ(2k, 2k−1)]
 *     update f and g to minimize L
 *
 * The numbers come from the run's own model, data, augmentation pipeline and
 * optimizer: the update is real (it counts as one step of the run), and L is
 * measured again on the same views afterwards. Views are concatenated, not
 * interleaved as in the paper (rows 0…N−1 are t(x_k), N…2N−1 are t′(x_k)),
 * the same convention as src/loss/ntxent.ts and the affinity heatmap.
 */
import * as tf from '@tensorflow/tfjs';
import { batchGeometry } from './stepGeometry';
import { augmentViews } from '../augment/augmentViews';
import type { Rng } from '../core/random';
import type { ImageDataset } from '../data/dataset';
import { ntXent, ntXentWithMetrics } from '../loss/ntxent';
import { anchorLosses } from '../loss/ntxentReference';
import type { SimclrModel } from '../model/simclrModel';
import type { ExperimentConfig } from '../core/config';
import { WALKTHROUGH_MAX_N, WALKTHROUGH_MIN_N, type WalkthroughResult } from './protocol';

/** What the walkthrough needs of a run: its model, its step count and one update with its optimizer (SimclrTrainer). */
export interface WalkthroughRun {
  readonly model: SimclrModel;
  readonly step: number;
  applyUpdate(grads: tf.NamedTensorMap): void;
}

export type WalkthroughSettings = Pick<
  ExperimentConfig, 'temperature' | 'normalize' | 'augmentation' | 'imageSize' | 'learningRate'
>;

/** N distinct training indices drawn from `rng`, in the order drawn. */
function drawIndices(rng: Rng, n: number, count: number): number[] {
  const chosen = new Set<number>();
  while (chosen.size < n) chosen.add(Math.floor(rng() * count));
  return [...chosen];
}

/**
 * Walks N (4…8) training images of `dataset` through Algorithm 1 with the
 * run's model, applies one optimizer update on exactly these views, and
 * measures L on them again. Throws, without updating, when L is not finite.
 * Every tensor it makes is disposed before it returns or throws.
 */
export async function runWalkthrough(
  run: WalkthroughRun,
  dataset: ImageDataset,
  settings: WalkthroughSettings,
  batchSize: number,
  rng: Rng,
  requestId = 0,
): Promise<WalkthroughResult> {
  const started = performance.now();
  const { temperature, normalize, augmentation, imageSize, learningRate } = settings;
  const { imageSize: sourceSize, channels, train } = dataset;
  const n = Math.min(Math.max(Math.round(batchSize), WALKTHROUGH_MIN_N), WALKTHROUGH_MAX_N, train.count);
  if (n < 2) throw new Error(`The walkthrough needs at least 2 training images; “${dataset.name}” has ${train.count}.`);
  const { model } = run;

  // for sampled minibatch {x_k}
  const indices = drawIndices(rng, n, train.count);
  const pixels = sourceSize * sourceSize * channels;
  const originals = new Uint8Array(n * pixels);
  indices.forEach((index, k) => originals.set(train.images.subarray(index * pixels, (index + 1) * pixels), k * pixels));

  // t ~ T, t′ ~ T: the same call, and the same order of draws, as a training step
  const views = tf.tidy(() => {
    const x = tf.div(tf.tensor4d(originals, [n, sourceSize, sourceSize, channels], 'int32'), 255) as tf.Tensor4D;
    const view1 = augmentViews(x, rng, augmentation, imageSize);
    const view2 = augmentViews(x, rng, augmentation, imageSize);
    return tf.concat([view1, view2], 0) as tf.Tensor4D;
  });

  const kept: tf.Tensor[] = [views];
  try {
    let h: tf.Tensor2D | undefined;
    let z: tf.Tensor2D | undefined;
    let s: tf.Tensor2D | undefined;
    let metrics: tf.Tensor1D | undefined;
    // h = f(x̃), z = g(h), s, L, and ∇L, in one pass as in trainStep
    const { value: loss, grads } = tf.variableGrads(() => {
      h = tf.keep(model.encode(views, true));
      z = tf.keep(model.project(h));
      const [z1, z2] = tf.split(z, 2, 0) as [tf.Tensor2D, tf.Tensor2D];
      const result = ntXentWithMetrics(z1, z2, { temperature, normalize });
      s = tf.keep(result.affinityMatrix);
      metrics = tf.keep(result.metrics);
      return result.loss;
    }, model.trainableVariables);
    kept.push(loss, h!, z!, s!, metrics!, ...Object.values(grads));

    const [lossBefore] = await loss.data();
    if (!Number.isFinite(lossBefore)) {
      throw new Error(
        `The NT-Xent loss of this batch is ${lossBefore} (τ = ${temperature}, L2 normalization ${normalize ? 'on' : 'off'}), so no update was applied. ` +
          'Raise τ or turn normalization on, then press Reset.',
      );
    }
    // a chain of tf.add, not tf.addN: on WebGPU (SwiftShader) addN over 16 inputs returned a stale buffer, likely past the storage-buffer limit
    const gradientNormTensor = tf.tidy(() =>
      tf.sqrt(Object.values(grads).map((g) => tf.sum(tf.square(g))).reduce((a, b) => tf.add(a, b))),
    );
    kept.push(gradientNormTensor);
    const [gradientNorm] = await gradientNormTensor.data();

    // update networks f and g to minimize L: the run's optimizer, one step
    run.applyUpdate(grads);

    // L again on the same views; batch-norm running statistics as they were after the update's own pass
    const statistics = model.runningStatistics; // saved and put back: measuring L after the update must not move them
    const saved = statistics.map((v) => tf.clone(v));
    kept.push(...saved);
    let after: tf.Scalar;
    try {
      after = tf.tidy(() => {
        const zAfter = model.project(model.encode(views, true));
        const [z1, z2] = tf.split(zAfter, 2, 0) as [tf.Tensor2D, tf.Tensor2D];
        return ntXent(z1, z2, { temperature, normalize });
      });
    } finally {
      statistics.forEach((v, k) => v.assign(saved[k]));
    }
    kept.push(after);
    const [lossAfter] = await after.data();

    // copies: on the cpu backend data() can hand out a tensor's own storage (shared by z and h when g is the identity),
    // and each array must be a buffer of its own to be transferred to the page
    const read = async (t: tf.Tensor) => Float32Array.from((await t.data()) as Float32Array);
    const geometry = batchGeometry(z!);
    kept.push(geometry);
    const [sValues, viewValues, hValues, zValues, metricValues, geometryValues] = await Promise.all([
      read(s!), read(views), read(h!), read(z!), read(metrics!), read(geometry),
    ]);
    const { loss: anchorLoss, logDenominator } = anchorLosses(sValues, 2 * n, temperature);
    const hDim = h!.shape[1];
    const zDim = z!.shape[1];
    const ms = performance.now() - started;
    tf.dispose(kept);
    kept.length = 0;
    const memory = tf.memory();
    return {
      requestId,
      n,
      step: run.step,
      temperature,
      normalized: normalize,
      learningRate,
      operators: augmentation.operators.filter((op) => op.enabled).map((op) => op.kind),
      indices,
      labels: indices.map((i) => train.labels[i] ?? -1),
      sourceSize,
      channels,
      originals,
      viewSize: imageSize,
      views: viewValues,
      hDim,
      zDim,
      h: hValues,
      z: zValues,
      s: sValues,
      anchorLoss,
      logDenominator,
      lossBefore,
      lossAfter,
      gradientNorm,
      metrics: {
        step: run.step,
        loss: lossBefore,
        positiveSimilarity: metricValues[0],
        negativeSimilarity: metricValues[1],
        contrastiveAccuracy: metricValues[2],
        stepMs: ms,
        imagesPerSecond: (n * 1000) / ms,
        batchSize: n,
        lossPath: 'composed', // the walkthrough shows every s_ij and ℓ, so it takes the op-composed loss
        tensors: memory.numTensors,
        tensorBytes: memory.numBytes,
        alignment: geometryValues[0],
        uniformity: geometryValues[1],
        collapseStd: geometryValues[2],
      },
    };
  } finally {
    tf.dispose(kept);
  }
}
