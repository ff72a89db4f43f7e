/**
 * Contrastive predictive coding on images (van den Oord et al. 2018, §3.2):
 * each view t(x) of side S is cut into a G×G grid of patches (G = 4) of side
 * 2s on a stride s = ⌊S / (G + 1)⌋, so neighbours overlap by half (at 24 px:
 * 8 px patches every 4 px); patches under 8 px are resized up for f
 * (tiles.ts, encoderPatches). f encodes every patch on its own:
 *
 *   z_{i,j} = f(x_{i,j}) ∈ R^{dim h}                   the patch codes (h, as the paper's g_enc output)
 *   r_i     = mean_{i′ ≤ i, all j′} z_{i′,j′}          what the rows down to i hold: causal, never a row below
 *   c_{i,j} = ReLU(W_c [z_{i,j}; r_i] + b_c)           the context at (i, j): its own patch and the rows above
 *   ẑ_{i+k,j} = W_k c_{i,j},  k = 1 … K (K = G − 1)   a linear prediction per offset, W_k starting at zero
 *   L = InfoNCE of each ẑ against all NG² codes of the batch (src/loss/cpc.ts)
 *
 * The paper's context network is a PixelCNN over the rows above; at a 4×4
 * grid a causal mean of the rows so far plus the patch itself is the same
 * idea at this scale: c_{i,j} sees rows 0 … i and nothing below, so the code
 * k rows down cannot be copied, only predicted. W_k = 0 at the start makes
 * every score 0, so the loss starts at log(NG²), the chart's line.
 *
 * f runs with batch statistics over all the patches of the batch, so batch
 * norm lets patches share a little information (CPC v2 swapped it for layer
 * norm for that reason); with the overlap at k = 1 that is part of why k = 1
 * is the easy offset.
 */
import * as tf from '@tensorflow/tfjs';
import { CPC_GRID, CPC_MIN_VIEW, CPC_OFFSETS } from '../core/entries/cpc';
import { createRng, normal, type Rng } from '../core/random';
import { TASK_SNAPSHOT_EXAMPLES, type TaskSnapshot } from '../core/taskSnapshot';
import { cpcInfoNceWithMetrics } from '../loss/cpc';
import type { MethodFactory, SslMethod } from './method';
import { CaptureSlot, pretextLifecycle, pretextStateReader, readCapture } from './pretextHead';
import { EMPTY_METHOD_STATE } from './state';
import { cropArray, cutTiles, encoderPatches, type TileBox } from './tiles';

/** The patch grid of a view of side S: G×G patches of side 2s on a stride s, centred. */
export interface CpcGrid {
  viewSize: number;
  stride: number;
  patch: number;
  /** top-left corner of patch (0, 0), in both directions */
  origin: number;
}

/** The grid for views of side S; throws, saying the minimum, when they are too small. */
export function cpcGrid(viewSize: number): CpcGrid {
  const stride = Math.floor(viewSize / (CPC_GRID + 1));
  if (viewSize < CPC_MIN_VIEW || stride < 2) {
    throw new Error(`CPC needs views of at least ${CPC_MIN_VIEW} px for its ${CPC_GRID}×${CPC_GRID} grid of overlapping patches; these are ${viewSize} px. Raise the view size.`);
  }
  const patch = 2 * stride;
  // G patches on stride s span (G − 1)·s + 2s = (G + 1)·s
  const origin = Math.floor((viewSize - (CPC_GRID + 1) * stride) / 2);
  return { viewSize, stride, patch, origin };
}

/** The G² patches of one view, row by row: box i·G + j is patch (i, j). */
export function cpcBoxes(grid: CpcGrid): TileBox[] {
  return Array.from({ length: CPC_GRID * CPC_GRID }, (_, cell) => ({
    top: grid.origin + Math.floor(cell / CPC_GRID) * grid.stride,
    left: grid.origin + (cell % CPC_GRID) * grid.stride,
    size: grid.patch,
  }));
}

/** Row of patch (i, j) of image b among the batch's NG² patches and codes. */
export const patchRow = (b: number, i: number, j: number): number => (b * CPC_GRID + i) * CPC_GRID + j;

/**
 * Every prediction of a batch of N views, in the order the predictions are
 * made: offset k = 1 … K, then image b, then context row i = 0 … G − 1 − k,
 * then column j. Prediction p is made from the context at `context[p]`
 * (a patch row) and must pick the code at `target[p]`, k rows below it.
 */
export interface CpcPredictionLayout {
  context: Int32Array;
  target: Int32Array;
  offset: Int32Array;
  image: Int32Array;
  /** the context row i of each prediction */
  row: Int32Array;
}

