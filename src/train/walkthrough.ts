/**
 * Lecture mode: one small minibatch through a method's Algorithm 1, every
 * intermediate kept as plain numbers so the page can show it line by line.
 * SimCLR's, with every s_ij and per-anchor ℓ:
 *
 *   for sampled minibatch {x_k}, k = 1…N
 *     draw t ~ T, t′ ~ T;  x̃ = t(x_k), t′(x_k);  h = f(x̃);  z = g(h)
 *     s_ij = z_iᵀz_j / (‖z_i‖‖z_j‖)
 *     ℓ(i, j) = −log exp(s_ij/τ) / Σ_{k≠i} exp(s_ik/τ)
 *     L = 1/(2N) Σ_k [ℓ(2k−1, 2k) + ℓ(2k, 2k−1)]
 *     update f and g to minimize L
 *
 * The other methods' (their catalog `algorithm`) have the same shape: views,
 * z, the method's own matrix (MoCo's [l_pos, l_neg], the bank's v·Vᵀ, Barlow
 * Twins' C, BYOL's and SimSiam's predictions against targets), its loss, the
 * update, and what the method updates after it (EMA, enqueue, bank write),
 * whose numbers are the step's after-update metrics.
 *
 * The numbers come from the run's own model, data, augmentation pipeline and
 * optimizer: the update is real (it counts as one step of the run), and L is
 * measured again on the same views afterwards, with everything the step
 * changed (weights, and the queue, bank or target network). Views are
 * concatenated, not interleaved as in the paper (rows 0…N−1 are t(x_k),
 * N…2N−1 are t′(x_k)), the same convention as src/loss/ntxent.ts and the
 * affinity heatmap.
 */
import * as tf from '@tensorflow/tfjs';
import { augmentViews } from '../augment/augmentViews';
import type { Rng } from '../core/random';
import type { ImageDataset } from '../data/dataset';
import { anchorLosses } from '../loss/ntxentReference';
import { METHOD_CATALOG, METHOD_SETTING_DEFAULTS, type MethodId, type MethodSettings } from '../core/methods';
import type { MethodBatch } from '../methods/method';
import { methodMatrixSnapshot, NonFiniteLossError, type StepOutcome } from './trainer';
import type { ExperimentConfig } from '../core/config';
import { WALKTHROUGH_MAX_N, WALKTHROUGH_MIN_N, type WalkthroughResult } from './protocol';

/** What the walkthrough needs of a run (Trainer): its step count, its training step and a loss measured without a step. */
export interface WalkthroughRun {
  readonly step: number;
  readonly method: { readonly id: MethodId };
  runStep(batch: MethodBatch, options: { capture: boolean; lossPath: 'composed'; gradientNorm: boolean; started: number }): Promise<StepOutcome>;
  measureLoss(batch: MethodBatch): Promise<number>;
}

export type WalkthroughSettings = Pick<
  ExperimentConfig, 'temperature' | 'normalize' | 'augmentation' | 'imageSize' | 'learningRate' | keyof MethodSettings
>;

/** The methods' own settings out of the run's config. */
function methodSettings(settings: WalkthroughSettings): MethodSettings {
  const keys = Object.keys(METHOD_SETTING_DEFAULTS) as (keyof MethodSettings)[];
  return Object.fromEntries(keys.map((key) => [key, settings[key]])) as unknown as MethodSettings;
}

/** What the user reads when the batch's loss is not finite, with what to change. */
function nonFiniteMessage(id: MethodId, settings: WalkthroughSettings): string {
  const { temperature, normalize } = settings;
  if (id === 'simclr') {
    return `The NT-Xent loss of this batch is not finite (τ = ${temperature}, L2 normalization ${normalize ? 'on' : 'off'}), so no update was applied. ` +
      'Raise τ or turn normalization on, then press Reset.';
  }
  const entry = METHOD_CATALOG[id];
  const tau = entry.settings.includes('temperature') ? `, τ = ${temperature}` : '';
  return `The ${entry.lossName} of this batch is not finite (${entry.label}${tau}), so no update was applied. ` +
    `Lower the learning rate${tau ? ' or raise τ' : ''}, then press Reset.`;
}

