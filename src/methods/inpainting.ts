/**
 * Context encoder (Pathak et al. 2016): a square region of each view t(x) is
 * hidden, filled with the batch's mean colour, and f encodes what is left; a
 * small decoder on h paints the region back, scored by the mean squared error
 * over the hidden pixels alone (the paper's L2 reconstruction loss; its
 * adversarial term is left out, as the paper's L2-only variant). The region is half the view's side,
 * a quarter of its area: the central square (the paper's central region) or a
 * square of the same size at a seeded random place inside the view.
 *
 * The decoder also serves colorization (MapDecoder): f's h is a pooled vector,
 * so a map is made from it by dense layers onto a coarse grid and bilinear
 * upsampling, as the paper's channel-wise fully connected layer hands the
 * encoder's features to its up-convolutions.
 */
import * as tf from '@tensorflow/tfjs';
import { createRng, normal, type Rng } from '../core/random';
import { TASK_SNAPSHOT_EXAMPLES, type TaskSnapshot } from '../core/taskSnapshot';
import type { MethodFactory, SslMethod } from './method';
import { CaptureSlot, pretextLifecycle, pretextStateReader, readCapture } from './pretextHead';

// ---------------------------------------------------------------------------
// The decoder: h → a map

/** Most cells a side of the decoder's grid; larger maps are upsampled bilinearly from it. */
export const DECODER_MAX_GRID = 8;
/** Features per grid cell, read by a 1×1 layer into the map's channels (as a 1×1 convolution would). */
export const DECODER_CELL_FEATURES = 16;

/**
 * A map decoder on h: dense → ReLU → dense onto a g×g grid of E features →
 * ReLU → the same linear layer E → Q at every cell. Returns the grid's values
 * before any output non-linearity, [M, g, g, Q]; `upsample` takes it to the
 * map's side. He-normal weights (Glorot on the last layer) from the run's seed,
 * offset per task by `salt`; zero biases.
 */
export class MapDecoder {
  readonly variables: tf.Variable[];

  constructor(
    readonly inDim: number, readonly hidden: number, readonly grid: number, readonly outChannels: number,
    seed: number, salt: number, readonly cellFeatures = DECODER_CELL_FEATURES,
  ) {
    const rng = createRng((seed ^ salt) >>> 0);
    const cells = grid * grid * cellFeatures;
    const weights = (rows: number, cols: number, scale: number) => tf.tensor2d(Float32Array.from({ length: rows * cols }, () => normal(rng) * scale), [rows, cols]);
    this.variables = tf.tidy(() => [
      tf.variable(weights(inDim, hidden, Math.sqrt(2 / inDim))),
      tf.variable(tf.zeros([hidden])),
      tf.variable(weights(hidden, cells, Math.sqrt(2 / hidden))),
      tf.variable(tf.zeros([cells])),
      tf.variable(weights(cellFeatures, outChannels, Math.sqrt(2 / (cellFeatures + outChannels)))),
      tf.variable(tf.zeros([outChannels])),
    ]);
  }

  /** The grid's values, [M, g, g, Q]. */
  gridMap(h: tf.Tensor2D): tf.Tensor4D {
    const [w1, b1, w2, b2, w3, b3] = this.variables;
    return tf.tidy(() => {
      const hidden = tf.relu(tf.add(tf.matMul(h, w1 as tf.Tensor2D), b1)) as tf.Tensor2D;
      const cells = tf.relu(tf.reshape(tf.add(tf.matMul(hidden, w2 as tf.Tensor2D), b2), [-1, this.cellFeatures])) as tf.Tensor2D;
      const out = tf.add(tf.matMul(cells, w3 as tf.Tensor2D), b3);
      return tf.reshape(out, [h.shape[0], this.grid, this.grid, this.outChannels]) as tf.Tensor4D;
    });
  }

  get bytes(): number {
    return 4 * this.variables.reduce((sum, v) => sum + v.size, 0);
  }

