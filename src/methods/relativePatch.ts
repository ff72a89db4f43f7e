/**
 * Relative patch location (Doersch et al. 2015): each view t(x) is cut into a
 * 3×3 grid of p px patches with gaps between them, each patch moved by its own
 * random jitter (src/methods/tiles.ts, RELATIVE_PATCH_LAYOUT: at 28 px,
 * 6 px patches 3 px apart, ±1 px). f encodes the 9 patches of every view
 * separately; for each of the 8 neighbours a head on the pair
 * [h_centre, h_neighbour] names the neighbour's position, 8 logits, softmax
 * cross-entropy over the 8N pairs (a head that cannot tell the positions apart
 * scores log 8). All 8 pairs of a view cost one encoding of its 9 patches,
 * so every batch has each position equally often.
 *
 * The head fuses the pair through one hidden layer of width dim h, as the
 * paper's fc7 and fc8 after the concatenation (tiles.ts, FusionHead):
 * logits = W₂ ReLU(W₁ [h_c, h_n] + b₁) + b₂. A linear head could only add a
 * score for the centre to a score for the neighbour, each on its own, which
 * asks "where in an image does this patch usually sit" rather than "where is
 * it relative to that one".
 */
import * as tf from '@tensorflow/tfjs';
import { RELATIVE_PATCH_MIN_VIEW } from '../core/pretext/relative-patch';
import { createRng } from '../core/random';
import { TASK_SNAPSHOT_EXAMPLES, type TaskSnapshot } from '../core/taskSnapshot';
import { classificationAccuracy, confusionCounts, softmaxCrossEntropy } from '../loss/classification';
import type { MethodFactory, SslMethod } from './method';
import { CaptureSlot, pretextLifecycle, pretextStateReader, readCapture } from './pretextHead';
import { FusionHead, RELATIVE_PATCH_LAYOUT, cropArray, cutTiles, drawBoxesOnView, encoderPatches, jitteredBoxes, tileGrid, type TileBox, type TileGrid } from './tiles';

/** The centre's cell in the 3×3 grid (cells row by row). */
export const CENTRE_CELL = 4;
/** The 8 neighbours' cells, in the order of the head's classes. */
export const NEIGHBOUR_CELLS = [0, 1, 2, 3, 5, 6, 7, 8] as const;
export const POSITION_LABELS = ['top-left', 'top', 'top-right', 'left', 'right', 'bottom-left', 'bottom', 'bottom-right'] as const;

/** The grid for views of side S; throws, saying the minimum, when they are too small. */
export function relativePatchGrid(viewSize: number): TileGrid {
  const grid = tileGrid(viewSize, RELATIVE_PATCH_LAYOUT);
  if (!grid) throw new Error(`Relative patch location needs views of at least ${RELATIVE_PATCH_MIN_VIEW} px for its 3×3 grid; these are ${viewSize} px. Raise the view size.`);
  return grid;
}

/**
 * The 8N pairs from the 9N patches' features h (rows 9b + cell): row 8b + k is
 * [h_{9b+4}, h_{9b+NEIGHBOUR_CELLS[k]}], the centre of view b with its k-th
 * neighbour, labelled k.
 */
export function pairFeatures(h: tf.Tensor2D): tf.Tensor2D {
  const [rows, d] = h.shape;
  if (rows % 9 !== 0) throw new Error(`pairFeatures: ${rows} rows of h is not 9 patches per view`);
  const n = rows / 9;
  return tf.tidy(() => {
    const perView = tf.reshape(h, [n, 9, d]);
    const centres = tf.tile(tf.slice(perView, [0, CENTRE_CELL, 0], [n, 1, d]), [1, 8, 1]);
    const neighbours = tf.gather(perView, Array.from(NEIGHBOUR_CELLS), 1);
    return tf.reshape(tf.concat([centres, neighbours], 2), [8 * n, 2 * d]) as tf.Tensor2D;
  });
}

/** Row 8b + k of the pairs is labelled k. */
export function pairLabels(n: number): tf.Tensor1D {
  return tf.tensor1d(Int32Array.from({ length: 8 * n }, (_, r) => r % 8), 'int32');
}

/** Example e of the instrument shows view e with its neighbour at position e mod 8, so all eight appear; its row among the 8N pairs. */
export function shownPairRows(n: number): { rows: number[]; positions: number[] } {
  const count = Math.min(n, TASK_SNAPSHOT_EXAMPLES);
  const positions = Array.from({ length: count }, (_, e) => e % 8);
  return { rows: positions.map((k, e) => 8 * e + k), positions };
}

