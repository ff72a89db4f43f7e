/**
 * Browser checks of the fused WebGPU NT-Xent (src/loss/ntxent-fused.ts):
 * accuracy against the float64 reference, and timing against the
 * op-composed ntXent. Run by checks.html (e2e tests and npm run bench).
 */
import * as tf from '@tensorflow/tfjs';
import { createRng, normal } from '../core/random';
import { ntXent, ntXentWithMetrics } from '../loss/ntxent';
import { ntXentFused, ntXentFusedWithMetrics } from '../loss/ntxent-fused';
import { ntXentReference, ntXentReferenceGradient, referenceMetrics } from '../loss/ntxentReference';
import { generateSyntheticShapes } from '../data/syntheticShapes';
import { DEFAULT_CONFIG } from '../core/config';
import { Trainer } from '../train/trainer';
import { relativeError } from './relativeError';

export interface NtXentCase {
  twoN: number;
  dim: number;
  temperature: number;
  normalize: boolean;
}

/** Seeded N(0, 1) rows. */
function randomRows(seed: number, rows: number, dim: number): number[][] {
  const rng = createRng(seed);
  return Array.from({ length: rows }, () => Array.from({ length: dim }, () => normal(rng)));
}

/**
 * Fused loss, gradients and metrics on webgpu against the float64 reference,
 * for each case; also whether a zero row and an all-identical batch behave.
 */
export async function fusedAccuracy(cases: NtXentCase[], seed: number) {
  if (!(await tf.setBackend('webgpu'))) throw new Error('webgpu is not available in this browser');
  await tf.ready();
  const rows = [];
  for (const [index, c] of cases.entries()) {
    const n = c.twoN / 2;
    const z1Rows = randomRows(seed + index * 2, n, c.dim);
    const z2Rows = randomRows(seed + index * 2 + 1, n, c.dim);
    const opts = { temperature: c.temperature, normalize: c.normalize };
    const tensorsBefore = tf.memory().numTensors;
    const z1 = tf.tensor2d(z1Rows);
    const z2 = tf.tensor2d(z2Rows);
    const gradientOf = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) => ntXentFused(a as tf.Tensor2D, b as tf.Tensor2D, opts));
    const { value, grads } = gradientOf([z1, z2]);
    const out = ntXentFusedWithMetrics(z1, z2, opts);
    const [loss] = await value.data();
    const dz1 = await grads[0].data();
    const dz2 = await grads[1].data();
    const metrics = await out.metrics.data();
    tf.dispose([z1, z2, value, ...grads, out.loss, out.metrics]);
    const leaked = tf.memory().numTensors - tensorsBefore;

    const referenceLoss = ntXentReference(z1Rows, z2Rows, opts);
    const referenceGrad = ntXentReferenceGradient(z1Rows, z2Rows, opts);
    const expectedGrad = [...referenceGrad.dz1.flat(), ...referenceGrad.dz2.flat()];
    const actualGrad = [...dz1, ...dz2];
    const expectedMetrics = referenceMetrics(z1Rows, z2Rows, opts);
    rows.push({
      ...c,
      loss,
      referenceLoss,
      lossRelativeError: Math.abs(loss - referenceLoss) / Math.max(Math.abs(referenceLoss), 1e-30),
      gradientRelativeError: relativeError(actualGrad, expectedGrad),
      metricsMaxAbsError: Math.max(...expectedMetrics.map((m, i) => Math.abs(m - metrics[i]))),
      finite: Number.isFinite(loss) && actualGrad.every(Number.isFinite),
      leakedTensors: leaked,
    });
  }
  return rows;
}

