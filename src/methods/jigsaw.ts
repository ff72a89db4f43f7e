/**
 * Jigsaw puzzles (Noroozi & Favaro 2016): each view t(x) is cut into 3×3 tiles
 * of p px with gaps between them, each tile moved by its own random jitter
 * (src/methods/tiles.ts, JIGSAW_LAYOUT: at 28 px, 6 px tiles 3 px apart,
 * ±1 px), and the tiles are shuffled by one of P fixed permutations σ_u,
 * u drawn uniformly per view (slot i shows tile σ_u[i]). The context-free
 * network: f encodes each tile on its own, the 9 features are concatenated in
 * slot order, [h_{σ(0)}, …, h_{σ(8)}] ∈ R^{9·dim h}, and a head gives P
 * logits, softmax cross-entropy against u (the head starts as a uniform guess,
 * log P). The head is the paper's fc7 and fc8 on the concatenation, at this
 * scale one hidden ReLU layer of width dim h (tiles.ts, FusionHead): a linear
 * one could only add up where each tile on its own seems to belong, not
 * weigh tiles against each other.
 */
import * as tf from '@tensorflow/tfjs';
import { JIGSAW_MIN_VIEW } from '../core/pretext/jigsaw';
import { createRng } from '../core/random';
import { TASK_SNAPSHOT_EXAMPLES, type TaskSnapshot } from '../core/taskSnapshot';
import { classificationAccuracy, confusionCounts, softmaxCrossEntropy } from '../loss/classification';
import type { MethodFactory, SslMethod } from './method';
import { CaptureSlot, pretextLifecycle, pretextStateReader, readCapture } from './pretextHead';
import {
  FusionHead, JIGSAW_LAYOUT, composeGrid, cropArray, cutTiles, encoderPatches, hammingPermutations, inversePermutation, jitteredBoxes,
  permuteItems, pictureGap, tileGrid, type TileBox, type TileGrid,
} from './tiles';

/** The grid for views of side S; throws, saying the minimum, when they are too small. */
export function jigsawGrid(viewSize: number): TileGrid {
  const grid = tileGrid(viewSize, JIGSAW_LAYOUT);
  if (!grid) throw new Error(`The jigsaw needs views of at least ${JIGSAW_MIN_VIEW} px for its 3×3 tiles; these are ${viewSize} px. Raise the view size.`);
  return grid;
}

/**
 * The features of the 9N tiles (rows 9b + slot) laid side by side per view:
 * row b is [h_{9b}, …, h_{9b+8}], the tiles in the order they were shuffled into.
 */
export function concatenatedTiles(h: tf.Tensor2D): tf.Tensor2D {
  const [rows, d] = h.shape;
  if (rows % 9 !== 0) throw new Error(`concatenatedTiles: ${rows} rows of h is not 9 tiles per view`);
  return tf.reshape(h, [rows / 9, 9 * d]);
}

/**
 * The pictures of one example, on plain arrays: its tiles (cell order) shuffled
 * by σ_u, put back by the head's answer σ_û (slot j gets shuffled slot
 * σ_û⁻¹[j], which is tile j exactly when û = u), and in place.
 */
export function jigsawPictures(
  tiles: Float32Array[], tile: number, channels: number, sigma: ArrayLike<number>, sigmaSaid: ArrayLike<number>,
): { shuffled: Float32Array; reassembled: Float32Array; original: Float32Array } {
  const gap = pictureGap(tile);
  const shuffledTiles = permuteItems(tiles, sigma);
  return {
    shuffled: composeGrid(shuffledTiles, tile, channels, gap),
    reassembled: composeGrid(permuteItems(shuffledTiles, inversePermutation(sigmaSaid)), tile, channels, gap),
    original: composeGrid(tiles, tile, channels, gap),
  };
}

