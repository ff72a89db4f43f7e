import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createRng } from '../core/random';
import { cmcLoss, cmcLossWithMetrics, type CmcLossOptions } from './cmc';
import { cmcAccuracyReference, cmcReference, cmcSimilaritiesReference, cmcTermsReference } from './cmcReference';
import {
  expectAllClose, expectGradientsMatchReference, expectTensorsLeft, gradientsAt, lossGradients, lossValue, randomMatrix, toTensor, withNoise,
  type Matrix,
} from './lossCheck.testutil';

await tf.setBackend('cpu');

/** N images' view-1 embeddings and their view-2 partners, z2 = z1 + noise: correlated, as after some training. */
function randomViews(seed: number, n: number, d: number, scale = 1, noise = 0.7): [Matrix, Matrix] {
  const rng = createRng(seed);
  const z1 = randomMatrix(rng, n, d, scale);
  return [z1, withNoise(rng, z1, noise * scale)];
}

const cmcOf = (opts: CmcLossOptions) => (z1: tf.Tensor2D, z2: tf.Tensor2D): tf.Scalar => cmcLoss(z1, z2, opts);

describe('cmcLoss vs the float64 reference', () => {
  for (const temperature of [0.07, 0.2, 1]) {
    it(`matches for N ∈ {1, 3, 8, 16}, d ∈ {2, 5, 16}, scales 1e-3…1e3, τ = ${temperature}`, () => {
      let seed = 100;
      for (const n of [1, 3, 8, 16]) {
        for (const d of [2, 5, 16]) {
          for (const scale of [1e-3, 1, 1e3]) {
            const [z1, z2] = randomViews(seed++, n, d, scale);
            const expected = cmcReference(z1, z2, { temperature });
            const actual = lossValue(cmcOf({ temperature }), [z1, z2]);
            // float32 cosines good to a few 1e-7, divided by τ
            expect(Math.abs(actual - expected), `N=${n} d=${d} scale=${scale}`).toBeLessThanOrEqual(2e-5 * Math.abs(expected) + 4e-6 / temperature);
          }
        }
      }
    });
  }

  it('gives both directions, the cosines and the cross-view accuracies as the reference does', () => {
    let seed = 200;
    for (const [n, d, noise] of [[1, 3, 0.5], [4, 5, 0.3], [8, 16, 2], [16, 8, 1]] as const) {
      const [z1, z2] = randomViews(seed++, n, d, 1, noise);
      const temperature = 0.2;
      const terms = cmcTermsReference(z1, z2, { temperature });
      const accuracy = cmcAccuracyReference(z1, z2);
      tf.tidy(() => {
        const out = cmcLossWithMetrics(toTensor(z1), toTensor(z2), { temperature });
        expect(out.loss.dataSync()[0]).toBeCloseTo(terms.loss, 5);
        expect(out.oneToTwo.dataSync()[0]).toBeCloseTo(terms.oneToTwo, 5);
        expect(out.twoToOne.dataSync()[0]).toBeCloseTo(terms.twoToOne, 5);
        expect(out.accuracyOneToTwo.dataSync()[0]).toBeCloseTo(accuracy.oneToTwo, 9);
        expect(out.accuracyTwoToOne.dataSync()[0]).toBeCloseTo(accuracy.twoToOne, 9);
        expect(out.similarities.shape).toEqual([n, n]);
        expectAllClose(Array.from(out.similarities.dataSync()), cmcSimilaritiesReference(z1, z2).flat(), { rtol: 0, atol: 1e-6 }, `N=${n} cosines`);
      });
    }
  });
});

