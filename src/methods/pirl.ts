/**
 * Pretext-invariant representation learning (Misra & van der Maaten 2019,
 * PIRL): the jigsaw made into an invariance. The image I = t(x) (one
 * augmented view) and its jigsaw transform I_t must have embeddings that
 * both pick out x's entry in a memory bank.
 *
 *   v_I   = g(f(I))                                    the image's embedding (f and the projection head g)
 *   I_t   = the 3×3 tiles of I (gaps, jitter: tiles.ts JIGSAW_LAYOUT), shuffled by a random σ
 *   v_I_t = W_t [f(tile_σ(0)); …; f(tile_σ(8))] + b_t  each tile encoded on its own, the 9 features
 *                                                     concatenated in the shuffled order, one linear head
 *   L     = λ · NCE(m_x, v_I_t) + (1 − λ) · NCE(m_x, v_I)      (pirlLambda, the paper's λ = 0.5)
 *   NCE(m_x, v) = −log( e^{v̂·m_x/τ} / Σ_{j=1..n} e^{v̂·m_j/τ} )  (src/loss/memoryBank.ts, exact over all n)
 *   after the step:  m_x ← normalize(m·m_x + (1 − m)·v̂_I)      (bankMomentum; the paper's 0.5)
 *
 * The bank holds the image's embedding only, never the tiles': the tiles'
 * embedding is pulled to where the whole image sits, so it must describe
 * what the tiles show and not the order they came in. The paper scores
 * against 32,000 sampled negatives with NCE; here n is small enough for the
 * exact softmax over all n entries, the memory-bank method's loss.
 *
 * The bank, its size limit and its write are the memory-bank method's
 * (writeBankEntries in src/methods/memoryBank.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { JIGSAW_MIN_VIEW } from '../core/pretext/jigsaw';
import { createRng, permutation, type Rng } from '../core/random';
import { TASK_SNAPSHOT_EXAMPLES, type TaskSnapshot } from '../core/taskSnapshot';
import { memoryBankWithMetrics } from '../loss/memoryBank';
import { l2NormalizeRows } from '../loss/normalize';
import { createMemoryBank, writeBankEntries } from './memoryBank';
import type { MethodFactory, SslMethod } from './method';
import { CaptureSlot, ClassifierHead, pretextStateReader, readCapture } from './pretextHead';
import { readStateArray, typedStateArray } from './state';
import { JIGSAW_LAYOUT, composeGrid, cropArray, cutTiles, encoderPatches, jitteredBoxes, permuteItems, pictureGap, tileGrid, type TileBox, type TileGrid } from './tiles';

/** The jigsaw grid for views of side S; throws, saying the minimum, when they are too small. */
export function pirlGrid(viewSize: number): TileGrid {
  const grid = tileGrid(viewSize, JIGSAW_LAYOUT);
  if (!grid) throw new Error(`PIRL needs views of at least ${JIGSAW_MIN_VIEW} px for its 3×3 jigsaw tiles; these are ${viewSize} px. Raise the view size.`);
  return grid;
}

/**
 * The jigsaw transform of N views: each view's 9 tiles (jittered boxes of
 * the grid) cut in the order of a random permutation σ_b, drawn uniformly
 * from all 9! (Fisher–Yates): row 9b + i of `tiles` is tile σ_b[i] of view
 * b, as cut (resize with encoderPatches for f). Drawn from `rng` view by
 * view: the 9 jitters, then σ.
 */
export function jigsawTransform(views: tf.Tensor4D, rng: Rng): { boxes: TileBox[][]; shuffles: Int32Array[]; tiles: tf.Tensor4D } {
  const grid = pirlGrid(views.shape[1]);
  const boxes: TileBox[][] = [];
  const shuffles: Int32Array[] = [];
  for (let b = 0; b < views.shape[0]; b++) {
    boxes.push(jitteredBoxes(grid, rng));
    shuffles.push(permutation(rng, 9));
  }
  // cutting the boxes in shuffled order is the shuffle
  const tiles = cutTiles(views, boxes.map((perView, b) => permuteItems(perView, shuffles[b])));
  return { boxes, shuffles, tiles };
}

