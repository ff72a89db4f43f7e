import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { Dcgan, DcganDiscriminator, DcganGenerator, fixedNoise, generativeSeedSide } from './dcgan';

await tf.setBackend('cpu');

const shapes = (vs: tf.Variable[]) => vs.map((v) => v.shape);
const values = (vs: tf.Variable[]) => vs.map((v) => Array.from(v.dataSync()));

function moments(a: ArrayLike<number>): { mean: number; std: number } {
  let mean = 0;
  for (let i = 0; i < a.length; i++) mean += a[i];
  mean /= a.length;
  let square = 0;
  for (let i = 0; i < a.length; i++) square += (a[i] - mean) ** 2;
  return { mean, std: Math.sqrt(square / (a.length - 1)) };
}

describe('DCGAN generator and discriminator', () => {
  it('have the header’s layers at S = 16, 28 and 32, for grey and colour images', () => {
    const w = 4;
    for (const size of [16, 28, 32]) {
      for (const channels of [1, 3]) {
        const g = generativeSeedSide(size);
        expect(g).toBe({ 16: 2, 28: 4, 32: 4 }[size]);
        const gan = new Dcgan({ size, channels, width: w, zDim: 8, seed: 1 });
        expect(shapes(gan.generator.variables)).toEqual([
          [8, g * g * 4 * w], [4 * w], [4 * w],
          [4, 4, 2 * w, 4 * w], [2 * w], [2 * w],
          [4, 4, w, 2 * w], [w], [w],
          [4, 4, channels, w], [channels],
        ]);
        expect(shapes(gan.discriminator.variables)).toEqual([
          [4, 4, channels, w], [w],
          [4, 4, w, 2 * w], [2 * w], [2 * w],
          [4, 4, 2 * w, 4 * w], [4 * w], [4 * w],
          [g * g * 4 * w, 1], [1],
        ]);
        expect(shapes(gan.generator.runningStatistics)).toEqual([[4 * w], [4 * w], [2 * w], [2 * w], [w], [w]]);
        expect(shapes(gan.discriminator.runningStatistics)).toEqual([[2 * w], [2 * w], [4 * w], [4 * w]]);
        tf.tidy(() => {
          for (const training of [true, false]) {
            const images = gan.generator.generate(fixedNoise(5, 8, 2), training);
            expect(images.shape).toEqual([5, size, size, channels]);
            const pixels = images.dataSync();
            expect(pixels.every((p) => p > 0 && p < 1)).toBe(true);
            const logits = gan.discriminator.logits(images, training);
            expect(logits.shape).toEqual([5]);
            expect(logits.dataSync().every(Number.isFinite)).toBe(true);
          }
        });
        gan.dispose();
      }
    }
  });

  it('start from N(0, 0.02²) weights, zero biases, γ = 1, β = 0 and unit running statistics', () => {
    const gan = new Dcgan({ size: 32, channels: 3, seed: 3 });
    const [project, gamma, beta] = gan.generator.variables;
    // the default width 32: the projection is 64 × 2048 = 131,072 draws
    expect(project.shape).toEqual([64, 2048]);
    const { mean, std } = moments(project.dataSync());
    expect(Math.abs(mean)).toBeLessThan(3 * 0.02 / Math.sqrt(project.size));
    expect(std / 0.02).toBeCloseTo(1, 2);
    for (const v of [...gan.generator.variables, ...gan.discriminator.variables]) {
      const entries = Array.from(v.dataSync());
      // rank 1: a bias (zeros), a γ (ones) or a β (zeros), in that order of the lists
      if (v.rank === 1) expect(entries.every((e) => e === 0 || e === 1)).toBe(true);
      else expect(moments(entries).std / 0.02).toBeGreaterThan(0.85);
    }
    expect(Array.from(gamma.dataSync()).every((e) => e === 1)).toBe(true);
    expect(Array.from(beta.dataSync()).every((e) => e === 0)).toBe(true);
    expect(gan.generator.variables.at(-1)!.dataSync().every((e) => e === 0)).toBe(true);
    expect(gan.discriminator.variables.at(-1)!.dataSync().every((e) => e === 0)).toBe(true);
    const [movingMean, movingVariance] = gan.generator.runningStatistics;
    expect(movingMean.dataSync().every((e) => e === 0)).toBe(true);
    expect(movingVariance.dataSync().every((e) => e === 1)).toBe(true);
    gan.dispose();
  });

  it('draw their weights from the seed: the same seed, the same networks; another seed, others', () => {
    const config = { size: 16, channels: 1, width: 4, zDim: 8 };
    const a = new Dcgan({ ...config, seed: 5 });
    const b = new Dcgan({ ...config, seed: 5 });
    const c = new Dcgan({ ...config, seed: 6 });
    expect(values(a.generator.variables)).toEqual(values(b.generator.variables));
    expect(values(a.discriminator.variables)).toEqual(values(b.discriminator.variables));
    expect(values(a.generator.variables)[0]).not.toEqual(values(c.generator.variables)[0]);
    expect(values(a.discriminator.variables)[0]).not.toEqual(values(c.discriminator.variables)[0]);
    // G and D draw from streams of their own: D's first kernel is not G's first draws
    expect(values(a.discriminator.variables)[0]).not.toEqual(values(a.generator.variables)[0].slice(0, 64));
    [a, b, c].forEach((gan) => gan.dispose());
  });

  it('count their bytes (float32, running statistics included) and free every tensor on dispose', () => {
    const before = tf.memory().numTensors;
    const gan = new Dcgan({ size: 28, channels: 3, width: 8, zDim: 16, seed: 1 });
    const count = (vs: tf.Variable[]) => vs.reduce((s, v) => s + v.size, 0);
    expect(gan.generator.bytes).toBe(4 * count([...gan.generator.variables, ...gan.generator.runningStatistics]));
    expect(gan.discriminator.bytes).toBe(4 * count([...gan.discriminator.variables, ...gan.discriminator.runningStatistics]));
    expect(gan.bytes).toBe(gan.generator.bytes + gan.discriminator.bytes);
    // G: 16·(4·4·32) + 2·32 + 4·4·16·32 + 2·16 + 4·4·8·16 + 2·8 + 4·4·3·8 + 3 trainable, 2·(32 + 16 + 8) running
    expect(gan.generator.bytes).toBe(4 * (8192 + 64 + 8192 + 32 + 2048 + 16 + 384 + 3 + 112));
    // 11 + 6 variables in G, 10 + 4 in D
    const held = gan.generator.variables.length + gan.generator.runningStatistics.length + gan.discriminator.variables.length + gan.discriminator.runningStatistics.length;
    expect(held).toBe(31);
    expect(tf.memory().numTensors).toBe(before + held);
    const z = fixedNoise(4, 16, 1);
    const images = gan.generator.generate(z, true);
    const logits = gan.discriminator.logits(images, true);
    // each forward leaves its output alone
    expect(tf.memory().numTensors).toBe(before + held + 3);
    tf.dispose([z, images, logits]);
    gan.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuse sizes, channels and widths they are not built for, and inputs of the wrong shape', () => {
    const before = tf.memory().numTensors;
    expect(() => new Dcgan({ size: 12, channels: 1, seed: 1 })).toThrow(/12 px; the generative models are built for 16–32 px images/);
    expect(() => new Dcgan({ size: 64, channels: 1, seed: 1 })).toThrow(/16–32 px/);
    expect(() => new Dcgan({ size: 16, channels: 2, seed: 1 })).toThrow(/2 channels; it needs grayscale \(1\) or RGB \(3\)/);
    expect(() => new Dcgan({ size: 16, channels: 1, width: 0, seed: 1 })).toThrow(/width must be a whole number ≥ 1/);
    expect(() => new DcganGenerator({ size: 16, channels: 1, zDim: 2.5, seed: 1 })).toThrow(/zDim must be a whole number ≥ 1/);
    expect(tf.memory().numTensors).toBe(before);
    const gan = new Dcgan({ size: 16, channels: 1, width: 2, zDim: 4, seed: 1 });
    tf.tidy(() => {
      expect(() => gan.generator.generate(tf.zeros([3, 5]) as tf.Tensor2D, false)).toThrow(/z must be \[n ≥ 1, 4\], got \[3,5\]/);
      expect(() => gan.discriminator.logits(tf.zeros([3, 16, 16, 3]) as tf.Tensor4D, false)).toThrow(/built for \[n, 16, 16, 1\] images, got \[3,16,16,3\]/);
    });
    expect(() => fixedNoise(0, 4, 1)).toThrow(/whole number ≥ 1/);
    gan.dispose();
  });
});

