/**
 * A PixelCNN auto-encoder (van den Oord et al. 2016, §3.4; PixelCNN of van
 * den Oord et al. 2016a): f encodes the view, h = f(t(x)), and a small
 * conditional PixelCNN models the view's pixels given h,
 *
 *   p(x | h) = Π_i p(x_i | x_1 … x_{i−1}, h)      (raster order)
 *
 * each pixel value quantized to B levels, b = min(⌊x·B⌋, B − 1), and each
 * factor a softmax over the B levels: the loss is the mean over the pixels
 * of −log p(x_i | x_<i, h), in nats (/ ln 2: bits per pixel value). A softmax
 * over levels rather than a discretized logistic: it is a plain
 * cross-entropy, and at 16 levels the extra parameters cost nothing.
 *
 *   layer 1:    7×7 conv, mask A (a pixel sees only the pixels before it)
 *   layers 2–4: 3×3 conv, mask B (also itself, in the layer below)
 *               F channels each (pixelCnnFilters)
 *   each:       a = ReLU(conv(a, W ⊙ M) + b + V h)  (V h: the conditional
 *               PixelCNN's per-channel bias from h, the same at every pixel)
 *   out:        1×1 conv to C·B logits
 *
 * The masks are fixed binary kernels multiplied into W, so the gradient of a
 * masked weight is 0 and it stays at 0. The input is the quantized view, each
 * level at its centre in [−1, 1], so that what the model reads is what it
 * predicts. Colour channels are predicted independently of each other given
 * the pixels before (PixelCNN orders R, G, B within a pixel; here all three
 * are predicted from the same past). There is one stack, not the gated
 * PixelCNN's vertical and horizontal two, so the receptive field has the
 * original PixelCNN's blind spot above and to the right; h, which sees the
 * whole image, covers for it. f's input is the view itself, unquantized.
 *
 * Beside it trains an unconditional PixelCNN of the same shape, p(x_i | x_<i)
 * with no h: its loss is reported, not minimized through the reported loss
 * (it is added as L_u − sg(L_u), zero in value, its own gradient in the
 * backward pass), and the gap between the two is what h says about an image.
 */
import * as tf from '@tensorflow/tfjs';
import { AUTOREGRESSIVE_BINS } from '../core/entries/autoregressive';
import { createRng, normal, type Rng } from '../core/random';
import type { TaskSnapshot } from '../core/taskSnapshot';
import type { MethodFactory, SslMethod } from './method';
import { CaptureSlot, pretextLifecycle, pretextStateReader, readCapture } from './pretextHead';
import { EMPTY_METHOD_STATE } from './state';
import { stopGradient } from './siamese';

/**
 * Channels of each masked layer: half the encoder's first width, 8 to 32 (16
 * at the default width 32), so the decoder grows with the model as the map
 * decoders do with h.
 */
export function pixelCnnFilters(encoderWidth: number): number {
  return Math.min(32, Math.max(8, Math.round(encoderWidth / 2)));
}

/** Kernel sides of the masked layers: the first (mask A) large so it sees a few rows up, the rest (mask B) 3×3. */
export const PIXELCNN_KERNELS = [7, 3, 3, 3] as const;
/** Images the instrument shows, each with samples drawn from the model given its h. */
export const AUTOREGRESSIVE_SHOWN = 4;
/** Rows of samples: two per shown view, so one sees what h fixes and what is left to chance. */
export const AUTOREGRESSIVE_SAMPLE_ROWS = 2;
/**
 * The instrument's sampling runs in the worker between steps (a snapshot every
 * 500 ms), S·S sequential pixels a sample: no sample is started once this much
 * time has gone, the first excepted, and those not drawn are left blank. In
 * Node a sample takes about 6 ms at 16 px (F = 16), 10–17 ms at 28 px, and
 * 280 ms at 64 px in colour with F = 32.
 */
export const SAMPLING_BUDGET_MS = 80;

export type MaskType = 'A' | 'B';

/**
 * The mask of a k×k kernel (k odd), row-major: 1 at the taps that read a pixel
 * before the centre in raster order (every row above; the centre row left of
 * the centre), and for mask B the centre itself.
 */
