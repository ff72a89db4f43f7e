import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createRng, normal, uniform } from '../core/random';
import { expectAllClose, expectTensorsLeft, randomMatrix } from './lossCheck.testutil';
import {
  bernoulliReconstruction, bernoulliReconstructionReference, gaussianKl, gaussianKlReference, negativeElbo, reparameterize,
} from './vae';

await tf.setBackend('cpu');

const sigmoid = (l: number) => 1 / (1 + Math.exp(-l));

function kl(mu: number[][], logVar: number[][]): number {
  return tf.tidy(() => gaussianKl(tf.tensor2d(mu), tf.tensor2d(logVar)).arraySync());
}

/** Images as [B, 1, P, 1] tensors from one flat row of P pixels per image. */
function asImages(rows: number[][]): tf.Tensor4D {
  return tf.tensor4d(rows.flat(), [rows.length, 1, rows[0].length, 1]);
}

function reconstruction(logits: number[][], images: number[][]): number {
  return tf.tidy(() => bernoulliReconstruction(asImages(logits), asImages(images)).arraySync());
}

describe('gaussianKl', () => {
  it('is 0 at μ = 0, logVar = 0, and matches the float64 reference on random latents', () => {
    expect(kl([[0, 0, 0], [0, 0, 0]], [[0, 0, 0], [0, 0, 0]])).toBe(0);
    let seed = 1;
    for (const [b, j] of [[1, 1], [4, 16], [32, 3]]) {
      for (const scale of [0.1, 1, 3]) {
        const rng = createRng(seed++);
        const mu = randomMatrix(rng, b, j, scale);
        const logVar = randomMatrix(rng, b, j, scale);
        const expected = gaussianKlReference(mu, logVar);
        expect(Math.abs(kl(mu, logVar) - expected), `B=${b} J=${j} scale=${scale}`).toBeLessThan(1e-5 * expected + 1e-6);
      }
    }
  });

  it('is the closed form KL(N(μ, σ²) ‖ N(0, 1)) = −log σ + (σ² + μ²)/2 − ½, summed over units and averaged over images', () => {
    // parameterized by σ here, by logVar = 2 log σ in the loss
    const images = [
      [{ mu: 1, sigma: 1 }, { mu: 0, sigma: 2 }],
      [{ mu: -0.5, sigma: 0.25 }, { mu: 3, sigma: 0.9 }],
    ];
    const closedForm = (mu: number, sigma: number) => -Math.log(sigma) + (sigma * sigma + mu * mu) / 2 - 0.5;
    const expected = images.reduce((s, row) => s + row.reduce((t, u) => t + closedForm(u.mu, u.sigma), 0), 0) / images.length;
    const mu = images.map((row) => row.map((u) => u.mu));
    const logVar = images.map((row) => row.map((u) => 2 * Math.log(u.sigma)));
    expect(gaussianKlReference(mu, logVar)).toBeCloseTo(expected, 13);
    expect(kl(mu, logVar)).toBeCloseTo(expected, 5);
    // one unit by hand: μ = 1, σ = 1 gives ½
    expect(kl([[1]], [[0]])).toBeCloseTo(0.5, 7);
  });

  it('has gradients ∂KL/∂μ = μ/B and ∂KL/∂logVar = (e^{logVar} − 1)/(2B)', () => {
    const rng = createRng(7);
    const mu = randomMatrix(rng, 5, 4);
    const logVar = randomMatrix(rng, 5, 4);
    const [gMu, gLogVar] = tf.tidy(() => tf.grads((m: tf.Tensor, s: tf.Tensor) => gaussianKl(m as tf.Tensor2D, s as tf.Tensor2D))([tf.tensor2d(mu), tf.tensor2d(logVar)]).map((g) => (g.arraySync() as number[][]).flat()));
    expectAllClose(gMu, mu.flat().map((m) => m / 5), { rtol: 1e-5, atol: 1e-7 }, '∂KL/∂μ');
    expectAllClose(gLogVar, logVar.flat().map((s) => (Math.exp(s) - 1) / 10), { rtol: 1e-5, atol: 1e-7 }, '∂KL/∂logVar');
  });

  it('refuses shapes that differ or are empty, and leaves only its scalar', () => {
    tf.tidy(() => {
      expect(() => gaussianKl(tf.zeros([2, 3]), tf.zeros([2, 4]))).toThrow(/must both be \[B, J\]/);
      expect(() => gaussianKl(tf.zeros([0, 3]), tf.zeros([0, 3]))).toThrow(/B ≥ 1/);
    });
    const mu = tf.ones([3, 2]) as tf.Tensor2D;
    expectTensorsLeft(1, () => gaussianKl(mu, mu)).dispose();
    mu.dispose();
  });
});

