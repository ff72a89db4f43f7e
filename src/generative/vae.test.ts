import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { bernoulliReconstruction, gaussianKl, negativeElbo, reparameterize } from '../loss/vae';
import { fixedNoise, generativeSeedSide } from './dcgan';
import { ConvVae } from './vae';

await tf.setBackend('cpu');

const values = (vs: tf.Variable[]) => vs.map((v) => Array.from(v.dataSync()));

function std(a: ArrayLike<number>): number {
  let mean = 0;
  for (let i = 0; i < a.length; i++) mean += a[i];
  mean /= a.length;
  let square = 0;
  for (let i = 0; i < a.length; i++) square += (a[i] - mean) ** 2;
  return Math.sqrt(square / (a.length - 1));
}

describe('ConvVae', () => {
  it('has the header’s layers at S = 16, 28 and 32, for grey and colour images, and every output its shape', () => {
    const w = 4;
    const J = 6;
    for (const size of [16, 28, 32]) {
      for (const channels of [1, 3]) {
        const g = generativeSeedSide(size);
        const cells = g * g * 4 * w;
        const vae = new ConvVae({ size, channels, width: w, latentDim: J, seed: 1 });
        expect(vae.variables.map((v) => v.shape)).toEqual([
          [4, 4, channels, w], [w], [4, 4, w, 2 * w], [2 * w], [4, 4, 2 * w, 4 * w], [4 * w],
          [cells, J], [J], [cells, J], [J],
          [J, cells], [cells],
          [4, 4, 2 * w, 4 * w], [2 * w], [4, 4, w, 2 * w], [w], [4, 4, channels, w], [channels],
        ]);
        tf.tidy(() => {
          const x = tf.randomUniform([3, size, size, channels], 0, 1, 'float32', 2) as tf.Tensor4D;
          const { mu, logVar } = vae.encode(x);
          expect(mu.shape).toEqual([3, J]);
          expect(logVar.shape).toEqual([3, J]);
          expect(vae.decodeLogits(mu).shape).toEqual([3, size, size, channels]);
          for (const images of [vae.decode(mu), vae.sample(4, 1), vae.reconstruct(x)]) {
            expect(images.shape.slice(1)).toEqual([size, size, channels]);
            expect(images.dataSync().every((p) => p > 0 && p < 1)).toBe(true);
          }
        });
        vae.dispose();
      }
    }
  });

  it('starts from He-normal (ReLU layers) and Glorot-normal (μ, logVar, logits) weights from the seed, biases 0', () => {
    const vae = new ConvVae({ size: 32, channels: 3, seed: 4 });
    const [conv0, , conv1, , conv2, , mu, , logVar, , project, , up0, , up1, , up2] = vae.variables;
    const cells = 4 * 4 * 128;
    const expected: [tf.Variable, number][] = [
      [conv0, Math.sqrt(2 / 48)], [conv1, Math.sqrt(2 / (16 * 32))], [conv2, Math.sqrt(2 / (16 * 64))],
      [mu, Math.sqrt(2 / (cells + 16))], [logVar, Math.sqrt(2 / (cells + 16))], [project, Math.sqrt(2 / 16)],
      [up0, Math.sqrt(2 / (4 * 128))], [up1, Math.sqrt(2 / (4 * 64))], [up2, Math.sqrt(2 / (4 * 32 + 4 * 3))],
    ];
    for (const [v, sigma] of expected) expect(std(v.dataSync()) / sigma).toBeCloseTo(1, 1);
    vae.variables.filter((_, i) => i % 2 === 1).forEach((bias) => expect(bias.dataSync().every((b) => b === 0)).toBe(true));
    const again = new ConvVae({ size: 32, channels: 3, seed: 4 });
    const other = new ConvVae({ size: 32, channels: 3, seed: 5 });
    expect(values(again.variables)).toEqual(values(vae.variables));
    expect(values(other.variables)[0]).not.toEqual(values(vae.variables)[0]);
    [vae, again, other].forEach((v) => v.dispose());
  });

  it('samples from the prior: decode(fixedNoise(n, J, seed)), the same seed the same images, another seed others', () => {
    const vae = new ConvVae({ size: 16, channels: 1, width: 4, latentDim: 8, seed: 2 });
    tf.tidy(() => {
      const a = vae.sample(5, 3).dataSync();
      expect(Array.from(vae.sample(5, 3).dataSync())).toEqual(Array.from(a));
      expect(Array.from(vae.sample(5, 4).dataSync())).not.toEqual(Array.from(a));
      expect(Array.from(vae.decode(fixedNoise(5, 8, 3)).dataSync())).toEqual(Array.from(a));
      // no batch norm: decode(z) is σ(logits) image by image
      const z = fixedNoise(5, 8, 3);
      const logits = vae.decodeLogits(z).dataSync();
      a.forEach((p, i) => expect(p).toBeCloseTo(1 / (1 + Math.exp(-logits[i])), 6));
      const firstTwo = vae.decode(tf.slice(z, 0, 2)).dataSync();
      firstTwo.forEach((p, i) => expect(p).toBeCloseTo(a[i], 6));
    });
    vae.dispose();
  });

  it('reconstructs x by decoding μ(x), deterministically and image by image', () => {
    const vae = new ConvVae({ size: 20, channels: 3, width: 4, seed: 6 });
    const x = tf.randomUniform([4, 20, 20, 3], 0, 1, 'float32', 8) as tf.Tensor4D;
    tf.tidy(() => {
      const all = vae.reconstruct(x).dataSync();
      expect(Array.from(vae.reconstruct(x).dataSync())).toEqual(Array.from(all));
      const viaMu = vae.decode(vae.encode(x).mu).dataSync();
      expect(Array.from(viaMu)).toEqual(Array.from(all));
      const one = vae.reconstruct(tf.slice(x, 1, 1)).dataSync();
      const per = 20 * 20 * 3;
      one.forEach((p, i) => expect(p).toBeCloseTo(all[per + i], 6));
    });
    x.dispose();
    vae.dispose();
  });

  it('passes the negative ELBO’s gradient to every variable', () => {
    const vae = new ConvVae({ size: 16, channels: 1, width: 4, latentDim: 4, seed: 3 });
    const x = tf.randomUniform([6, 16, 16, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => {
        const { mu, logVar } = vae.encode(x);
        const logits = vae.decodeLogits(reparameterize(mu, logVar, 1));
        return negativeElbo(bernoulliReconstruction(logits, x), gaussianKl(mu, logVar));
      }, vae.variables);
      expect(Object.keys(grads)).toHaveLength(vae.variables.length);
      for (const [name, grad] of Object.entries(grads)) {
        const entries = grad.dataSync();
        expect(entries.every(Number.isFinite), name).toBe(true);
        expect(entries.some((e) => e !== 0), name).toBe(true);
      }
    });
    x.dispose();
    vae.dispose();
  });

  it('counts its bytes, leaves only its outputs and frees every tensor on dispose; refuses what it is not built for', () => {
    const before = tf.memory().numTensors;
    expect(() => new ConvVae({ size: 40, channels: 3, seed: 1 })).toThrow(/VAE: the images are 40 px; the generative models are built for 16–32 px/);
    expect(() => new ConvVae({ size: 16, channels: 3, latentDim: 0, seed: 1 })).toThrow(/latentDim must be a whole number ≥ 1/);
    expect(tf.memory().numTensors).toBe(before);
    const vae = new ConvVae({ size: 16, channels: 1, width: 2, latentDim: 3, seed: 1 });
    expect(vae.bytes).toBe(4 * vae.variables.reduce((s, v) => s + v.size, 0));
    // 16 px, w = 2, J = 3: the two heads are 32 × 3 (+3) each, the projection 3 × 32 (+32)
    expect(vae.variables.reduce((s, v) => s + v.size, 0)).toBe((32 + 2) + (128 + 4) + (512 + 8) + 2 * (96 + 3) + (96 + 32) + (512 + 4) + (128 + 2) + (32 + 1));
    expect(tf.memory().numTensors).toBe(before + 18);
    const x = tf.zeros([2, 16, 16, 1]) as tf.Tensor4D;
    const { mu, logVar } = vae.encode(x);
    const reconstruction = vae.reconstruct(x);
    const samples = vae.sample(2, 1);
    expect(tf.memory().numTensors).toBe(before + 18 + 5);
    tf.tidy(() => {
      expect(() => vae.encode(tf.zeros([2, 16, 16, 3]) as tf.Tensor4D)).toThrow(/built for \[n, 16, 16, 1\] images, got \[2,16,16,3\]/);
      expect(() => vae.decodeLogits(tf.zeros([2, 4]) as tf.Tensor2D)).toThrow(/z must be \[n ≥ 1, 3\], got \[2,4\]/);
    });
    tf.dispose([x, mu, logVar, reconstruction, samples]);
    vae.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
