import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createRng, normal } from '../core/random';
import {
  discriminatorLoss, discriminatorLossReference, nonSaturatingGeneratorLoss, nonSaturatingGeneratorLossReference, softplusReference,
} from './gan';
import { expectAllClose, expectTensorsLeft } from './lossCheck.testutil';

await tf.setBackend('cpu');

const sigmoid = (l: number) => 1 / (1 + Math.exp(-l));

function randomLogits(seed: number, n: number, scale: number): number[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => scale * normal(rng));
}

/** The extremes: a D sure either way, and near 0 where both terms matter. */
const EXTREME = [-100, -50, -20, -1e-3, 0, 1e-3, 20, 50, 100];

function dLoss(real: number[], fake: number[], realLabel?: number): number {
  return tf.tidy(() => discriminatorLoss(tf.tensor1d(real), tf.tensor1d(fake), { realLabel }).arraySync());
}

function gLoss(fake: number[]): number {
  return tf.tidy(() => nonSaturatingGeneratorLoss(tf.tensor1d(fake)).arraySync());
}

/** ∂L_D/∂l_real and ∂L_D/∂l_fake from tf.grads. */
function dGradients(real: number[], fake: number[], realLabel?: number): [number[], number[]] {
  return tf.tidy(() => {
    const [gr, gf] = tf.grads((r: tf.Tensor, f: tf.Tensor) => discriminatorLoss(r, f, { realLabel }))([tf.tensor1d(real), tf.tensor1d(fake)]);
    return [gr.arraySync() as number[], gf.arraySync() as number[]];
  });
}

function gGradient(fake: number[]): number[] {
  return tf.tidy(() => tf.grad((f: tf.Tensor) => nonSaturatingGeneratorLoss(f))(tf.tensor1d(fake)).arraySync() as number[]);
}

/** Central differences of a float64 loss of one array of logits, entry by entry. */
function finiteDifferences(f: (x: number[]) => number, x: number[], h = 1e-5): number[] {
  return x.map((_, i) => {
    const at = (delta: number) => f(x.map((v, j) => (j === i ? v + delta : v)));
    return (at(h) - at(-h)) / (2 * h);
  });
}

describe('softplusReference', () => {
  it('is log(1 + eˣ) where that is representable, x for large x and eˣ for very negative x', () => {
    for (const x of [-5, -1, 0, 0.5, 3, 10]) expect(softplusReference(x)).toBeCloseTo(Math.log(1 + Math.exp(x)), 14);
    expect(softplusReference(800)).toBe(800);
    expect(softplusReference(-800)).toBe(0);
    expect(softplusReference(-50) / Math.exp(-50)).toBeCloseTo(1, 12);
  });
});

