import * as tf from '@tensorflow/tfjs';
import { createRng, normal, type Rng } from '../core/random';
import type { ProjectionHeadKind } from '../core/config';
import { batchNormRelu, batchNormStatistics } from './kernels/batchNormRelu';
import { conv3x3 } from './kernels/conv3x3';
import { globalAveragePool, maxPool2x2 } from './kernels/pooling';

/**
 * The encoder f and its projection head g, written with plain tf ops so a reader follows one
 * forward pass top to bottom:
 *
 *   encoder f:  4 × [conv3×3 → batch norm → ReLU] with channels w, 2w, 4w, 8w,
 *               2×2 max-pool after the first three blocks, global average pool
 *               → h ∈ R^{8w}   (the representation the linear probe reads)
 *   head g:     none:   z = h
 *               linear: z = W h + b
 *               mlp:    z = W₂ ReLU(W₁ h + b₁) + b₂   (hidden size 8w)
 */
export interface ModelConfig {
  channels: number;
  encoderWidth: number;
  projectionHead: ProjectionHeadKind;
  projectionDim: number;
  seed: number;
}

interface ConvBlock {
  kernel: tf.Variable; // [3, 3, inC, outC]
  gamma: tf.Variable; // batch-norm scale
  beta: tf.Variable; // batch-norm shift
  movingMean: tf.Variable; // running statistics for inference (not trained)
  movingVariance: tf.Variable;
  pool: boolean;
}

interface Dense {
  weight: tf.Variable; // [in, out]
  bias: tf.Variable;
}

/** Momentum of the batch-norm running statistics (PyTorch's 0.1 update = 0.9 keep). */
const BN_MOMENTUM = 0.9;
const BN_EPSILON = 1e-5;

/** Which kernels run f: the project's WGSL programs (src/model/kernels) or tfjs's stock ones. */
export type EncoderKernelPath = 'fused' | 'stock';

/**
 * Whether f runs on the project's kernels where the backend is webgpu
 * (config.fusedEncoder): one switch for every encoder in the worker (the
 * online network, MoCo's key encoder, BYOL's target, CMC's second encoder),
 * set by the trainer from the config in force.
 */
let fusedEncoderKernels = true;
export function setFusedEncoderKernels(on: boolean): void {
  fusedEncoderKernels = on;
}
/** The path the next encode takes: fused only on webgpu, where the WGSL programs run. */
export function encoderKernelPath(): EncoderKernelPath {
  return fusedEncoderKernels && tf.getBackend() === 'webgpu' ? 'fused' : 'stock';
}

/** tfjs registers variables by name globally: a counter keeps two models (trained and random-init baseline) apart. */
let modelCounter = 0;

/** He-normal initial values from the seeded rng: std = sqrt(2 / fanIn). */
function heNormal(rng: Rng, shape: number[], fanIn: number): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(size);
  const std = Math.sqrt(2 / fanIn);
  for (let i = 0; i < size; i++) values[i] = normal(rng) * std;
  return tf.tensor(values, shape);
}

export class EncoderNetwork {
  readonly hDim: number;
  readonly zDim: number;
  private readonly blocks: ConvBlock[] = [];
  private readonly head: Dense[] = [];

  constructor(readonly config: ModelConfig) {
    const rng = createRng(config.seed ^ 0x5eed);
    const prefix = `net${modelCounter++}`;
    this.hDim = 8 * config.encoderWidth;
    // tidy: the initial-value tensors are freed; variables survive tidy
    tf.tidy(() => {
      const w = config.encoderWidth;
      const widths = [w, 2 * w, 4 * w, 8 * w];
      let inChannels = config.channels;
      widths.forEach((outChannels, i) => {
        const fanIn = 9 * inChannels;
        this.blocks.push({
          kernel: tf.variable(heNormal(rng, [3, 3, inChannels, outChannels], fanIn), true, `${prefix}/f/conv${i}/kernel`),
          gamma: tf.variable(tf.ones([outChannels]), true, `${prefix}/f/bn${i}/gamma`),
          beta: tf.variable(tf.zeros([outChannels]), true, `${prefix}/f/bn${i}/beta`),
          movingMean: tf.variable(tf.zeros([outChannels]), false, `${prefix}/f/bn${i}/moving_mean`),
          movingVariance: tf.variable(tf.ones([outChannels]), false, `${prefix}/f/bn${i}/moving_variance`),
          pool: i < 3,
        });
        inChannels = outChannels;
      });
      const dense = (name: string, inDim: number, outDim: number): Dense => ({
        weight: tf.variable(heNormal(rng, [inDim, outDim], inDim), true, `${prefix}/${name}/weight`),
        bias: tf.variable(tf.zeros([outDim]), true, `${prefix}/${name}/bias`),
      });
      if (config.projectionHead === 'linear') {
        this.head.push(dense('g/dense0', this.hDim, config.projectionDim));
      } else if (config.projectionHead === 'mlp') {
        this.head.push(dense('g/dense0', this.hDim, this.hDim), dense('g/dense1', this.hDim, config.projectionDim));
      }
    });
    this.zDim = config.projectionHead === 'none' ? this.hDim : config.projectionDim;
  }