export function causalMask(k: number, type: MaskType): Float32Array {
  const r = (k - 1) / 2;
  return Float32Array.from({ length: k * k }, (_, t) => {
    const [i, j] = [Math.floor(t / k), t % k];
    return i < r || (i === r && (j < r || (type === 'B' && j === r))) ? 1 : 0;
  });
}

interface MaskedLayer {
  /** [k, k, C_in, F] */
  kernel: tf.Variable;
  bias: tf.Variable;
  /** V: [hDim, F], the conditioning; absent in the unconditional model */
  condition?: tf.Variable;
  /** [k, k, 1, 1], broadcast over the channels */
  mask: tf.Tensor4D;
  k: number;
  type: MaskType;
}

export class PixelCnn {
  readonly layers: MaskedLayer[];
  /** the 1×1 output layer: [F, C·B] and [C·B] */
  readonly outWeight: tf.Variable;
  readonly outBias: tf.Variable;

  /**
   * He-normal masked kernels (fan-in: the unmasked taps), Glorot-normal V and
   * output weights, zero biases, from the run's seed offset by `salt`.
   * `hDim` null: the unconditional model.
   */
  constructor(readonly channels: number, readonly bins: number, readonly hDim: number | null, readonly filters: number, seed: number, salt: number) {
    const rng = createRng((seed ^ salt) >>> 0);
    // a variable from values drawn now (tidy frees the initial tensor; the variable keeps its data)
    const gaussian = (shape: number[], scale: number, mask?: Float32Array, perTap = 1) => tf.tidy(() => tf.variable(tf.tensor(
      Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => normal(rng) * scale * (mask ? mask[Math.floor(i / perTap)] : 1)), shape,
    )));
    const zeros = (length: number) => tf.tidy(() => tf.variable(tf.zeros([length])));
    this.layers = PIXELCNN_KERNELS.map((k, l): MaskedLayer => {
      const type: MaskType = l === 0 ? 'A' : 'B';
      const mask = causalMask(k, type);
      const inChannels = l === 0 ? channels : filters;
      const taps = mask.reduce((a, b) => a + b, 0);
      return {
        kernel: gaussian([k, k, inChannels, filters], Math.sqrt(2 / (taps * inChannels)), mask, inChannels * filters),
        bias: zeros(filters),
        condition: hDim === null ? undefined : gaussian([hDim, filters], Math.sqrt(2 / (hDim + filters))),
        mask: tf.tensor4d(mask, [k, k, 1, 1]),
        k, type,
      };
    });
    this.outWeight = gaussian([filters, channels * bins], Math.sqrt(2 / (filters + channels * bins)));
    this.outBias = zeros(channels * bins);
  }

  get variables(): tf.Variable[] {
    return [...this.layers.flatMap((l) => (l.condition ? [l.kernel, l.bias, l.condition] : [l.kernel, l.bias])), this.outWeight, this.outBias];
  }

  /** Logits over the B levels of every pixel value, [N, S, S, C, B], from the input [N, S, S, C] (levels at their centres in [−1, 1]) and h [N, hDim] (null for the unconditional model). */
  logits(input: tf.Tensor4D, h: tf.Tensor2D | null): tf.Tensor5D {
    if ((h === null) !== (this.hDim === null)) throw new Error(`PixelCnn: a ${this.hDim === null ? 'model without h was handed h' : 'conditional model needs h'}.`);
    return tf.tidy(() => {
      const [n, s] = input.shape;
      let a: tf.Tensor4D = input;
      for (const layer of this.layers) {
        let pre = tf.add(tf.conv2d(a, tf.mul(layer.kernel, layer.mask) as tf.Tensor4D, 1, 'same'), layer.bias);
        if (layer.condition && h) pre = tf.add(pre, tf.reshape(tf.matMul(h, layer.condition as tf.Tensor2D), [n, 1, 1, this.filters]));
        a = tf.relu(pre) as tf.Tensor4D;
      }
      const out = tf.add(tf.matMul(tf.reshape(a, [-1, this.filters]), this.outWeight as tf.Tensor2D), this.outBias);
      return tf.reshape(out, [n, s, s, this.channels, this.bins]) as tf.Tensor5D;
    });
  }

  get bytes(): number {
    return 4 * this.variables.reduce((sum, v) => sum + v.size, 0);
  }

  dispose(): void {
    tf.dispose(this.variables);
    tf.dispose(this.layers.map((l) => l.mask));
  }
}

