/**
 * Browser checks of the batch-norm + ReLU and pooling kernels
 * (src/model/kernels/batchNormRelu.ts, pooling.ts), run by checks.html:
 *   ?check=normpool-kernels  each kernel on webgpu against the stock tfjs
 *     composition on webgpu and on the cpu backend, forward and every gradient;
 *     cases= B:H:W:C[:offset], comma-separated (offset: added to x, a mean far from 0)
 *   ?check=normpool-timing  stock vs ours, median ms forward and forward + backward,
 *     at the default config's block outputs for views= (default 128); repeats=, warmup=,
 *     impls= (stock,ours), kernels= (batchNormStatistics,batchNormRelu,maxPool2x2,globalAveragePool)
 */
import * as tf from '@tensorflow/tfjs';
import { createRng, normal, type Rng } from '../core/random';
import { batchNormRelu, batchNormStatistics } from '../model/kernels/batchNormRelu';
import { globalAveragePool, maxPool2x2 } from '../model/kernels/pooling';
import { relativeError } from './relativeError';

/** The encoder's batch-norm ε (src/model/encoderNetwork.ts). */
const EPSILON = 1e-5;

export interface NormPoolCase {
  batch: number;
  height: number;
  width: number;
  channels: number;
  /** added to every x of the batch norm: its mean is then about this far from 0 */
  offset: number;
}

/** "64:28:28:8:100" → { batch: 64, height: 28, width: 28, channels: 8, offset: 100 } */
export function parseNormPoolCases(text: string): NormPoolCase[] {
  return text.split(',').map((item) => {
    const [batch, height, width, channels, offset = 0] = item.split(':').map(Number);
    return { batch, height, width, channels, offset };
  });
}

/**
 * The default cases: batch 1, odd sizes (7, 5, 3, 1, 3×5), C not a multiple of
 * 4 (1, 3, 5, 6), the encoder's 16/28/32 px blocks at a small batch, a large
 * M = 64·28·28, and means far from 0 (offset 100).
 */
export const DEFAULT_NORMPOOL_CASES =
  '1:7:7:3,2:5:5:5,3:3:5:6,1:1:1:1,4:1:1:4,2:16:16:4,2:28:28:8,2:32:32:4,2:14:14:16,2:7:7:6:100,64:28:28:8:100';

/** Seeded N(0, 1) values. */
function normals(rng: Rng, count: number, scale = 1, shift = 0): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = shift + scale * normal(rng);
  return out;
}

/** One case's inputs as plain arrays, so each backend gets its own copy. */
interface CaseData {
  shape: [number, number, number, number];
  pooledShape: [number, number, number, number];
  x: Float32Array;
  gamma: Float32Array;
  beta: Float32Array;
  runningStatistics: Float32Array;
  dy: Float32Array;
  poolX: Float32Array;
  poolDy: Float32Array;
  averageDy: Float32Array;
}

/**
 * How near the ReLU's kink, in units of y, no pre-activation γ·x̂ + β may lie.
 * Where it is within float32 rounding of 0, whether dy passes is decided by
 * rounding, and each implementation rounds its own way: at a mean of 100
 * stock tfjs on webgpu and on cpu then disagree by 6–12% in dx (a few
 * elements whose whole gradient one passes and the other does not). Inputs
 * kept 10⁻³ away (rounding errors there are about 10⁻⁵) compare the kernels,
 * not the coin flips.
 */
const KINK_MARGIN = 1e-3;

/** Moves each x whose pre-activation (training or inference statistics, in float64) lies within KINK_MARGIN of 0 out of that band. */
function keepAwayFromKink(x: Float32Array, channels: number, gamma: Float32Array, beta: Float32Array, running: Float32Array): void {
  const rows = x.length / channels;
  for (let pass = 0; pass < 4; pass++) {
    const mean = new Float64Array(channels);
    const variance = new Float64Array(channels);
    for (let i = 0; i < x.length; i++) mean[i % channels] += x[i] / rows;
    for (let i = 0; i < x.length; i++) variance[i % channels] += (x[i] - mean[i % channels]) ** 2 / rows;
    let moved = 0;
    for (let i = 0; i < x.length; i++) {
      const c = i % channels;
      for (const [mu, sigma2] of [[mean[c], variance[c]], [running[c], running[channels + c]]]) {
        const std = Math.sqrt(sigma2 + EPSILON);
        const z = (gamma[c] * (x[i] - mu)) / std + beta[c];
        if (Math.abs(z) < KINK_MARGIN) {
          // dz/dx = γ/std: step x so that z moves 2·margin further in its own direction
          x[i] += (Math.sign(z || 1) * Math.sign(gamma[c]) * 2 * KINK_MARGIN * std) / Math.abs(gamma[c]);
          moved++;
        }
      }
    }
    if (moved === 0) return;
  }
}