  /** Batch-norm running mean and variance of every block: not trained, but moved by each training-mode pass. */
  get runningStatistics(): tf.Variable[] {
    return this.blocks.flatMap((b) => [b.movingMean, b.movingVariance]);
  }

  /** Variables the optimizer updates. */
  get trainableVariables(): tf.Variable[] {
    return [
      ...this.blocks.flatMap((b) => [b.kernel, b.gamma, b.beta]),
      ...this.head.flatMap((d) => [d.weight, d.bias]),
    ];
  }

  /**
   * The encoder f's trainable variables only (each block's conv kernel and
   * batch-norm γ, β), without the head g: what fine-tuning and the supervised
   * baseline optimize, with a classifier on h in place of g.
   */
  get encoderVariables(): tf.Variable[] {
    return this.blocks.flatMap((b) => [b.kernel, b.gamma, b.beta]);
  }

  /**
   * f ← f_source: copies every encoder variable (conv kernels, batch-norm γ, β
   * and the running mean and variance) from another model of the same
   * channels and encoder width. The head g is left as it is: fine-tuning
   * discards g, as SimCLR does. Later training of either model does not move
   * the other. Throws, copying nothing, when the encoders' shapes differ or
   * either model has been disposed.
   */
  copyWeightsFrom(source: EncoderNetwork): void {
    if (source === this) return;
    const variables = (m: EncoderNetwork) => m.blocks.flatMap((b) => [b.kernel, b.gamma, b.beta, b.movingMean, b.movingVariance]);
    const targets = variables(this);
    const sources = variables(source);
    const describe = (m: EncoderNetwork) => `${m.config.channels} input channel(s), encoder width ${m.config.encoderWidth}`;
    if (sources.some((v) => v.isDisposed)) throw new Error('copyWeightsFrom: the source model has been disposed');
    if (targets.some((v) => v.isDisposed)) throw new Error('copyWeightsFrom: this model has been disposed');
    if (targets.length !== sources.length) {
      throw new Error(`copyWeightsFrom: the source encoder has ${sources.length} variables but this one has ${targets.length}`);
    }
    // check every shape before assigning anything, so a mismatch leaves this model untouched
    targets.forEach((t, i) => {
      const s = sources[i];
      if (!tf.util.arraysEqual(t.shape, s.shape)) {
        throw new Error(
          `copyWeightsFrom: encoder shapes differ at ${t.name} [${t.shape.join(', ')}] ← ${s.name} [${s.shape.join(', ')}]: ` +
            `the source has ${describe(source)}, this model ${describe(this)}`,
        );
      }
    });
    // assign shares the source's buffer (reference-counted); an optimizer step on either model then replaces only its own
    targets.forEach((t, i) => t.assign(sources[i]));
  }

  /** Every variable of f and g, trained or not (conv kernels, γ, β, running statistics, head weights), in a fixed order. */
  get allVariables(): tf.Variable[] {
    return [...this.trainableVariables, ...this.runningStatistics];
  }

  /**
   * θ ← m·θ + (1 − m)·θ_online over every variable of f and g, batch-norm
   * running statistics included: MoCo's key encoder and BYOL's target network
   * follow the online network as an exponential moving average. m = 0 copies
   * the online network outright. Throws when the architectures differ.
   */
  followEma(online: EncoderNetwork, momentum: number): void {
    const targets = this.allVariables;
    const sources = online.allVariables;
    if (targets.length !== sources.length || targets.some((t, i) => !tf.util.arraysEqual(t.shape, sources[i].shape))) {
      throw new Error('followEma: the two networks have different architectures');
    }
    tf.tidy(() => {
      targets.forEach((t, i) => {
        t.assign(momentum === 0 ? tf.clone(sources[i]) : tf.add(tf.mul(t, momentum), tf.mul(sources[i], 1 - momentum)));
      });
    });
  }

  /** ‖θ − θ_other‖ / ‖θ_other‖ over the trainable weights: how far a momentum encoder trails the online one. */
  relativeDistanceTo(other: EncoderNetwork): tf.Scalar {
    const mine = this.trainableVariables;
    const theirs = other.trainableVariables;
    return tf.tidy(() => {
      let difference: tf.Tensor = tf.scalar(0);
      let reference: tf.Tensor = tf.scalar(0);
      mine.forEach((v, i) => {
        difference = tf.add(difference, tf.sum(tf.square(tf.sub(v, theirs[i]))));
        reference = tf.add(reference, tf.sum(tf.square(theirs[i])));
      });
      return tf.div(tf.sqrt(difference), tf.sqrt(tf.maximum(reference, 1e-24))) as tf.Scalar;
    });
  }

