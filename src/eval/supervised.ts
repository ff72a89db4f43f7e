/**
 * End-to-end supervised training on a labelled subset, for the
 * label-efficiency table (SimCLR, Chen et al. 2020, §6 / Table 7: 1% and 10%
 * of the labels). Two rows of that table come from here:
 *
 *   supervised baseline: a fresh random-init encoder f trained from scratch
 *                        on the labelled images only;
 *   fine-tuning:         a copy of the self-supervised f (g discarded, as in
 *                        SimCLR) trained end to end the same way.
 *
 * The classifier is one linear layer on the representation h = f(x̃):
 *   p(y | x) = softmax(f(t(x)) W + b),  t ~ T the augmentation pipeline,
 * and f, W, b are optimized jointly by one Adam on the minibatch mean of
 *   L(f, W, b) = mean_i CE(onehot(y_i), f(t(x_i)) W + b).
 * Batch norm runs in training mode (batch statistics, running statistics
 * updated) during training; accuracy is then measured in inference mode on
 * the un-augmented images, resized to the encoder's input size.
 */
import * as tf from '@tensorflow/tfjs';
import { augmentViews } from '../augment/augmentViews';
import { validatePipeline, type AugmentPipeline } from '../core/pipeline';
import { createRng, normal, permutation, type Rng } from '../core/random';
import type { EncoderNetwork } from '../model/encoderNetwork';
import { validateLabels } from './validate';

export interface SupervisedOptions {
  /** Optimizer steps (the stated budget). */
  steps: number;
  /** Images per step (capped at the labelled-set size). */
  batchSize: number;
  /** Adam learning rate. */
  learningRate: number;
  /** View size fed to f. */
  imageSize: number;
  /** Same augmentations as SSL training. */
  augmentation: AugmentPipeline;
  seed: number;
  /** Called every few steps (and after the last) with (stepsDone, latest loss); may be async. */
  onProgress?: (step: number, loss: number) => void | Promise<void>;
  /** Checked between steps; when it returns true, training stops and the function throws a `CancelledError`. */
  isCancelled?: () => boolean;
}

export interface SupervisedResult {
  /** Accuracy on the test images (inference-mode batch norm, no augmentation). */
  testAccuracy: number;
  /** Accuracy on the labelled images, measured the same way as the test accuracy. */
  trainAccuracy: number;
  /** The minibatch loss of every step, in order. */
  losses: number[];
  /** Optimizer steps taken. */
  steps: number;
  /** Wall-clock time of the whole call. */
  ms: number;
}

/** Thrown by `trainSupervised` when `isCancelled` returns true; everything it allocated has been freed. */
export class CancelledError extends Error {
  constructor(message = 'Supervised training was cancelled') {
    super(message);
    this.name = 'CancelledError';
  }
}

/** Steps between `onProgress` calls. */
const PROGRESS_EVERY = 10;
/** Images per forward pass when measuring accuracy. */
const EVAL_CHUNK = 256;

/** tfjs registers variables by name globally: a counter keeps each call's classifier apart. */
let classifierCounter = 0;

const yieldToEventLoop = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

function validateImages(images: tf.Tensor4D, labels: Int32Array, channels: number, split: string): void {
  if (images.isDisposed) throw new Error(`the ${split} images tensor has been disposed`);
  if (images.rank !== 4) throw new Error(`${split} images must be a rank-4 [n, S, S, C] tensor, got rank ${images.rank}`);
  const [n, h, w, c] = images.shape;
  if (n < 1) throw new Error(`the ${split} set is empty`);
  if (labels.length !== n) throw new Error(`${n} ${split} images but ${labels.length} ${split} labels`);
  if (h < 1 || w < 1) throw new Error(`${split} images are ${h}×${w}: they must have at least one pixel`);
  if (c !== channels) throw new Error(`${split} images have ${c} channel(s) but the model expects ${channels}`);
}