describe('cmcLoss gradients', () => {
  it('match central finite differences of the float64 reference, for both views', () => {
    let seed = 300;
    for (const [n, d] of [[1, 2], [3, 5], [4, 3], [8, 16]] as const) {
      for (const scale of [0.1, 1, 10]) {
        for (const temperature of [0.1, 0.5]) {
          expectGradientsMatchReference(
            cmcOf({ temperature }), ([z1, z2]) => cmcReference(z1, z2, { temperature }), randomViews(seed++, n, d, scale),
            ['∂L/∂z1', '∂L/∂z2'], `N=${n} d=${d} scale=${scale} τ=${temperature}`,
          );
        }
      }
    }
  });

  it('are orthogonal to each row (the loss reads only directions) and finite at a zero row', () => {
    const [z1, z2] = randomViews(350, 5, 6);
    const [g1, g2] = lossGradients(cmcOf({ temperature: 0.3 }), [z1, z2]);
    for (let r = 0; r < 5; r++) {
      expect(Math.abs(g1[r].reduce((s, g, c) => s + g * z1[r][c], 0))).toBeLessThan(1e-5);
      expect(Math.abs(g2[r].reduce((s, g, c) => s + g * z2[r][c], 0))).toBeLessThan(1e-5);
    }
    const zero = [[0, 0, 0], [1, 2, 3]];
    expect(lossGradients(cmcOf({ temperature: 0.3 }), [zero, [[1, 1, 1], [1, 2, 3]]]).flat(2).every(Number.isFinite)).toBe(true);
  });
});

describe('cmcLoss by hand', () => {
  it('scores log N when the encoders cannot tell the images apart (every cosine equal)', () => {
    for (const n of [1, 2, 7, 32]) {
      const same = Array.from({ length: n }, () => [1, 2, -1]);
      expect(lossValue(cmcOf({ temperature: 0.07 }), [same, same])).toBeCloseTo(Math.log(n), 5);
      expect(cmcReference(same, same, { temperature: 0.07 })).toBeCloseTo(Math.log(n), 12);
      // ties everywhere: no view beats the others, accuracy 0 (1 for a lone image, with no competitor)
      const accuracy = tf.tidy(() => cmcLossWithMetrics(toTensor(same), toTensor(same), { temperature: 0.07 }).accuracyOneToTwo.dataSync()[0]);
      expect(accuracy).toBe(n === 1 ? 1 : 0);
    }
  });

  it('works out a 2×2 case: orthonormal partners, cos 1 on the diagonal and 0 off it', () => {
    // each row: −log(e^{1/τ} / (e^{1/τ} + e^0)) = log(1 + e^{−1/τ}), both directions alike
    const z = [[3, 0], [0, 0.5]];
    const temperature = 0.5;
    const expected = Math.log(1 + Math.exp(-1 / temperature));
    expect(cmcReference(z, z, { temperature })).toBeCloseTo(expected, 12);
    expect(lossValue(cmcOf({ temperature }), [z, z])).toBeCloseTo(expected, 6);
  });

  it('separates the directions: two images sharing one view-2 embedding cost L^{V2,V1} more than L^{V1,V2}', () => {
    // z2 rows 0 and 1 both e1: anchor v1_0 faces a tie, v1_1 (e2) sees every candidate at cos 0; in the other
    // direction v2_1 = e1 finds v1_0 at cos 1 against its own partner's 0, a confident miss
    const z1 = [[1, 0, 0], [0, 1, 0], [0, 0, 1]];
    const z2 = [[1, 0, 0], [1, 0, 0], [0, 0, 1]];
    const temperature = 0.2;
    const e = Math.exp(1 / temperature);
    const oneToTwo = (Math.log(2 * e + 1) - 1 / temperature + Math.log(3) + Math.log(e + 2) - 1 / temperature) / 3;
    const twoToOne = (3 * Math.log(e + 2) - 2 / temperature) / 3;
    const terms = cmcTermsReference(z1, z2, { temperature });
    expect(terms.oneToTwo).toBeCloseTo(oneToTwo, 12);
    expect(terms.twoToOne).toBeCloseTo(twoToOne, 12);
    expect(terms.twoToOne).toBeGreaterThan(terms.oneToTwo);
    tf.tidy(() => {
      const out = cmcLossWithMetrics(toTensor(z1), toTensor(z2), { temperature });
      expect(out.oneToTwo.dataSync()[0]).toBeCloseTo(oneToTwo, 5);
      expect(out.twoToOne.dataSync()[0]).toBeCloseTo(twoToOne, 5);
      expect(out.loss.dataSync()[0]).toBeCloseTo((oneToTwo + twoToOne) / 2, 5);
      // rows: 0 ties, 1 ties everywhere, 2 wins; columns: 0 wins, 1 loses, 2 wins
      expect(out.accuracyOneToTwo.dataSync()[0]).toBeCloseTo(1 / 3, 6);
      expect(out.accuracyTwoToOne.dataSync()[0]).toBeCloseTo(2 / 3, 6);
    });
    expect(cmcAccuracyReference(z1, z2)).toEqual({ oneToTwo: 1 / 3, twoToOne: 2 / 3 });
    // swapping the views swaps the directions and keeps the loss
    const swapped = cmcTermsReference(z2, z1, { temperature });
    expect(swapped.oneToTwo).toBeCloseTo(terms.twoToOne, 12);
    expect(swapped.twoToOne).toBeCloseTo(terms.oneToTwo, 12);
    expect(lossValue(cmcOf({ temperature }), [z2, z1])).toBeCloseTo(terms.loss, 5);
  });

  it('does not overflow at small τ', () => {
    const [z1, z2] = randomViews(400, 8, 4);
    const value = lossValue(cmcOf({ temperature: 0.001 }), [z1, z2]);
    expect(Number.isFinite(value)).toBe(true);
    expect(value).toBeCloseTo(cmcReference(z1, z2, { temperature: 0.001 }), 1);
  });
});