export const relativePatch: MethodFactory = {
  id: 'relative-patch',
  create({ network, config }): SslMethod {
    const head = new FusionHead(2 * network.hDim, network.hDim, 8, config.seed, 0x5e1a);
    // the patches' jitter: its own stream from the run's seed, drawn per view in batch order
    const rng = createRng((config.seed ^ 0x9a7c) >>> 0);
    const captured = new CaptureSlot<{ shown: tf.Tensor4D; predicted: tf.Tensor1D }>();
    let capturedBoxes: TileBox[][] = [];
    let capturedN = 0;
    return {
      id: 'relative-patch',
      // f and the head: the projection head g plays no part in a pretext task
      trainableVariables: [...network.encoderVariables, ...head.variables],
      lossPath: () => 'composed',
      forward(batch, { capture }) {
        const { views } = batch;
        const n = views.shape[0];
        const grid = relativePatchGrid(views.shape[1]);
        const boxes = Array.from({ length: n }, () => jitteredBoxes(grid, rng));
        const input = tf.tidy(() => encoderPatches(cutTiles(views, boxes)));
        const h = network.encode(input, true);
        const pairs = pairFeatures(h);
        const logits = head.logits(pairs);
        const labels = pairLabels(n);
        const loss = softmaxCrossEntropy(logits, labels);
        const metrics = tf.tidy(() => tf.stack([classificationAccuracy(logits, labels)]) as tf.Tensor1D);
        if (capture) {
          const count = Math.min(n, TASK_SNAPSHOT_EXAMPLES);
          capturedN = n;
          capturedBoxes = boxes.slice(0, count);
          captured.hold({ shown: tf.slice(views, 0, count), predicted: tf.argMax(logits, 1) as tf.Tensor1D });
        }
        // one row per view: the mean of f over its 9 patches (no positive pairs)
        const z = tf.tidy(() => tf.mean(tf.reshape(h, [n, 9, network.hDim]), 1) as tf.Tensor2D);
        tf.dispose([input, h, pairs, logits, labels]);
        return { loss, metrics, z, geometry: 'rows' };
      },
      ...pretextLifecycle(captured, [head]),
      // the jitter stream: a resumed run cuts the patches the uninterrupted one would have
      saveState: async () => ({ arrays: {}, values: { jitterRng: rng.state() } }),
      loadState(state) {
        const reader = pretextStateReader(state, 'Relative patch location', { values: ['jitterRng'] });
        reader.restoreRng('jitterRng', rng);
        reader.commit();
      },
      taskSnapshot: (step) => readCapture(captured, async (held): Promise<TaskSnapshot> => {
        const n = capturedN;
        const [count, size, , channels] = held.shown.shape;
        const shown = Float32Array.from(await held.shown.data());
        const predicted = Array.from(await held.predicted.data());
        const truth = predicted.map((_, r) => r % 8);
        const { rows, positions } = shownPairRows(n);
        const said = rows.map((r) => predicted[r]);
        const perView = size * size * channels;
        const p = capturedBoxes[0][CENTRE_CELL].size;
        const grids = new Float32Array(count * perView);
        const centres = new Float32Array(count * p * p * channels);
        const neighbours = new Float32Array(count * p * p * channels);
        positions.forEach((k, e) => {
          const view = shown.subarray(e * perView, (e + 1) * perView);
          const boxes = capturedBoxes[e];
          const cell = NEIGHBOUR_CELLS[k];
          // the pair bright and framed, the other seven patches half as bright, the gaps darker still
          const brightness = boxes.map((_, c) => (c === CENTRE_CELL || c === cell ? 1 : 0.45));
          grids.set(drawBoxesOnView(view, size, channels, boxes, brightness, [CENTRE_CELL, cell]), e * perView);
          centres.set(cropArray(view, size, channels, boxes[CENTRE_CELL]), e * p * p * channels);
          neighbours.set(cropArray(view, size, channels, boxes[cell]), e * p * p * channels);
        });
        const correctCount = predicted.filter((q, r) => q === truth[r]).length;
        const c = channels as 1 | 3;
        return {
          step, method: 'relative-patch', count,
          rows: [
            { label: 'view: the grid, centre and neighbour framed', images: grids, size, channels: c },
            { label: 'centre patch', images: centres, size: p, channels: c },
            { label: 'neighbour patch', images: neighbours, size: p, channels: c },
          ],
          captions: positions.map((k, e) => `true: ${POSITION_LABELS[k]} · said: ${POSITION_LABELS[said[e]]}`),
          correct: positions.map((k, e) => said[e] === k),
          confusion: { labels: [...POSITION_LABELS], counts: confusionCounts(truth, predicted, 8) },
          summary: `${correctCount} of ${8 * n} neighbour positions named correctly (${((100 * correctCount) / (8 * n)).toFixed(0)}%; chance 12.5%).`,
        };
      }),
    };
  },
};