function caseData(c: NormPoolCase, seed: number): CaseData {
  const rng = createRng(seed);
  const { batch: b, height: h, width: w, channels: ch } = c;
  const size = b * h * w * ch;
  // channels of different means and spreads: x = offset + shift_c + spread_c·N(0, 1)
  const shifts = normals(rng, ch);
  const spreads = Float32Array.from({ length: ch }, () => 0.5 + 1.5 * rng());
  const x = new Float32Array(size);
  for (let i = 0; i < size; i++) x[i] = c.offset + shifts[i % ch] + spreads[i % ch] * normal(rng);
  const runningStatistics = new Float32Array(2 * ch);
  for (let k = 0; k < ch; k++) {
    runningStatistics[k] = c.offset + shifts[k] + 0.3 * normal(rng);
    runningStatistics[ch + k] = spreads[k] * spreads[k] * (0.5 + rng());
  }
  // γ = 1 + 0.3·N(0, 1), kept at least 0.2 from 0
  const gamma = normals(rng, ch, 0.3, 1).map((g) => (Math.abs(g) < 0.2 ? Math.sign(g || 1) * 0.2 : g));
  const beta = normals(rng, ch, 0.3);
  keepAwayFromKink(x, ch, gamma, beta, runningStatistics);
  const pooledShape: [number, number, number, number] = [b, Math.ceil(h / 2), Math.ceil(w / 2), ch];
  return {
    shape: [b, h, w, ch],
    pooledShape,
    x,
    gamma,
    beta,
    runningStatistics,
    dy: normals(rng, size),
    // continuous values: no ties inside a window (tfjs's webgpu and cpu break ties differently)
    poolX: normals(rng, size),
    poolDy: normals(rng, pooledShape.reduce((a, v) => a * v, 1)),
    averageDy: normals(rng, b * ch),
  };
}

type Outputs = Record<string, Float32Array>;

/** Kernels under comparison: the stock tfjs compositions, or ours. */
interface Implementation {
  statistics(x: tf.Tensor4D): tf.Tensor;
  batchNormRelu(x: tf.Tensor4D, statistics: tf.Tensor2D | null, gamma: tf.Tensor1D, beta: tf.Tensor1D): tf.Tensor;
  maxPool(x: tf.Tensor4D): tf.Tensor;
  averagePool(x: tf.Tensor4D): tf.Tensor;
}

/** tf.relu(tf.batchNorm(…)) with tf.moments (statistics null: the batch's own), tf.maxPool, tf.mean. */
const STOCK: Implementation = {
  statistics: (x) => {
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    return tf.stack([mean, variance]);
  },
  batchNormRelu: (x, statistics, gamma, beta) => {
    if (statistics === null) {
      const { mean, variance } = tf.moments(x, [0, 1, 2]);
      return tf.relu(tf.batchNorm(x, mean, variance, beta, gamma, EPSILON));
    }
    const [mean, variance] = tf.unstack(statistics) as tf.Tensor1D[];
    return tf.relu(tf.batchNorm(x, mean, variance, beta, gamma, EPSILON));
  },
  maxPool: (x) => tf.maxPool(x, 2, 2, 'same'),
  averagePool: (x) => tf.mean(x, [1, 2]),
};

const OURS: Implementation = {
  statistics: (x) => batchNormStatistics(x),
  batchNormRelu: (x, statistics, gamma, beta) =>
    statistics === null
      ? batchNormRelu(x, batchNormStatistics(x), gamma, beta, EPSILON, true)
      : batchNormRelu(x, statistics, gamma, beta, EPSILON, false),
  maxPool: (x) => maxPool2x2(x),
  averagePool: (x) => globalAveragePool(x),
};