  dispose(): void {
    tf.dispose(this.variables);
  }
}

/**
 * A g×g map taken to side×side bilinearly, corners on corners (tfjs's gradient
 * kernels ignore half-pixel centres, so the forward keeps to the convention
 * its gradient computes); a copy when the sizes agree.
 */
export function upsampleMap(map: tf.Tensor4D, side: number): tf.Tensor4D {
  return tf.tidy(() => (map.shape[1] === side ? tf.clone(map) : tf.image.resizeBilinear(map, [side, side], true)));
}

// ---------------------------------------------------------------------------
// The task: regions, masks, crops

export type InpaintMask = 'central' | 'random';

/** Side of the hidden square: half the view's side (Pathak's central 64 of 128), a quarter of its area. */
export function regionSide(size: number): number {
  return Math.floor(size / 2);
}

/** The decoder's grid for a region of this side: the region itself when small, else 8×8 upsampled. */
export function inpaintingGrid(side: number): number {
  return Math.min(side, DECODER_MAX_GRID);
}

/** A hidden square's top-left pixel (its side is regionSide of the view). */
export interface Region {
  top: number;
  left: number;
}

/**
 * One region per image: the central square (centred; an odd margin leaves the
 * extra pixel below and to the right), or a square at a random place drawn
 * from `rng`, wholly inside the view.
 */
export function inpaintRegions(n: number, size: number, mask: InpaintMask, rng: Rng): Region[] {
  const side = regionSide(size);
  const places = size - side + 1;
  return Array.from({ length: n }, () => {
    if (mask === 'central') {
      const corner = Math.floor((size - side) / 2);
      return { top: corner, left: corner };
    }
    const top = Math.floor(rng() * places);
    return { top, left: Math.floor(rng() * places) };
  });
}

/** The mask of one region on plain numbers, size × size: 1 inside the square, 0 outside (the tests' reference). */
export function regionMaskArray(region: Region, size: number): Uint8Array {
  const side = regionSide(size);
  const mask = new Uint8Array(size * size);
  for (let i = region.top; i < region.top + side; i++) mask.fill(1, i * size + region.left, i * size + region.left + side);
  return mask;
}

/** The masks of a batch as a tensor, [n, S, S, 1], 1 on the hidden pixels. */
export function regionMasks(regions: Region[], size: number): tf.Tensor4D {
  const values = new Float32Array(regions.length * size * size);
  regions.forEach((region, b) => values.set(regionMaskArray(region, size), b * size * size));
  return tf.tensor4d(values, [regions.length, size, size, 1]);
}

/**
 * The encoder's input: each view with its region replaced by `fill` (one value
 * per channel), x̃ = x ⊙ (1 − m) + fill ⊙ m.
 */
export function maskViews(views: tf.Tensor4D, masks: tf.Tensor4D, fill: tf.Tensor1D): tf.Tensor4D {
  return tf.tidy(() => tf.add(tf.mul(views, tf.sub(1, masks)), tf.mul(masks, fill)) as tf.Tensor4D);
}

/**
 * The fill: the mean colour of the batch's visible pixels, per channel.
 * Pathak et al. fill the hole with the dataset's mean pixel, which after
 * centring is 0: a value that says nothing about what is hidden. 0 here
 * would be black, a colour the images have (Fashion-MNIST's background), so
 * the hole would read as content; the visible pixels' mean is the nearest
 * thing to the dataset mean in one batch and leaks nothing of the hidden ones.
 */
export function visibleMean(views: tf.Tensor4D, masks: tf.Tensor4D): tf.Tensor1D {
  return tf.tidy(() => {
    const visible = tf.sub(1, masks);
    return tf.div(tf.sum(tf.mul(views, visible), [0, 1, 2]), tf.sum(visible)) as tf.Tensor1D;
  });
}

