import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createRng } from '../core/random';
import { byolLoss } from './byol';
import {
  expectCosineCases,
  expectGradientsOrthogonalToRows,
  expectPairGradientsMatchReference,
  expectPairLossMatchesReference,
  expectPairLossTensors,
  expectPairShapeErrors,
  expectZeroRowIsCosineZero,
  lossValue,
  randomMatrix,
  type Matrix,
} from './lossCheck.testutil';
import { byolReference } from './sslReferences';

await tf.setBackend('cpu');

/** L as a function of the per-row cosine: L = 1/B Σ_b f(cos(p_b, z_b)). */
const f = (cosine: number): number => 2 - 2 * cosine;

const tfLoss = (p: Matrix, z: Matrix): number => lossValue(byolLoss, [p, z]);

// ---------------------------------------------------------------- loss vs reference

describe('byolLoss vs the float64 reference', () => {
  it('matches for B ∈ {1, 3, 8}, d ∈ {2, 5, 16} and input scales 1e-3, 1, 1e3', () => {
    // L ∈ [0, 4]
    expectPairLossMatchesReference(byolLoss, byolReference);
  });

  it('independent random p and z also match (cosines of either sign)', () => {
    const rng = createRng(150);
    const p = randomMatrix(rng, 8, 5);
    const z = randomMatrix(rng, 8, 5);
    expect(Math.abs(tfLoss(p, z) - byolReference(p, z))).toBeLessThanOrEqual(2e-6);
  });
});

// ---------------------------------------------------------------- analytic values

describe('analytic cases', () => {
  it('p = z gives 0, p = c·z (c > 0) gives 0, p = −z gives 4, orthogonal rows give 2', () => {
    expectCosineCases(byolLoss, byolReference, f);
  });

  it('by hand: p = (1, 0), z = (1, 1) → 2 − 2/√2 = 0.585786', () => {
    expect(tfLoss([[1, 0]], [[1, 1]])).toBeCloseTo(0.585786, 5);
    // Mean over rows: rows with cos 1 and cos 0 → (0 + 2)/2 = 1.
    expect(tfLoss([[1, 0], [1, 0]], [[4, 0], [0, 4]])).toBeCloseTo(1, 6);
  });

  it('a zero row counts as cos = 0 (‖·‖ clamped at 1e-12): finite loss and gradients', () => {
    expectZeroRowIsCosineZero(byolLoss, f);
  });
});

// ---------------------------------------------------------------- gradients

describe('gradients', () => {
  it('tf.grads w.r.t. p and z matches central finite differences of the float64 reference', () => {
    expectPairGradientsMatchReference(byolLoss, byolReference, 'L');
  });

  it('the gradient is orthogonal to each row (L is scale invariant per row)', () => {
    expectGradientsOrthogonalToRows(byolLoss);
  });
});

// ---------------------------------------------------------------- validation and memory

describe('input validation', () => {
  it('throws for wrong ranks, mismatched shapes and an empty batch', () => {
    expectPairShapeErrors(byolLoss);
  });
});

describe('tensor bookkeeping', () => {
  it('byolLoss leaves only its loss, tf.grads only its two gradients, errors nothing', () => {
    expectPairLossTensors(byolLoss);
  });
});
