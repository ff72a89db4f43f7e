import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createRng } from '../core/random';
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
import { negativeCosine } from './simsiam';
import { negativeCosineReference } from './sslReferences';

await tf.setBackend('cpu');

/** D as a function of the per-row cosine: D = 1/B Σ_b f(cos(p_b, z_b)). */
const f = (cosine: number): number => -cosine;

const tfLoss = (p: Matrix, z: Matrix): number => lossValue(negativeCosine, [p, z]);

// ---------------------------------------------------------------- loss vs reference

describe('negativeCosine vs the float64 reference', () => {
  it('matches for B ∈ {1, 3, 8}, d ∈ {2, 5, 16} and input scales 1e-3, 1, 1e3', () => {
    // D ∈ [−1, 1]
    expectPairLossMatchesReference(negativeCosine, negativeCosineReference);
  });

  it('independent random p and z also match (cosines of either sign)', () => {
    const rng = createRng(150);
    const p = randomMatrix(rng, 8, 5);
    const z = randomMatrix(rng, 8, 5);
    expect(Math.abs(tfLoss(p, z) - negativeCosineReference(p, z))).toBeLessThanOrEqual(2e-6);
  });
});

// ---------------------------------------------------------------- analytic values

describe('analytic cases', () => {
  it('p = z gives −1, p = c·z (c > 0) gives −1, p = −z gives 1, orthogonal rows give 0', () => {
    expectCosineCases(negativeCosine, negativeCosineReference, f);
  });

  it('by hand: p = (1, 0), z = (1, 1) → −1/√2 = −0.707107', () => {
    expect(tfLoss([[1, 0]], [[1, 1]])).toBeCloseTo(-0.707107, 5);
    // Mean over rows: rows with cos 1 and cos 0 → −(1 + 0)/2 = −0.5.
    expect(tfLoss([[1, 0], [1, 0]], [[4, 0], [0, 4]])).toBeCloseTo(-0.5, 6);
  });

  it('a zero row counts as cos = 0 (‖·‖ clamped at 1e-12): finite loss and gradients', () => {
    expectZeroRowIsCosineZero(negativeCosine, f);
  });
});

// ---------------------------------------------------------------- gradients

describe('gradients', () => {
  it('tf.grads w.r.t. p and z matches central finite differences of the float64 reference', () => {
    expectPairGradientsMatchReference(negativeCosine, negativeCosineReference, 'D');
  });

  it('the gradient is orthogonal to each row (D is scale invariant per row)', () => {
    expectGradientsOrthogonalToRows(negativeCosine);
  });
});

// ---------------------------------------------------------------- validation and memory

describe('input validation', () => {
  it('throws for wrong ranks, mismatched shapes and an empty batch', () => {
    expectPairShapeErrors(negativeCosine);
  });
});

describe('tensor bookkeeping', () => {
  it('negativeCosine leaves only its loss, tf.grads only its two gradients, errors nothing', () => {
    expectPairLossTensors(negativeCosine);
  });
});