describe('cmcLoss contract', () => {
  it('refuses wrong ranks, mismatched shapes, empty inputs and a bad τ', () => {
    tf.tidy(() => {
      const ok = { temperature: 0.1 };
      expect(() => cmcLoss(tf.zeros([4, 8, 1]) as unknown as tf.Tensor2D, tf.zeros([4, 8]), ok)).toThrow(/rank-2/);
      expect(() => cmcLoss(tf.zeros([4, 8]), tf.zeros([3, 8]), ok)).toThrow(/same shape/);
      expect(() => cmcLoss(tf.zeros([4, 8]), tf.zeros([4, 7]), ok)).toThrow(/same shape/);
      expect(() => cmcLoss(tf.zeros([0, 8]), tf.zeros([0, 8]), ok)).toThrow(/N ≥ 1/);
      expect(() => cmcLoss(tf.zeros([4, 0]), tf.zeros([4, 0]), ok)).toThrow(/d ≥ 1/);
      for (const temperature of [0, -1, Number.NaN, Infinity]) expect(() => cmcLoss(tf.ones([2, 3]), tf.ones([2, 3]), { temperature })).toThrow(/temperature/);
    });
  });

  it('leaves only its outputs: the scalar, the two gradients, the six metrics tensors; nothing after a throw', () => {
    const z1 = tf.randomNormal([8, 6], 0, 1, 'float32', 1) as tf.Tensor2D;
    const z2 = tf.randomNormal([8, 6], 0, 1, 'float32', 2) as tf.Tensor2D;
    const short = tf.zeros([4, 6]) as tf.Tensor2D;
    const opts = { temperature: 0.2 };
    expectTensorsLeft(0, () => {
      expectTensorsLeft(1, () => cmcLoss(z1, z2, opts)).dispose();
      tf.dispose(expectTensorsLeft(2, () => gradientsAt(cmcOf(opts), [z1, z2])));
      tf.dispose(Object.values(expectTensorsLeft(6, () => cmcLossWithMetrics(z1, z2, opts))));
      expect(() => cmcLoss(z1, short, opts)).toThrow();
    });
    tf.dispose([z1, z2, short]);
  });
});