describe('discriminatorLoss', () => {
  it('is 2 log 2 when D says ½ to every image, and L_G is log 2', () => {
    expect(dLoss([0, 0, 0], [0, 0])).toBeCloseTo(2 * Math.LN2, 6);
    expect(gLoss([0, 0])).toBeCloseTo(Math.LN2, 6);
    expect(discriminatorLossReference([0], [0])).toBeCloseTo(2 * Math.LN2, 14);
  });

  it('matches the float64 reference for real and fake batches of different sizes and scales', () => {
    let seed = 10;
    for (const [n, m] of [[1, 1], [8, 3], [64, 64]]) {
      for (const scale of [0.1, 1, 8]) {
        const real = randomLogits(seed++, n, scale);
        const fake = randomLogits(seed++, m, scale);
        for (const realLabel of [undefined, 0.9]) {
          const expected = discriminatorLossReference(real, fake, { realLabel });
          expect(Math.abs(dLoss(real, fake, realLabel) - expected), `n=${n} m=${m} scale=${scale} α=${realLabel}`).toBeLessThan(1e-5 * expected + 1e-6);
        }
      }
    }
  });

  it('stays finite and exact at |l| = 50 and 100, where log σ(l) in float32 is log 0', () => {
    // a confident, right D: L_D ≈ 2e^{−50} (the float32 result keeps the exponent)
    const right = dLoss([50], [-50]);
    expect(right / (2 * Math.exp(-50))).toBeCloseTo(1, 5);
    // a confident, wrong D: L_D = 100 + e^{−50}·… ≈ 100
    expect(dLoss([-50], [50])).toBeCloseTo(100, 4);
    expect(dLoss([-100], [100])).toBeCloseTo(200, 3);
    expectAllClose([dLoss(EXTREME, EXTREME)], [discriminatorLossReference(EXTREME, EXTREME)], { rtol: 1e-6, atol: 1e-6 }, 'L_D at the extremes');
    expectAllClose([dLoss(EXTREME, EXTREME, 0.9)], [discriminatorLossReference(EXTREME, EXTREME, { realLabel: 0.9 })], { rtol: 1e-6, atol: 1e-6 }, 'L_D (α = 0.9) at the extremes');
    // the naive form −log(1 − σ(l)) overflows to +∞ in float32 at l = 50
    const naive = tf.tidy(() => tf.neg(tf.log(tf.sub(1, tf.sigmoid(tf.scalar(50))))).arraySync());
    expect(naive).toBe(Infinity);
  });

  it('has gradients ∂L/∂l_real = (σ(l) − α)/N and ∂L/∂l_fake = σ(l)/M, as analytic and as finite differences of the reference', () => {
    const real = [...randomLogits(30, 6, 2), ...EXTREME];
    const fake = [...randomLogits(31, 4, 2), ...EXTREME];
    for (const alpha of [1, 0.9]) {
      const [gr, gf] = dGradients(real, fake, alpha);
      const expectedReal = real.map((l) => (sigmoid(l) - alpha) / real.length);
      const expectedFake = fake.map((l) => sigmoid(l) / fake.length);
      expectAllClose(gr, expectedReal, { rtol: 1e-5, atol: 1e-8 }, `∂L_D/∂l_real (α = ${alpha})`);
      expectAllClose(gf, expectedFake, { rtol: 1e-5, atol: 1e-8 }, `∂L_D/∂l_fake (α = ${alpha})`);
      // finite differences of the float64 reference agree with the analytic form
      expectAllClose(finiteDifferences((r) => discriminatorLossReference(r, fake, { realLabel: alpha }), real), expectedReal, { rtol: 1e-5, atol: 1e-9 }, 'numeric ∂/∂l_real');
      expectAllClose(finiteDifferences((f) => discriminatorLossReference(real, f, { realLabel: alpha }), fake), expectedFake, { rtol: 1e-5, atol: 1e-9 }, 'numeric ∂/∂l_fake');
    }
  });

  it('smooths only the real term: α = 1 is the default, α changes L_D only through the real logits', () => {
    const real = randomLogits(40, 5, 1);
    const fake = randomLogits(41, 5, 1);
    expect(dLoss(real, fake, 1)).toBe(dLoss(real, fake));
    // one real logit: α softplus(−l) + (1 − α) softplus(l), by hand at l = 2
    const byHand = 0.9 * Math.log1p(Math.exp(-2)) + 0.1 * Math.log1p(Math.exp(2)) + Math.log1p(Math.exp(-1));
    expect(dLoss([2], [-1], 0.9)).toBeCloseTo(byHand, 6);
    expect(() => tf.tidy(() => discriminatorLoss(tf.ones([2]), tf.ones([2]), { realLabel: 0 }))).toThrow(/α must be in \(0, 1\]/);
    expect(() => tf.tidy(() => discriminatorLoss(tf.ones([2]), tf.ones([2]), { realLabel: 1.1 }))).toThrow(/α must be in \(0, 1\]/);
  });

  it('leaves only its scalar, and refuses empty logits', () => {
    const real = tf.tensor2d([[1], [2]]);
    const fake = tf.tensor2d([[-1], [0.5], [3]]);
    expectTensorsLeft(1, () => discriminatorLoss(real, fake)).dispose();
    expectTensorsLeft(1, () => nonSaturatingGeneratorLoss(fake)).dispose();
    tf.dispose(expectTensorsLeft(2, () => tf.grads((r: tf.Tensor, f: tf.Tensor) => discriminatorLoss(r, f))([real, fake])));
    const empty = tf.zeros([0]);
    expectTensorsLeft(0, () => expect(() => discriminatorLoss(empty, fake)).toThrow(/real logits \[0\] hold no entry/));
    expectTensorsLeft(0, () => expect(() => nonSaturatingGeneratorLoss(empty)).toThrow(/fake logits \[0\] hold no entry/));
    tf.dispose([real, fake, empty]);
  });
});

describe('nonSaturatingGeneratorLoss', () => {
  it('matches the float64 reference, also at the extremes', () => {
    let seed = 50;
    for (const m of [1, 7, 64]) {
      for (const scale of [0.1, 1, 8]) {
        const fake = randomLogits(seed++, m, scale);
        const expected = nonSaturatingGeneratorLossReference(fake);
        expect(Math.abs(gLoss(fake) - expected)).toBeLessThan(1e-5 * expected + 1e-6);
      }
    }
    expectAllClose([gLoss(EXTREME)], [nonSaturatingGeneratorLossReference(EXTREME)], { rtol: 1e-6, atol: 1e-6 }, 'L_G at the extremes');
    expect(gLoss([-50])).toBeCloseTo(50, 4);
    expect(gLoss([50]) / Math.exp(-50)).toBeCloseTo(1, 5);
  });

  it('has gradient (σ(l) − 1)/M: near −1/M where D rejects the samples (no saturation), near 0 where D accepts them', () => {
    const fake = [...randomLogits(60, 5, 3), ...EXTREME];
    const expected = fake.map((l) => (sigmoid(l) - 1) / fake.length);
    const got = gGradient(fake);
    expectAllClose(got, expected, { rtol: 1e-5, atol: 1e-8 }, '∂L_G/∂l_fake');
    expectAllClose(finiteDifferences(nonSaturatingGeneratorLossReference, fake), expected, { rtol: 1e-5, atol: 1e-9 }, 'numeric ∂L_G/∂l_fake');
    // the saturating form log(1 − D(G(z))) would give σ(−50)/M ≈ 0 at l = −50; this one gives −1/M
    expect(gGradient([-50])[0]).toBeCloseTo(-1, 6);
  });
});
