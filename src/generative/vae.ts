/**
 * A small convolutional variational autoencoder (Kingma & Welling,
 * "Auto-Encoding Variational Bayes", ICLR 2014, https://arxiv.org/abs/1312.6114)
 * for S×S images, S ∈ [16, 32], C ∈ {1, 3}, pixels in [0, 1], NHWC. With
 * g = ⌈S/8⌉, width w and J latent units:
 *
 *   encoder q(z|x):  x → conv 4×4/2 → ⌈S/2⌉ side, w → ReLU
 *                      → conv 4×4/2 → ⌈S/4⌉ side, 2w → ReLU
 *                      → conv 4×4/2 → g×g×4w → ReLU → flatten
 *                      → dense → μ ∈ R^J,   dense → logVar ∈ R^J
 *   decoder p(x|z):  z → dense → g×g×4w → ReLU
 *                      → convT 4×4/2 → 2g×2g×2w → ReLU
 *                      → convT 4×4/2 → 4g×4g×w → ReLU
 *                      → convT 4×4/2 → 8g×8g×C → central S×S = logits ℓ,  x̂ = σ(ℓ)
 *
 * the decoder the DCGAN generator's shape (src/generative/dcgan.ts) and the
 * encoder D's, every convolution with a bias. The loss (src/loss/vae.ts) is the
 * negative ELBO with a Bernoulli decoder, which takes the logits ℓ.
 *
 * No batch norm: the ELBO is a bound per image, and batch statistics would
 * make each image's bound, and its reconstruct(x), depend on the images it
 * was batched with; nets this small train without it. Without batch norm the
 * scale of the initial weights matters, so they are He-normal,
 * σ = √(2/fanIn), for the layers followed by ReLU, and Glorot-normal,
 * σ = √(2/(fanIn + fanOut)), for the linear μ, logVar and logit layers (as
 * ConvDecoder in src/methods/autoencoder.ts), from a seeded Rng; biases 0.
 */
import * as tf from '@tensorflow/tfjs';
import { createRng, type Rng } from '../core/random';
import { checkGenerativeShape, fixedNoise, gaussianTensor, GENERATIVE_KERNEL, generativeSeedSide } from './dcgan';

export const DEFAULT_VAE_WIDTH = 32;
export const DEFAULT_LATENT_DIM = 16;

export interface VaeConfig {
  /** S: the images' side, in [16, 32] */
  size: number;
  /** C: 1 or 3 */
  channels: number;
  /** w: the narrowest layer's channels (default 32) */
  width?: number;
  /** J: the latent units (default 16) */
  latentDim?: number;
  seed: number;
}

interface Layer {
  /** a dense [in, out], convolution [k, k, in, out] or transposed convolution [k, k, out, in] */
  weight: tf.Variable;
  bias: tf.Variable;
}

/** A layer with N(0, std²) weights from the rng and a zero bias (initial values freed, variables kept). */
function layer(rng: Rng, shape: number[], outChannels: number, std: number): Layer {
  return tf.tidy(() => ({ weight: tf.variable(gaussianTensor(rng, shape, std)), bias: tf.variable(tf.zeros([outChannels])) }));
}

export class ConvVae {
  readonly size: number;
  readonly channels: number;
  readonly width: number;
  readonly latentDim: number;
  readonly seedSide: number;
  /** C → w → 2w → 4w, stride-2 convolutions */
  private readonly down: Layer[] = [];
  private readonly mu: Layer;
  private readonly logVar: Layer;
  /** z → g·g·4w */
  private readonly project: Layer;
  /** 4w → 2w → w → C, stride-2 transposed convolutions */
  private readonly up: Layer[] = [];

  constructor(config: VaeConfig) {
    this.size = config.size;
    this.channels = config.channels;
    this.width = config.width ?? DEFAULT_VAE_WIDTH;
    this.latentDim = config.latentDim ?? DEFAULT_LATENT_DIM;
    checkGenerativeShape('VAE', this.size, this.channels, { width: this.width, latentDim: this.latentDim });
    this.seedSide = generativeSeedSide(this.size);
    const rng = createRng((config.seed ^ 0x7ae0) >>> 0);
    const w = this.width;
    const k = GENERATIVE_KERNEL;
    const cells = this.seedSide * this.seedSide * 4 * w;
    const J = this.latentDim;
    for (const [inC, outC] of [[this.channels, w], [w, 2 * w], [2 * w, 4 * w]]) {
      this.down.push(layer(rng, [k, k, inC, outC], outC, Math.sqrt(2 / (k * k * inC))));
    }
    this.mu = layer(rng, [cells, J], J, Math.sqrt(2 / (cells + J)));
    this.logVar = layer(rng, [cells, J], J, Math.sqrt(2 / (cells + J)));
    this.project = layer(rng, [J, cells], cells, Math.sqrt(2 / J));
    // at stride 2 each output pixel of a transposed convolution is reached by (k/2)² taps of every input channel
    const taps = (k / 2) ** 2;
    for (const [inC, outC] of [[4 * w, 2 * w], [2 * w, w]]) this.up.push(layer(rng, [k, k, outC, inC], outC, Math.sqrt(2 / (taps * inC))));
    this.up.push(layer(rng, [k, k, this.channels, w], this.channels, Math.sqrt(2 / (taps * w + taps * this.channels))));
  }