describe('bernoulliReconstruction', () => {
  it('matches the float64 reference on grey, black and white pixels, with logits up to ±50', () => {
    const rng = createRng(11);
    for (const [b, p] of [[1, 4], [3, 16], [8, 64]]) {
      for (const scale of [0.5, 4]) {
        const logits = randomMatrix(rng, b, p, scale);
        const images = Array.from({ length: b }, () => Array.from({ length: p }, () => [0, 1, uniform(rng, 0, 1)][Math.floor(rng() * 3)]));
        const expected = bernoulliReconstructionReference(logits, images);
        expect(Math.abs(reconstruction(logits, images) - expected), `B=${b} P=${p} scale=${scale}`).toBeLessThan(1e-5 * expected + 1e-5);
      }
    }
    const logits = [[50, -50, 50, -50, 0]];
    const images = [[1, 0, 0, 1, 0.5]];
    // right and sure: ≈ 0; wrong and sure: 50 each; ℓ = 0: log 2
    const expected = bernoulliReconstructionReference(logits, images);
    expect(expected).toBeCloseTo(100 + Math.LN2, 10);
    expect(reconstruction(logits, images)).toBeCloseTo(expected, 4);
  });

  it('is summed over pixels and averaged over images, and at σ(ℓ) = x it is the entropy of x', () => {
    // two images of 3 pixels, every logit 0: each pixel costs log 2 whatever x is
    expect(reconstruction([[0, 0, 0], [0, 0, 0]], [[0, 1, 0.3], [1, 1, 1]])).toBeCloseTo(3 * Math.LN2, 6);
    const x = 0.3;
    const entropy = -x * Math.log(x) - (1 - x) * Math.log(1 - x);
    expect(reconstruction([[Math.log(x / (1 - x))]], [[x]])).toBeCloseTo(entropy, 6);
  });

  it('has gradient ∂/∂ℓ = (σ(ℓ) − x)/B, finite at ±50', () => {
    const logits = [[-50, -2, 0, 3], [50, 0.5, -1, 10]];
    const images = [[0, 0.2, 1, 0.7], [1, 0, 0.5, 1]];
    const got = tf.tidy(() => (tf.grad((l: tf.Tensor) => bernoulliReconstruction(l as tf.Tensor4D, asImages(images)))(asImages(logits)).arraySync() as number[][][][]).flat(3));
    const expected = logits.flat().map((l, i) => (sigmoid(l) - images.flat()[i]) / 2);
    expectAllClose(got, expected, { rtol: 1e-5, atol: 1e-7 }, '∂/∂ℓ');
  });

  it('refuses shapes that differ', () => {
    tf.tidy(() => {
      expect(() => bernoulliReconstruction(tf.zeros([2, 4, 4, 1]), tf.zeros([2, 4, 4, 3]))).toThrow(/must have the same shape/);
    });
  });
});

describe('negativeElbo', () => {
  it('is reconstruction + β·KL, and refuses a negative β', () => {
    const value = (beta?: number) => tf.tidy(() => negativeElbo(tf.scalar(120.5), tf.scalar(7.25), beta).arraySync());
    expect(value()).toBeCloseTo(127.75, 4);
    expect(value(0.5)).toBeCloseTo(124.125, 4);
    expect(value(0)).toBeCloseTo(120.5, 4);
    expect(() => value(-1)).toThrow(/β must be a finite number ≥ 0/);
  });
});

describe('reparameterize', () => {
  const mu = [[1, -2, 0], [0.5, 0, 3]];
  const logVar = [[0, Math.log(4), -2], [1, 0, 0.3]];
  const draw = (seed: number) => tf.tidy(() => (reparameterize(tf.tensor2d(mu), tf.tensor2d(logVar), seed).arraySync() as number[][]).flat());

  it('is μ + e^{logVar/2}·ε with ε from the seed: the same seed, the same z; another seed, another z', () => {
    const first = draw(42);
    expect(draw(42)).toEqual(first);
    expect(draw(43)).not.toEqual(first);
    const rng = createRng(42);
    const expected = mu.flat().map((m, i) => m + Math.exp(logVar.flat()[i] / 2) * normal(rng));
    expectAllClose(first, expected, { rtol: 1e-6, atol: 1e-6 }, 'z');
  });

  it('draws z ~ N(μ, e^{logVar}): the mean and standard deviation over 4,000 images', () => {
    const n = 4000;
    const z = tf.tidy(() => reparameterize(tf.tensor2d([[1, -2]], [1, 2]).tile([n, 1]) as tf.Tensor2D, tf.tensor2d([[0, Math.log(4)]]).tile([n, 1]) as tf.Tensor2D, 9).arraySync() as number[][]);
    [[1, 1], [-2, 2]].forEach(([mean, std], j) => {
      const column = z.map((r) => r[j]);
      const m = column.reduce((a, b) => a + b, 0) / n;
      const s = Math.sqrt(column.reduce((a, b) => a + (b - m) ** 2, 0) / (n - 1));
      expect(Math.abs(m - mean)).toBeLessThan(4 * std / Math.sqrt(n));
      expect(s / std).toBeCloseTo(1, 1);
    });
  });

  it('passes the gradient to μ (1) and to logVar (½ e^{logVar/2} ε)', () => {
    const [gMu, gLogVar] = tf.tidy(() => tf.grads((m: tf.Tensor, s: tf.Tensor) => tf.sum(reparameterize(m as tf.Tensor2D, s as tf.Tensor2D, 5)))([tf.tensor2d(mu), tf.tensor2d(logVar)]).map((g) => (g.arraySync() as number[][]).flat()));
    expect(gMu).toEqual(mu.flat().map(() => 1));
    const rng = createRng(5);
    expectAllClose(gLogVar, logVar.flat().map((s) => 0.5 * Math.exp(s / 2) * normal(rng)), { rtol: 1e-5, atol: 1e-7 }, '∂z/∂logVar');
  });
});