export function cpcPredictionLayout(n: number): CpcPredictionLayout {
  const entries: [number, number, number, number, number][] = [];
  for (let k = 1; k <= CPC_OFFSETS; k++) {
    for (let b = 0; b < n; b++) {
      for (let i = 0; i + k < CPC_GRID; i++) {
        for (let j = 0; j < CPC_GRID; j++) entries.push([patchRow(b, i, j), patchRow(b, i + k, j), k, b, i]);
      }
    }
  }
  const column = (c: number) => Int32Array.from(entries, (e) => e[c]);
  return { context: column(0), target: column(1), offset: column(2), image: column(3), row: column(4) };
}

/** The prediction made from patch (0, j) of image b, k rows ahead: its index p in {@link cpcPredictionLayout}'s order. */
export function topRowPrediction(n: number, b: number, j: number, k: number): number {
  let start = 0;
  for (let k2 = 1; k2 < k; k2++) start += n * (CPC_GRID - k2) * CPC_GRID;
  return start + b * (CPC_GRID - k) * CPC_GRID + j;
}

/** Glorot-normal [inDim, outDim] values from `rng`. */
function glorotNormal(rng: Rng, inDim: number, outDim: number): tf.Tensor2D {
  const scale = Math.sqrt(2 / (inDim + outDim));
  return tf.tensor2d(Float32Array.from({ length: inDim * outDim }, () => normal(rng) * scale), [inDim, outDim]);
}

/**
 * The autoregressive part: the context network (W_c, b_c) and the K
 * prediction maps W_k, CPC's own weights beside the shared f.
 */
export class CpcContextNetwork {
  readonly contextWeight: tf.Variable;
  readonly contextBias: tf.Variable;
  /** W_k for k = 1 … K at index k − 1, [context dim, code dim] */
  readonly predictors: tf.Variable[];

  constructor(readonly codeDim: number, readonly contextDim: number, seed: number) {
    const rng = createRng((seed ^ 0xc9c) >>> 0);
    [this.contextWeight, this.contextBias, ...this.predictors] = tf.tidy(() => [
      tf.variable(glorotNormal(rng, 2 * codeDim, contextDim)),
      tf.variable(tf.zeros([contextDim])),
      // zero: every score ẑ·z starts at 0, the loss at log(NG²) exactly
      ...Array.from({ length: CPC_OFFSETS }, () => tf.variable(tf.zeros([contextDim, codeDim]))),
    ]);
  }

  get variables(): tf.Variable[] {
    return [this.contextWeight, this.contextBias, ...this.predictors];
  }

  /**
   * c for every patch of N views, from their codes z [NG², d] (rows
   * {@link patchRow}): c_{i,j} = ReLU(W_c [z_{i,j}; r_i] + b_c) with r_i the
   * mean of the codes of rows 0 … i.
   */
  context(codes: tf.Tensor2D): tf.Tensor2D {
    const [rows, d] = codes.shape;
    const g = CPC_GRID;
    const n = rows / (g * g);
    if (!Number.isInteger(n)) throw new Error(`CpcContextNetwork: ${rows} codes is not ${g * g} patches per view`);
    return tf.tidy(() => {
      const grid = tf.reshape(codes, [n, g, g, d]);
      // the row means, rows first: [G, n·d]
      const rowMeans = tf.reshape(tf.transpose(tf.mean(grid, 2), [1, 0, 2]), [g, n * d]);
      // r_i = Σ_{i′} A_{i,i′} rowMean_{i′} with A_{i,i′} = 1/(i + 1) for i′ ≤ i, else 0: the causal
      // mask as a lower-triangular matrix (tf.cumsum's gradient fails on an inner axis in tfjs 4.22)
      const causalMean = tf.tensor2d(Array.from({ length: g }, (_, i) => Array.from({ length: g }, (_, i2) => (i2 <= i ? 1 / (i + 1) : 0))));
      const above = tf.transpose(tf.reshape(tf.matMul(causalMean, rowMeans), [g, n, d]), [1, 0, 2]); // [n, G, d]
      const acrossRow = tf.tile(tf.expandDims(above, 2), [1, 1, g, 1]); // [n, G, G, d]
      const input = tf.reshape(tf.concat([grid, acrossRow], 3), [rows, 2 * d]) as tf.Tensor2D;
      return tf.relu(tf.add(tf.matMul(input, this.contextWeight as tf.Tensor2D), this.contextBias)) as tf.Tensor2D;
    });
  }

