/**
 * Test helpers shared by the self-supervised loss tests (infoNce, memoryBank,
 * byol, simsiam, barlowTwins): seeded random inputs as plain number[][], a
 * tfjs loss evaluated and differentiated on them, its gradients checked
 * against central finite differences of the float64 reference in
 * ./sslReferences.ts, and a count of the tensors a call leaves behind.
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import { createRng, normal, type Rng } from '../core/random';

/** Rows are samples, as in the losses. */
export type Matrix = number[][];

/** A tfjs loss of some [rows, d] inputs; other arguments (options, indices) are closed over. */
export type TensorLoss = (...inputs: tf.Tensor2D[]) => tf.Scalar;

/** rows×cols entries drawn from N(0, scale²). */
export function randomMatrix(rng: Rng, rows: number, cols: number, scale = 1): Matrix {
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => scale * normal(rng)));
}

/** m plus N(0, scale²) noise, drawn from rng after m: a second view of the same samples. */
export function withNoise(rng: Rng, m: Matrix, scale: number): Matrix {
  const noise = randomMatrix(rng, m.length, m[0].length, scale);
  return m.map((row, i) => row.map((v, c) => v + noise[i][c]));
}

/** Each row divided by its length (rows must be nonzero). */
export function unitRows(m: Matrix): Matrix {
  return m.map((row) => {
    const norm = Math.hypot(...row);
    return row.map((v) => v / norm);
  });
}

/** A [rows, cols] tensor, also for rows = 0 (tf.tensor2d([]) cannot infer cols; pass it). */
export function toTensor(m: Matrix, cols = m[0].length): tf.Tensor2D {
  return tf.tensor2d(m.flat(), [m.length, cols]);
}

/**
 * The float32 value of `loss` on tensors built from `inputs`.
 * @param cols the column count of every input, needed when one has no rows.
 */
export function lossValue(loss: TensorLoss, inputs: Matrix[], cols?: number): number {
  return tf.tidy(() => loss(...inputs.map((m) => toTensor(m, cols))).arraySync());
}

/** tf.grads of `loss` at `inputs`: one gradient tensor per input, for the caller to dispose. */
export function gradientsAt(loss: TensorLoss, inputs: tf.Tensor2D[]): tf.Tensor[] {
  return tf.grads((...xs: tf.Tensor[]) => loss(...(xs as tf.Tensor2D[])))(inputs);
}

/** ∂loss/∂input for every input, from tf.grads, in the order of `inputs`. */
export function lossGradients(loss: TensorLoss, inputs: Matrix[], cols?: number): Matrix[] {
  return tf.tidy(() => gradientsAt(loss, inputs.map((m) => toTensor(m, cols))).map((g) => g.arraySync() as Matrix));
}

/** Central differences (step h, float64) of f with respect to every entry of every input. */
export function finiteDifferenceGradients(f: (inputs: Matrix[]) => number, inputs: Matrix[], h = 1e-5): Matrix[] {
  return inputs.map((input, which) =>
    input.map((row, r) =>
      row.map((_, c) => {
        const at = (delta: number): number => {
          const copy = inputs.map((m) => m.map((x) => x.slice()));
          copy[which][r][c] += delta;
          return f(copy);
        };
        return (at(h) - at(-h)) / (2 * h);
      }),
    ),
  );
}

export function maxAbs(values: number[]): number {
  return values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
}

/** Element-wise |actual − expected| ≤ atol + rtol·|expected|, reporting the worst element. */
export function expectAllClose(
  actual: number[],
  expected: number[],
  { rtol, atol }: { rtol: number; atol: number },
  label: string,
): void {
  expect(actual.length, label).toBe(expected.length);
  let worst = 0;
  let worstIndex = -1;
  for (let i = 0; i < expected.length; i++) {
    const excess = Math.abs(actual[i] - expected[i]) - (atol + rtol * Math.abs(expected[i]));
    if (!(excess <= worst)) {
      worst = excess;
      worstIndex = i;
    }
  }
  if (worstIndex >= 0) {
    expect.fail(
      `${label}: element ${worstIndex} is ${actual[worstIndex]}, expected ${expected[worstIndex]} (rtol ${rtol}, atol ${atol})`,
    );
  }
}