/** What {@link pirlLoss} returns; the caller disposes all three scalars. */
export interface PirlLoss {
  loss: tf.Scalar;
  /** mean rank of the own entry among all n for the tiles' embedding (0: nearest), the λ term's */
  tilesRank: tf.Scalar;
  /** the same for the image's embedding, the 1 − λ term's */
  imageRank: tf.Scalar;
}

/**
 * L = λ · L_bank(v_I_t) + (1 − λ) · L_bank(v_I), each the exact softmax over
 * the n bank entries at x's own entry (memoryBankWithMetrics), with the ranks
 * of the own entry for both terms. The bank is used as given (a constant to
 * the optimizer: it is no trained variable).
 */
export function pirlLoss(
  imageEmbedding: tf.Tensor2D, tilesEmbedding: tf.Tensor2D, indices: Int32Array, bank: tf.Tensor2D,
  { temperature, lambda }: { temperature: number; lambda: number },
): PirlLoss {
  if (!(lambda >= 0 && lambda <= 1)) throw new Error(`PIRL’s λ weighs the tiles’ term against the image’s and must lie in [0, 1]; it is ${lambda}.`);
  return tf.tidy(() => {
    const tiles = memoryBankWithMetrics(tilesEmbedding, indices, bank, { temperature });
    const image = memoryBankWithMetrics(imageEmbedding, indices, bank, { temperature });
    return {
      loss: tf.add(tf.mul(tiles.loss, lambda), tf.mul(image.loss, 1 - lambda)) as tf.Scalar,
      tilesRank: tiles.positiveRank,
      imageRank: image.positiveRank,
    };
  });
}

/**
 * Per row b, the 0-based rank of bank entry indices[b] among row b's
 * cosines with all n entries (ties against it, as memoryBankWithMetrics
 * counts), and the entry nearest to the row: the instrument's numbers.
 */
export function ownEntryRanks(embedding: tf.Tensor2D, indices: Int32Array, bank: tf.Tensor2D): { ranks: tf.Tensor1D; nearest: tf.Tensor1D } {
  return tf.tidy(() => {
    const similarity = tf.matMul(l2NormalizeRows(embedding), bank, false, true);
    const own = tf.reshape(tf.gather(similarity, tf.tensor1d(indices, 'int32'), 1, 1), [-1, 1]);
    // every entry at least as similar as the own one, itself included: minus 1
    const ranks = tf.sub(tf.sum(tf.cast(tf.greaterEqual(similarity, own), 'float32'), 1), 1) as tf.Tensor1D;
    return { ranks, nearest: tf.argMax(similarity, 1) as tf.Tensor1D };
  });
}

interface Held extends Record<string, tf.Tensor> {
  shown: tf.Tensor4D;
  /** x itself, the training image at the dataset's size */
  own: tf.Tensor4D;
  nearestToTiles: tf.Tensor4D;
  nearestToImage: tf.Tensor4D;
  /** [2, N]: the own entry's rank from the tiles (row 0) and from the image (row 1) */
  ranks: tf.Tensor2D;
}