  /**
   * ẑ_p = W_{k_p} c_{context[p]} for every prediction of {@link cpcPredictionLayout},
   * [P, d] in its order: W_k applied to every context, then the rows that have
   * a patch k rows below them sliced out (a slice, whose gradient is a pad,
   * where a gather's would be a segment sum that costs the cpu backend
   * P × NG² × d).
   */
  predict(context: tf.Tensor2D): tf.Tensor2D {
    const g = CPC_GRID;
    const n = context.shape[0] / (g * g);
    return tf.tidy(() => {
      const blocks = this.predictors.map((w, index) => {
        const k = index + 1;
        const all = tf.reshape(tf.matMul(context, w as tf.Tensor2D), [n, g, g, this.codeDim]);
        return tf.reshape(tf.slice(all, [0, 0, 0, 0], [n, g - k, g, this.codeDim]), [n * (g - k) * g, this.codeDim]);
      });
      return tf.concat(blocks, 0) as tf.Tensor2D;
    });
  }

  get bytes(): number {
    return 4 * this.variables.reduce((sum, v) => sum + v.size, 0);
  }

  dispose(): void {
    tf.dispose(this.variables);
  }
}

// ---------------------------------------------------------------------------
// The instrument's pictures, on plain arrays (HWC, values in [0, 1])

export type Rgb = readonly [number, number, number];
export const CONTEXT_FRAME: Rgb = [1, 1, 1];
export const FOUND_FRAME: Rgb = [0.15, 0.8, 0.25];
export const MISSED_FRAME: Rgb = [0.9, 0.15, 0.15];
/** Between the patches: dark, so the white context frame shows. */
const PICTURE_BACKGROUND = 0.3;

/** Side of a G×G picture of patches of side t: 2 px between patches and 1 px around, each patch's frame in the 1 px next to it. */
export const patchGridPictureSize = (tile: number): number => CPC_GRID * tile + 2 * CPC_GRID;

/** Top-left corner of cell (i, j) of the picture, in both directions. */
export const patchGridCellCorner = (tile: number, cell: number): number => 1 + cell * (tile + 2);

/**
 * G² patches of side t (row by row, `channels` each) laid out G×G as an RGB
 * picture, each framed by a 1 px ring in its colour (none where null); grey
 * patches are repeated into all three channels.
 */
export function composePatchGrid(tiles: ArrayLike<number>[], tile: number, channels: number, frames: (Rgb | null)[]): Float32Array {
  const g = CPC_GRID;
  if (tiles.length !== g * g || frames.length !== g * g) throw new Error(`composePatchGrid: ${tiles.length} patches and ${frames.length} frames, not ${g * g}`);
  const side = patchGridPictureSize(tile);
  const out = new Float32Array(side * side * 3).fill(PICTURE_BACKGROUND);
  const put = (y: number, x: number, rgb: ArrayLike<number>) => {
    for (let c = 0; c < 3; c++) out[(y * side + x) * 3 + c] = rgb[c];
  };
  tiles.forEach((pixels, cell) => {
    const top = patchGridCellCorner(tile, Math.floor(cell / g));
    const left = patchGridCellCorner(tile, cell % g);
    for (let y = 0; y < tile; y++) {
      for (let x = 0; x < tile; x++) {
        const at = (y * tile + x) * channels;
        put(top + y, left + x, channels === 1 ? [pixels[at], pixels[at], pixels[at]] : [pixels[at], pixels[at + 1], pixels[at + 2]]);
      }
    }
    const frame = frames[cell];
    if (!frame) return;
    for (let y = top - 1; y <= top + tile; y++) {
      for (let x = left - 1; x <= left + tile; x++) {
        if (y === top - 1 || y === top + tile || x === left - 1 || x === left + tile) put(y, x, frame);
      }
    }
  });
  return out;
}

/** The frames of one example: the top row (the context) white, each row below green where its prediction from the top row hit, red where it missed. */
export function topRowFrames(hitBelow: boolean[]): Rgb[] {
  const g = CPC_GRID;
  if (hitBelow.length !== (g - 1) * g) throw new Error(`topRowFrames: ${hitBelow.length} predictions, not ${(g - 1) * g}`);
  return Array.from({ length: g * g }, (_, cell) => (cell < g ? CONTEXT_FRAME : hitBelow[cell - g] ? FOUND_FRAME : MISSED_FRAME));
}

const percent = (x: number): string => `${(100 * x).toFixed(0)}%`;

