/**
 * A small DCGAN (Radford, Metz & Chintala, "Unsupervised Representation
 * Learning with Deep Convolutional Generative Adversarial Networks", ICLR
 * 2016, https://arxiv.org/abs/1511.06434) for S×S images, S ∈ [16, 32], with
 * C ∈ {1, 3} channels, pixels in [0, 1], NHWC. With g = ⌈S/8⌉ and width w:
 *
 *   G:  z ∈ R^{zDim}, z ~ N(0, I)
 *       → dense (no bias) → reshape g×g×4w → batch norm → ReLU     (the paper's "project and reshape")
 *       → convT 4×4/2 → 2g×2g×2w → batch norm → ReLU
 *       → convT 4×4/2 → 4g×4g×w  → batch norm → ReLU
 *       → convT 4×4/2 → 8g×8g×C (+ bias) → central S×S → sigmoid   (x̂ ∈ [0, 1])
 *   D:  x ∈ [0, 1]^{S×S×C}
 *       → conv 4×4/2 (+ bias) → ⌈S/2⌉ side, w    → LeakyReLU 0.2    (no batch norm on D's input layer)
 *       → conv 4×4/2 → ⌈S/4⌉ side, 2w            → batch norm → LeakyReLU 0.2
 *       → conv 4×4/2 → g×g×4w                    → batch norm → LeakyReLU 0.2
 *       → flatten → dense → one logit l, D(x) = σ(l)
 *
 * The paper's rules (§3): strided convolutions instead of pooling, batch norm
 * in both networks but not on G's output layer nor on D's input layer (there
 * it made samples oscillate), ReLU in G with a bounded output, LeakyReLU 0.2
 * in D, no hidden fully connected layers; the paper's tanh output to [−1, 1]
 * is a sigmoid here because our pixels live in [0, 1] (σ(2a) = (tanh a + 1)/2).
 * Kernels 4×4 at stride 2 overlap evenly (no checkerboard; Odena et al. 2016),
 * as in ConvDecoder (src/methods/autoencoder.ts). Layers followed by batch
 * norm carry no bias: β takes its place. Weights are N(0, 0.02²) from a
 * seeded Rng (§4), biases 0, γ = 1, β = 0.
 *
 * Batch norm keeps running statistics, as src/model/encoderNetwork.ts does:
 * training = true normalizes with the batch's mean and variance and moves the
 * running ones (momentum 0.9); training = false uses the running ones. The
 * reason is G's samples: in inference each image is a function of its own z
 * only, so sample(n, seed)'s first k images are sample(k, seed), a grid of 1
 * is as good as a grid of 64, and the images later mixed into pretraining do
 * not depend on which others were drawn with them. Training always uses
 * batch statistics (as the paper and its reference code do), and
 * src/generative/training.ts runs D in training mode for both its steps.
 */
import * as tf from '@tensorflow/tfjs';
import { createRng, normal, type Rng } from '../core/random';

/** Side of every kernel: twice the stride, so that transposed convolutions overlap evenly. */
export const GENERATIVE_KERNEL = 4;
/** Times G doubles the side (and D halves it). */
export const GENERATIVE_DOUBLINGS = 3;
/** The image sides these models are built for (page-safe constants in src/core/generatorSettings.ts). */
import { GENERATIVE_MAX_SIZE, GENERATIVE_MIN_SIZE } from '../core/generatorSettings';
export { GENERATIVE_MAX_SIZE, GENERATIVE_MIN_SIZE };
/** σ of the initial weights, N(0, 0.02²) (Radford et al. 2016, §4). */
export const DCGAN_INIT_STD = 0.02;
/** Slope of D's LeakyReLU on negative inputs (Radford et al. 2016, §4). */
export const DCGAN_LEAK = 0.2;
export const DEFAULT_Z_DIM = 64;
export const DEFAULT_DCGAN_WIDTH = 32;

/** Running statistics keep 0.9 of themselves per training pass (PyTorch's momentum 0.1), as encoderNetwork's. */
const BN_MOMENTUM = 0.9;
const BN_EPSILON = 1e-5;

/** The first map side of G (and the last of D) for images of side S: ⌈S / 8⌉, so that 8 of it cover S. */
export function generativeSeedSide(size: number): number {
  return Math.ceil(size / 2 ** GENERATIVE_DOUBLINGS);
}

/**
 * Throws, in the user's words, unless S is an integer in [16, 32], C is 1 or
 * 3, and every width or dimension given is a whole number ≥ 1.
 */