  /** Every variable, trained by the ELBO, in a fixed order: encoder, μ and logVar heads, decoder. */
  get variables(): tf.Variable[] {
    return [...this.down, this.mu, this.logVar, this.project, ...this.up].flatMap((l) => [l.weight, l.bias]);
  }

  get bytes(): number {
    return 4 * this.variables.reduce((sum, v) => sum + v.size, 0);
  }

  /**
   * q(z|x) = N(μ, diag(e^{logVar})): both [n, J]; the caller disposes them.
   * @param x [n, S, S, C], pixels in [0, 1]
   */
  encode(x: tf.Tensor4D): { mu: tf.Tensor2D; logVar: tf.Tensor2D } {
    if (x.rank !== 4 || x.shape[0] < 1 || x.shape[1] !== this.size || x.shape[2] !== this.size || x.shape[3] !== this.channels) {
      throw new Error(`VAE: built for [n, ${this.size}, ${this.size}, ${this.channels}] images, got [${x.shape}]`);
    }
    return tf.tidy(() => {
      let a: tf.Tensor4D = x;
      for (const l of this.down) a = tf.relu(tf.add<tf.Tensor4D>(tf.conv2d(a, l.weight as tf.Tensor4D, 2, 'same'), l.bias));
      const h = tf.reshape(a, [x.shape[0], -1]) as tf.Tensor2D;
      const dense = (l: Layer) => tf.add(tf.matMul(h, l.weight as tf.Tensor2D), l.bias) as tf.Tensor2D;
      return { mu: dense(this.mu), logVar: dense(this.logVar) };
    });
  }

  /** The decoder's logits ℓ for latents z [n, J]: [n, S, S, C], p(x|z) = Bernoulli(σ(ℓ)). The caller disposes them. */
  decodeLogits(z: tf.Tensor2D): tf.Tensor4D {
    if (z.rank !== 2 || z.shape[1] !== this.latentDim || z.shape[0] < 1) {
      throw new Error(`VAE: z must be [n ≥ 1, ${this.latentDim}], got [${z.shape}]`);
    }
    return tf.tidy(() => {
      const n = z.shape[0];
      let side = this.seedSide;
      let a = tf.relu(tf.reshape(tf.add(tf.matMul(z, this.project.weight as tf.Tensor2D), this.project.bias), [n, side, side, 4 * this.width])) as tf.Tensor4D;
      this.up.forEach((l, i) => {
        side *= 2;
        const out = l.weight.shape[2] as number;
        a = tf.add(tf.conv2dTranspose(a, l.weight as tf.Tensor4D, [n, side, side, out], 2, 'same'), l.bias);
        if (i < this.up.length - 1) a = tf.relu(a);
      });
      // 8g ≥ S: keep the centre (an odd margin leaves the extra pixel below and to the right)
      const margin = Math.floor((side - this.size) / 2);
      return tf.slice(a, [0, margin, margin, 0], [n, this.size, this.size, this.channels]);
    });
  }

  /** x̂ = σ(ℓ(z)) in [0, 1]; the caller disposes it. */
  decode(z: tf.Tensor2D): tf.Tensor4D {
    return tf.tidy(() => tf.sigmoid(this.decodeLogits(z)));
  }

  /** n images decoded from the prior, z = fixedNoise(n, J, seed) ~ N(0, I): the same seed, the same images. */
  sample(n: number, seed: number): tf.Tensor4D {
    return tf.tidy(() => this.decode(fixedNoise(n, this.latentDim, seed)));
  }

  /** x̂ = σ(ℓ(μ(x))): the decoder at q's mean, deterministic (training draws z around it, src/generative/training.ts). */
  reconstruct(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const { mu, logVar } = this.encode(x);
      logVar.dispose();
      return this.decode(mu);
    });
  }

  dispose(): void {
    tf.dispose(this.variables);
  }
}
