import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createRng, uniform } from '../core/random';
import { Dcgan } from './dcgan';
import { createGanOptimizers, createVaeOptimizer, ganStep, vaeStep, type GanOptimizers, type GanStepResult, type VaeStepResult } from './training';
import { ConvVae } from './vae';

await tf.setBackend('cpu');

const SIZE = 16;

/**
 * n grey 16×16 images from a seed: one bright disc (radius 2–5, centre
 * anywhere it fits) or one bright bar (3 px thick, horizontal or vertical)
 * on a dark, slightly noisy background, pixels in [0, 1].
 */
function shapeImages(n: number, seed: number): tf.Tensor4D {
  const rng = createRng(seed);
  const pixels = new Float32Array(n * SIZE * SIZE);
  for (let i = 0; i < n; i++) {
    const kind = i % 3;
    const radius = uniform(rng, 2, 5);
    const cx = uniform(rng, radius, SIZE - radius);
    const cy = uniform(rng, radius, SIZE - radius);
    const at = Math.floor(uniform(rng, 2, SIZE - 5));
    for (let y = 0; y < SIZE; y++) {
      for (let x = 0; x < SIZE; x++) {
        const inside = kind === 0 ? (x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 < radius ** 2 : kind === 1 ? y >= at && y < at + 3 : x >= at && x < at + 3;
        pixels[i * SIZE * SIZE + y * SIZE + x] = inside ? 0.9 : 0.1 * rng();
      }
    }
  }
  return tf.tensor4d(pixels, [n, SIZE, SIZE, 1]);
}

const IMAGES = shapeImages(64, 1);

/** Batches of 16 of the 64 images, in turn: small, as tfjs's cpu backend is slow at the convolutions' filter gradients. */
const BATCH = 16;

async function trainGan(gan: Dcgan, optimizers: GanOptimizers, steps: number): Promise<GanStepResult[]> {
  const out: GanStepResult[] = [];
  for (let s = 0; s < steps; s++) {
    const real = tf.slice(IMAGES, (s % 4) * BATCH, BATCH);
    out.push(await ganStep(gan, real, optimizers, 1000 + s));
    real.dispose();
  }
  return out;
}

async function trainVae(vae: ConvVae, optimizer: tf.Optimizer, steps: number, beta = 1): Promise<VaeStepResult[]> {
  const out: VaeStepResult[] = [];
  for (let s = 0; s < steps; s++) {
    const real = tf.slice(IMAGES, (s % 4) * BATCH, BATCH);
    out.push(await vaeStep(vae, real, optimizer, 2000 + s, beta));
    real.dispose();
  }
  return out;
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
// width 4: the filter gradients' cost grows with width²
const ganConfig = { size: SIZE, channels: 1, width: 4, zDim: 16, seed: 7 };
const vaeConfig = { size: SIZE, channels: 1, width: 4, latentDim: 8, seed: 7 };

describe('vaeStep', () => {
  it('lowers the negative ELBO over 30 steps on 64 shape images (batches of 16), and reports −ELBO = reconstruction + β·KL', async () => {
    const vae = new ConvVae(vaeConfig);
    const optimizer = createVaeOptimizer();
    const steps = await trainVae(vae, optimizer, 30);
    for (const s of steps) {
      expect(Number.isFinite(s.negativeElbo)).toBe(true);
      expect(s.kl).toBeGreaterThanOrEqual(0);
      expect(s.negativeElbo).toBeCloseTo(s.reconstruction + s.kl, 2);
    }
    expect(mean(steps.slice(-5).map((s) => s.negativeElbo))).toBeLessThan(0.8 * steps[0].negativeElbo);
    // a β step: the same identity with β = 0.25
    const [weighted] = await trainVae(vae, optimizer, 1, 0.25);
    expect(weighted.negativeElbo).toBeCloseTo(weighted.reconstruction + 0.25 * weighted.kl, 2);
    optimizer.dispose();
    vae.dispose();
  });

  it('repeats for one seed: the same losses and the same weights', async () => {
    const run = async () => {
      const vae = new ConvVae(vaeConfig);
      const optimizer = createVaeOptimizer();
      const steps = await trainVae(vae, optimizer, 3);
      const weights = vae.variables.map((v) => Array.from(v.dataSync()));
      optimizer.dispose();
      vae.dispose();
      return { steps, weights };
    };
    const a = await run();
    const b = await run();
    expect(b.steps).toEqual(a.steps);
    expect(b.weights).toEqual(a.weights);
  });

  it('changes the samples from the prior, and leaves no tensor behind once the optimizer exists', async () => {
    const start = tf.memory().numTensors;
    const vae = new ConvVae(vaeConfig);
    const optimizer = createVaeOptimizer();
    const before = vae.sample(8, 99);
    // Adam's moments are made at its first step
    await trainVae(vae, optimizer, 1);
    const tensors = tf.memory().numTensors;
    await trainVae(vae, optimizer, 4);
    expect(tf.memory().numTensors).toBe(tensors);
    const after = vae.sample(8, 99);
    const change = tf.tidy(() => tf.max(tf.abs(tf.sub(after, before))).dataSync()[0]);
    expect(change).toBeGreaterThan(1e-2);
    tf.dispose([before, after]);
    optimizer.dispose();
    vae.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });
});

describe('ganStep', () => {
  it('moves L_D off its start over 20 steps with both losses finite and the scores D(x), D(G(z)) in (0, 1)', async () => {
    const gan = new Dcgan(ganConfig);
    const optimizers = createGanOptimizers();
    const before = gan.generator.sample(16, 99);
    const steps = await trainGan(gan, optimizers, 20);
    for (const s of steps) {
      expect(Number.isFinite(s.discriminatorLoss)).toBe(true);
      expect(Number.isFinite(s.generatorLoss)).toBe(true);
      for (const score of [s.realScore, s.fakeScore]) {
        expect(score).toBeGreaterThan(0);
        expect(score).toBeLessThan(1);
      }
    }
    // an untrained D says about ½ to everything: L_D ≈ 2 log 2, L_G ≈ log 2
    expect(Math.abs(steps[0].discriminatorLoss - 2 * Math.LN2)).toBeLessThan(0.1);
    expect(Math.abs(steps[0].realScore - 0.5)).toBeLessThan(0.05);
    const late = mean(steps.slice(-5).map((s) => s.discriminatorLoss));
    expect(Math.abs(late - steps[0].discriminatorLoss)).toBeGreaterThan(0.1);
    // D has learned something: it scores the real batch above the fake one
    expect(mean(steps.slice(-5).map((s) => s.realScore - s.fakeScore))).toBeGreaterThan(0);
    // and G has moved: the same 16 z give other images
    const after = gan.generator.sample(16, 99);
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(after, before))).dataSync()[0])).toBeGreaterThan(5e-3);
    tf.dispose([before, after]);
    optimizers.generator.dispose();
    optimizers.discriminator.dispose();
    gan.dispose();
  });

  it('repeats for one seed: the same losses, scores and weights', async () => {
    const run = async () => {
      const gan = new Dcgan(ganConfig);
      const optimizers = createGanOptimizers();
      const steps = await trainGan(gan, optimizers, 3);
      const weights = [...gan.generator.variables, ...gan.discriminator.variables, ...gan.generator.runningStatistics].map((v) => Array.from(v.dataSync()));
      optimizers.generator.dispose();
      optimizers.discriminator.dispose();
      gan.dispose();
      return { steps, weights };
    };
    const a = await run();
    const b = await run();
    expect(b.steps).toEqual(a.steps);
    expect(b.weights).toEqual(a.weights);
  });

  it('updates D in the D step and G in the G step, each with its own optimizer', async () => {
    const gan = new Dcgan(ganConfig);
    const optimizers = createGanOptimizers();
    const snapshot = (vs: tf.Variable[]) => vs.map((v) => Array.from(v.dataSync()));
    const g0 = snapshot(gan.generator.variables);
    const d0 = snapshot(gan.discriminator.variables);
    await trainGan(gan, optimizers, 1);
    // Adam's first step moves a weight by lr·ĝ/(|ĝ| + ε) ≤ lr: each variable's largest move is about lr, once; a variable
    // that both optimizers stepped would have moved up to 2 lr, one that neither stepped not at all
    const moved = (before: number[][], vs: tf.Variable[]) => snapshot(vs).map((v, i) => Math.max(...v.map((x, j) => Math.abs(x - before[i][j]))));
    for (const step of [...moved(g0, gan.generator.variables), ...moved(d0, gan.discriminator.variables)]) {
      expect(step).toBeGreaterThan(0.9 * 2e-4);
      expect(step).toBeLessThan(1.01 * 2e-4);
    }
    optimizers.generator.dispose();
    optimizers.discriminator.dispose();
    gan.dispose();
  });

  it('leaves no tensor behind once the optimizers exist, also when the batch does not fit D', async () => {
    const start = tf.memory().numTensors;
    const gan = new Dcgan(ganConfig);
    const optimizers = createGanOptimizers();
    // Adam's moments are made at its first step
    await trainGan(gan, optimizers, 1);
    const tensors = tf.memory().numTensors;
    await trainGan(gan, optimizers, 4);
    expect(tf.memory().numTensors).toBe(tensors);
    // a batch D is not built for throws and leaves nothing either
    const wrong = tf.zeros([4, 20, 20, 1]) as tf.Tensor4D;
    const held = tf.memory().numTensors;
    await expect(ganStep(gan, wrong, optimizers, 1)).rejects.toThrow(/built for \[n, 16, 16, 1\] images, got \[4,20,20,1\]/);
    expect(tf.memory().numTensors).toBe(held);
    const empty = tf.zeros([0, 16, 16, 1]) as tf.Tensor4D;
    await expect(ganStep(gan, empty, optimizers, 1)).rejects.toThrow(/the real batch must be \[n ≥ 1, S, S, C\] images, got \[0,16,16,1\]/);
    tf.dispose([wrong, empty]);
    optimizers.generator.dispose();
    optimizers.discriminator.dispose();
    gan.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });
});
