/**
 * Autoencoder (Hinton & Salakhutdinov 2006), and with `denoise` the denoising
 * autoencoder (Vincent et al. 2008): f encodes each view t(x) to h, and a
 * small decoder of transposed convolutions rebuilds the whole view from h
 * alone, scored by the mean squared error over every pixel
 * (src/loss/reconstruction.ts). With denoising on, f sees the view under
 * additive Gaussian noise, x̃ = clip(x + ε, 0, 1) with ε ~ N(0, 0.2²) per
 * pixel and channel, and the target stays the clean x: copying pixels no
 * longer scores, so h has to hold what the image is rather than what its
 * pixels are. (Vincent et al. 2008 zero a random share of the inputs,
 * masking noise; their 2010 follow-up names additive Gaussian noise as the
 * natural corruption of real-valued inputs, and it touches every pixel.)
 *
 * The decoder mirrors f's blocks in reverse, as DCGAN's generator does: h is
 * read by a dense layer onto a g×g map of 4w channels, g = ⌈S/8⌉ (f halves
 * the side three times), then three transposed convolutions, 4×4 kernels at
 * stride 2 (a kernel side divisible by the stride overlaps evenly, which
 * avoids the checkerboard of uneven overlap; Odena et al. 2016), take it
 * to 2g (2w channels), 4g (w channels) and 8g (C channels), with ReLU
 * between; the central S×S of the 8g×8g map passes through a sigmoid, so the
 * output is a picture in [0, 1].
 */
import * as tf from '@tensorflow/tfjs';
import { createRng, normal } from '../core/random';
import { TASK_SNAPSHOT_EXAMPLES, type TaskSnapshot } from '../core/taskSnapshot';
import { meanImageMse, psnrOf, reconstructionMse, reconstructionMseReference } from '../loss/reconstruction';
import { psnr } from './inpainting';
import type { MethodFactory, SslMethod } from './method';
import { CaptureSlot, pretextLifecycle, pretextStateReader, readCapture } from './pretextHead';

/** σ of the denoising autoencoder's additive Gaussian noise, on pixels in [0, 1]. */
export const AUTOENCODER_NOISE_STD = 0.2;
/** Side of the decoder's transposed-convolution kernels: twice the stride. */
export const DECODER_KERNEL = 4;
/** Times the decoder doubles the side: as often as f halves it. */
export const DECODER_DOUBLINGS = 3;

/** The decoder's first map side for views of side S: ⌈S / 8⌉, so that 8 of it cover S. */
export function decoderSeedSide(size: number): number {
  return Math.ceil(size / 2 ** DECODER_DOUBLINGS);
}

interface UpLayer {
  /** [k, k, outC, inC], tfjs's layout for a transposed convolution */
  filter: tf.Variable;
  bias: tf.Variable;
}

/**
 * h → x̂: dense onto a g×g×4w map, ReLU, then transposed convolutions
 * 4w → 2w → w → C at stride 2 (ReLU between), the central S×S, sigmoid.
 * He-normal weights (Glorot on the last layer) from the run's seed offset by
 * `salt`; zero biases.
 */
export class ConvDecoder {
  readonly seedSide: number;
  readonly seedChannels: number;
  private readonly dense: { weight: tf.Variable; bias: tf.Variable };
  private readonly layers: UpLayer[] = [];

  constructor(readonly hDim: number, width: number, readonly size: number, readonly channels: number, seed: number, salt: number) {
    const rng = createRng((seed ^ salt) >>> 0);
    this.seedSide = decoderSeedSide(size);
    this.seedChannels = 4 * width;
    const widths = [4 * width, 2 * width, width, channels];
    const gaussian = (shape: number[], std: number) => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => normal(rng) * std), shape);
    const cells = this.seedSide * this.seedSide * this.seedChannels;
    // tidy: the initial values are freed, the variables survive it
    const [weight, bias] = tf.tidy(() => [tf.variable(gaussian([hDim, cells], Math.sqrt(2 / hDim))), tf.variable(tf.zeros([cells]))]);
    this.dense = { weight, bias };
    tf.tidy(() => {
      widths.slice(1).forEach((out, i) => {
        const inC = widths[i];
        // at stride 2 each output pixel is reached by (k/2)² taps of every input channel
        const fanIn = (DECODER_KERNEL / 2) ** 2 * inC;
        const last = i === widths.length - 2;
        const std = last ? Math.sqrt(2 / (fanIn + (DECODER_KERNEL / 2) ** 2 * out)) : Math.sqrt(2 / fanIn);
        this.layers.push({ filter: tf.variable(gaussian([DECODER_KERNEL, DECODER_KERNEL, out, inC], std)), bias: tf.variable(tf.zeros([out])) });
      });
    });
  }

  get variables(): tf.Variable[] {
    return [this.dense.weight, this.dense.bias, ...this.layers.flatMap((l) => [l.filter, l.bias])];
  }

  /** x̂ = σ(decoder(h)), [M, S, S, C] in [0, 1]. */
  decode(h: tf.Tensor2D): tf.Tensor4D {
    return tf.tidy(() => {
      const m = h.shape[0];
      let side = this.seedSide;
      let a = tf.relu(tf.reshape(tf.add(tf.matMul(h, this.dense.weight as tf.Tensor2D), this.dense.bias), [m, side, side, this.seedChannels])) as tf.Tensor4D;
      this.layers.forEach((layer, i) => {
        side *= 2;
        const out = layer.filter.shape[2] as number;
        a = tf.add(tf.conv2dTranspose(a, layer.filter as tf.Tensor4D, [m, side, side, out], 2, 'same'), layer.bias) as tf.Tensor4D;
        if (i < this.layers.length - 1) a = tf.relu(a) as tf.Tensor4D;
      });
      // 8g ≥ S: keep the centre (an odd margin leaves the extra pixel below and to the right)
      const margin = Math.floor((side - this.size) / 2);
      return tf.sigmoid(tf.slice(a, [0, margin, margin, 0], [m, this.size, this.size, this.channels])) as tf.Tensor4D;
    });
  }

  get bytes(): number {
    return 4 * this.variables.reduce((sum, v) => sum + v.size, 0);
  }

  dispose(): void {
    tf.dispose(this.variables);
  }
}