/** Every forward output and gradient of one implementation on the active backend, read back. */
async function outputsOf(impl: Implementation, d: CaseData): Promise<Outputs> {
  const tensors = tf.tidy(() => {
    const x = tf.tensor4d(d.x, d.shape);
    const gamma = tf.tensor1d(d.gamma);
    const beta = tf.tensor1d(d.beta);
    const running = tf.tensor2d(d.runningStatistics, [2, d.shape[3]]);
    const dy = tf.tensor4d(d.dy, d.shape);
    const poolX = tf.tensor4d(d.poolX, d.shape);
    const poolDy = tf.tensor4d(d.poolDy, d.pooledShape);
    const averageDy = tf.tensor2d(d.averageDy, [d.shape[0], d.shape[3]]);
    // ties: after a ReLU about half the values are 0, so many windows hold several maxima
    const rectified = tf.relu(poolX) as tf.Tensor4D;
    // mean and variance apart: with the mean at 100, an error in the variance would hide under the mean's scale
    const [mean, variance] = tf.split(impl.statistics(x), 2);
    const out: Record<string, tf.Tensor> = { 'statistics.mean': mean, 'statistics.variance': variance };
    for (const [mode, statistics] of [['training', null], ['inference', running]] as const) {
      const bn = (xs: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
        impl.batchNormRelu(xs as tf.Tensor4D, statistics, g as tf.Tensor1D, b as tf.Tensor1D);
      out[`${mode}.y`] = bn(x, gamma, beta);
      const [dx, dGamma, dBeta] = tf.grads((xs: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(bn(xs, g, b), dy)))([x, gamma, beta]);
      Object.assign(out, { [`${mode}.dx`]: dx, [`${mode}.dGamma`]: dGamma, [`${mode}.dBeta`]: dBeta });
    }
    out['maxPool.y'] = impl.maxPool(poolX);
    out['maxPool.dx'] = tf.grads((xs: tf.Tensor) => tf.sum(tf.mul(impl.maxPool(xs as tf.Tensor4D), poolDy)))([poolX])[0];
    out['maxPoolTies.y'] = impl.maxPool(rectified);
    out['maxPoolTies.dx'] = tf.grads((xs: tf.Tensor) => tf.sum(tf.mul(impl.maxPool(xs as tf.Tensor4D), poolDy)))([rectified])[0];
    out['averagePool.y'] = impl.averagePool(poolX);
    out['averagePool.dx'] = tf.grads((xs: tf.Tensor) => tf.sum(tf.mul(impl.averagePool(xs as tf.Tensor4D), averageDy)))([poolX])[0];
    return out;
  });
  const outputs: Outputs = {};
  for (const [key, t] of Object.entries(tensors)) outputs[key] = (await t.data()) as Float32Array;
  tf.dispose(Object.values(tensors));
  return outputs;
}

/** Our statistics gradient: zeros by contract (the training formula carries the path through μ, σ²). */
async function statisticsGradientMaxAbs(d: CaseData): Promise<number> {
  const gradient = tf.tidy(() => {
    const x = tf.tensor4d(d.x, d.shape);
    const gamma = tf.tensor1d(d.gamma);
    const beta = tf.tensor1d(d.beta);
    const statistics = batchNormStatistics(x);
    return tf.grads((s: tf.Tensor) => tf.sum(batchNormRelu(x, s as tf.Tensor2D, gamma, beta, EPSILON, true)))([statistics])[0];
  });
  const values = Array.from(await gradient.data());
  gradient.dispose();
  return values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
}

async function useBackend(name: string): Promise<void> {
  if (!(await tf.setBackend(name))) throw new Error(`backend ${name} is not available in this browser`);
  await tf.ready();
}

/**
 * Per case: for every output (statistics μ and σ²; y, dx, dγ, dβ in training and in
 * inference; max-pool y, dx, also on inputs with ties; average-pool y, dx)
 * max |Δ| / max |ref| of ours (webgpu) against stock tfjs on webgpu and on cpu,
 * and stock webgpu's own against cpu for scale; tensors leaked.
 */
export async function normPoolAccuracy(cases: NormPoolCase[], seed: number) {
  await useBackend('webgpu');
  const rows = [];
  for (const [index, c] of cases.entries()) {
    const d = caseData(c, seed + 101 * index);
    const before = tf.memory().numTensors;
    await useBackend('cpu');
    const cpu = await outputsOf(STOCK, d);
    await useBackend('webgpu');
    const stock = await outputsOf(STOCK, d);
    const ours = await outputsOf(OURS, d);
    const statisticsGradient = await statisticsGradientMaxAbs(d);
    const leakedTensors = tf.memory().numTensors - before;
    const errors: Record<string, { webgpu: number; cpu: number; stockWebgpuVsCpu: number }> = {};
    for (const key of Object.keys(cpu)) {
      errors[key] = { webgpu: relativeError(ours[key], stock[key]), cpu: relativeError(ours[key], cpu[key]), stockWebgpuVsCpu: relativeError(stock[key], cpu[key]) };
    }
    rows.push({ case: `${c.batch}:${c.height}:${c.width}:${c.channels}:${c.offset}`, ...c, errors, statisticsGradientMaxAbs: statisticsGradient, leakedTensors });
  }
  return rows;
}

export async function normPoolKernelsCheck(params: URLSearchParams) {
  const seed = Number(params.get('seed') ?? 1);
  const cases = parseNormPoolCases(params.get('cases') ?? DEFAULT_NORMPOOL_CASES);
  return { check: 'normpool-kernels', seed, rows: await normPoolAccuracy(cases, seed) };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/**
 * ms of one `run` (inside tf.tidy, its outputs waited for by reading back one
 * element of each: the queue runs in order, so that waits for all of the work
 * without timing a large copy).
 */
async function timeOnce(run: () => tf.Tensor[]): Promise<number> {
  const t0 = performance.now();
  const corners = tf.tidy(() => run().map((t) => tf.slice(t, t.shape.map(() => 0), t.shape.map(() => 1))));
  await Promise.all(corners.map((t) => t.data()));
  const ms = performance.now() - t0;
  tf.dispose(corners);
  return ms;
}

/**
 * Median (and least) ms of each of `runs`, after `warmup` untimed rounds; the runs take
 * turns within each round, so that a load that comes and goes on a shared
 * machine falls on all of them alike.
 */
async function medianMsAlternating(
  runs: Record<string, () => tf.Tensor[]>,
  repeats: number,
  warmup: number,
): Promise<Record<string, { median: number; min: number }>> {
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(runs).map((name) => [name, []]));
  for (let round = 0; round < warmup + repeats; round++) {
    for (const [name, run] of Object.entries(runs)) {
      const ms = await timeOnce(run);
      if (round >= warmup) times[name].push(ms);
    }
  }
  return Object.fromEntries(Object.entries(times).map(([name, values]) => [name, { median: median(values), min: Math.min(...values) }]));
}

/**
 * Stock vs ours at the default config's block outputs [V,28,28,32],
 * [V,14,14,64], [V,7,7,128], [V,4,4,256]: the batch statistics and batch norm
 * + ReLU (training mode, statistics included) at each, max-pool at the first
 * three, the global average pool at the last; median ms of the forward and of
 * forward + backward (tf.grads with dy, as in a training step), and stock/ours.
 * `impls` picks stock and/or ours; `kernels` a subset by name.
 */
export async function normPoolTiming(views: number, repeats: number, warmup: number, seed: number, impls = ['stock', 'ours'], kernelNames?: string[]) {
  await useBackend('webgpu');
  const shapes: [number, number, number, number][] = [
    [views, 28, 28, 32],
    [views, 14, 14, 64],
    [views, 7, 7, 128],
    [views, 4, 4, 256],
  ];
  const implementations = Object.entries({ stock: STOCK, ours: OURS }).filter(([name]) => impls.includes(name));
  const rng = createRng(seed);
  const rows = [];
  const before = tf.memory().numTensors;
  for (const [index, shape] of shapes.entries()) {
    const channels = shape[3];
    const size = shape.reduce((a, v) => a * v, 1);
    const x = tf.tensor4d(normals(rng, size), shape);
    const dy = tf.tensor4d(normals(rng, size), shape);
    const gamma = tf.tensor1d(normals(rng, channels, 0.3, 1));
    const beta = tf.tensor1d(normals(rng, channels, 0.3));
    const pooledShape = [shape[0], Math.ceil(shape[1] / 2), Math.ceil(shape[2] / 2), channels];
    const poolDy = tf.tensor(normals(rng, pooledShape.reduce((a, v) => a * v, 1)), pooledShape);
    const averageDy = tf.tensor2d(normals(rng, shape[0] * channels), [shape[0], channels]);
    type Forward = (impl: Implementation, xs: tf.Tensor4D, g: tf.Tensor1D, b: tf.Tensor1D) => tf.Tensor;
    type Kernel = { kernel: string; forward: Forward; dy: tf.Tensor | null; inputs: tf.Tensor[] };
    const candidates: Kernel[] = [
      { kernel: 'batchNormStatistics', forward: (impl, xs) => impl.statistics(xs), dy: null, inputs: [x] },
      { kernel: 'batchNormRelu', forward: (impl, xs, g, b) => impl.batchNormRelu(xs, null, g, b), dy, inputs: [x, gamma, beta] },
    ];
    if (index < 3) candidates.push({ kernel: 'maxPool2x2', forward: (impl, xs) => impl.maxPool(xs), dy: poolDy, inputs: [x] });
    if (index === 3) candidates.push({ kernel: 'globalAveragePool', forward: (impl, xs) => impl.averagePool(xs), dy: averageDy, inputs: [x] });
    const kernels = candidates.filter((k) => !kernelNames || kernelNames.includes(k.kernel));
    for (const k of kernels) {
      const forwardOf = (impl: Implementation) => (...xs: tf.Tensor[]) =>
        k.forward(impl, xs[0] as tf.Tensor4D, (xs[1] ?? gamma) as tf.Tensor1D, (xs[2] ?? beta) as tf.Tensor1D);
      const forwardMs = await medianMsAlternating(
        Object.fromEntries(implementations.map(([name, impl]) => [name, () => [forwardOf(impl)(...k.inputs)]])),
        repeats,
        warmup,
      );
      const gradientDy = k.dy;
      const forwardBackwardMs = gradientDy
        ? await medianMsAlternating(
            Object.fromEntries(implementations.map(([name, impl]) => [name, () => tf.grads(forwardOf(impl))(k.inputs, gradientDy)])),
            repeats,
            warmup,
          )
        : null;
      const timesOf = (name: string) => ({
        forwardMs: forwardMs[name].median,
        forwardMinMs: forwardMs[name].min,
        ...(forwardBackwardMs
          ? {
              forwardBackwardMs: forwardBackwardMs[name].median,
              forwardBackwardMinMs: forwardBackwardMs[name].min,
              backwardMs: forwardBackwardMs[name].median - forwardMs[name].median,
            }
          : {}),
      });
      const both = impls.includes('stock') && impls.includes('ours');
      rows.push({
        kernel: k.kernel,
        shape,
        ...Object.fromEntries(implementations.map(([name]) => [name, timesOf(name)])),
        ...(both
          ? {
              forwardSpeedup: forwardMs.stock.median / forwardMs.ours.median,
              ...(forwardBackwardMs ? { forwardBackwardSpeedup: forwardBackwardMs.stock.median / forwardBackwardMs.ours.median } : {}),
            }
          : {}),
      });
    }
    tf.dispose([x, dy, gamma, beta, poolDy, averageDy]);
  }
  return { rows, leakedTensors: tf.memory().numTensors - before };
}

export async function normPoolTimingCheck(params: URLSearchParams) {
  const views = Number(params.get('views') ?? 128);
  const repeats = Number(params.get('repeats') ?? 5);
  const warmup = Number(params.get('warmup') ?? 2);
  const seed = Number(params.get('seed') ?? 1);
  const impls = (params.get('impls') ?? 'stock,ours').split(',');
  const kernels = params.get('kernels')?.split(',');
  return { check: 'normpool-timing', views, repeats, warmup, ...(await normPoolTiming(views, repeats, warmup, seed, impls, kernels)) };
}