function validateOptions(opts: SupervisedOptions): void {
  const positiveInteger = (name: string, v: number) => {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be an integer ≥ 1, got ${v}`);
  };
  positiveInteger('steps', opts.steps);
  positiveInteger('batchSize', opts.batchSize);
  positiveInteger('imageSize', opts.imageSize);
  if (!(opts.learningRate > 0 && Number.isFinite(opts.learningRate))) {
    throw new Error(`learningRate must be a positive finite number, got ${opts.learningRate}`);
  }
  if (!Number.isFinite(opts.seed)) throw new Error(`seed must be a finite number, got ${opts.seed}`);
  const { pipeline, errors } = validatePipeline(opts.augmentation);
  if (!pipeline) throw new Error(`Invalid augmentation pipeline: ${errors.map((e) => e.message).join(' ')}`);
}

/** He-normal initial values from the seeded rng: std = sqrt(2 / fanIn). */
function heNormal(rng: Rng, rows: number, cols: number): tf.Tensor2D {
  const values = new Float32Array(rows * cols);
  const std = Math.sqrt(2 / rows);
  for (let i = 0; i < values.length; i++) values[i] = normal(rng) * std;
  return tf.tensor2d(values, [rows, cols]);
}

/**
 * Train f (the given model's encoder, in place) and a linear classifier on h
 * end to end with softmax cross-entropy on the labelled images, with the
 * augmentation pipeline applied to each minibatch; then report accuracy on the
 * test images (inference-mode BN, no augmentation: the images are just resized
 * to imageSize if needed).
 *
 * Per step: N = min(batchSize, n) indices from a seeded shuffle of the
 * labelled set (reshuffled each epoch), views x̃ = t(x) at imageSize, logits =
 * f(x̃) W + b with batch norm in training mode (its running statistics move),
 * one Adam update of f's trainable variables (model.encoderVariables) and W, b.
 * W starts He-normal from the seeded rng, b at zero; the head g is not used.
 *
 * Throws `CancelledError` when `opts.isCancelled()` turns true, and an Error
 * when the loss stops being finite (that step's update is not applied). The
 * classifier, its optimizer and every intermediate tensor are freed on every
 * path; the model stays the caller's to dispose (after a cancel or an error it
 * keeps the updates of the steps already taken).
 *
 * @param labelledImages [n, S, S, C] in [0, 1] at the dataset's native size
 * @param labels n class indices in [0, numClasses)
 * @param testImages [m, S', S', C] in [0, 1]
 * @param testLabels m class indices in [0, numClasses)
 */
export async function trainSupervised(
  model: EncoderNetwork,
  labelledImages: tf.Tensor4D,
  labels: Int32Array,
  testImages: tf.Tensor4D,
  testLabels: Int32Array,
  numClasses: number,
  opts: SupervisedOptions,
): Promise<SupervisedResult> {
  const started = performance.now();
  if (!Number.isInteger(numClasses) || numClasses < 2) throw new Error(`numClasses must be an integer ≥ 2, got ${numClasses}`);
  const encoderVariables = model.encoderVariables;
  if (encoderVariables.some((v) => v.isDisposed)) throw new Error('the model has been disposed');
  const { channels } = model.config;
  validateImages(labelledImages, labels, channels, 'labelled');
  validateImages(testImages, testLabels, channels, 'test');
  validateLabels(labels, numClasses, 'labelled');
  validateLabels(testLabels, numClasses, 'test');
  validateOptions(opts);

  const { steps, learningRate, imageSize, augmentation, onProgress, isCancelled } = opts;
  const n = labelledImages.shape[0];
  const batchSize = Math.min(opts.batchSize, n);
  // two streams from one seed: the classifier's init does not shift the batches or the augmentations
  const rng = createRng(opts.seed);
  const initRng = createRng((opts.seed ^ 0x11ea7) >>> 0);

  let order = permutation(rng, n);
  let cursor = 0;
  /** Next N indices of the seeded shuffle, reshuffled each epoch. */
  const nextBatchIndices = (): number[] => {
    const indices: number[] = [];
    for (let i = 0; i < batchSize; i++) {
      if (cursor >= n) {
        order = permutation(rng, n);
        cursor = 0;
      }
      indices.push(order[cursor++]);
    }
    return indices;
  };

  const prefix = `supervised${classifierCounter++}/classifier`;
  const W = tf.tidy(() => tf.variable(heNormal(initRng, model.hDim, numClasses), true, `${prefix}/weight`));
  const b = tf.tidy(() => tf.variable(tf.zeros([numClasses]) as tf.Tensor1D, true, `${prefix}/bias`));
  const optimizer: tf.Optimizer = tf.train.adam(learningRate);
  const variables = [...encoderVariables, W, b];
  const losses: number[] = [];

  /** Fraction of `images` whose argmax(f(x) W + b), f in inference mode on the resized images, equals the label; in chunks. */
  const accuracy = async (images: tf.Tensor4D, y: Int32Array): Promise<number> => {
    const total = images.shape[0];
    let correct = 0;
    for (let start = 0; start < total; start += EVAL_CHUNK) {
      const size = Math.min(EVAL_CHUNK, total - start);
      const hits = tf.tidy(() => {
        let x = tf.slice(images, [start, 0, 0, 0], [size, -1, -1, -1]) as tf.Tensor4D;
        if (x.shape[1] !== imageSize || x.shape[2] !== imageSize) x = tf.image.resizeBilinear(x, [imageSize, imageSize], true);
        const logits = tf.add(tf.matMul(model.encode(x, false), W), b);
        const predicted = tf.argMax(logits, 1);
        return tf.sum(tf.cast(tf.equal(predicted, tf.tensor1d(y.subarray(start, start + size), 'int32')), 'int32'));
      });
      try {
        correct += (await hits.data())[0];
      } finally {
        hits.dispose();
      }
      await yieldToEventLoop(); // let the worker read messages between chunks
    }
    return correct / total;
  };

  try {
    for (let step = 0; step < steps; step++) {
      if (isCancelled?.()) throw new CancelledError(`Supervised training was cancelled after ${step} of ${steps} steps`);
      const indices = nextBatchIndices();
      const [views, targets] = tf.tidy(() => {
        const x = tf.gather(labelledImages, indices) as tf.Tensor4D;
        const yBatch = tf.tensor1d(indices.map((i) => labels[i]), 'int32');
        return [augmentViews(x, rng, augmentation, imageSize), tf.oneHot(yBatch, numClasses).toFloat() as tf.Tensor2D] as const;
      });
      let lossTensor: tf.Scalar;
      let grads: tf.NamedTensorMap;
      try {
        ({ value: lossTensor, grads } = tf.variableGrads(() => {
          const logits = tf.add(tf.matMul(model.encode(views, true), W), b) as tf.Tensor2D;
          return tf.losses.softmaxCrossEntropy(targets, logits) as tf.Scalar;
        }, variables));
      } finally {
        tf.dispose([views, targets]);
      }
      let lossValue: number;
      try {
        lossValue = (await lossTensor.data())[0];
      } catch (error) {
        tf.dispose(grads);
        throw error;
      } finally {
        lossTensor.dispose();
      }
      if (!Number.isFinite(lossValue)) {
        tf.dispose(grads);
        throw new Error(
          `The supervised cross-entropy loss became ${lossValue} at step ${step + 1} of ${steps} (learning rate ${learningRate}); ` +
            'the update was not applied. Lower the learning rate, or check that the images are finite numbers in [0, 1].',
        );
      }
      optimizer.applyGradients(grads);
      tf.dispose(grads);
      losses.push(lossValue);
      if (onProgress && ((step + 1) % PROGRESS_EVERY === 0 || step + 1 === steps)) await onProgress(step + 1, lossValue);
      await yieldToEventLoop(); // every step, so a worker stays responsive to messages
    }
    if (isCancelled?.()) throw new CancelledError(`Supervised training was cancelled after ${steps} of ${steps} steps, before evaluation`);

    const trainAccuracy = await accuracy(labelledImages, labels);
    const testAccuracy = await accuracy(testImages, testLabels);
    return { testAccuracy, trainAccuracy, losses, steps, ms: performance.now() - started };
  } finally {
    optimizer.dispose();
    tf.dispose([W, b]);
  }
}