/** Each pixel value's level, min(⌊x·B⌋, B − 1), int32, for x in [0, 1]. */
export function quantize(x: tf.Tensor4D, bins: number): tf.Tensor4D {
  return tf.tidy(() => tf.cast(tf.clipByValue(tf.floor(tf.mul(x, bins)), 0, bins - 1), 'int32') as tf.Tensor4D);
}

/** A level's centre on [−1, 1], (2b + 1)/B − 1: what the PixelCNN reads. */
export function levelInput(levels: tf.Tensor4D, bins: number): tf.Tensor4D {
  return tf.tidy(() => tf.sub(tf.div(tf.add(tf.mul(tf.cast(levels, 'float32'), 2), 1), bins), 1) as tf.Tensor4D);
}

/** −log p(true level) of every pixel value, [N, S, S, C], in nats. */
export function pixelNll(logits: tf.Tensor5D, levels: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const bins = logits.shape[4];
    return tf.neg(tf.sum(tf.mul(tf.logSoftmax(logits), tf.oneHot(levels, bins)), 4)) as tf.Tensor4D;
  });
}

// ---------------------------------------------------------------------------
// The same model on plain arrays: the tests' float64 reference, and the sampler

/** A PixelCnn's weights read back as plain arrays. */
export interface PixelCnnArrays {
  channels: number;
  bins: number;
  filters: number;
  layers: { k: number; type: MaskType; inChannels: number; kernel: Float32Array; bias: Float32Array; condition: Float32Array | null }[];
  outWeight: Float32Array;
  outBias: Float32Array;
}

/** Reads a model's weights (one read-back per variable, once for all the images it is run on). */
export async function pixelCnnArrays(model: PixelCnn): Promise<PixelCnnArrays> {
  const layers = await Promise.all(model.layers.map(async (layer) => ({
    k: layer.k, type: layer.type, inChannels: layer.kernel.shape[2] as number,
    kernel: Float32Array.from(await layer.kernel.data()),
    bias: Float32Array.from(await layer.bias.data()),
    condition: layer.condition ? Float32Array.from(await layer.condition.data()) : null,
  })));
  return {
    channels: model.channels, bins: model.bins, filters: model.filters, layers,
    outWeight: Float32Array.from(await model.outWeight.data()), outBias: Float32Array.from(await model.outBias.data()),
  };
}

/**
 * The PixelCNN on one image of side S given its h (null for the
 * unconditional model), in float64, a pixel at a time in
 * raster order: at pixel p every layer's activations are computed at p from
 * the layer below at p and before (rows above are done; the row so far is
 * done), so each activation is computed once. Returns the logits [S·S·C·B].
 * `levels` [S·S·C] is read at the pixels before p only (mask A); with
 * `sample`, each pixel's levels are drawn from its softmax and written into
 * `levels` before the next pixel is computed: the model's own sampler, S·S
 * sequential steps at the cost of one forward pass.
 */