/** N distinct training indices drawn from `rng`, in the order drawn. */
function drawIndices(rng: Rng, n: number, count: number): number[] {
  const chosen = new Set<number>();
  while (chosen.size < n) chosen.add(Math.floor(rng() * count));
  return [...chosen];
}

/**
 * Walks N (4…8) training images of `dataset` through the run's method's
 * Algorithm 1 with the run's model, applies one optimizer update (and the
 * method's after-update) on exactly these views, and measures L on them
 * again. Throws, without updating, when L is not finite. Every tensor it makes
 * is disposed before it returns or throws.
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
  const id = run.method.id;
  const method = METHOD_CATALOG[id];
  if (!method.walkthrough) {
    throw new Error(`${method.label} has no step-by-step walkthrough yet. Pick another method to use it.`);
  }
  const { temperature, normalize, augmentation, imageSize, learningRate } = settings;
  const { imageSize: sourceSize, channels, train } = dataset;
  const n = Math.min(Math.max(Math.round(batchSize), WALKTHROUGH_MIN_N), WALKTHROUGH_MAX_N, train.count);
  if (n < 2) throw new Error(`The walkthrough needs at least 2 training images; “${dataset.name}” has ${train.count}.`);

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

  const batch = { views, indices: Int32Array.from(indices), n };
  const kept: tf.Tensor[] = [views];
  try {
    // h = f(x̃), z = g(h), the method's matrix and loss, ∇L, the update and the method's after-update: the training
    // step itself, with the op-composed loss (the walkthrough shows every s_ij and ℓ) and everything kept to be shown
    let outcome: StepOutcome;
    try {
      outcome = await run.runStep(batch, { capture: true, lossPath: 'composed', gradientNorm: true, started });
    } catch (error) {
      if (!(error instanceof NonFiniteLossError)) throw error;
      throw new Error(nonFiniteMessage(id, settings));
    }
    const { z, h, matrix, matrixInfo } = outcome.captured!;
    kept.push(...[z, h, matrix].filter((t): t is tf.Tensor2D => t !== undefined));
    const lossBefore = outcome.metrics.loss;

    // L again on the same views, after the update; measuring it moves nothing
    const lossAfter = await run.measureLoss(batch);

    // copies: on the cpu backend data() can hand out a tensor's own storage (shared by z and h when g is the identity),
    // and each array must be a buffer of its own to be transferred to the page
    const read = async (t: tf.Tensor) => Float32Array.from((await t.data()) as Float32Array);
    const [viewValues, zValues] = await Promise.all([read(views), read(z)]);
    const common = {
      requestId,
      n,
      step: run.step,
      temperature,
      normalized: normalize,
      learningRate,
      trainCount: train.count,
      operators: augmentation.operators.filter((op) => op.enabled).map((op) => op.kind),
      indices,
      labels: indices.map((i) => train.labels[i] ?? -1),
      sourceSize,
      channels,
      originals,
      viewSize: imageSize,
      views: viewValues,
      zDim: z.shape[1],
      z: zValues,
      lossBefore,
      lossAfter,
      gradientNorm: outcome.gradientNorm!,
      // the update as a step of the run's history (its loss is L before the update, as for any step)
      metrics: outcome.metrics,
    };

    if (id === 'simclr') {
      const [sValues, hValues] = await Promise.all([read(matrix!), read(h!)]);
      const { loss: anchorLoss, logDenominator } = anchorLosses(sValues, 2 * n, temperature);
      return { ...common, method: id, hDim: h!.shape[1], h: hValues, s: sValues, anchorLoss, logDenominator };
    }
    // the method's own matrix as its panel on the page gets it, dated like a training step's: after the update
    const ownMatrix = matrix && matrixInfo
      ? await methodMatrixSnapshot(matrix, matrixInfo, { step: run.step, method: id, n, temperature })
      : null;
    return {
      ...common,
      method: id,
      settings: methodSettings(settings),
      hDim: h ? h.shape[1] : 0,
      ...(h ? { h: await read(h) } : {}),
      ownMatrix,
    };
  } finally {
    tf.dispose(kept);
  }
}
