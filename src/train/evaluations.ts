/**
 * The on-demand evaluations the worker runs on the current encoder: the
 * label-efficiency table (SimCLR §6 / Table 7: 1% and 10% of the labels,
 * against supervised training on the same labels), few-shot nearest-centroid,
 * transfer to another dataset, the embedding map and nearest neighbours.
 * They read the trainer's model and images and never change them: fine-tuning
 * trains a copy, the supervised baseline a fresh encoder.
 */
import * as tf from '@tensorflow/tfjs';
import { UMAP } from 'umap-js';
import { createRng } from '../core/random';
import type { ImageDataset, ImageSplit } from '../data/dataset';
import { fewShotSupport, nearestCentroidAccuracy } from '../eval/fewShot';
import { knnAccuracy } from '../eval/knn';
import { classBalancedSubset } from '../eval/labelSubsets';
import { fitLinearProbe } from '../eval/linearProbe';
import { nearestNeighbours } from '../eval/neighbours';
import { pca2d } from '../eval/pca';
import { CancelledError, trainSupervised } from '../eval/supervised';
import type { EncoderNetwork } from '../model/encoderNetwork';
import type {
  EmbeddingRequest, EmbeddingResult, FewShotModel, FewShotRow, LabelEfficiencyModel, LabelEfficiencyRequest,
  LabelEfficiencyRow, NeighbourImage, NeighboursResult,
} from './protocol';
import type { Trainer } from './trainer';

export { CancelledError };

/** Seeded draws of the support set per few-shot size; the table reports their mean. */
const FEW_SHOT_EPISODES = 5;
/** Neighbours shown per side of the gallery. */
const NEIGHBOURS = 8;

export interface LabelEfficiencyCallbacks {
  row: (row: LabelEfficiencyRow) => void;
  fewShot: (row: FewShotRow) => void;
  progress: (done: number, total: number, phase: string) => void;
  isCancelled: () => boolean;
}

function labelled(ds: ImageDataset): boolean {
  return ds.classNames.length >= 2 && ds.test.count > 0;
}

/** Rows `indices` of a [n, d] tensor. */
function rows(features: tf.Tensor2D, indices: Int32Array): tf.Tensor2D {
  return tf.tidy(() => tf.gather(features, tf.tensor1d(indices, 'int32')) as tf.Tensor2D);
}

/**
 * SimCLR's label-efficiency evaluation on `evalDataset` (the training set, or
 * another one for transfer). For each fraction, a class-balanced subset of the
 * labelled images (nested: 1% ⊂ 10% ⊂ 100%, fixed by the seed) is used by:
 * the frozen SSL encoder, the random-init encoder and raw pixels (linear probe
 * and kNN), fine-tuning of the SSL encoder, and a supervised encoder trained
 * from scratch with the same augmentations for `supervisedSteps` steps.
 * Every model is scored on the same test images.
 */