/**
 * tf.grads of `loss` against central finite differences of `reference` (the
 * float64 version of the same loss), input by input. Tolerance for a float32
 * backward pass: 1e-3 relative plus 1e-4 of the largest component of any
 * input's numeric gradient.
 *
 * @param names one per input, appended to `label` in failure messages (e.g. '∂L/∂q').
 * @param cols as in {@link lossValue}.
 */
export function expectGradientsMatchReference(
  loss: TensorLoss,
  reference: (inputs: Matrix[]) => number,
  inputs: Matrix[],
  names: string[],
  label: string,
  cols?: number,
): void {
  const numeric = finiteDifferenceGradients(reference, inputs);
  const actual = lossGradients(loss, inputs, cols);
  const atol = 1e-4 * maxAbs(numeric.flat(2)) + 1e-7;
  names.forEach((name, i) => {
    expectAllClose(actual[i].flat(), numeric[i].flat(), { rtol: 1e-3, atol }, `${label} ${name}`);
  });
}

/**
 * Runs `run` and expects exactly `count` more tensors alive afterwards than
 * before (its outputs; 0 for a call that throws). Returns what `run`
 * returned, for the caller to dispose.
 */
export function expectTensorsLeft<T>(count: number, run: () => T): T {
  const before = tf.memory().numTensors;
  const result = run();
  expect(tf.memory().numTensors).toBe(before + count);
  return result;
}

// ---------------------------------------------------------------- (p, z) pair losses: BYOL, SimSiam

/** A loss of predictions p and their targets z, both [B, d], row b with row b (./pairShapes.ts checks them). */
export type PairLoss = (p: tf.Tensor2D, z: tf.Tensor2D) => tf.Scalar;

/** A prediction p and a target z = p + noise, correlated as after some training. */
export function randomPair(seed: number, b: number, d: number, scale = 1): [Matrix, Matrix] {
  const rng = createRng(seed);
  const p = randomMatrix(rng, b, d, scale);
  return [p, withNoise(rng, p, scale)];
}

/**
 * The loss against its float64 reference for B ∈ {1, 3, 8}, d ∈ {2, 5, 16}
 * and input scales 1e-3, 1, 1e3 (seeds 100…126). float32 cosines are good to
 * a few 1e-7, so a loss of a few cosines is good to 1e-5 relative plus 2e-6.
 */
export function expectPairLossMatchesReference(loss: PairLoss, reference: (p: Matrix, z: Matrix) => number): void {
  let seed = 100;
  for (const b of [1, 3, 8]) {
    for (const d of [2, 5, 16]) {
      for (const scale of [1e-3, 1, 1e3]) {
        const [p, z] = randomPair(seed++, b, d, scale);
        const expected = reference(p, z);
        const actual = lossValue(loss, [p, z]);
        expect(Math.abs(actual - expected), `B=${b} d=${d} scale=${scale}: ${actual} vs ${expected}`).toBeLessThanOrEqual(
          1e-5 * Math.abs(expected) + 2e-6,
        );
      }
    }
  }
}

/**
 * {@link expectGradientsMatchReference} for (B, d) ∈ {(1, 2), (3, 5), (4, 3),
 * (8, 16)} and input scales 0.1, 1, 10 (seeds 300…311).
 * @param symbol the loss's name in the failure messages: 'L' gives ∂L/∂p and ∂L/∂z.
 */
export function expectPairGradientsMatchReference(
  loss: PairLoss,
  reference: (p: Matrix, z: Matrix) => number,
  symbol: string,
): void {
  let seed = 300;
  for (const [b, d] of [
    [1, 2],
    [3, 5],
    [4, 3],
    [8, 16],
  ] as const) {
    for (const scale of [0.1, 1, 10]) {
      expectGradientsMatchReference(
        loss,
        ([p, z]) => reference(p, z),
        randomPair(seed++, b, d, scale),
        [`∂${symbol}/∂p`, `∂${symbol}/∂z`],
        `B=${b} d=${d} scale=${scale}`,
      );
    }
  }
}

/**
 * The cases any loss L = 1/B Σ_b f(cos(p_b, z_b)) must meet, for B ∈ {1, 3, 8}:
 * p = z and p = 7z give f(1), p = −z gives f(−1), and rows orthogonal to their
 * targets give f(0); the float64 reference must give f(1) and f(−1) to 12 digits.
 */
