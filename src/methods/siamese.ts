/**
 * Parts the negative-free siamese methods share (BYOL, SimSiam, Barlow
 * Twins): the predictor q, the stop-gradient, and the checkpoint state of
 * those that keep nothing beyond their trained variables.
 */
import * as tf from '@tensorflow/tfjs';
import { createRng, normal } from '../core/random';
import { METHOD_MATRIX_MAX_SIDE } from '../core/methods';
import { cosinePerRow, l2NormalizeRows } from '../loss/normalize';
import type { MatrixInfo, MethodState } from './method';
import { MethodStateReader } from './state';

/**
 * sg(x): x in the forward pass, no gradient in the backward pass (tfjs has no
 * stop-gradient op; a custom gradient of zeros is one). SimSiam's and BYOL's
 * target branch goes through it.
 */
const zeroGradient = tf.customGrad(((x: tf.Tensor) => ({
  value: tf.clone(x),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as unknown as Parameters<typeof tf.customGrad>[0]);

export function stopGradient<T extends tf.Tensor>(x: T): T {
  return zeroGradient(x) as T;
}

/** Makes each predictor's variable names unique (tfjs refuses a second variable of one name). */
let predictorCounter = 0;

/**
 * The predictor q: p = W₂ ReLU(BN(W₁ z)) + b₂, from d to a hidden layer and
 * back to d, with batch norm (batch statistics, learned γ, β) on the hidden
 * layer as in BYOL and SimSiam: it is part of what keeps SimSiam from
 * collapsing. q only runs in training, so it keeps no running statistics.
 * He-normal weights from the run's seed.
 */
export class Predictor {
  readonly variables: tf.Variable[];

  constructor(dim: number, hidden: number, seed: number) {
    const rng = createRng(seed ^ 0x9e3d);
    const he = (rows: number, cols: number) =>
      tf.tensor2d(Float32Array.from({ length: rows * cols }, () => normal(rng) * Math.sqrt(2 / rows)), [rows, cols]);
    // Named, not tfjs's default numeric names: a gradient map lists integer-like keys first, so unnamed, q's
    // variables would come before f's in Adam's moments, out of the trainableVariables order a checkpoint keeps them in.
    const prefix = `predictor${predictorCounter++}`;
    this.variables = tf.tidy(() => [
      tf.variable(he(dim, hidden), true, `${prefix}/w1`), tf.variable(tf.ones([hidden]), true, `${prefix}/bn/gamma`),
      tf.variable(tf.zeros([hidden]), true, `${prefix}/bn/beta`),
      tf.variable(he(hidden, dim), true, `${prefix}/w2`), tf.variable(tf.zeros([dim]), true, `${prefix}/b2`),
    ]);
  }

  predict(z: tf.Tensor2D): tf.Tensor2D {
    const [w1, gamma, beta, w2, b2] = this.variables;
    return tf.tidy(() => {
      const a = tf.matMul(z, w1 as tf.Tensor2D);
      const { mean, variance } = tf.moments(a, 0);
      const normalized = tf.batchNorm(a, mean, variance, beta as tf.Tensor1D, gamma as tf.Tensor1D, 1e-5);
      return tf.add(tf.matMul(tf.relu(normalized), w2 as tf.Tensor2D), b2) as tf.Tensor2D;
    });
  }

  get bytes(): number {
    return 4 * this.variables.reduce((sum, v) => sum + v.size, 0);
  }

  dispose(): void {
    tf.dispose(this.variables);
  }
}

/** Mean over rows of cos(a_b, b_b) (cosinePerRow, norms clamped at 1e-12): how well predictions match their targets. */
export function meanRowCosine(a: tf.Tensor2D, b: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.mean(cosinePerRow(a, b)) as tf.Scalar);
}

/**
 * The heatmap of BYOL and SimSiam: cos(p_b, z′_c) of the first views'
 * predictions against the second views' targets, for the first images of the
 * batch. The loss reads only the diagonal (b = c); nothing pushes the rest
 * down, so a healthy run keeps a bright diagonal over a mixed background and a
 * collapsed one turns every entry to 1.
 */
export function predictionTargetMatrix(p1: tf.Tensor2D, target2: tf.Tensor2D): { matrix: tf.Tensor2D; matrixInfo: MatrixInfo } {
  const n = p1.shape[0];
  const m = Math.min(n, METHOD_MATRIX_MAX_SIDE);
  const matrix = tf.tidy(() =>
    tf.matMul(l2NormalizeRows(tf.slice(p1, [0, 0], [m, -1])), l2NormalizeRows(tf.slice(target2, [0, 0], [m, -1])), false, true) as tf.Tensor2D,
  );
  return { matrix, matrixInfo: { rowsTotal: n, columnsTotal: n, unwritten: new Uint8Array(m) } };
}

/**
 * loadState of a method whose checkpoint state is empty (SimSiam, Barlow
 * Twins: f, g and q are trained variables, which the trainer saves). Any
 * entry at all means the state is another method's: refused, naming it.
 */
export function loadEmptyState(state: MethodState, owner: string): void {
  const reader = new MethodStateReader(state, owner);
  const [foreign] = [...Object.keys(state.arrays), ...Object.keys(state.values)];
  if (foreign !== undefined) throw new Error(`The checkpoint holds “${foreign}”, which ${owner} does not keep: it was saved by another method.`);
  reader.commit();
}