/** The denoising autoencoder's input: x̃ = clip(x + ε, 0, 1), ε ~ N(0, σ²) per pixel and channel, drawn from `seed`. */
export function corruptViews(views: tf.Tensor4D, std: number, seed: number): tf.Tensor4D {
  return tf.tidy(() => tf.clipByValue(tf.add(views, tf.randomNormal(views.shape, 0, std, 'float32', seed)), 0, 1) as tf.Tensor4D);
}

export const autoencoder: MethodFactory = {
  id: 'autoencoder',
  create({ network, config, channels }): SslMethod {
    const size = config.imageSize;
    const decoder = new ConvDecoder(network.hDim, config.encoderWidth, size, channels, config.seed, 0xae0d);
    // the noise: one stream per run, same seed, same noise
    const noiseRng = createRng((config.seed ^ 0xde70) >>> 0);
    const captured = new CaptureSlot<{ input: tf.Tensor4D; reconstruction: tf.Tensor4D; target: tf.Tensor4D; numbers: tf.Tensor1D }>();
    let capturedN = 0;
    let capturedDenoised = false;
    return {
      id: 'autoencoder',
      // f and the decoder: the projection head g plays no part
      trainableVariables: [...network.encoderVariables, ...decoder.variables],
      lossPath: () => 'composed',
      forward(batch, { capture, config: current }) {
        const { views } = batch;
        const n = views.shape[0];
        if (views.shape[1] !== size) throw new Error(`Autoencoder: the decoder was built for ${size} px views, these are ${views.shape[1]} px; reset the run after changing the view size.`);
        // denoising applies from the next step, no reset needed
        const denoised = current.denoise;
        const input = denoised ? corruptViews(views, AUTOENCODER_NOISE_STD, Math.floor(noiseRng() * 2 ** 31)) : views;
        const h = network.encode(input, true);
        const reconstruction = decoder.decode(h);
        // the target is always the clean view
        const loss = reconstructionMse(reconstruction, views);
        const baseline = meanImageMse(views);
        const metrics = tf.tidy(() => tf.stack([baseline, psnrOf(loss)])) as tf.Tensor1D;
        if (capture) {
          const count = Math.min(n, TASK_SNAPSHOT_EXAMPLES);
          const first = (t: tf.Tensor4D) => tf.slice(t, 0, count);
          capturedN = n;
          capturedDenoised = denoised;
          captured.hold({
            input: first(input), reconstruction: first(reconstruction), target: first(views),
            // the noisy input's own error against the clean view: what copying the input would score
            numbers: tf.tidy(() => tf.stack([loss, baseline, denoised ? reconstructionMse(input, views) : tf.scalar(0)])) as tf.Tensor1D,
          });
        }
        tf.dispose([reconstruction, baseline]);
        if (input !== views) input.dispose();
        // h of the (corrupted) views: one embedding per image, no positive pairs
        return { loss, metrics, z: h, geometry: 'rows' };
      },
      ...pretextLifecycle(captured, [decoder]),
      // the decoder trains (the trainer saves it); the noise stream is all that moves besides, drawn on every denoising step
      saveState: async () => ({ arrays: {}, values: { noiseRng: noiseRng.state() } }),
      loadState(state) {
        const reader = pretextStateReader(state, 'Autoencoder', { values: ['noiseRng'] });
        reader.restoreRng('noiseRng', noiseRng);
        reader.commit();
      },
      taskSnapshot: (step) => readCapture(captured, async (held): Promise<TaskSnapshot> => {
        const [count, side, , c] = held.target.shape;
        const input = Float32Array.from(await held.input.data());
        const reconstruction = Float32Array.from(await held.reconstruction.data());
        const target = Float32Array.from(await held.target.data());
        const [mse, baseline, noisy] = Array.from(await held.numbers.data());
        const per = side * side * c;
        const example = (a: Float32Array, e: number) => a.subarray(e * per, (e + 1) * per);
        const captions = Array.from({ length: count }, (_, e) => {
          const own = `MSE ${reconstructionMseReference(example(reconstruction, e), example(target, e)).toFixed(4)}`;
          return capturedDenoised ? `${own} · noisy ${reconstructionMseReference(example(input, e), example(target, e)).toFixed(4)}` : own;
        });
        const row = (label: string, images: Float32Array) => ({ label, images, size: side, channels: c as 1 | 3 });
        return {
          step, method: 'autoencoder', count,
          rows: capturedDenoised
            ? [row(`noisy input (σ = ${AUTOENCODER_NOISE_STD})`, input), row('reconstruction', reconstruction), row('target: the clean view', target)]
            : [row('input', input), row('reconstruction', reconstruction), row('target: the input itself', target)],
          captions,
          summary: `Reconstruction MSE ${mse.toFixed(4)} over the batch’s ${capturedN} views of ${side}×${side} px (PSNR ${psnr(mse).toFixed(1)} dB); `
            + `painting every view as the batch’s mean image scores ${baseline.toFixed(4)}`
            + (capturedDenoised ? `, handing back the noisy input as it is ${noisy.toFixed(4)}.` : '.'),
        };
      }),
    };
  },
};