describe('fixedNoise and sample', () => {
  it('fixedNoise draws N(0, 1) rows from the seed, and n rows begin with the k < n of fixedNoise(k)', () => {
    const z = fixedNoise(200, 64, 11);
    const { mean, std } = moments(z.dataSync());
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(std).toBeCloseTo(1, 1);
    const again = fixedNoise(200, 64, 11);
    const fewer = fixedNoise(3, 64, 11);
    const other = fixedNoise(3, 64, 12);
    expect(Array.from(again.dataSync())).toEqual(Array.from(z.dataSync()));
    expect(Array.from(fewer.dataSync())).toEqual(Array.from(z.dataSync().subarray(0, 3 * 64)));
    expect(Array.from(other.dataSync())).not.toEqual(Array.from(fewer.dataSync()));
    tf.dispose([z, again, fewer, other]);
  });

  it('sample(n, seed) is the same images for a seed, others for another, each image its own z’s alone (running statistics)', () => {
    const generator = new DcganGenerator({ size: 16, channels: 3, width: 4, zDim: 8, seed: 2 });
    // move the running statistics off their start, so that inference differs from a fresh network's
    tf.tidy(() => {
      for (let i = 0; i < 3; i++) generator.generate(fixedNoise(16, 8, 100 + i), true);
    });
    const running = values(generator.runningStatistics);
    const eight = generator.sample(8, 7);
    const three = generator.sample(3, 7);
    const again = generator.sample(8, 7);
    const other = generator.sample(8, 8);
    expect(Array.from(again.dataSync())).toEqual(Array.from(eight.dataSync()));
    expect(Array.from(other.dataSync())).not.toEqual(Array.from(eight.dataSync()));
    // inference: the first 3 of 8 are the 3 of sample(3), whatever else is in the batch
    const perImage = 16 * 16 * 3;
    const head = eight.dataSync().subarray(0, 3 * perImage);
    three.dataSync().forEach((v, i) => expect(v).toBeCloseTo(head[i], 6));
    // and sampling leaves the running statistics alone
    expect(values(generator.runningStatistics)).toEqual(running);
    tf.dispose([eight, three, again, other]);
    generator.dispose();
  });

  it('a training-mode pass moves the running statistics by (1 − 0.9) of the batch’s, and uses the batch’s', () => {
    const generator = new DcganGenerator({ size: 16, channels: 1, width: 4, zDim: 8, seed: 4 });
    const z = fixedNoise(6, 8, 9);
    const g = generator.seedSide;
    // the projection's map per channel, over images and positions: mean and unbiased variance
    const [expectedMean, expectedVariance] = tf.tidy(() => {
      const map = tf.reshape(tf.matMul(z, generator.variables[0] as tf.Tensor2D), [6 * g * g, 16]);
      const { mean, variance } = tf.moments(map, 0);
      const count = 6 * g * g;
      return [Array.from(mean.dataSync()), Array.from(tf.mul(variance, count / (count - 1)).dataSync())];
    });
    tf.dispose(generator.generate(z, false));
    expect(values(generator.runningStatistics)[0].every((v) => v === 0)).toBe(true);
    tf.dispose(generator.generate(z, true));
    const [movingMean, movingVariance] = values(generator.runningStatistics.slice(0, 2));
    movingMean.forEach((v, c) => expect(v).toBeCloseTo(0.1 * expectedMean[c], 6));
    movingVariance.forEach((v, c) => expect(v).toBeCloseTo(0.9 + 0.1 * expectedVariance[c], 6));
    // training mode normalizes by the batch: the same z in a different batch gives a different image
    const [alone, withOthers] = tf.tidy(() => [
      Array.from(generator.generate(tf.slice(z, 0, 3), true).dataSync()),
      Array.from(generator.generate(z, true).dataSync().subarray(0, 3 * 256)),
    ]);
    expect(alone).not.toEqual(withOthers);
    z.dispose();
    generator.dispose();
  });

  it('passes gradients to every trainable variable of G and of D', () => {
    const gan = new Dcgan({ size: 16, channels: 1, width: 4, zDim: 8, seed: 3 });
    const real = tf.randomUniform([6, 16, 16, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
    const z = fixedNoise(6, 8, 1);
    tf.tidy(() => {
      const d = tf.variableGrads(() => tf.mean(gan.discriminator.logits(real, true)) as tf.Scalar, gan.discriminator.variables);
      const g = tf.variableGrads(() => tf.mean(gan.discriminator.logits(gan.generator.generate(z, true), true)) as tf.Scalar, gan.generator.variables);
      for (const grads of [d.grads, g.grads]) {
        for (const [name, grad] of Object.entries(grads)) {
          const entries = grad.dataSync();
          expect(entries.every(Number.isFinite), name).toBe(true);
          expect(entries.some((e) => e !== 0), name).toBe(true);
        }
      }
      expect(Object.keys(d.grads)).toHaveLength(gan.discriminator.variables.length);
      expect(Object.keys(g.grads)).toHaveLength(gan.generator.variables.length);
    });
    tf.dispose([real, z]);
    gan.dispose();
  });
});

describe('DcganDiscriminator alone', () => {
  it('scores each image by itself in inference mode', () => {
    const d = new DcganDiscriminator({ size: 20, channels: 3, width: 4, seed: 8 });
    const x = tf.randomUniform([5, 20, 20, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    const [all, two] = tf.tidy(() => [Array.from(d.logits(x, false).dataSync()), Array.from(d.logits(tf.slice(x, 0, 2), false).dataSync())]);
    two.forEach((l, i) => expect(l).toBeCloseTo(all[i], 5));
    x.dispose();
    d.dispose();
  });
});
