/**
 * The linear probe of linearProbe.ts fitted in plain JavaScript, in float64,
 * on features already read back from the device: the same objective
 *   L(W, b) = mean_i CE(onehot(y_i), x̂_i W + b) + l2 · ‖W‖²,
 * the same standardization, the same Adam (β1 0.9, β2 0.999, ε 1e-7, as
 * tf.train.adam) and the same cosine-decayed step size, with the gradients
 * written out:
 *   P = softmax(x̂ W + b),  G = (P − Y) / n,
 *   ∂L/∂W = x̂ᵀ G + 2·l2·W,  ∂L/∂b = Σ_i G_i.
 * Why: a probe is a few hundred tiny full-batch steps. On a GPU each step is
 * some forty kernel launches of microseconds of work, so launch latency, not
 * arithmetic, sets its time; on a CPU emulation of a GPU (SwiftShader) each
 * launch costs milliseconds and a 100-step probe on 300 images took 10 s.
 * Here the same fit of n·d·K·T = 300·32·10·100 multiply-adds takes a few ms.
 */
import type { ProbeOptions, ProbeResult } from './linearProbe';

/** Iterations between yields to the event loop (and progress calls), so a worker stays responsive to messages. */
const YIELD_EVERY = 50;
/** Floor on the per-feature std: constant features become 0 rather than NaN (as in linearProbe.ts). */
const STD_FLOOR = 1e-6;
const BETA1 = 0.9;
const BETA2 = 0.999;
/** tfjs's float32 epsilon, which tf.train.adam uses by default. */
const ADAM_EPSILON = 1e-7;

export interface FeatureMatrix {
  /** row-major n × d */
  values: ArrayLike<number>;
  n: number;
  d: number;
}

/** Column means and population standard deviations (floored) of a row-major n × d matrix. */
export function columnMoments(x: FeatureMatrix): { mean: Float64Array; std: Float64Array } {
  const { values, n, d } = x;
  const mean = new Float64Array(d);
  const std = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += values[i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= n;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const c = values[i * d + j] - mean[j];
      std[j] += c * c;
    }
  }
  for (let j = 0; j < d; j++) std[j] = Math.max(Math.sqrt(std[j] / n), STD_FLOOR);
  return { mean, std };
}

function standardize(x: FeatureMatrix, mean: Float64Array, std: Float64Array): Float64Array {
  const { values, n, d } = x;
  const out = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) out[i * d + j] = (values[i * d + j] - mean[j]) / std[j];
  return out;
}

/** logits = x̂ W + b for every row, row-major n × K. */
function logitsOf(x: Float64Array, n: number, d: number, W: Float64Array, b: Float64Array, K: number, out: Float64Array): void {
  for (let i = 0; i < n; i++) {
    const row = i * K;
    for (let k = 0; k < K; k++) out[row + k] = b[k];
    for (let j = 0; j < d; j++) {
      const xij = x[i * d + j];
      if (xij === 0) continue;
      const w = j * K;
      for (let k = 0; k < K; k++) out[row + k] += xij * W[w + k];
    }
  }
}

/** Mean cross-entropy plus the penalty, and the gradients into gW and gb. */
function lossAndGradients(
  x: Float64Array, labels: Int32Array, n: number, d: number, K: number, l2: number,
  W: Float64Array, b: Float64Array, gW: Float64Array, gb: Float64Array, scratch: Float64Array,
): number {
  logitsOf(x, n, d, W, b, K, scratch);
  let loss = 0;
  gW.fill(0);
  gb.fill(0);
  for (let i = 0; i < n; i++) {
    const row = i * K;
    const labelLogit = scratch[row + labels[i]];
    let max = -Infinity;
    for (let k = 0; k < K; k++) max = Math.max(max, scratch[row + k]);
    let sum = 0;
    for (let k = 0; k < K; k++) {
      const e = Math.exp(scratch[row + k] - max);
      scratch[row + k] = e;
      sum += e;
    }
    loss += Math.log(sum) + max - labelLogit;
    // G_i = (p_i − onehot(y_i)) / n, left in scratch
    for (let k = 0; k < K; k++) scratch[row + k] = (scratch[row + k] / sum - (k === labels[i] ? 1 : 0)) / n;
    for (let k = 0; k < K; k++) gb[k] += scratch[row + k];
    for (let j = 0; j < d; j++) {
      const xij = x[i * d + j];
      if (xij === 0) continue;
      const w = j * K;
      for (let k = 0; k < K; k++) gW[w + k] += xij * scratch[row + k];
    }
  }
  let penalty = 0;
  for (let p = 0; p < W.length; p++) {
    penalty += W[p] * W[p];
    gW[p] += 2 * l2 * W[p];
  }
  return loss / n + l2 * penalty;
}