export const jigsaw: MethodFactory = {
  id: 'jigsaw',
  create({ network, config }): SslMethod {
    // P, the permutations the head tells apart
    const P = config.jigsawPermutations;
    const permutations = hammingPermutations(P);
    const head = new FusionHead(9 * network.hDim, network.hDim, P, config.seed, 0x1195);
    // the tiles' jitter and each view's permutation: a stream of their own from the run's seed
    const rng = createRng((config.seed ^ 0x7a11) >>> 0);
    const captured = new CaptureSlot<{ shown: tf.Tensor4D; predicted: tf.Tensor1D }>();
    let capturedBoxes: TileBox[][] = [];
    let capturedLabels: number[] = [];
    return {
      id: 'jigsaw',
      // f and the head: the projection head g plays no part in a pretext task
      trainableVariables: [...network.encoderVariables, ...head.variables],
      lossPath: () => 'composed',
      forward(batch, { capture }) {
        const { views } = batch;
        const n = views.shape[0];
        const grid = jigsawGrid(views.shape[1]);
        const boxes: TileBox[][] = [];
        const labels: number[] = [];
        for (let b = 0; b < n; b++) {
          boxes.push(jitteredBoxes(grid, rng));
          labels.push(Math.floor(rng() * P));
        }
        // cutting the boxes in shuffled order is the shuffle: slot i of view b is its tile σ_u[i]
        const shuffledBoxes = boxes.map((perView, b) => permuteItems(perView, permutations[labels[b]]));
        const input = tf.tidy(() => encoderPatches(cutTiles(views, shuffledBoxes)));
        const h = network.encode(input, true);
        const features = concatenatedTiles(h);
        const logits = head.logits(features);
        const truth = tf.tensor1d(labels, 'int32');
        const loss = softmaxCrossEntropy(logits, truth);
        const metrics = tf.tidy(() => tf.stack([classificationAccuracy(logits, truth)]) as tf.Tensor1D);
        if (capture) {
          const shown = Math.min(n, TASK_SNAPSHOT_EXAMPLES);
          capturedBoxes = boxes.slice(0, shown);
          capturedLabels = labels;
          captured.hold({ shown: tf.slice(views, 0, shown), predicted: tf.argMax(logits, 1) as tf.Tensor1D });
        }
        // one row per view: the mean of f over its 9 tiles, whatever their order
        const z = tf.tidy(() => tf.mean(tf.reshape(h, [n, 9, network.hDim]), 1) as tf.Tensor2D);
        tf.dispose([input, h, features, logits, truth]);
        return { loss, metrics, z, geometry: 'rows' };
      },
      ...pretextLifecycle(captured, [head]),
      // the stream of jitters and permutation draws; the P permutations are fixed by P, so they are not saved
      saveState: async () => ({ arrays: {}, values: { shuffleRng: rng.state() } }),
      loadState(state) {
        const reader = pretextStateReader(state, 'Jigsaw', { values: ['shuffleRng'] });
        reader.restoreRng('shuffleRng', rng);
        reader.commit();
      },
      taskSnapshot: (step) => readCapture(captured, async (held): Promise<TaskSnapshot> => {
        const [shownCount, size, , channels] = held.shown.shape;
        const views = Float32Array.from(await held.shown.data());
        const predicted = Array.from(await held.predicted.data());
        const labels = capturedLabels;
        const n = labels.length;
        const perView = size * size * channels;
        const p = capturedBoxes[0][0].size;
        const side = 3 * p + 2 * pictureGap(p);
        const perPicture = side * side * channels;
        const shuffled = new Float32Array(shownCount * perPicture);
        const reassembled = new Float32Array(shownCount * perPicture);
        const original = new Float32Array(shownCount * perPicture);
        for (let e = 0; e < shownCount; e++) {
          const view = views.subarray(e * perView, (e + 1) * perView);
          const tiles = capturedBoxes[e].map((box) => cropArray(view, size, channels, box));
          const pictures = jigsawPictures(tiles, p, channels, permutations[labels[e]], permutations[predicted[e]]);
          shuffled.set(pictures.shuffled, e * perPicture);
          reassembled.set(pictures.reassembled, e * perPicture);
          original.set(pictures.original, e * perPicture);
        }
        const correctCount = predicted.filter((q, b) => q === labels[b]).length;
        const c = channels as 1 | 3;
        const examples = Array.from({ length: shownCount }, (_, e) => e);
        return {
          step, method: 'jigsaw', count: shownCount,
          rows: [
            { label: 'shuffled tiles', images: shuffled, size: side, channels: c },
            { label: 're-assembled by the head’s answer', images: reassembled, size: side, channels: c },
            { label: 'original', images: original, size: side, channels: c },
          ],
          captions: examples.map((e) => `perm ${labels[e]} · said ${predicted[e]}`),
          correct: examples.map((e) => predicted[e] === labels[e]),
          confusion: { labels: permutations.map((_, u) => String(u)), counts: confusionCounts(labels, predicted, P) },
          summary: `${correctCount} of ${n} permutations named correctly (${((100 * correctCount) / n).toFixed(0)}%; chance 1/${P} = ${(100 / P).toFixed(1)}%).`,
        };
      }),
    };
  },
};