/** The capture path: the matrix the fused pass returns equals the composed one. */
export async function fusedAffinityMatches(twoN: number, dim: number, seed: number) {
  await tf.setBackend('webgpu');
  const opts = { temperature: 0.5, normalize: true };
  const z1 = tf.tensor2d(randomRows(seed, twoN / 2, dim));
  const z2 = tf.tensor2d(randomRows(seed + 1, twoN / 2, dim));
  const fused = ntXentFusedWithMetrics(z1, z2, opts, { withAffinity: true });
  const composed = ntXentWithMetrics(z1, z2, opts);
  const affinityError = relativeError(await fused.affinityMatrix!.data(), await composed.affinityMatrix.data());
  const fusedMetrics = Array.from(await fused.metrics.data());
  const composedMetrics = Array.from(await composed.metrics.data());
  tf.dispose([z1, z2, fused.loss, fused.metrics, fused.affinityMatrix!, composed.loss, composed.metrics, composed.affinityMatrix]);
  // affinityMaxDiff: max |fused − composed| over max |composed| (the entries are cosines, so about 1)
  return { twoN, dim, affinityMaxDiff: affinityError, fusedMetrics, composedMetrics };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/**
 * Median ms of forward + backward (value and both gradients, read back) for
 * the fused and the op-composed loss on one backend, after `warmup` untimed runs.
 */
export async function ntxentTiming(backend: string, twoN: number, dim: number, repeats: number, seed: number, warmup = 1) {
  if (!(await tf.setBackend(backend))) return { backend, twoN, dim, error: 'not available' };
  await tf.ready();
  const opts = { temperature: 0.5, normalize: true };
  const z1 = tf.tensor2d(randomRows(seed, twoN / 2, dim));
  const z2 = tf.tensor2d(randomRows(seed + 1, twoN / 2, dim));
  const timeOf = async (loss: typeof ntXent) => {
    const step = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) => loss(a as tf.Tensor2D, b as tf.Tensor2D, opts));
    const once = async () => {
      const t0 = performance.now();
      const { value, grads } = step([z1, z2]);
      // reading a gradient waits for the whole forward + backward on the queue
      await Promise.all([value.data(), grads[0].data(), grads[1].data()]);
      const ms = performance.now() - t0;
      tf.dispose([value, ...grads]);
      return ms;
    };
    for (let w = 0; w < warmup; w++) await once(); // warm-up: shader compilation, buffer pools
    const times = [];
    for (let r = 0; r < repeats; r++) times.push(await once());
    return median(times);
  };
  const composedMs = await timeOf(ntXent);
  const fusedMs = backend === 'webgpu' ? await timeOf(ntXentFused) : null;
  tf.dispose([z1, z2]);
  return { backend, twoN, dim, fusedMs, composedMs, speedup: fusedMs ? composedMs / fusedMs : null, tensorsAfter: tf.memory().numTensors };
}

/**
 * The same seeded run twice on webgpu, once with the fused loss and once with
 * the op-composed one: the per-step losses should agree to float32 rounding.
 */
export async function fusedTrainingMatches(steps: number, seed: number) {
  if (!(await tf.setBackend('webgpu'))) throw new Error('webgpu is not available in this browser');
  await tf.ready();
  const dataset = generateSyntheticShapes({ seed, imageSize: 16, trainPerClass: 12, testPerClass: 2 });
  const config = { ...DEFAULT_CONFIG, seed, batchSize: 16, imageSize: 16, encoderWidth: 4, projectionDim: 32, learningRate: 0.003 };
  const lossesOf = async (fusedLoss: boolean) => {
    const trainer = new Trainer(dataset, { ...config, fusedLoss });
    const losses: number[] = [];
    const paths: string[] = [];
    for (let s = 0; s < steps; s++) {
      const metrics = await trainer.trainStep();
      losses.push(metrics.loss);
      paths.push(metrics.lossPath);
    }
    trainer.dispose();
    return { losses, paths };
  };
  const tensorsBefore = tf.memory().numTensors;
  const fused = await lossesOf(true);
  const composed = await lossesOf(false);
  const maxRelativeDiff = Math.max(...fused.losses.map((l, i) => Math.abs(l - composed.losses[i]) / Math.abs(composed.losses[i])));
  return { steps, fused, composed, maxRelativeDiff, leakedTensors: tf.memory().numTensors - tensorsBefore };
}