export async function runLabelEfficiency(
  trainer: Trainer, evalDataset: ImageDataset, request: LabelEfficiencyRequest, callbacks: LabelEfficiencyCallbacks,
): Promise<void> {
  if (!labelled(evalDataset)) {
    throw new Error(`“${evalDataset.name}” has no labels or no test images, so there is nothing to score: the label-efficiency table needs a labelled dataset. The embedding map and neighbours work without labels.`);
  }
  const config = trainer.currentConfig;
  const fractions = [...new Set(request.fractions)].filter((f) => f > 0 && f <= 1).sort((a, b) => a - b);
  if (fractions.length === 0) throw new Error('Choose at least one label fraction between 0 and 1.');
  const shots = [...new Set(request.shots)].filter((k) => Number.isInteger(k) && k >= 1).sort((a, b) => a - b);
  const numClasses = evalDataset.classNames.length;
  const pool = evalDataset === trainer.dataset ? trainer.evaluationSplits().probeSplit : evalDataset.probeTrain ?? evalDataset.train;
  const poolSize = Math.min(config.probeTrainSize, pool.count);
  const testSize = Math.min(config.probeTestSize, evalDataset.test.count);
  const poolLabels = pool.labels.slice(0, poolSize);
  const testLabels = evalDataset.test.labels.slice(0, testSize);

  // subsets first: a fraction that leaves a class empty is refused before any work
  const subsets = fractions.map((fraction) => ({ fraction, indices: classBalancedSubset(poolLabels, fraction, numClasses, config.seed) }));

  const frozenKinds: { kind: 'encoder' | 'random-init' | 'raw-pixels'; linear: LabelEfficiencyModel; knn: LabelEfficiencyModel; fewShot: FewShotModel }[] = [
    { kind: 'encoder', linear: 'ssl-linear', knn: 'ssl-knn', fewShot: 'ssl' },
    { kind: 'random-init', linear: 'random-init', knn: 'random-init-knn', fewShot: 'random-init' },
    { kind: 'raw-pixels', linear: 'raw-pixels', knn: 'raw-pixels-knn', fewShot: 'raw-pixels' },
  ];
  const total = frozenKinds.length * (1 + fractions.length) + 2 * fractions.length + (shots.length > 0 ? frozenKinds.length : 0);
  let done = 0;
  const advance = (phase: string) => {
    if (callbacks.isCancelled()) throw new CancelledError('cancelled');
    callbacks.progress(done, total, phase);
  };
  const step = trainer.step;
  const source = { imageSize: evalDataset.imageSize, channels: evalDataset.channels };
  const poolImages = trainer.imagesOf(pool, poolSize, source);
  const testImages = trainer.imagesOf(evalDataset.test, testSize, source);
  const randomInit = trainer.randomInitModel();
  try {
    for (const frozen of frozenKinds) {
      advance(`extracting features: ${frozen.kind === 'encoder' ? 'SSL encoder' : frozen.kind}`);
      const model = frozen.kind === 'encoder' ? trainer.model : frozen.kind === 'random-init' ? randomInit : null;
      const poolFeatures = await trainer.extractFeatures(model, poolImages);
      const testFeatures = await trainer.extractFeatures(model, testImages);
      done += 1;
      try {
        for (const { fraction, indices } of subsets) {
          advance(`${frozen.linear}: linear probe and kNN on ${percentText(fraction)} of the labels`);
          const started = performance.now();
          const subsetFeatures = rows(poolFeatures, indices);
          const subsetLabels = indices.map((i) => poolLabels[i]);
          try {
            // k cannot exceed the labelled images: use them all, and say so next to the number
            const k = Math.min(config.knnK, indices.length);
            const note = k < config.knnK ? `k = ${k}: only ${k} labelled images (k = ${config.knnK} asked)` : undefined;
            const knn = await knnAccuracy(subsetFeatures, subsetLabels, testFeatures, testLabels, { k, temperature: config.knnTemperature, numClasses });
            const knnMs = performance.now() - started;
            callbacks.row({ fraction, model: frozen.knn, testAccuracy: knn, labelledCount: indices.length, step: frozen.kind === 'encoder' ? step : 0, ms: knnMs, note });
            const probe = await fitLinearProbe(subsetFeatures, subsetLabels, testFeatures, testLabels, numClasses, { epochs: config.probeEpochs });
            callbacks.row({
              fraction, model: frozen.linear, testAccuracy: probe.testAccuracy, labelledCount: indices.length,
              step: frozen.kind === 'encoder' ? step : 0, ms: performance.now() - started - knnMs,
            });
          } finally {
            subsetFeatures.dispose();
          }
          done += 1;
        }
        if (shots.length > 0) {
          advance(`${frozen.fewShot}: few-shot nearest centroid`);
          for (const k of shots) {
            let sum = 0;
            for (let episode = 0; episode < FEW_SHOT_EPISODES; episode++) {
              const support = fewShotSupport(poolLabels, k, numClasses, config.seed * 1000 + episode);
              const supportFeatures = rows(poolFeatures, support);
              try {
                sum += await nearestCentroidAccuracy(supportFeatures, support.map((i) => poolLabels[i]), testFeatures, testLabels, { numClasses });
              } finally {
                supportFeatures.dispose();
              }
            }
            callbacks.fewShot({ shots: k, model: frozen.fewShot, testAccuracy: sum / FEW_SHOT_EPISODES, episodes: FEW_SHOT_EPISODES });
          }
          done += 1;
        }
      } finally {
        poolFeatures.dispose();
        testFeatures.dispose();
      }
    }

    // encoders trained on the labels: fine-tuning the SSL encoder, and the same architecture from scratch
    for (const { fraction, indices } of subsets) {
      for (const model of ['ssl-finetune', 'supervised'] as const) {
        const label = model === 'ssl-finetune' ? 'fine-tuning the SSL encoder' : 'supervised from scratch';
        advance(`${label} on ${percentText(fraction)} of the labels (${request.supervisedSteps} steps)`);
        const network = trainer.randomInitModel();
        const images = tf.tidy(() => tf.gather(poolImages, tf.tensor1d(indices, 'int32')) as tf.Tensor4D);
        try {
          if (model === 'ssl-finetune') network.copyWeightsFrom(trainer.model);
          const result = await trainSupervised(network, images, indices.map((i) => poolLabels[i]), testImages, testLabels, numClasses, {
            steps: request.supervisedSteps,
            batchSize: config.batchSize,
            learningRate: config.learningRate,
            imageSize: config.imageSize,
            augmentation: config.augmentation,
            seed: config.seed,
            isCancelled: callbacks.isCancelled,
            onProgress: (s) => callbacks.progress(done + s / request.supervisedSteps, total, `${label} on ${percentText(fraction)} of the labels: step ${s} of ${request.supervisedSteps}`),
          });
          callbacks.row({
            fraction, model, testAccuracy: result.testAccuracy, labelledCount: indices.length, step: model === 'ssl-finetune' ? step : 0, ms: result.ms,
            note: lossTrend(result.losses, numClasses),
          });
        } finally {
          images.dispose();
          network.dispose();
        }
        done += 1;
      }
    }
    callbacks.progress(total, total, 'done');
  } finally {
    poolImages.dispose();
    testImages.dispose();
    randomInit.dispose();
  }
}