export function checkGenerativeShape(model: string, size: number, channels: number, dims: Record<string, number>): void {
  if (!Number.isInteger(size) || size < GENERATIVE_MIN_SIZE || size > GENERATIVE_MAX_SIZE) {
    throw new Error(`${model}: the images are ${size} px; the generative models are built for ${GENERATIVE_MIN_SIZE}–${GENERATIVE_MAX_SIZE} px images. Pick a dataset of that size.`);
  }
  if (channels !== 1 && channels !== 3) throw new Error(`${model}: the images have ${channels} channels; it needs grayscale (1) or RGB (3).`);
  for (const [name, value] of Object.entries(dims)) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`${model}: ${name} must be a whole number ≥ 1, got ${value}.`);
  }
}

/** n values of N(0, std²) from the rng, as a tensor of `shape` (the caller owns it or runs in a tidy). */
export function gaussianTensor(rng: Rng, shape: number[], std: number): tf.Tensor {
  return tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => normal(rng) * std), shape);
}

/**
 * z for n images: [n, zDim] of N(0, 1), drawn row by row from createRng(seed).
 * The same (zDim, seed) gives the same rows, and the first k rows of n are
 * fixedNoise(k, …): the fixed batch a sample grid is redrawn from.
 */
export function fixedNoise(n: number, zDim: number, seed: number): tf.Tensor2D {
  if (!Number.isInteger(n) || n < 1) throw new Error(`fixedNoise: the number of samples must be a whole number ≥ 1, got ${n}`);
  return gaussianTensor(createRng(seed), [n, zDim], 1) as tf.Tensor2D;
}

/** A weight variable of N(0, 0.02²) from the rng (the initial value is freed, the variable survives the tidy). */
function initialWeight(rng: Rng, shape: number[]): tf.Variable {
  return tf.tidy(() => tf.variable(gaussianTensor(rng, shape, DCGAN_INIT_STD)));
}

function zeroBias(n: number): tf.Variable {
  return tf.tidy(() => tf.variable(tf.zeros([n])));
}

/** Batch normalization per channel over (N, H, W) (Ioffe & Szegedy 2015), with running statistics for inference. */
class BatchNorm {
  readonly gamma: tf.Variable;
  readonly beta: tf.Variable;
  readonly movingMean: tf.Variable;
  readonly movingVariance: tf.Variable;

  constructor(channels: number) {
    // γ = 1, β = 0; the running statistics start as those of N(0, 1)
    [this.gamma, this.beta, this.movingMean, this.movingVariance] = tf.tidy(() => [
      tf.variable(tf.ones([channels])), tf.variable(tf.zeros([channels])),
      tf.variable(tf.zeros([channels]), false), tf.variable(tf.ones([channels]), false),
    ]);
  }

  /** γ (x − mean)/√(var + ε) + β; with training, the batch's statistics (and the running ones move toward them). Call inside a tidy. */
  apply(x: tf.Tensor4D, training: boolean): tf.Tensor4D {
    if (!training) return tf.batchNorm(x, this.movingMean, this.movingVariance, this.beta, this.gamma, BN_EPSILON) as tf.Tensor4D;
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    // running ← m·running + (1 − m)·batch, with the unbiased batch variance
    const count = x.size / x.shape[3];
    const unbiased = tf.mul(variance, count / Math.max(count - 1, 1));
    this.movingMean.assign(tf.add(tf.mul(this.movingMean, BN_MOMENTUM), tf.mul(mean, 1 - BN_MOMENTUM)));
    this.movingVariance.assign(tf.add(tf.mul(this.movingVariance, BN_MOMENTUM), tf.mul(unbiased, 1 - BN_MOMENTUM)));
    return tf.batchNorm(x, mean, variance, this.beta, this.gamma, BN_EPSILON) as tf.Tensor4D;
  }

  get trainable(): tf.Variable[] {
    return [this.gamma, this.beta];
  }

  get running(): tf.Variable[] {
    return [this.movingMean, this.movingVariance];
  }
}

export interface DcganConfig {
  /** S: the images' side, in [16, 32] */
  size: number;
  /** C: 1 or 3 */
  channels: number;
  /** w: the narrowest layer's channels (default 32); 4w is the widest */
  width?: number;
  /** the length of z (default 64) */
  zDim?: number;
  seed: number;
}

function bytesOf(variables: tf.Variable[]): number {
  return 4 * variables.reduce((sum, v) => sum + v.size, 0);
}

