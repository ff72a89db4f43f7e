import * as tf from '@tensorflow/tfjs';
import { createRng, permutation, type Rng } from '../core/random';
import { augmentViews } from '../augment/augmentViews';
import type { ImageDataset, ImageSplit } from '../data/dataset';
import { knnAccuracy } from '../eval/knn';
import { fitLinearProbe } from '../eval/linearProbe';
import { ntXentWithMetrics } from '../loss/ntxent';
import { MAX_FUSED_DIM, ntXentFusedWithMetrics } from '../loss/ntxent-fused';
import { SimclrModel } from '../model/simclrModel';
import type { ExperimentConfig } from '../core/config';
import type { AffinitySnapshot, KnnPoint, LossPath, ProbeKind, ProbePoint, StepMetrics } from './protocol';
import { batchGeometry } from './stepGeometry';

/** The heatmap shows at most this many rows and columns; larger batches are block-averaged. */
const MAX_HEATMAP_SIDE = 512;
/** Views are sent with the matrix while they total at most this many floats (2N = 256 views of 28 px is 200k). */
const MAX_THUMBNAIL_VALUES = 1 << 20;

/** Raised when the loss stops being a finite number; the step's update is not applied. */
export class NonFiniteLossError extends Error {}

/** uint8 HWC images → float32 [count, H, W, C] in [0, 1]. */
function splitToTensor(split: ImageSplit, count: number, size: number, channels: number): tf.Tensor4D {
  return tf.tidy(() =>
    tf.div(tf.tensor4d(split.images.subarray(0, count * size * size * channels), [count, size, size, channels], 'int32'), 255),
  );
}

/**
 * One SimCLR run: the encoder, its optimizer and the training images on the
 * device. Knows nothing of workers or UI; the worker drives it and the unit
 * tests drive it in Node.
 */
export class SimclrTrainer {
  model: SimclrModel;
  private readonly optimizer: tf.Optimizer;
  private readonly trainImages: tf.Tensor4D;
  private config: ExperimentConfig;
  private readonly rng: Rng;
  private order: Int32Array;
  private cursor = 0;
  step = 0;
  /** set by the caller to keep the next step's affinity matrix in `affinity` */
  captureAffinity = false;
  affinity: AffinitySnapshot | null = null;

  constructor(readonly dataset: ImageDataset, config: ExperimentConfig) {
    this.config = config;
    this.rng = createRng(config.seed);
    this.model = new SimclrModel(SimclrTrainer.modelConfig(dataset, config));
    this.optimizer = tf.train.adam(config.learningRate);
    const { imageSize, channels } = dataset;
    this.trainImages = splitToTensor(dataset.train, dataset.train.count, imageSize, channels);
    this.order = permutation(this.rng, dataset.train.count);
  }

  static modelConfig(dataset: ImageDataset, config: ExperimentConfig) {
    return {
      channels: dataset.channels,
      encoderWidth: config.encoderWidth,
      projectionHead: config.projectionHead,
      projectionDim: config.projectionDim,
      seed: config.seed,
    };
  }

  /** The settings in force. */
  get currentConfig(): ExperimentConfig {
    return this.config;
  }

  /** Settings that apply from the next step. */
  configure(config: ExperimentConfig): void {
    if (config.learningRate !== this.config.learningRate) {
      // Adam's step size is fixed at construction in tfjs; its moment estimates are kept
      (this.optimizer as unknown as { learningRate: number }).learningRate = config.learningRate;
    }
    this.config = config;
  }

  /**
   * Which NT-Xent the next step uses: the fused WGSL kernels when the config
   * asks for them, the backend is webgpu and z fits them; else the op-composed one.
   */
  lossPath(): LossPath {
    const fits = this.model.zDim <= MAX_FUSED_DIM;
    return this.config.fusedLoss && fits && tf.getBackend() === 'webgpu' ? 'fused' : 'composed';
  }