  /**
   * Every variable with its role, f's blocks in order then g's layers: what an
   * export names and lays out for another framework (src/export/encoderWeights.ts).
   * tfjs layouts: conv kernel [3, 3, in, out], dense weight [in, out].
   */
  get layers(): {
    blocks: readonly { kernel: tf.Variable; gamma: tf.Variable; beta: tf.Variable; movingMean: tf.Variable; movingVariance: tf.Variable; pool: boolean }[];
    head: readonly { weight: tf.Variable; bias: tf.Variable }[];
  } {
    return { blocks: this.blocks, head: this.head };
  }

  get parameterCount(): number {
    return this.trainableVariables.reduce((n, v) => n + v.size, 0);
  }

  /**
   * h = f(x) for images x [B, H, W, C] in [0, 1].
   * training: batch norm uses the batch's statistics and updates the running
   * ones (as PyTorch's train mode); otherwise it uses the running statistics.
   */
  encode(x: tf.Tensor4D, training: boolean): tf.Tensor2D {
    return encoderKernelPath() === 'fused' ? this.encodeFused(x, training) : this.encodeStock(x, training);
  }

  /** running ← m·running + (1−m)·batch, with the unbiased batch variance (as PyTorch's train mode). */
  private followBatchStatistics(block: ConvBlock, mean: tf.Tensor, variance: tf.Tensor, count: number): void {
    const unbiased = tf.mul(variance, count / Math.max(count - 1, 1));
    block.movingMean.assign(tf.add(tf.mul(block.movingMean, BN_MOMENTUM), tf.mul(mean, 1 - BN_MOMENTUM)));
    block.movingVariance.assign(tf.add(tf.mul(block.movingVariance, BN_MOMENTUM), tf.mul(unbiased, 1 - BN_MOMENTUM)));
  }

  /** f on tfjs's stock ops: conv2d, moments, batchNorm, relu, maxPool, mean. */
  private encodeStock(x: tf.Tensor4D, training: boolean): tf.Tensor2D {
    return tf.tidy(() => {
      let a: tf.Tensor4D = x;
      for (const block of this.blocks) {
        const conv = tf.conv2d(a, block.kernel as tf.Tensor4D, 1, 'same');
        let normalized: tf.Tensor4D;
        if (training) {
          const { mean, variance } = tf.moments(conv, [0, 1, 2]);
          normalized = tf.batchNorm(conv, mean, variance, block.beta, block.gamma, BN_EPSILON) as tf.Tensor4D;
          this.followBatchStatistics(block, mean, variance, conv.size / conv.shape[3]);
        } else {
          normalized = tf.batchNorm(conv, block.movingMean, block.movingVariance, block.beta, block.gamma, BN_EPSILON) as tf.Tensor4D;
        }
        a = tf.relu(normalized) as tf.Tensor4D;
        if (block.pool) a = tf.maxPool(a, 2, 2, 'same') as tf.Tensor4D;
      }
      return tf.mean(a, [1, 2]) as tf.Tensor2D; // global average pool → h
    });
  }

  /**
   * f on the project's WGSL kernels (src/model/kernels), the same function:
   * conv3x3 as an implicit GEMM; the batch's per-channel mean and variance in
   * one reduction (not on the tape: batchNormRelu's gradient already carries
   * the path through them); normalization, γ, β and ReLU in one pass, and its
   * backward in one reduction and one pass; max-pool and the global average
   * pool with their own backward programs.
   */
  private encodeFused(x: tf.Tensor4D, training: boolean): tf.Tensor2D {
    return tf.tidy(() => {
      let a: tf.Tensor4D = x;
      for (const block of this.blocks) {
        const conv = conv3x3(a, block.kernel as tf.Tensor4D);
        let statistics: tf.Tensor2D;
        if (training) {
          statistics = batchNormStatistics(conv);
          const [mean, variance] = tf.unstack(statistics);
          this.followBatchStatistics(block, mean, variance, conv.size / conv.shape[3]);
        } else {
          statistics = tf.stack([block.movingMean, block.movingVariance]) as tf.Tensor2D;
        }
        a = batchNormRelu(conv, statistics, block.gamma as tf.Tensor1D, block.beta as tf.Tensor1D, BN_EPSILON, training);
        if (block.pool) a = maxPool2x2(a);
      }
      return globalAveragePool(a); // → h
    });
  }

  /** z = g(h). */
  project(h: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      let z = h;
      this.head.forEach((layer, i) => {
        z = tf.add(tf.matMul(z, layer.weight as tf.Tensor2D), layer.bias) as tf.Tensor2D;
        if (i < this.head.length - 1) z = tf.relu(z);
      });
      // with no head, return a copy so the caller may dispose z and h independently
      return this.head.length === 0 ? tf.clone(z) : z;
    });
  }

  dispose(): void {
    for (const v of [...this.trainableVariables, ...this.runningStatistics]) v.dispose();
  }
}