/** G: z → x̂ ∈ [0, 1]^{S×S×C}. See the file's header for the layers. */
export class DcganGenerator {
  readonly size: number;
  readonly channels: number;
  readonly width: number;
  readonly zDim: number;
  readonly seedSide: number;
  /** [zDim, g·g·4w]: z onto the first map */
  private readonly project: tf.Variable;
  private readonly projectNorm: BatchNorm;
  /** 4w → 2w → w, each [k, k, out, in] (tfjs's transposed-convolution layout) and its batch norm */
  private readonly hidden: { filter: tf.Variable; norm: BatchNorm }[] = [];
  /** w → C: [k, k, C, w] and a bias */
  private readonly output: { filter: tf.Variable; bias: tf.Variable };

  constructor(config: DcganConfig) {
    this.size = config.size;
    this.channels = config.channels;
    this.width = config.width ?? DEFAULT_DCGAN_WIDTH;
    this.zDim = config.zDim ?? DEFAULT_Z_DIM;
    checkGenerativeShape('DCGAN generator', this.size, this.channels, { width: this.width, zDim: this.zDim });
    this.seedSide = generativeSeedSide(this.size);
    const rng = createRng((config.seed ^ 0x6e4e) >>> 0);
    const w = this.width;
    const k = GENERATIVE_KERNEL;
    this.project = initialWeight(rng, [this.zDim, this.seedSide * this.seedSide * 4 * w]);
    this.projectNorm = new BatchNorm(4 * w);
    for (const [inC, outC] of [[4 * w, 2 * w], [2 * w, w]]) {
      this.hidden.push({ filter: initialWeight(rng, [k, k, outC, inC]), norm: new BatchNorm(outC) });
    }
    this.output = { filter: initialWeight(rng, [k, k, this.channels, w]), bias: zeroBias(this.channels) };
  }

  /** The trainable variables, in a fixed order: the projection, γ and β, then each transposed convolution (and its γ, β or bias). */
  get variables(): tf.Variable[] {
    return [
      this.project, ...this.projectNorm.trainable,
      ...this.hidden.flatMap((l) => [l.filter, ...l.norm.trainable]),
      this.output.filter, this.output.bias,
    ];
  }

  /** Batch norm's running mean and variance: not trained, moved by each training-mode pass. */
  get runningStatistics(): tf.Variable[] {
    return [...this.projectNorm.running, ...this.hidden.flatMap((l) => l.norm.running)];
  }

  /** Bytes of every variable, trained or not (float32). */
  get bytes(): number {
    return bytesOf([...this.variables, ...this.runningStatistics]);
  }

  /**
   * x̂ = G(z), [n, S, S, C] in [0, 1]; the caller disposes it.
   * @param training batch statistics (and the running ones move) or the running statistics
   */
  generate(z: tf.Tensor2D, training: boolean): tf.Tensor4D {
    if (z.rank !== 2 || z.shape[1] !== this.zDim || z.shape[0] < 1) {
      throw new Error(`DCGAN generator: z must be [n ≥ 1, ${this.zDim}], got [${z.shape}]`);
    }
    return tf.tidy(() => {
      const n = z.shape[0];
      let side = this.seedSide;
      let a = tf.reshape(tf.matMul(z, this.project as tf.Tensor2D), [n, side, side, 4 * this.width]) as tf.Tensor4D;
      a = tf.relu(this.projectNorm.apply(a, training));
      for (const layer of this.hidden) {
        side *= 2;
        const up = tf.conv2dTranspose(a, layer.filter as tf.Tensor4D, [n, side, side, layer.filter.shape[2] as number], 2, 'same');
        a = tf.relu(layer.norm.apply(up, training));
      }
      side *= 2;
      const out = tf.add(tf.conv2dTranspose(a, this.output.filter as tf.Tensor4D, [n, side, side, this.channels], 2, 'same'), this.output.bias);
      // 8g ≥ S: keep the centre (an odd margin leaves the extra pixel below and to the right)
      const margin = Math.floor((side - this.size) / 2);
      return tf.sigmoid(tf.slice(out, [0, margin, margin, 0], [n, this.size, this.size, this.channels])) as tf.Tensor4D;
    });
  }

  /** G(fixedNoise(n, zDim, seed)) in inference mode: the same seed, the same n images; the caller disposes them. */
  sample(n: number, seed: number): tf.Tensor4D {
    return tf.tidy(() => this.generate(fixedNoise(n, this.zDim, seed), false));
  }