  /** Next N indices of a seeded shuffle, reshuffled each epoch. */
  private nextBatchIndices(n: number): Int32Array {
    const indices = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      if (this.cursor >= this.order.length) {
        this.order = permutation(this.rng, this.order.length);
        this.cursor = 0;
      }
      indices[i] = this.order[this.cursor++];
    }
    return indices;
  }

  /**
   * One step of SimCLR's Algorithm 1: draw N images, two views each, h = f(x̃),
   * z = g(h), L = NT-Xent over the 2N views, one Adam update of f and g.
   */
  async trainStep(): Promise<StepMetrics> {
    const started = performance.now();
    const { batchSize, temperature, normalize, augmentation, imageSize } = this.config;
    const indices = this.nextBatchIndices(batchSize);

    const views = tf.tidy(() => {
      const x = tf.gather(this.trainImages, Array.from(indices)) as tf.Tensor4D;
      const view1 = augmentViews(x, this.rng, augmentation, imageSize);
      const view2 = augmentViews(x, this.rng, augmentation, imageSize);
      // one forward pass over both views: rows 0…N−1 are t(x), N…2N−1 are t'(x)
      return tf.concat([view1, view2], 0) as tf.Tensor4D;
    });

    let metrics: tf.Tensor1D | undefined;
    let zKept: tf.Tensor2D | undefined;
    let affinity: tf.Tensor2D | undefined;
    let zNorms: tf.Tensor1D | undefined;
    const capture = this.captureAffinity;
    const lossPath = this.lossPath();
    const { value: loss, grads } = tf.variableGrads(() => {
      const h = this.model.encode(views, true);
      const z = this.model.project(h);
      zKept = tf.keep(z);
      const [z1, z2] = tf.split(z, 2, 0) as [tf.Tensor2D, tf.Tensor2D];
      const result =
        lossPath === 'fused'
          ? ntXentFusedWithMetrics(z1, z2, { temperature, normalize }, { withAffinity: capture })
          : ntXentWithMetrics(z1, z2, { temperature, normalize });
      if (capture) {
        affinity = tf.keep(result.affinityMatrix!);
        zNorms = tf.keep(tf.norm(z, 2, 1) as tf.Tensor1D);
      }
      else result.affinityMatrix?.dispose();
      metrics = tf.keep(result.metrics);
      return result.loss;
    }, this.model.trainableVariables);
    if (capture && affinity && zNorms) {
      this.captureAffinity = false;
      this.affinity = await this.snapshotAffinity(affinity, zNorms, views, normalize, temperature);
    }
    views.dispose();
    // alignment, uniformity and the collapse meter on this batch's z, outside the gradient
    const geometry = batchGeometry(zKept!);
    zKept!.dispose();

    const [lossValue] = await loss.data();
    const [positiveSimilarity, negativeSimilarity, contrastiveAccuracy] = await metrics!.data();
    const [alignment, uniformity, collapseStd] = await geometry.data();
    loss.dispose();
    metrics!.dispose();
    geometry.dispose();
    if (!Number.isFinite(lossValue)) {
      tf.dispose(grads);
      throw new NonFiniteLossError(
        `The NT-Xent loss became ${lossValue} at step ${this.step + 1} (τ = ${temperature}, L2 normalization ${normalize ? 'on' : 'off'}). ` +
          (normalize
            ? 'Lower the learning rate or raise τ, then press Reset.'
            : 'Without normalization the logits z·z/τ grow without bound and overflow float32: turn L2 normalization on or raise τ, then press Reset.'),
      );
    }
    this.optimizer.applyGradients(grads);
    tf.dispose(grads);
    this.step += 1;

    const stepMs = performance.now() - started;
    const memory = tf.memory();
    return {
      step: this.step,
      loss: lossValue,
      positiveSimilarity,
      negativeSimilarity,
      contrastiveAccuracy,
      stepMs,
      imagesPerSecond: (batchSize * 1000) / stepMs,
      batchSize,
      lossPath,
      tensors: memory.numTensors,
      tensorBytes: memory.numBytes,
      alignment,
      uniformity,
      collapseStd,
    };
  }

  /**
   * The step's 2N×2N affinity matrix as plain numbers for the heatmap: exact
   * up to 2N = 512, block-averaged beyond; with the views as thumbnails.
   */
  private async snapshotAffinity(
    affinity: tf.Tensor2D, zNorms: tf.Tensor1D, views: tf.Tensor4D, normalized: boolean, temperature: number,
  ): Promise<AffinitySnapshot> {
    const norms = (await zNorms.data()) as Float32Array;
    zNorms.dispose();
    const twoN = affinity.shape[0];
    const block = Math.ceil(twoN / MAX_HEATMAP_SIDE);
    const shown = tf.tidy(() =>
      block === 1 ? affinity : tf.avgPool(affinity.reshape([1, twoN, twoN, 1]) as tf.Tensor4D, block, block, 'same').squeeze() as tf.Tensor2D,
    );
    const matrix = (await shown.data()) as Float32Array;
    const size = shown.shape[0];
    if (shown !== affinity) shown.dispose();
    affinity.dispose();
    // thumbnails only while they are small enough to send often
    const sendViews = twoN * views.shape[1] * views.shape[2] * views.shape[3] <= MAX_THUMBNAIL_VALUES;
    return {
      step: this.step + 1,
      twoN,
      size,
      matrix,
      norms,
      temperature,
      normalized,
      views: sendViews ? ((await views.data()) as Float32Array) : undefined,
      viewSize: views.shape[1],
      channels: views.shape[3] as 1 | 3,
    };
  }

  /**
   * Images of a split resized to the encoder's input size, [count, S, S, C] in
   * [0, 1]. Images of another dataset (transfer) are converted to this
   * encoder's channels: grey → RGB by copying, RGB → grey by luma.
   */
  imagesOf(split: ImageSplit, count: number, source: Pick<ImageDataset, 'imageSize' | 'channels'> = this.dataset): tf.Tensor4D {
    const { imageSize, channels } = source;
    const size = this.config.imageSize;
    return tf.tidy(() => {
      // the training split is already on the device: slice it rather than upload it again
      let images = split === this.dataset.train
        ? tf.slice(this.trainImages, [0, 0, 0, 0], [count, -1, -1, -1])
        : splitToTensor(split, count, imageSize, channels);
      if (channels !== this.dataset.channels) {
        images = channels === 1
          ? tf.tile(images, [1, 1, 1, 3])
          : (tf.sum(tf.mul(images, tf.tensor1d([0.299, 0.587, 0.114])), 3, true) as tf.Tensor4D);
      }
      return size === imageSize ? images : tf.image.resizeBilinear(images, [size, size], true);
    });
  }

  /** h = f(x) in inference mode (raw pixels when `model` is null), in chunks so a large set fits in memory. */
  async extractFeatures(model: SimclrModel | null, images: tf.Tensor4D): Promise<tf.Tensor2D> {
    const chunk = 256;
    const parts: tf.Tensor2D[] = [];
    for (let start = 0; start < images.shape[0]; start += chunk) {
      const size = Math.min(chunk, images.shape[0] - start);
      parts.push(
        tf.tidy(() => {
          const x = tf.slice(images, [start, 0, 0, 0], [size, -1, -1, -1]);
          return model ? model.encode(x, false) : (tf.reshape(x, [size, -1]) as tf.Tensor2D);
        }),
      );
      await new Promise((r) => setTimeout(r, 0)); // let the worker read messages between chunks
    }
    const features = tf.concat(parts, 0);
    tf.dispose(parts);
    return features;
  }

  /** A fresh encoder with this run's seed and architecture: the random-init baseline. */
  randomInitModel(): SimclrModel {
    return new SimclrModel(SimclrTrainer.modelConfig(this.dataset, this.config));
  }

  /** Labelled images the probe and kNN fit on, and the test images they are scored on. */
  evaluationSplits() {
    const probeSplit = this.dataset.probeTrain ?? this.dataset.train;
    return {
      probeSplit,
      trainSize: Math.min(this.config.probeTrainSize, probeSplit.count),
      testSize: Math.min(this.config.probeTestSize, this.dataset.test.count),
    };
  }

  /**
   * The frozen-encoder evaluations on one set of features: the linear probe
   * (fit a logistic regression on h of labelled training images, report its
   * test accuracy) and/or the weighted kNN monitor. `kind` picks the features:
   * the current encoder, a fresh random-init encoder with this run's seed
   * (the baseline), or the raw pixels.
   */
  async evaluate(kind: ProbeKind, what: { probe: boolean; knn: boolean }): Promise<{ probe?: ProbePoint; knn?: KnnPoint }> {
    const started = performance.now();
    const { dataset } = this;
    const { probeSplit, trainSize, testSize } = this.evaluationSplits();
    const baselineModel = kind === 'random-init' ? this.randomInitModel() : null;
    const model = kind === 'encoder' ? this.model : baselineModel;
    const trainX = this.imagesOf(probeSplit, trainSize);
    const testX = this.imagesOf(dataset.test, testSize);
    const step = kind === 'encoder' ? this.step : 0;
    const trainLabels = probeSplit.labels.subarray(0, trainSize);
    const testLabels = dataset.test.labels.subarray(0, testSize);
    const numClasses = dataset.classNames.length;
    const out: { probe?: ProbePoint; knn?: KnnPoint } = {};
    try {
      const trainFeatures = await this.extractFeatures(model, trainX);
      const testFeatures = await this.extractFeatures(model, testX);
      const featuresMs = performance.now() - started;
      try {
        if (what.knn) {
          const knnStarted = performance.now();
          // never more neighbours than training images; the point carries the k used, and the chart shows it
          const k = Math.min(this.config.knnK, trainSize);
          const temperature = this.config.knnTemperature;
          const testAccuracy = await knnAccuracy(trainFeatures, trainLabels, testFeatures, testLabels, { k, temperature, numClasses });
          out.knn = { kind, step, testAccuracy, k, temperature, trainSize, testSize, ms: featuresMs + performance.now() - knnStarted };
        }
        if (what.probe) {
          const probeStarted = performance.now();
          const result = await fitLinearProbe(trainFeatures, trainLabels, testFeatures, testLabels, numClasses, { epochs: this.config.probeEpochs });
          out.probe = {
            kind,
            step,
            testAccuracy: result.testAccuracy,
            trainAccuracy: result.trainAccuracy,
            gradientNorm: result.gradientNorm,
            trainSize,
            testSize,
            ms: featuresMs + performance.now() - probeStarted,
          };
        }
        return out;
      } finally {
        trainFeatures.dispose();
        testFeatures.dispose();
      }
    } finally {
      trainX.dispose();
      testX.dispose();
      baselineModel?.dispose();
    }
  }

  /** The linear probe alone (see evaluate). */
  async probe(kind: ProbeKind): Promise<ProbePoint> {
    return (await this.evaluate(kind, { probe: true, knn: false })).probe!;
  }

  /** One update with this run's optimizer from gradients taken elsewhere (the lecture-mode walkthrough); counts as a step. */
  applyUpdate(grads: tf.NamedTensorMap): void {
    this.optimizer.applyGradients(grads);
    this.step += 1;
  }

  dispose(): void {
    this.model.dispose();
    this.optimizer.dispose();
    this.trainImages.dispose();
  }
}