/**
 * How far a supervised run got: its cross-entropy over the first and the last
 * few steps against log K, the loss of a uniform guess. A loss still far above
 * 0 means the budget was too short for the network to fit the labels.
 */
function lossTrend(losses: number[], numClasses: number): string {
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const span = Math.min(5, losses.length);
  const first = mean(losses.slice(0, span));
  const last = mean(losses.slice(-span));
  return `cross-entropy ${first.toFixed(2)} → ${last.toFixed(2)} over ${losses.length} steps (chance: log ${numClasses} = ${Math.log(numClasses).toFixed(2)})`;
}

function percentText(fraction: number): string {
  return `${+(fraction * 100).toFixed(2)}%`;
}

/** The split an embedding map or a neighbour search reads: the test images of a labelled set, else the training images. */
function mapSplit(ds: ImageDataset): { split: ImageSplit; name: 'train' | 'test' } {
  return labelled(ds) ? { split: ds.test, name: 'test' } : { split: ds.train, name: 'train' };
}

function copyImages(split: ImageSplit, indices: ArrayLike<number>, pixels: number): Uint8Array {
  const out = new Uint8Array(indices.length * pixels);
  for (let k = 0; k < indices.length; k++) out.set(split.images.subarray(indices[k] * pixels, (indices[k] + 1) * pixels), k * pixels);
  return out;
}

/**
 * h of the first `count` images of the split the maps use (the test split of a
 * labelled set, else the training images), by the trained or the random-init
 * encoder, with their labels, indices and thumbnails: what the embedding map
 * projects and what the TensorBoard projector export writes out.
 */