  dispose(): void {
    tf.dispose([...this.variables, ...this.runningStatistics]);
  }
}

/** D: x → the logit l of "x is real". See the file's header for the layers. */
export class DcganDiscriminator {
  readonly size: number;
  readonly channels: number;
  readonly width: number;
  /** C → w, [k, k, C, w], with a bias and no batch norm */
  private readonly input: { filter: tf.Variable; bias: tf.Variable };
  /** w → 2w → 4w, each [k, k, in, out] and its batch norm */
  private readonly hidden: { filter: tf.Variable; norm: BatchNorm }[] = [];
  /** [g·g·4w, 1] and [1]: the flattened map to one logit */
  private readonly dense: { weight: tf.Variable; bias: tf.Variable };

  constructor(config: DcganConfig) {
    this.size = config.size;
    this.channels = config.channels;
    this.width = config.width ?? DEFAULT_DCGAN_WIDTH;
    checkGenerativeShape('DCGAN discriminator', this.size, this.channels, { width: this.width });
    const rng = createRng((config.seed ^ 0xd15c) >>> 0);
    const w = this.width;
    const k = GENERATIVE_KERNEL;
    const g = generativeSeedSide(this.size);
    this.input = { filter: initialWeight(rng, [k, k, this.channels, w]), bias: zeroBias(w) };
    for (const [inC, outC] of [[w, 2 * w], [2 * w, 4 * w]]) {
      this.hidden.push({ filter: initialWeight(rng, [k, k, inC, outC]), norm: new BatchNorm(outC) });
    }
    this.dense = { weight: initialWeight(rng, [g * g * 4 * w, 1]), bias: zeroBias(1) };
  }

  /** The trainable variables, in a fixed order: each convolution (and its bias or γ, β), then the dense layer. */
  get variables(): tf.Variable[] {
    return [
      this.input.filter, this.input.bias,
      ...this.hidden.flatMap((l) => [l.filter, ...l.norm.trainable]),
      this.dense.weight, this.dense.bias,
    ];
  }

  /** Batch norm's running mean and variance: not trained, moved by each training-mode pass (real and fake batches alike). */
  get runningStatistics(): tf.Variable[] {
    return this.hidden.flatMap((l) => l.norm.running);
  }

  get bytes(): number {
    return bytesOf([...this.variables, ...this.runningStatistics]);
  }

  /**
   * l = D's logit per image, [n]; D(x) = σ(l). The caller disposes it.
   * @param x [n, S, S, C], pixels in [0, 1]
   * @param training batch statistics (and the running ones move) or the running statistics
   */
  logits(x: tf.Tensor4D, training: boolean): tf.Tensor1D {
    if (x.rank !== 4 || x.shape[0] < 1 || x.shape[1] !== this.size || x.shape[2] !== this.size || x.shape[3] !== this.channels) {
      throw new Error(`DCGAN discriminator: built for [n, ${this.size}, ${this.size}, ${this.channels}] images, got [${x.shape}]`);
    }
    return tf.tidy(() => {
      const n = x.shape[0];
      let a = tf.leakyRelu(tf.add(tf.conv2d(x, this.input.filter as tf.Tensor4D, 2, 'same'), this.input.bias), DCGAN_LEAK) as tf.Tensor4D;
      for (const layer of this.hidden) {
        a = tf.leakyRelu(layer.norm.apply(tf.conv2d(a, layer.filter as tf.Tensor4D, 2, 'same'), training), DCGAN_LEAK);
      }
      const flat = tf.reshape(a, [n, -1]) as tf.Tensor2D;
      return tf.reshape(tf.add(tf.matMul(flat, this.dense.weight as tf.Tensor2D), this.dense.bias), [n]) as tf.Tensor1D;
    });
  }

  dispose(): void {
    tf.dispose([...this.variables, ...this.runningStatistics]);
  }
}

/** G and D built together from one config and seed (each draws its weights from its own stream). */
export class Dcgan {
  readonly generator: DcganGenerator;
  readonly discriminator: DcganDiscriminator;

  constructor(config: DcganConfig) {
    this.generator = new DcganGenerator(config);
    try {
      this.discriminator = new DcganDiscriminator(config);
    } catch (error) {
      this.generator.dispose();
      throw error;
    }
  }

  get bytes(): number {
    return this.generator.bytes + this.discriminator.bytes;
  }

  dispose(): void {
    this.generator.dispose();
    this.discriminator.dispose();
  }
}
