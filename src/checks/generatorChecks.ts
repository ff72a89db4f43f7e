/**
 * The generative models on a browser backend (checks.html?check=generators),
 * for the bench: ms per DCGAN step (one D step and one G step) and per VAE
 * step at Fashion-MNIST's shape, the time to sample 256 images, and the live
 * tensors left after the timed steps (0: no leak).
 */
import * as tf from '@tensorflow/tfjs';
import { createRng } from '../core/random';
import { Dcgan } from '../generative/dcgan';
import { createGanOptimizers, createVaeOptimizer, ganStep, vaeStep } from '../generative/training';
import { ConvVae } from '../generative/vae';

export interface GeneratorTimingOptions {
  size: number;
  channels: number;
  width: number;
  batch: number;
  steps: number;
  warmup: number;
}

/** A seeded batch of images in [0, 1] (the cost, not the fit, is measured). */
function batchOf(o: GeneratorTimingOptions, seed: number): tf.Tensor4D {
  const rng = createRng(seed);
  return tf.tensor4d(Float32Array.from({ length: o.batch * o.size * o.size * o.channels }, () => rng()), [o.batch, o.size, o.size, o.channels]);
}

async function timeSteps(o: GeneratorTimingOptions, step: (images: tf.Tensor4D, seed: number) => Promise<unknown>) {
  const images = batchOf(o, 7);
  for (let s = 0; s < o.warmup; s++) await step(images, s);
  const before = tf.memory().numTensors;
  const t0 = performance.now();
  for (let s = 0; s < o.steps; s++) await step(images, o.warmup + s);
  const msPerStep = (performance.now() - t0) / o.steps;
  const leakedTensors = tf.memory().numTensors - before;
  images.dispose();
  return { msPerStep, leakedTensors };
}

async function timeSampling(sample: () => tf.Tensor) {
  const warm = sample();
  await warm.data();
  warm.dispose();
  const t0 = performance.now();
  const x = sample();
  await x.data();
  x.dispose();
  return performance.now() - t0;
}

export async function generatorTiming(backend: string, o: GeneratorTimingOptions) {
  if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} is not available`);
  await tf.ready();
  const start = tf.memory().numTensors;
  const config = { size: o.size, channels: o.channels, width: o.width, seed: 1 };
  const gan = new Dcgan({ ...config, zDim: 64 });
  const ganOptimizers = createGanOptimizers();
  const dcgan = await timeSteps(o, (images, seed) => ganStep(gan, images, ganOptimizers, seed));
  const dcganSample256Ms = await timeSampling(() => gan.generator.sample(256, 3));
  gan.dispose();
  ganOptimizers.discriminator.dispose();
  ganOptimizers.generator.dispose();
  const vae = new ConvVae({ ...config, latentDim: 16 });
  const vaeOptimizer = createVaeOptimizer();
  const vaeRow = await timeSteps(o, (images, seed) => vaeStep(vae, images, vaeOptimizer, seed));
  const vaeSample256Ms = await timeSampling(() => vae.sample(256, 3));
  vae.dispose();
  vaeOptimizer.dispose();
  return {
    backend, ...o,
    dcgan: { msPerStep: +dcgan.msPerStep.toFixed(1), leakedTensors: dcgan.leakedTensors, sample256Ms: +dcganSample256Ms.toFixed(1) },
    vae: { msPerStep: +vaeRow.msPerStep.toFixed(1), leakedTensors: vaeRow.leakedTensors, sample256Ms: +vaeSample256Ms.toFixed(1) },
    tensorsLeftAfterDispose: tf.memory().numTensors - start,
  };
}