export function pixelCnnOnArrays(model: PixelCnnArrays, h: ArrayLike<number> | null, levels: Int32Array, size: number, sample?: Rng): Float64Array {
  const { channels, bins, filters, layers, outWeight, outBias } = model;
  // each layer's bias for this image, b + V h (the conditioning is the same at every pixel)
  const biases = layers.map(({ bias, condition }) => {
    const out = Float64Array.from(bias);
    if (condition && h) for (let j = 0; j < h.length; j++) for (let f = 0; f < filters; f++) out[f] += h[j] * condition[j * filters + f];
    return out;
  });
  const outputs = channels * bins;
  const logits = new Float64Array(size * size * outputs);
  // layer 0 is the input, each level at its centre on [−1, 1]; layer l + 1 the activations of masked layer l
  const planes = [Float64Array.from(levels, (b) => (2 * b + 1) / bins - 1), ...layers.map(() => new Float64Array(size * size * filters))];
  // each layer's unmasked taps: the row and column offsets and where the tap's C_in × F block starts in the kernel
  const taps = layers.map(({ k, type, inChannels }) => {
    const mask = causalMask(k, type);
    const r = (k - 1) / 2;
    return Array.from(mask.keys()).filter((t) => mask[t] === 1).map((t) => ({ dy: Math.floor(t / k) - r, dx: (t % k) - r, at: t * inChannels * filters }));
  });
  const sum = new Float64Array(Math.max(filters, outputs));
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const p = y * size + x;
      layers.forEach(({ inChannels, kernel }, l) => {
        const below = planes[l];
        for (let f = 0; f < filters; f++) sum[f] = biases[l][f];
        for (const { dy, dx, at } of taps[l]) {
          const [yy, xx] = [y + dy, x + dx];
          // 'same' padding: taps off the image read zeros
          if (yy < 0 || xx < 0 || xx >= size) continue;
          const q = (yy * size + xx) * inChannels;
          for (let c = 0; c < inChannels; c++) {
            const a = below[q + c];
            if (a === 0) continue;
            const row = at + c * filters;
            for (let f = 0; f < filters; f++) sum[f] += a * kernel[row + f];
          }
        }
        const out = planes[l + 1];
        for (let f = 0; f < filters; f++) out[p * filters + f] = sum[f] > 0 ? sum[f] : 0;
      });
      const last = planes[layers.length];
      for (let o = 0; o < outputs; o++) sum[o] = outBias[o];
      for (let f = 0; f < filters; f++) {
        const a = last[p * filters + f];
        if (a === 0) continue;
        for (let o = 0; o < outputs; o++) sum[o] += a * outWeight[f * outputs + o];
      }
      logits.set(sum.subarray(0, outputs), p * outputs);
      if (sample) {
        for (let c = 0; c < channels; c++) {
          const level = drawLevel(logits.subarray(p * outputs + c * bins, p * outputs + (c + 1) * bins), sample());
          levels[p * channels + c] = level;
          planes[0][p * channels + c] = (2 * level + 1) / bins - 1;
        }
      }
    }
  }
  return logits;
}

/** The level whose cumulative softmax probability first exceeds u. */
function drawLevel(logits: Float64Array, u: number): number {
  const max = Math.max(...logits);
  const weights = Array.from(logits, (l) => Math.exp(l - max));
  let threshold = u * weights.reduce((a, b) => a + b, 0);
  for (let b = 0; b < weights.length; b++) {
    threshold -= weights[b];
    if (threshold < 0) return b;
  }
  return weights.length - 1;
}

/** Mean −log softmax at the true level over all pixel values, from pixelCnnOnArrays's logits: the reference loss of one image. */
export function nllOnArrays(logits: Float64Array, levels: Int32Array, bins: number): number {
  let sum = 0;
  for (let v = 0; v < levels.length; v++) {
    const row = logits.subarray(v * bins, (v + 1) * bins);
    const max = Math.max(...row);
    sum += max + Math.log(row.reduce((s, l) => s + Math.exp(l - max), 0)) - row[levels[v]];
  }
  return sum / levels.length;
}