export async function splitFeatures(trainer: Trainer, encoder: EmbeddingRequest['encoder'], requested: number): Promise<{
  features: Float32Array; n: number; d: number; split: 'train' | 'test'; labels: Int32Array; indices: Int32Array; images: Uint8Array;
}> {
  const { dataset } = trainer;
  const { split, name } = mapSplit(dataset);
  const n = Math.max(1, Math.min(Math.round(requested), split.count));
  const randomInit = encoder === 'random-init' ? trainer.randomInitModel() : null;
  const images = trainer.imagesOf(split, n);
  let features: Float32Array;
  let d: number;
  try {
    const h = await trainer.extractFeatures(randomInit ?? trainer.model, images);
    d = h.shape[1];
    features = (await h.data()) as Float32Array;
    h.dispose();
  } finally {
    images.dispose();
    randomInit?.dispose();
  }
  const indices = Int32Array.from({ length: n }, (_, i) => i);
  const pixels = dataset.imageSize * dataset.imageSize * dataset.channels;
  return {
    features, n, d, split: name, indices,
    labels: Int32Array.from(indices, (i) => split.labels[i] ?? -1),
    images: copyImages(split, indices, pixels),
  };
}

/**
 * h of up to `count` images in 2-D: PCA (the two directions of largest
 * variance) or UMAP (McInnes et al. 2018: keeps each point's neighbourhood,
 * so clusters show, but distances between clusters mean little).
 */
export async function computeEmbedding(
  trainer: Trainer, request: EmbeddingRequest, progress: (phase: string, done: number, total: number) => void,
): Promise<EmbeddingResult> {
  const started = performance.now();
  const { dataset } = trainer;
  const { split: whole, name } = mapSplit(dataset);
  if (whole.count < 3) throw new Error(`The embedding map needs at least 3 images; “${dataset.name}” has ${whole.count} in its ${name} split.`);
  progress('extracting h', 0, 1);
  const { features, n: count, d, indices, labels, images } = await splitFeatures(trainer, request.encoder, request.count);
  let points: Float32Array;
  let explained: [number, number] | undefined;
  if (request.projection === 'pca') {
    const result = pca2d(features, count, d);
    points = result.points;
    explained = [result.explainedVariance[0] / result.totalVariance, result.explainedVariance[1] / result.totalVariance];
  } else {
    points = await umap2d(features, count, d, trainer.currentConfig.seed, progress);
  }
  return {
    requestId: request.requestId,
    encoder: request.encoder,
    projection: request.projection,
    step: request.encoder === 'encoder' ? trainer.step : 0,
    split: name,
    points,
    labels,
    indices,
    images,
    imageSize: dataset.imageSize,
    channels: dataset.channels,
    explained,
    ms: performance.now() - started,
  };
}

/** UMAP of n rows of d features with a seeded random stream; epochs reported as progress, the worker yielding between them. */
async function umap2d(features: Float32Array, n: number, d: number, seed: number, progress: (phase: string, done: number, total: number) => void): Promise<Float32Array> {
  const vectors: number[][] = Array.from({ length: n }, (_, i) => Array.from(features.subarray(i * d, (i + 1) * d)));
  const umap = new UMAP({ nComponents: 2, nNeighbors: Math.min(15, n - 1), minDist: 0.1, random: createRng(seed ^ 0x0a11ce) });
  const epochs = umap.initializeFit(vectors);
  for (let epoch = 0; epoch < epochs; epoch++) {
    umap.step();
    if (epoch % 10 === 0) {
      progress('UMAP layout', epoch, epochs);
      await new Promise((r) => setTimeout(r, 0));
    }
  }
  const embedding = umap.getEmbedding();
  const points = new Float32Array(n * 2);
  embedding.forEach((p, i) => {
    points[2 * i] = p[0];
    points[2 * i + 1] = p[1];
  });
  return points;
}

/** h of the searched training images for one encoder state, kept until the encoder changes. */
interface NeighbourCache {
  model: EncoderNetwork;
  step: number;
  count: number;
  features: Float32Array;
  d: number;
  pixels: Float32Array;
}
let neighbourCache: NeighbourCache | null = null;