export const cpc: MethodFactory = {
  id: 'cpc',
  create({ network, config }): SslMethod {
    const net = new CpcContextNetwork(network.hDim, network.hDim, config.seed);
    const captured = new CaptureSlot<{ shown: tf.Tensor4D; picked: tf.Tensor4D; hits: tf.Tensor1D }>();
    let capturedN = 0;
    let capturedLayout: CpcPredictionLayout | null = null;
    return {
      id: 'cpc',
      // f and the context network with its W_k: the projection head g plays no part
      trainableVariables: [...network.encoderVariables, ...net.variables],
      lossPath: () => 'composed',
      forward(batch, { capture }) {
        const { views } = batch;
        const n = views.shape[0];
        const grid = cpcGrid(views.shape[1]);
        const boxes = cpcBoxes(grid);
        const patches = cutTiles(views, Array.from({ length: n }, () => boxes));
        const input = encoderPatches(patches);
        const codes = network.encode(input, true);
        const layout = cpcPredictionLayout(n);
        const context = net.context(codes);
        const predictions = net.predict(context);
        const out = cpcInfoNceWithMetrics(predictions, codes, layout.target, layout.offset, CPC_OFFSETS);
        if (capture) {
          const count = Math.min(n, TASK_SNAPSHOT_EXAMPLES);
          // the patch each prediction from the top row of a shown view picked, row by row below it
          const fromTopRow: number[] = [];
          for (let b = 0; b < count; b++) {
            for (let k = 1; k <= CPC_OFFSETS; k++) for (let j = 0; j < CPC_GRID; j++) fromTopRow.push(topRowPrediction(n, b, j, k));
          }
          capturedN = n;
          capturedLayout = layout;
          captured.hold({
            shown: tf.slice(views, 0, count),
            picked: tf.tidy(() => tf.gather(patches, tf.gather(out.best, fromTopRow)) as tf.Tensor4D),
            hits: tf.clone(out.hits),
          });
        }
        // one row per view: the mean code over its patches (no positive pairs of views)
        const z = tf.tidy(() => tf.mean(tf.reshape(codes, [n, CPC_GRID * CPC_GRID, network.hDim]), 1) as tf.Tensor2D);
        tf.dispose([patches, input, codes, context, predictions, out.hits, out.best]);
        return { loss: out.loss, metrics: out.offsetAccuracy, z, geometry: 'rows' };
      },
      ...pretextLifecycle(captured, [net]),
      // the context network and every W_k train (the trainer saves them); the patch grid is fixed and nothing is drawn at random
      saveState: async () => EMPTY_METHOD_STATE,
      loadState(state) {
        pretextStateReader(state, 'CPC').commit();
      },
      taskSnapshot: (step) => readCapture(captured, async (held): Promise<TaskSnapshot> => {
        const layout = capturedLayout!;
        const n = capturedN;
        const [count, size, , channels] = held.shown.shape;
        const shown = Float32Array.from(await held.shown.data());
        const picked = Float32Array.from(await held.picked.data());
        const hits = Array.from(await held.hits.data(), (h) => h === 1);
        const grid = cpcGrid(size);
        const boxes = cpcBoxes(grid);
        const p = grid.patch;
        const perView = size * size * channels;
        const perPatch = p * p * channels;
        const side = patchGridPictureSize(p);
        const perPicture = side * side * 3;
        const below = (CPC_GRID - 1) * CPC_GRID;
        const patchPictures = new Float32Array(count * perPicture);
        const pickedPictures = new Float32Array(count * perPicture);
        const captions: string[] = [];
        for (let e = 0; e < count; e++) {
          const view = shown.subarray(e * perView, (e + 1) * perView);
          const own = boxes.map((box) => cropArray(view, size, channels, box));
          const hitBelow = Array.from({ length: below }, (_, r) => hits[topRowPrediction(n, e, r % CPC_GRID, Math.floor(r / CPC_GRID) + 1)]);
          const frames = topRowFrames(hitBelow);
          patchPictures.set(composePatchGrid(own, p, channels, frames), e * perPicture);
          const answers = Array.from({ length: below }, (_, r) => picked.subarray((e * below + r) * perPatch, (e * below + r + 1) * perPatch));
          pickedPictures.set(composePatchGrid([...own.slice(0, CPC_GRID), ...answers], p, channels, frames), e * perPicture);
          const mine = hits.filter((_, q) => layout.image[q] === e);
          captions.push(`${mine.filter(Boolean).length}/${mine.length} found`);
        }
        const candidates = n * CPC_GRID * CPC_GRID;
        const perOffset = Array.from({ length: CPC_OFFSETS }, (_, index) => {
          const mine = hits.filter((_, q) => layout.offset[q] === index + 1);
          return `k = ${index + 1}: ${percent(mine.filter(Boolean).length / mine.length)} of ${mine.length}`;
        });
        return {
          step, method: 'cpc', count,
          rows: [
            { label: 'view t(x)', images: shown, size, channels: channels as 1 | 3 },
            { label: 'patches: top row the context (white); rows below found (green) or missed (red) from it', images: patchPictures, size: side, channels: 3 },
            { label: 'the patch each prediction picked', images: pickedPictures, size: side, channels: 3 },
          ],
          captions,
          summary: `Predictions that picked their true patch among the batch’s ${candidates} patch codes: ${perOffset.join(', ')} (chance 1/${candidates} = ${(100 / candidates).toFixed(2)}%).`,
        };
      }),
    };
  },
};