export const autoregressive: MethodFactory = {
  id: 'autoregressive',
  create({ network, config, channels }): SslMethod {
    const bins = AUTOREGRESSIVE_BINS;
    const filters = pixelCnnFilters(config.encoderWidth);
    const conditional = new PixelCnn(channels, bins, network.hDim, filters, config.seed, 0xa7e1);
    const unconditional = new PixelCnn(channels, bins, null, filters, config.seed, 0xa7e2);
    const captured = new CaptureSlot<{ levels: tf.Tensor4D; likelihood: tf.Tensor3D; h: tf.Tensor2D; bits: tf.Tensor1D; numbers: tf.Tensor1D }>();
    let capturedN = 0;
    return {
      id: 'autoregressive',
      // f and both PixelCNNs: the projection head g plays no part
      trainableVariables: [...network.encoderVariables, ...conditional.variables, ...unconditional.variables],
      lossPath: () => 'composed',
      forward(batch, { capture }) {
        const { views } = batch;
        const n = views.shape[0];
        const levels = quantize(views, bins);
        const input = levelInput(levels, bins);
        const h = network.encode(views, true);
        const nll = tf.tidy(() => pixelNll(conditional.logits(input, h), levels));
        const loss = tf.mean(nll) as tf.Scalar;
        const unconditionalLoss = tf.tidy(() => tf.mean(pixelNll(unconditional.logits(input, null), levels)) as tf.Scalar);
        // the baseline trains by its own gradient without entering the loss's value: L + (L_u − sg(L_u)) = L
        const total = tf.tidy(() => tf.add(loss, tf.sub(unconditionalLoss, stopGradient(unconditionalLoss))) as tf.Scalar);
        const metrics = tf.tidy(() => tf.div(tf.stack([loss, unconditionalLoss]), Math.LN2) as tf.Tensor1D);
        if (capture) {
          const count = Math.min(n, AUTOREGRESSIVE_SHOWN);
          capturedN = n;
          captured.hold(tf.tidy(() => {
            const shown = tf.slice(nll, 0, count);
            return {
              levels: tf.slice(levels, 0, count),
              // the probability of the true level, averaged over the colour channels: one grey map per image
              likelihood: tf.mean(tf.exp(tf.neg(shown)), 3) as tf.Tensor3D,
              h: tf.slice(h, 0, count),
              bits: tf.div(tf.mean(shown, [1, 2, 3]), Math.LN2) as tf.Tensor1D,
              numbers: tf.clone(metrics),
            };
          }));
        }
        tf.dispose([levels, input, nll, loss, unconditionalLoss]);
        // h of the one view of each image: no positive pairs
        return { loss: total, metrics, z: h, geometry: 'rows' };
      },
      ...pretextLifecycle(captured, [conditional, unconditional]),
      // both PixelCNNs train (the trainer saves them) and their masks are fixed; the sampler's stream is seeded by the step it draws at
      saveState: async () => EMPTY_METHOD_STATE,
      loadState(state) {
        pretextStateReader(state, 'PixelCNN').commit();
      },
      taskSnapshot: (step) => readCapture(captured, async (held): Promise<TaskSnapshot> => {
        const [count, size] = held.levels.shape;
        const perImage = size * size * channels;
        const levels = Int32Array.from(await held.levels.data());
        const likelihood = Float32Array.from(await held.likelihood.data());
        const h = await held.h.data();
        const bits = Array.from(await held.bits.data());
        const [conditionalBits, unconditionalBits] = Array.from(await held.numbers.data());
        // samples pixel by pixel from the model given each shown view's h, row by row, within the time budget
        const started = performance.now();
        const model = await pixelCnnArrays(conditional);
        const rng = createRng((config.seed ^ 0xa7e3 ^ step) >>> 0);
        const samples: Float32Array[] = [];
        let drawn = 0;
        for (let r = 0; r < AUTOREGRESSIVE_SAMPLE_ROWS * count && (drawn === 0 || performance.now() - started < SAMPLING_BUDGET_MS); r++) {
          const [row, e] = [Math.floor(r / count), r % count];
          if (e === 0) samples.push(new Float32Array(count * perImage));
          const levelsDrawn = new Int32Array(perImage);
          pixelCnnOnArrays(model, h.subarray(e * network.hDim, (e + 1) * network.hDim), levelsDrawn, size, rng);
          samples[row].set(Float32Array.from(levelsDrawn, (b) => (b + 0.5) / bins), e * perImage);
          drawn += 1;
        }
        const samplingMs = performance.now() - started;
        const image = (label: string, images: Float32Array, c: 1 | 3) => ({ label, images, size, channels: c });
        return {
          step, method: 'autoregressive', count,
          rows: [
            image(`input (${bins} levels)`, Float32Array.from(levels, (b) => (b + 0.5) / bins), channels as 1 | 3),
            image('p(true level), given h', likelihood, 1),
            ...samples.map((row, s) => image(`sample ${s + 1} given h`, row, channels as 1 | 3)),
          ],
          captions: bits.map((b) => `${b.toFixed(2)} bits`),
          summary: `${conditionalBits.toFixed(2)} bits per pixel value over the batch’s ${capturedN} views given h, ${unconditionalBits.toFixed(2)} for the PixelCNN without h: h saves ${(unconditionalBits - conditionalBits).toFixed(2)} bits a value; a uniform guess needs ${Math.log2(bins).toFixed(0)}. `
            + `${drawn} samples drawn pixel by pixel (${size * size} steps each) from the model given each view’s h in ${samplingMs.toFixed(0)} ms`
            + (drawn < AUTOREGRESSIVE_SAMPLE_ROWS * count ? ` (the rest left blank: no sample is started after ${SAMPLING_BUDGET_MS} ms).` : '.'),
        };
      }),
    };
  },
};