/**
 * The 8 training images nearest to one image by cosine similarity of h, and
 * the 8 nearest by Euclidean distance of the raw pixels: what the encoder
 * thinks is alike, against what merely shares pixels.
 */
export async function findNeighbours(trainer: Trainer, requestId: number, splitName: 'train' | 'test', index: number): Promise<NeighboursResult> {
  const { dataset } = trainer;
  const split = splitName === 'train' ? dataset.train : dataset.test;
  if (!Number.isInteger(index) || index < 0 || index >= split.count) {
    throw new Error(`There is no image ${index} in the ${splitName} split of “${dataset.name}” (it has ${split.count}).`);
  }
  // the search covers the images the probe and kNN use (probeTrainSize, 10,000 by default)
  const count = Math.min(dataset.train.count, trainer.currentConfig.probeTrainSize);
  const needed = NEIGHBOURS + (splitName === 'train' ? 1 : 0);
  if (count < needed) throw new Error(`Neighbours need at least ${needed} training images; “${dataset.name}” has ${dataset.train.count}.`);
  const pixelsPerImage = dataset.imageSize * dataset.imageSize * dataset.channels;
  if (!neighbourCache || neighbourCache.model !== trainer.model || neighbourCache.step !== trainer.step || neighbourCache.count !== count) {
    const images = trainer.imagesOf(dataset.train, count);
    try {
      const h = await trainer.extractFeatures(trainer.model, images);
      const features = Float32Array.from((await h.data()) as Float32Array);
      const d = h.shape[1];
      h.dispose();
      const pixels = Float32Array.from(dataset.train.images.subarray(0, count * pixelsPerImage), (v) => v / 255);
      neighbourCache = { model: trainer.model, step: trainer.step, count, features, d, pixels };
    } finally {
      images.dispose();
    }
  }
  const cache = neighbourCache;
  const queryImage = split.images.subarray(index * pixelsPerImage, (index + 1) * pixelsPerImage);
  const queryH = await (async () => {
    const x = trainer.imagesOf({ images: queryImage, labels: Int32Array.of(split.labels[index] ?? -1), count: 1 }, 1);
    try {
      const h = tf.tidy(() => trainer.model.encode(x, false));
      const values = Float32Array.from((await h.data()) as Float32Array);
      h.dispose();
      return values;
    } finally {
      x.dispose();
    }
  })();
  const exclude = splitName === 'train' && index < count ? index : undefined;
  const byH = nearestNeighbours(cache.features, count, cache.d, queryH, NEIGHBOURS, { metric: 'cosine', exclude });
  const byPixels = nearestNeighbours(cache.pixels, count, pixelsPerImage, Float32Array.from(queryImage, (v) => v / 255), NEIGHBOURS, { metric: 'euclidean', exclude });
  const describe = (indices: Int32Array, scores: Float32Array): NeighbourImage[] =>
    Array.from(indices, (i, k) => ({ index: i, label: dataset.train.labels[i] ?? -1, score: scores[k] }));
  const images = new Uint8Array((1 + 2 * NEIGHBOURS) * pixelsPerImage);
  images.set(queryImage, 0);
  images.set(copyImages(dataset.train, byH.indices, pixelsPerImage), pixelsPerImage);
  images.set(copyImages(dataset.train, byPixels.indices, pixelsPerImage), (1 + NEIGHBOURS) * pixelsPerImage);
  return {
    requestId,
    step: trainer.step,
    query: { index, label: split.labels[index] ?? -1, score: 1, split: splitName },
    byH: describe(byH.indices, byH.scores),
    byPixels: describe(byPixels.indices, byPixels.scores),
    images,
    imageSize: dataset.imageSize,
    channels: dataset.channels,
    searched: count,
  };
}

/** Forget cached features (a new encoder or dataset). */
export function clearEvaluationCaches(): void {
  neighbourCache = null;
}