/** The hidden squares cut out of the views, [n, side, side, C], pixel for pixel (a gather, no resampling). */
export function cropRegions(views: tf.Tensor4D, regions: Region[]): tf.Tensor4D {
  const [n, size, , channels] = views.shape;
  const side = regionSide(size);
  const indices = new Int32Array(n * side * side);
  regions.forEach(({ top, left }, b) => {
    for (let i = 0; i < side; i++) {
      for (let j = 0; j < side; j++) indices[(b * side + i) * side + j] = (b * size + top + i) * size + left + j;
    }
  });
  return tf.tidy(() => tf.reshape(tf.gather(tf.reshape(views, [-1, channels]), tf.tensor1d(indices, 'int32')), [n, side, side, channels]) as tf.Tensor4D);
}

/**
 * The context encoder's L2 loss, Pathak's L_rec = ‖M̂ ⊙ (x − F((1 − M̂) ⊙ x))‖²
 * averaged over the hidden pixels and channels: the decoder paints only the
 * region, so `predicted` and `truth` are the hidden squares themselves.
 */
export function regionMse(predicted: tf.Tensor4D, truth: tf.Tensor4D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.squaredDifference(predicted, truth)) as tf.Scalar);
}

/**
 * Two baselines on the same pixels: a blind decoder (every region painted as
 * the batch's average region, pixel by pixel: the best a decoder that ignores
 * h can do on this batch), and a flat fill (each region painted in its own
 * true mean colour: right colour, no structure).
 */
export function inpaintingBaselines(truth: tf.Tensor4D): { blind: tf.Scalar; flat: tf.Scalar } {
  return tf.tidy(() => ({
    blind: tf.mean(tf.squaredDifference(truth, tf.mean(truth, 0, true))) as tf.Scalar,
    flat: tf.mean(tf.squaredDifference(truth, tf.mean(truth, [1, 2], true))) as tf.Scalar,
  }));
}

/** A view (HWC, plain numbers) with a square patch written over its region: the instrument's 'prediction' row. */
export function pasteRegion(image: ArrayLike<number>, size: number, channels: number, region: Region, patch: ArrayLike<number>): Float32Array {
  const side = regionSide(size);
  const out = Float32Array.from(image);
  for (let i = 0; i < side; i++) {
    for (let j = 0; j < side; j++) {
      for (let c = 0; c < channels; c++) out[((region.top + i) * size + region.left + j) * channels + c] = patch[(i * side + j) * channels + c];
    }
  }
  return out;
}

/** Peak signal-to-noise ratio of a mean squared error on [0, 1] pixels, in dB. */
export const psnr = (mse: number) => 10 * Math.log10(1 / Math.max(mse, 1e-12));