export function expectCosineCases(
  loss: PairLoss,
  reference: (p: Matrix, z: Matrix) => number,
  f: (cosine: number) => number,
): void {
  const rng = createRng(200);
  for (const b of [1, 3, 8]) {
    const z = randomMatrix(rng, b, 5);
    const scaled = z.map((r) => r.map((v) => 7 * v));
    const negated = z.map((r) => r.map((v) => -v));
    expect(reference(z, z)).toBeCloseTo(f(1), 12);
    expect(lossValue(loss, [z, z])).toBeCloseTo(f(1), 6);
    expect(lossValue(loss, [scaled, z])).toBeCloseTo(f(1), 6);
    expect(reference(negated, z)).toBeCloseTo(f(-1), 12);
    expect(lossValue(loss, [negated, z])).toBeCloseTo(f(-1), 6);
  }
  expect(lossValue(loss, [[[1, 0, 0], [0, 0, 2]], [[0, 3, 0], [1, 1, 0]]])).toBeCloseTo(f(0), 6);
}

/**
 * A zero row of p has cosine 0 with its target (‖·‖ clamped at 1e-12): on a
 * pair with one zero row and one p_b = z_b, L = (f(0) + f(1)) / 2, with finite gradients.
 */
export function expectZeroRowIsCosineZero(loss: PairLoss, f: (cosine: number) => number): void {
  const p = [[0, 0, 0], [1, 2, 3]];
  const z = [[1, 1, 1], [1, 2, 3]];
  expect(lossValue(loss, [p, z])).toBeCloseTo((f(0) + f(1)) / 2, 6);
  expect(lossGradients(loss, [p, z]).flat(2).every(Number.isFinite)).toBe(true);
}

/**
 * A loss of per-row cosines does not change when a row is scaled, so its
 * gradient with respect to each row is orthogonal to that row:
 * ⟨∂L/∂p_r, p_r⟩ = ⟨∂L/∂z_r, z_r⟩ = 0 (checked to 1e-5 on a 4×6 pair).
 */
export function expectGradientsOrthogonalToRows(loss: PairLoss): void {
  const [p, z] = randomPair(350, 4, 6);
  const [dp, dz] = lossGradients(loss, [p, z]);
  for (let r = 0; r < 4; r++) {
    expect(Math.abs(dp[r].reduce((s, g, c) => s + g * p[r][c], 0))).toBeLessThan(1e-5);
    expect(Math.abs(dz[r].reduce((s, g, c) => s + g * z[r][c], 0))).toBeLessThan(1e-5);
  }
}

/** The errors of ./pairShapes.ts: wrong ranks, mismatched shapes, B = 0, d = 0. */
export function expectPairShapeErrors(loss: PairLoss): void {
  tf.tidy(() => {
    expect(() => loss(tf.zeros([4, 8, 1]) as unknown as tf.Tensor2D, tf.zeros([4, 8]))).toThrow(/rank-2/);
    expect(() => loss(tf.zeros([4, 8]), tf.zeros([3, 8]))).toThrow(/same shape/);
    expect(() => loss(tf.zeros([4, 8]), tf.zeros([4, 7]))).toThrow(/same shape/);
    expect(() => loss(tf.zeros([0, 8]), tf.zeros([0, 8]))).toThrow(/B ≥ 1/);
    expect(() => loss(tf.zeros([4, 0]), tf.zeros([4, 0]))).toThrow(/d ≥ 1/);
  });
}

/** The loss leaves only its scalar, tf.grads only its two gradients, a shape error nothing. */
export function expectPairLossTensors(loss: PairLoss): void {
  const p = tf.randomNormal([8, 6], 0, 1, 'float32', 1) as tf.Tensor2D;
  const z = tf.randomNormal([8, 6], 0, 1, 'float32', 2) as tf.Tensor2D;
  const short = tf.zeros([4, 6]) as tf.Tensor2D;
  expectTensorsLeft(0, () => {
    expectTensorsLeft(1, () => loss(p, z)).dispose();
    tf.dispose(expectTensorsLeft(2, () => gradientsAt(loss, [p, z])));
    expect(() => loss(p, short)).toThrow();
  });
  tf.dispose([p, z, short]);
}