function accuracy(x: Float64Array, labels: Int32Array, n: number, d: number, W: Float64Array, b: Float64Array, K: number): number {
  const logits = new Float64Array(n * K);
  logitsOf(x, n, d, W, b, K, logits);
  let correct = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (logits[i * K + k] > logits[i * K + best]) best = k;
    if (best === labels[i]) correct++;
  }
  return correct / n;
}

/** One Adam update of `param` in place (tf.train.adam's rule with bias correction at step t ≥ 1). */
function adamUpdate(param: Float64Array, grad: Float64Array, m: Float64Array, v: Float64Array, t: number, lr: number): void {
  const c1 = 1 - BETA1 ** t;
  const c2 = 1 - BETA2 ** t;
  for (let p = 0; p < param.length; p++) {
    m[p] = BETA1 * m[p] + (1 - BETA1) * grad[p];
    v[p] = BETA2 * v[p] + (1 - BETA2) * grad[p] * grad[p];
    param[p] -= (lr * (m[p] / c1)) / (ADAM_EPSILON + Math.sqrt(v[p] / c2));
  }
}

/**
 * Fits the probe on (train, trainLabels) and scores it on (test, testLabels).
 * Inputs are validated by the caller (fitLinearProbe); options are complete.
 */
export async function fitLinearProbeArrays(
  train: FeatureMatrix, trainLabels: Int32Array, test: FeatureMatrix, testLabels: Int32Array, numClasses: number,
  options: ProbeOptions,
): Promise<ProbeResult> {
  const { n, d } = train;
  const K = numClasses;
  const { mean, std } = columnMoments(train);
  const xTrain = standardize(train, mean, std);
  const xTest = standardize(test, mean, std);
  const W = new Float64Array(d * K);
  const b = new Float64Array(K);
  const gW = new Float64Array(d * K);
  const gb = new Float64Array(K);
  const mW = new Float64Array(d * K);
  const vW = new Float64Array(d * K);
  const mb = new Float64Array(K);
  const vb = new Float64Array(K);
  const scratch = new Float64Array(n * K);
  options.onProgress?.(0, options.epochs);
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    const lr = options.learningRate * 0.5 * (1 + Math.cos((Math.PI * epoch) / options.epochs));
    lossAndGradients(xTrain, trainLabels, n, d, K, options.l2, W, b, gW, gb, scratch);
    adamUpdate(W, gW, mW, vW, epoch + 1, lr);
    adamUpdate(b, gb, mb, vb, epoch + 1, lr);
    if ((epoch + 1) % YIELD_EVERY === 0) {
      options.onProgress?.(epoch + 1, options.epochs);
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }
  lossAndGradients(xTrain, trainLabels, n, d, K, options.l2, W, b, gW, gb, scratch);
  let squared = 0;
  for (const g of gW) squared += g * g;
  for (const g of gb) squared += g * g;
  return {
    trainAccuracy: accuracy(xTrain, trainLabels, n, d, W, b, K),
    testAccuracy: accuracy(xTest, testLabels, test.n, d, W, b, K),
    gradientNorm: Math.sqrt(squared),
  };
}