export const inpainting: MethodFactory = {
  id: 'inpainting',
  create({ network, config, channels }): SslMethod {
    const side = regionSide(config.imageSize);
    const decoder = new MapDecoder(network.hDim, network.hDim, inpaintingGrid(side), channels, config.seed, 0x1a9e);
    // the random regions' places: one stream per run, same seed, same places
    const regionRng = createRng((config.seed ^ 0x3b5d) >>> 0);
    const captured = new CaptureSlot<{ masked: tf.Tensor4D; truth: tf.Tensor4D; predicted: tf.Tensor4D; numbers: tf.Tensor1D }>();
    let capturedRegions: Region[] = [];
    let capturedN = 0;
    return {
      id: 'inpainting',
      // f and the decoder: the projection head g plays no part in a pretext task
      trainableVariables: [...network.encoderVariables, ...decoder.variables],
      lossPath: () => 'composed',
      forward(batch, { capture, config: current }) {
        const { views } = batch;
        const [n, size] = views.shape;
        if (regionSide(size) !== side) throw new Error(`Inpainting: the decoder was built for ${2 * side} px views, these are ${size} px; reset the run after changing the view size.`);
        // the mask setting applies from the next step, no reset needed
        const regions = inpaintRegions(n, size, current.inpaintMask, regionRng);
        const masks = regionMasks(regions, size);
        const fill = visibleMean(views, masks);
        const masked = maskViews(views, masks, fill);
        const truth = cropRegions(views, regions);
        const h = network.encode(masked, true);
        const predicted = tf.sigmoid(upsampleMap(decoder.gridMap(h), side)) as tf.Tensor4D;
        const loss = regionMse(predicted, truth);
        const { blind, flat } = inpaintingBaselines(truth);
        const metrics = tf.stack([blind, flat]) as tf.Tensor1D;
        if (capture) {
          const count = Math.min(n, TASK_SNAPSHOT_EXAMPLES);
          const first = <T extends tf.Tensor4D>(t: T) => tf.slice(t, 0, count) as T;
          capturedN = n;
          capturedRegions = regions.slice(0, count);
          captured.hold({
            masked: first(masked), truth: first(views), predicted: first(predicted),
            numbers: tf.stack([loss, blind, flat]) as tf.Tensor1D,
          });
        }
        tf.dispose([masks, fill, masked, truth, predicted, blind, flat]);
        // h of the masked views: one embedding per image, no positive pairs
        return { loss, metrics, z: h, geometry: 'rows' };
      },
      ...pretextLifecycle(captured, [decoder]),
      // the random squares' stream, saved under the central mask too: the setting can change mid-run
      saveState: async () => ({ arrays: {}, values: { regionRng: regionRng.state() } }),
      loadState(state) {
        const reader = pretextStateReader(state, 'Inpainting', { values: ['regionRng'] });
        reader.restoreRng('regionRng', regionRng);
        reader.commit();
      },
      taskSnapshot: (step) => readCapture(captured, async (held): Promise<TaskSnapshot> => {
        const [count, size, , c] = held.masked.shape;
        const masked = Float32Array.from(await held.masked.data());
        const truth = Float32Array.from(await held.truth.data());
        const predicted = await held.predicted.data();
        const [mse, blind, flat] = Array.from(await held.numbers.data());
        const perImage = size * size * c;
        const perRegion = side * side * c;
        const pasted = new Float32Array(masked.length);
        const errors = capturedRegions.map((region, e) => {
          const patch = predicted.subarray(e * perRegion, (e + 1) * perRegion);
          pasted.set(pasteRegion(masked.subarray(e * perImage, (e + 1) * perImage), size, c, region, patch), e * perImage);
          const hidden = cropArray(truth.subarray(e * perImage, (e + 1) * perImage), size, c, region);
          return hidden.reduce((sum, v, k) => sum + (patch[k] - v) ** 2, 0) / perRegion;
        });
        const row = (label: string, images: Float32Array) => ({ label, images, size, channels: c as 1 | 3 });
        return {
          step, method: 'inpainting', count,
          rows: [row('masked input', masked), row('prediction pasted in', pasted), row('truth', truth)],
          captions: errors.map((e) => `MSE ${e.toFixed(4)}`),
          summary: `Hidden-region MSE ${mse.toFixed(4)} over the batch’s ${capturedN} regions of ${side}×${side} px (PSNR ${psnr(mse).toFixed(1)} dB); `
            + `a blind decoder (the batch’s average region) scores ${blind.toFixed(4)}, each region in its own mean colour ${flat.toFixed(4)}.`,
        };
      }),
    };
  },
};

/** A view's region cut out on plain numbers, side × side × C (the instrument's per-example error; the tests' reference). */
export function cropArray(image: ArrayLike<number>, size: number, channels: number, region: Region): Float32Array {
  const side = regionSide(size);
  const out = new Float32Array(side * side * channels);
  for (let i = 0; i < side; i++) {
    for (let j = 0; j < side; j++) {
      for (let c = 0; c < channels; c++) out[(i * side + j) * channels + c] = image[((region.top + i) * size + region.left + j) * channels + c];
    }
  }
  return out;
}