export const pirl: MethodFactory = {
  id: 'pirl',
  create({ network, config, trainCount, trainImages }): SslMethod {
    const size = trainCount;
    const dim = network.zDim;
    const bank = createMemoryBank('PIRL’s memory bank', size, dim, createRng((config.seed ^ 0x9b1a) >>> 0));
    // the jigsaw path's head: one linear layer from the 9 tiles' concatenated h to the bank's d (Glorot normal, zero bias)
    const head = new ClassifierHead(9 * network.hDim, dim, config.seed, 0x71e5);
    // the tiles' jitter and each view's shuffle: a stream of their own from the run's seed
    const rng = createRng((config.seed ^ 0x5f1e) >>> 0);
    /** the step each entry was last written at; −1: never (still random) */
    const writtenAt = new Int32Array(size).fill(-1);
    let step = 0;
    let pending: tf.Tensor2D | null = null;
    const dropPending = () => {
      pending?.dispose();
      pending = null;
    };
    const captured = new CaptureSlot<Held>();
    let capturedBoxes: TileBox[][] = [];
    let capturedShuffles: Int32Array[] = [];
    let capturedIndices = new Int32Array(0);

    return {
      id: 'pirl',
      trainableVariables: [...network.trainableVariables, ...head.variables],
      lossPath: () => 'composed',
      forward(batch, { config: settings, capture }) {
        const { views, indices } = batch;
        const n = views.shape[0];
        const transformed = jigsawTransform(views, rng);
        const { boxes, shuffles } = transformed;
        const tiles = encoderPatches(transformed.tiles);
        transformed.tiles.dispose();
        const tileFeatures = network.encode(tiles, true);
        const imageFeatures = network.encode(views, true);
        const imageEmbedding = network.project(imageFeatures);
        const tilesEmbedding = tf.tidy(() => head.logits(tf.reshape(tileFeatures, [n, 9 * network.hDim])));
        const out = pirlLoss(imageEmbedding, tilesEmbedding, indices, bank as tf.Tensor2D, { temperature: settings.temperature, lambda: settings.pirlLambda });
        // the bank write after the step: the image's unit embedding, never the tiles'
        dropPending();
        pending = tf.keep(l2NormalizeRows(imageEmbedding));
        const metrics = tf.stack([out.tilesRank, out.imageRank]) as tf.Tensor1D;
        if (capture) {
          const count = Math.min(n, TASK_SNAPSHOT_EXAMPLES);
          const shownIndices = Array.from(indices.subarray(0, count));
          const fromTiles = ownEntryRanks(tilesEmbedding, indices, bank as tf.Tensor2D);
          const fromImage = ownEntryRanks(imageEmbedding, indices, bank as tf.Tensor2D);
          const nearestImages = (nearest: tf.Tensor1D) => tf.tidy(() => tf.gather(trainImages, tf.slice(nearest, 0, count)) as tf.Tensor4D);
          captured.hold({
            shown: tf.slice(views, 0, count),
            own: tf.gather(trainImages, shownIndices),
            nearestToTiles: nearestImages(fromTiles.nearest),
            nearestToImage: nearestImages(fromImage.nearest),
            ranks: tf.stack([fromTiles.ranks, fromImage.ranks]) as tf.Tensor2D,
          });
          tf.dispose([fromTiles.ranks, fromTiles.nearest, fromImage.ranks, fromImage.nearest]);
          capturedBoxes = boxes.slice(0, count);
          capturedShuffles = shuffles.slice(0, count);
          capturedIndices = Int32Array.from(indices);
        }
        // the positive pairs: rows 0…N−1 the images, N…2N−1 their shuffled tiles
        const z = tf.concat([imageEmbedding, tilesEmbedding], 0) as tf.Tensor2D;
        tf.dispose([tiles, tileFeatures, imageFeatures, imageEmbedding, tilesEmbedding, out.tilesRank, out.imageRank]);
        return { loss: out.loss, metrics, z };
      },
      async afterUpdate(batch, settings) {
        step += 1;
        if (pending) {
          for (const index of writeBankEntries(bank, batch.indices, pending, settings.bankMomentum)) writtenAt[index] = step;
          dropPending();
        }
        return { bankWritten: writtenAt.filter((at) => at >= 0).length / size };
      },
      discardPending() {
        dropPending();
        captured.clear();
      },
      extraBytes: () => 4 * bank.size + head.bytes,
      // f, g and the jigsaw path's head train (the trainer saves them); the bank, the steps its entries were written at and the tiles' stream move besides
      async saveState() {
        return { arrays: { bank: await readStateArray(bank), writtenAt: typedStateArray(writtenAt) }, values: { step, tilesRng: rng.state() } };
      },
      loadState(state) {
        const reader = pretextStateReader(state, 'PIRL', { arrays: ['bank', 'writtenAt'], values: ['step', 'tilesRng'] });
        reader.assignVariable('bank', bank);
        const savedWrittenAt = reader.array('writtenAt', [size], 'int32').data as Int32Array;
        const savedStep = reader.number('step');
        if (savedStep < 0) throw new Error(`PIRL’s “step” in the checkpoint is ${savedStep}, not a step count.`);
        if (savedWrittenAt.some((at) => at < -1 || at > savedStep)) throw new Error(`PIRL’s “writtenAt” in the checkpoint holds steps outside −1…${savedStep}.`);
        reader.restoreRng('tilesRng', rng);
        reader.then(() => {
          dropPending();
          captured.clear();
          writtenAt.set(savedWrittenAt);
          step = savedStep;
        });
        reader.commit();
      },
      dispose() {
        dropPending();
        captured.clear();
        bank.dispose();
        head.dispose();
      },
      taskSnapshot: (at) => readCapture(captured, async (held): Promise<TaskSnapshot> => {
        const [count, viewSize, , channels] = held.shown.shape;
        const imageSize = held.own.shape[1];
        const shown = Float32Array.from(await held.shown.data());
        const [tilesRanks, imageRanks] = (await held.ranks.array()) as number[][];
        const perView = viewSize * viewSize * channels;
        const p = capturedBoxes[0][0].size;
        const gap = pictureGap(p);
        const side = 3 * p + 2 * gap;
        const shuffled = new Float32Array(count * side * side * channels);
        for (let e = 0; e < count; e++) {
          const view = shown.subarray(e * perView, (e + 1) * perView);
          const tiles = capturedBoxes[e].map((box) => cropArray(view, viewSize, channels, box));
          shuffled.set(composeGrid(permuteItems(tiles, capturedShuffles[e]), p, channels, gap), e * side * side * channels);
        }
        const n = tilesRanks.length;
        const nearestCount = (ranks: number[]) => ranks.filter((r) => r === 0).length;
        const meanRank = (ranks: number[]) => (ranks.reduce((a, b) => a + b, 0) / ranks.length).toFixed(1);
        const c = channels as 1 | 3;
        const examples = Array.from({ length: count }, (_, e) => e);
        return {
          step: at, method: 'pirl', count,
          rows: [
            { label: 'x, the training image (its bank entry is the positive)', images: Float32Array.from(await held.own.data()), size: imageSize, channels: c },
            { label: 'I = t(x)', images: shown, size: viewSize, channels: c },
            { label: 'I_t: the tiles of I, shuffled', images: shuffled, size: side, channels: c },
            { label: 'training image whose bank entry is nearest to I_t', images: Float32Array.from(await held.nearestToTiles.data()), size: imageSize, channels: c },
            { label: 'training image whose bank entry is nearest to I', images: Float32Array.from(await held.nearestToImage.data()), size: imageSize, channels: c },
          ],
          captions: examples.map((e) => `#${capturedIndices[e]} · rank ${tilesRanks[e]} (tiles), ${imageRanks[e]} (image)`),
          correct: examples.map((e) => tilesRanks[e] === 0),
          summary: `The own bank entry is the nearest of all ${bank.shape[0]} for ${nearestCount(tilesRanks)} of ${n} images from their shuffled tiles and ${nearestCount(imageRanks)} of ${n} from the whole image (mean rank ${meanRank(tilesRanks)} and ${meanRank(imageRanks)}; a random guess ranks it ${((bank.shape[0] - 1) / 2).toFixed(1)}).`,
        };
      }),
    };
  },
};
