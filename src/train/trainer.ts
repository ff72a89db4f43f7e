import * as tf from '@tensorflow/tfjs';
import { createRng, permutation, type SeededRng } from '../core/random';
import { augmentViews } from '../augment/augmentViews';
import type { ImageDataset, ImageSplit } from '../data/dataset';
import { knnAccuracy } from '../eval/knn';
import { fitLinearProbe } from '../eval/linearProbe';
import { METHOD_CATALOG, type MethodId } from '../core/methods';
import type { LossPath, MatrixInfo, MethodBatch, MethodForward, SslMethod } from '../methods/method';
import { createMethod } from '../methods/registry';
import { EncoderNetwork, encoderKernelPath, setFusedEncoderKernels } from '../model/encoderNetwork';
import type { ExperimentConfig } from '../core/config';
import type { AffinitySnapshot, KnnPoint, MethodMatrixSnapshot, ProbeKind, ProbePoint, StepMetrics } from './protocol';
import { batchGeometry, rowGeometry } from './stepGeometry';
import type { TaskSnapshot } from '../core/taskSnapshot';
import type { StateArray } from '../methods/method';
import { readStateArray } from '../methods/state';
import type { CheckpointDataset, OptimizerState, TrainerState } from './checkpoint';

/** The heatmap shows at most this many rows and columns; larger batches are block-averaged. */
const MAX_HEATMAP_SIDE = 512;
/** Views are sent with the matrix while they total at most this many floats (2N = 256 views of 28 px is 200k). */
const MAX_THUMBNAIL_VALUES = 1 << 20;

/** Raised when the loss stops being a finite number; the step's update is not applied. */
export class NonFiniteLossError extends Error {}

/** What the user reads when the loss overflows, with what to change. */
function nonFiniteMessage(config: ExperimentConfig, value: number, step: number): string {
  const entry = METHOD_CATALOG[config.method];
  if (config.method === 'simclr') {
    return `The NT-Xent loss became ${value} at step ${step} (τ = ${config.temperature}, L2 normalization ${config.normalize ? 'on' : 'off'}). ` +
      (config.normalize
        ? 'Lower the learning rate or raise τ, then press Reset.'
        : 'Without normalization the logits z·z/τ grow without bound and overflow float32: turn L2 normalization on or raise τ, then press Reset.');
  }
  return `The ${entry.label} loss became ${value} at step ${step}. Lower the learning rate, then press Reset.`;
}

/** A step's numbers, and (when captured) z, h and the method's matrix for the caller to show and dispose. */
export interface StepOutcome {
  metrics: StepMetrics;
  /** ‖∇L‖ over every trained variable, when asked for */
  gradientNorm?: number;
  captured?: { z: tf.Tensor2D; h?: tf.Tensor2D; matrix?: tf.Tensor2D; matrixInfo?: MatrixInfo };
}

/**
 * A method's own matrix of a captured step (MoCo's queries against keys, the
 * memory bank's views against bank rows, Barlow Twins' C, BYOL's and
 * SimSiam's predictions against targets) as plain numbers for its panel; the
 * kind is the catalog's. Null for SimCLR's 2N×2N matrix (the affinity
 * heatmap's) and for a method without one. The arrays are copies, each a
 * buffer of its own, so the caller may dispose `matrix` and transfer them.
 */
export async function methodMatrixSnapshot(
  matrix: tf.Tensor2D, info: MatrixInfo, at: { step: number; method: MethodId; n: number; temperature: number },
): Promise<MethodMatrixSnapshot | null> {
  const kind = METHOD_CATALOG[at.method].matrix;
  if (kind === 'batch-affinity' || kind === 'none' || kind === 'task') return null;
  const [rows, cols] = matrix.shape;
  // on the cpu backend data() can hand out the tensor's own storage
  const values = Float32Array.from((await matrix.data()) as Float32Array);
  return {
    step: at.step, method: at.method, kind, n: at.n, rows, cols, matrix: values,
    rowsTotal: info.rowsTotal, columnsTotal: info.columnsTotal, unwritten: Uint8Array.from(info.unwritten),
    temperature: at.temperature,
  };
}

/** uint8 HWC images → float32 [count, H, W, C] in [0, 1]. */
function splitToTensor(split: ImageSplit, count: number, size: number, channels: number): tf.Tensor4D {
  return tf.tidy(() =>
    tf.div(tf.tensor4d(split.images.subarray(0, count * size * size * channels), [count, size, size, channels], 'int32'), 255),
  );
}

/**
 * One training run: the encoder network (f and g), the method that trains it
 * (src/methods), the optimizer and the training images on the device. Knows
 * nothing of workers or UI; the worker drives it and the unit tests drive it
 * in Node.
 */
export class Trainer {
  model: EncoderNetwork;
  /** the self-supervised method: its heads, queues, target networks and loss */
  readonly method: SslMethod;
  private readonly optimizer: tf.Optimizer;
  /** Adam for the method's restartedVariables, rebuilt at each restart (DeepCluster's head) */
  private restartedOptimizer: tf.Optimizer | null = null;
  private restartsSeen = -1;
  private readonly trainImages: tf.Tensor4D;
  private config: ExperimentConfig;
  private readonly rng: SeededRng;
  private order: Int32Array;
  private cursor = 0;
  step = 0;
  /** set by the caller to keep the next step's affinity matrix in `affinity` */
  captureAffinity = false;
  affinity: AffinitySnapshot | null = null;
  /** the captured step's own matrix of a method without SimCLR's 2N×2N one (MoCo, memory bank, Barlow Twins) */
  methodMatrix: MethodMatrixSnapshot | null = null;
  /** the captured step's instrument of a pretext task */
  taskSnapshot: TaskSnapshot | null = null;

  constructor(readonly dataset: ImageDataset, config: ExperimentConfig) {
    this.config = config;
    setFusedEncoderKernels(config.fusedEncoder);
    this.rng = createRng(config.seed);
    this.model = new EncoderNetwork(Trainer.modelConfig(dataset, config));
    const { imageSize, channels } = dataset;
    this.trainImages = splitToTensor(dataset.train, dataset.train.count, imageSize, channels);
    this.method = createMethod({ network: this.model, config, trainCount: dataset.train.count, channels: dataset.channels, trainImages: this.trainImages });
    this.optimizer = tf.train.adam(config.learningRate);
    // epochs over the training images, or over the method's pool (exemplar: the K surrogate classes)
    this.order = permutation(this.rng, Math.min(this.method.batchPool ?? dataset.train.count, dataset.train.count));
  }

  static modelConfig(dataset: ImageDataset, config: ExperimentConfig) {
    return {
      // f's input: the dataset's channels, unless the method fixes them (colorization sees lightness only)
      channels: METHOD_CATALOG[config.method].encoderChannels ?? dataset.channels,
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
      for (const optimizer of [this.optimizer, this.restartedOptimizer]) {
        if (optimizer) (optimizer as unknown as { learningRate: number }).learningRate = config.learningRate;
      }
    }
    setFusedEncoderKernels(config.fusedEncoder);
    this.config = config;
  }

  /** Which loss implementation the next step uses (SimCLR: the fused WGSL kernels on webgpu when asked for and z fits them). */
  lossPath(): LossPath {
    return this.method.lossPath(this.config);
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
   * One training step: draw N images, two views each (t, t′ ~ T), then the
   * method's loss on them and one Adam update (see runStep).
   */
  async trainStep(): Promise<StepMetrics> {
    const started = performance.now();
    const { batchSize, augmentation, imageSize } = this.config;
    const indices = this.nextBatchIndices(batchSize);
    const viewCount = METHOD_CATALOG[this.method.id].views ?? 2;
    const views = tf.tidy(() => {
      const x = tf.gather(this.trainImages, Array.from(indices)) as tf.Tensor4D;
      const view1 = augmentViews(x, this.rng, augmentation, imageSize);
      // a pretext task builds its task from one view of each image
      if (viewCount === 1) return view1;
      const view2 = augmentViews(x, this.rng, augmentation, imageSize);
      // one forward pass over both views: rows 0…N−1 are t(x), N…2N−1 are t′(x)
      return tf.concat([view1, view2], 0) as tf.Tensor4D;
    });
    const capture = this.captureAffinity;
    try {
      const outcome = await this.runStep({ views, indices, n: batchSize }, { capture, lossPath: this.lossPath(), started });
      if (outcome.captured) {
        const { z, h, matrix, matrixInfo } = outcome.captured;
        h?.dispose();
        this.captureAffinity = false;
        const kind = METHOD_CATALOG[this.method.id].matrix;
        // SimCLR's 2N×2N matrix goes to the affinity heatmap, another method's own matrix to its panel; BYOL and SimSiam have none
        if (kind === 'batch-affinity' && matrix && matrix.shape[0] === 2 * batchSize && matrix.shape[1] === 2 * batchSize) {
          const zNorms = tf.tidy(() => tf.norm(z, 2, 1) as tf.Tensor1D);
          this.affinity = await this.snapshotAffinity(matrix, zNorms, views, this.config.normalize, this.config.temperature);
        } else if (kind === 'task') {
          matrix?.dispose();
          // the step's live-tensor count was taken while the method's capture slot still held the instrument's tensors;
          // the snapshot frees them, and what it freed was the instrument's, not the step's
          const held = tf.memory();
          this.taskSnapshot = (await this.method.taskSnapshot?.(this.step)) ?? null;
          const after = tf.memory();
          outcome.metrics.tensors -= held.numTensors - after.numTensors;
          outcome.metrics.tensorBytes -= held.numBytes - after.numBytes;
        } else if (kind !== 'batch-affinity' && kind !== 'none' && matrix && matrixInfo) {
          this.methodMatrix = await methodMatrixSnapshot(matrix, matrixInfo, {
            step: this.step, method: this.method.id, n: batchSize, temperature: this.config.temperature,
          });
          matrix.dispose();
        } else {
          matrix?.dispose();
        }
        z.dispose();
      }
      return outcome.metrics;
    } finally {
      views.dispose();
    }
  }

  /**
   * The training step, written once (trainStep and the lecture-mode
   * walkthrough both take it): the method's loss on the batch and its
   * gradient with respect to every trained variable, one Adam update, then the
   * method's own after-step updates (EMA, queue, bank). The embedding's
   * geometry is read from the batch's z. Throws NonFiniteLossError, applying
   * nothing, when the loss is not a finite number. With `capture`, z, h and the
   * method's matrix come back for the caller to show and dispose.
   */
  async runStep(
    batch: MethodBatch,
    options: { capture: boolean; lossPath: LossPath; gradientNorm?: boolean; started?: number },
  ): Promise<StepOutcome> {
    const started = options.started ?? performance.now();
    const { capture, lossPath } = options;
    const config = this.config;
    const encoderPath = encoderKernelPath();
    let forward: MethodForward | undefined;
    const { value: loss, grads } = tf.variableGrads(() => {
      const out = this.method.forward(batch, { config, capture, lossPath });
      // everything but the loss outlives the gradient's scope
      forward = { ...out, z: tf.keep(out.z), metrics: out.metrics && tf.keep(out.metrics), h: out.h && tf.keep(out.h), matrix: out.matrix && tf.keep(out.matrix) };
      return out.loss;
    }, this.method.trainableVariables);
    const { z, metrics, h, matrix } = forward!;
    const disposeCaptured = () => tf.dispose([z, h, matrix].filter((t): t is tf.Tensor2D => t !== undefined));
    let gradientNorm: number | undefined;
    try {
      // alignment, uniformity and the collapse meter on this batch's z, outside the gradient
      const geometry = forward!.geometry === 'rows' ? rowGeometry(z) : batchGeometry(z);
      const [lossValue] = await loss.data();
      const metricValues = metrics ? Array.from(await metrics.data()) : [];
      const [alignment, uniformity, collapseStd] = await geometry.data();
      geometry.dispose();
      loss.dispose();
      metrics?.dispose();
      if (!Number.isFinite(lossValue)) {
        this.method.discardPending();
        throw new NonFiniteLossError(nonFiniteMessage(config, lossValue, this.step + 1));
      }
      if (options.gradientNorm) {
        // a chain of tf.add, not tf.addN: on WebGPU (SwiftShader) addN over 16 inputs returned a stale buffer, likely past the storage-buffer limit
        const norm = tf.tidy(() => tf.sqrt(Object.values(grads).map((g) => tf.sum(tf.square(g))).reduce((a, b) => tf.add(a, b))));
        [gradientNorm] = await norm.data();
        norm.dispose();
      }
      this.applyGradients(grads);
      this.step += 1;
      const after = await this.method.afterUpdate(batch, config);
      const values: Record<string, number> = {};
      METHOD_CATALOG[this.method.id].metrics.forEach((spec, i) => {
        if (i < metricValues.length) values[spec.key] = metricValues[i];
      });
      Object.assign(values, after);
      const stepMs = performance.now() - started;
      if (!capture) disposeCaptured();
      // what is alive once the step is over: tensors handed to the caller for display (captured) are theirs to dispose
      const handedOut = capture ? [z, h, matrix].filter((t): t is tf.Tensor2D => t !== undefined) : [];
      const memory = tf.memory();
      const metricsOut: StepMetrics = {
        step: this.step,
        method: this.method.id,
        loss: lossValue,
        values,
        stepMs,
        imagesPerSecond: (batch.n * 1000) / stepMs,
        batchSize: batch.n,
        lossPath,
        encoderPath,
        tensors: memory.numTensors - handedOut.length,
        tensorBytes: memory.numBytes - handedOut.reduce((sum, t) => sum + 4 * t.size, 0),
        alignment,
        uniformity,
        collapseStd,
      };
      return { metrics: metricsOut, gradientNorm, captured: capture ? { z, h, matrix, matrixInfo: forward!.matrixInfo } : undefined };
    } catch (error) {
      disposeCaptured();
      throw error;
    } finally {
      tf.dispose(grads);
    }
  }

  /**
   * The method's loss on a batch with no gradient and no update (the
   * walkthrough's "L after the step"): the batch-norm running statistics are
   * put back afterwards, so measuring moves nothing.
   */
  async measureLoss(batch: MethodBatch): Promise<number> {
    const statistics = this.model.runningStatistics;
    const saved = statistics.map((v) => tf.clone(v));
    try {
      const loss = tf.tidy(() => {
        const out = this.method.forward(batch, { config: this.config, capture: false, lossPath: 'composed' });
        return out.loss;
      });
      this.method.discardPending();
      const [value] = await loss.data();
      loss.dispose();
      return value;
    } finally {
      statistics.forEach((v, k) => v.assign(saved[k]));
      tf.dispose(saved);
    }
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
      step: this.step, // taken after the update: the step this matrix belongs to
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
   * dataset's channels: grey → RGB by copying, RGB → grey by luma; then to
   * f's input where the method changes it (SslMethod.encoderInput).
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
      if (size !== imageSize) images = tf.image.resizeBilinear(images, [size, size], true);
      // what f sees, where the method changes it (colorization: lightness only)
      return this.method.encoderInput ? this.method.encoderInput(images) : images;
    });
  }

  /** h = f(x) in inference mode (raw pixels when `model` is null), in chunks so a large set fits in memory. */
  async extractFeatures(model: EncoderNetwork | null, images: tf.Tensor4D, onProgress?: (done: number, total: number) => void): Promise<tf.Tensor2D> {
    const chunk = 256;
    const parts: tf.Tensor2D[] = [];
    const total = images.shape[0];
    try {
      for (let start = 0; start < images.shape[0]; start += chunk) {
        const size = Math.min(chunk, images.shape[0] - start);
        const part = tf.tidy(() => {
          const x = tf.slice(images, [start, 0, 0, 0], [size, -1, -1, -1]);
          return model ? model.encode(x, false) : (tf.reshape(x, [size, -1]) as tf.Tensor2D);
        });
        parts.push(part);
        // wait until the device has finished this chunk (a few kB read back): the progress then counts work done, not
        // work queued, and Pause or Reset (onProgress throwing) stops the encoding within a chunk rather than after all of it
        if (model) await part.data();
        onProgress?.(start + size, total);
        await new Promise((r) => setTimeout(r, 0)); // let the worker read messages between chunks
      }
      return tf.concat(parts, 0);
    } finally {
      tf.dispose(parts);
    }
  }

  /** A fresh encoder with this run's seed and architecture: the random-init baseline. */
  randomInitModel(): EncoderNetwork {
    return new EncoderNetwork(Trainer.modelConfig(this.dataset, this.config));
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
  async evaluate(
    kind: ProbeKind,
    what: { probe: boolean; knn: boolean },
    onProgress?: (phase: string, done: number, total: number) => void,
  ): Promise<{ probe?: ProbePoint; knn?: KnnPoint }> {
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
      const encodeProgress = onProgress && ((done: number) => onProgress(`encoding ${trainSize + testSize} images`, done, trainSize + testSize));
      const trainFeatures = await this.extractFeatures(model, trainX, encodeProgress);
      const testFeatures = await this.extractFeatures(model, testX, encodeProgress && ((done) => encodeProgress(trainSize + done)));
      const featuresMs = performance.now() - started;
      try {
        if (what.knn) {
          const knnStarted = performance.now();
          // never more neighbours than training images; the point carries the k used, and the chart shows it
          const k = Math.min(this.config.knnK, trainSize);
          const temperature = this.config.knnTemperature;
          const knnPhase = `kNN: ${testSize} test images against ${trainSize}`;
          onProgress?.(knnPhase, 0, testSize);
          const testAccuracy = await knnAccuracy(trainFeatures, trainLabels, testFeatures, testLabels, {
            k, temperature, numClasses, onProgress: onProgress && ((done, total) => onProgress(knnPhase, done, total)),
          });
          out.knn = { kind, step, testAccuracy, k, temperature, trainSize, testSize, ms: featuresMs + performance.now() - knnStarted };
        }
        if (what.probe) {
          const probeStarted = performance.now();
          const result = await fitLinearProbe(trainFeatures, trainLabels, testFeatures, testLabels, numClasses, {
            epochs: this.config.probeEpochs,
            onProgress: onProgress && ((done, total) => onProgress(`fitting the linear probe (${total} iterations)`, done, total)),
          });
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

  /** What a checkpoint records of the dataset, to refuse resuming on other images. */
  static checkpointDataset(dataset: ImageDataset, config: ExperimentConfig): CheckpointDataset {
    return {
      id: config.dataset, name: dataset.name, trainCount: dataset.train.count, testCount: dataset.test.count,
      imageSize: dataset.imageSize, channels: dataset.channels, classCount: dataset.classNames.length,
    };
  }

  /** The variables a checkpoint saves, in a fixed order: what the optimizer trains, then f's running statistics. */
  private get checkpointVariables(): tf.Variable[] {
    return [...this.method.trainableVariables, ...this.model.runningStatistics];
  }

  /**
   * Everything a resumed run needs to continue exactly (src/train/checkpoint.ts):
   * copies, so later steps do not change it. Call between steps.
   */
  async saveCheckpoint(): Promise<TrainerState> {
    const variables: StateArray[] = [];
    for (const v of this.checkpointVariables) variables.push(await readStateArray(v));
    const optimizerState = async (optimizer: tf.Optimizer): Promise<OptimizerState> => {
      const [iterations, ...moments] = await optimizer.getWeights();
      const arrays: StateArray[] = [];
      for (const m of moments) arrays.push(await readStateArray(m.tensor));
      const [count] = await iterations.tensor.data();
      iterations.tensor.dispose();
      return { iterations: count, moments: arrays };
    };
    return {
      config: this.config,
      dataset: Trainer.checkpointDataset(this.dataset, this.config),
      step: this.step,
      rngState: this.rng.state(),
      order: Int32Array.from(this.order),
      cursor: this.cursor,
      variables,
      optimizer: await optimizerState(this.optimizer),
      restarted: this.restartedOptimizer ? { ...(await optimizerState(this.restartedOptimizer)), restartsSeen: this.restartsSeen } : null,
      method: await this.method.saveState(),
    };
  }

  /**
   * Puts a checkpoint's state into this trainer, which must be freshly built
   * (no step taken) for the checkpoint's config on the same dataset. Checks
   * everything first and throws a message a user can read, changing nothing,
   * when the checkpoint does not fit (another dataset, another architecture).
   */
  async loadCheckpoint(state: TrainerState): Promise<void> {
    if (this.step !== 0) throw new Error('loadCheckpoint: the trainer has already trained; build a fresh one for the checkpoint');
    const here = Trainer.checkpointDataset(this.dataset, this.config);
    const there = state.dataset;
    if (there.trainCount !== here.trainCount || there.imageSize !== here.imageSize || there.channels !== here.channels || there.classCount !== here.classCount) {
      throw new Error(
        `This checkpoint was trained on “${there.name}” (${there.trainCount} training images of ${there.imageSize}×${there.imageSize}×${there.channels}), ` +
        `not on “${here.name}” (${here.trainCount} of ${here.imageSize}×${here.imageSize}×${here.channels}): load that dataset first.`,
      );
    }
    if (state.config.method !== this.config.method) throw new Error(`This checkpoint is a ${state.config.method} run; the trainer was built for ${this.config.method}.`);
    const variables = this.checkpointVariables;
    const describe = (shape: readonly number[]) => `[${shape.join(', ')}]`;
    if (state.variables.length !== variables.length) {
      throw new Error(`This checkpoint holds ${state.variables.length} variables; the ${this.config.method} model of width ${this.config.encoderWidth} has ${variables.length}: it was saved for another architecture.`);
    }
    variables.forEach((v, i) => {
      const saved = state.variables[i];
      if (!tf.util.arraysEqual(saved.shape, v.shape) || saved.data.length !== v.size || saved.dtype !== 'float32') {
        throw new Error(`This checkpoint's variable ${i} is ${describe(saved.shape)}, the model's is ${describe(v.shape)}: it was saved for another architecture.`);
      }
    });
    const checkMoments = (moments: StateArray[], sizes: number[], what: string) => {
      // Adam makes its moments on the first step: none before it, then two per trained variable
      if (moments.length !== 0 && moments.length !== 2 * sizes.length) throw new Error(`This checkpoint's ${what} holds ${moments.length} moment arrays, not ${2 * sizes.length}.`);
      moments.forEach((m, i) => {
        if (m.data.length !== sizes[i % sizes.length]) throw new Error(`This checkpoint's ${what} moment ${i} has ${m.data.length} values, not ${sizes[i % sizes.length]}.`);
      });
    };
    const restarted = this.method.restartedVariables;
    const restartedNames = new Set(restarted?.variables.map((v) => v.name) ?? []);
    // Adam keeps its moments in the order of the gradient map's keys: an object's keys, so names that read as
    // integers (tfjs's default variable names) come first, in ascending order, then the others as inserted
    const adamOrder = (vs: tf.Variable[]) => Object.keys(Object.fromEntries(vs.map((v) => [v.name, v.size]))).map((name) => vs.find((v) => v.name === name)!.size);
    const trained = this.method.trainableVariables;
    checkMoments(state.optimizer.moments, adamOrder(trained.filter((v) => !restartedNames.has(v.name))), 'optimizer');
    if (state.restarted) {
      if (!restarted) throw new Error('This checkpoint holds a restarted head’s optimizer, which this method does not have.');
      checkMoments(state.restarted.moments, adamOrder(restarted.variables), 'restarted head’s optimizer');
    }
    if (state.order.length !== this.order.length || state.cursor < 0 || state.cursor > state.order.length || state.order.some((i) => i < 0 || i >= this.order.length)) {
      throw new Error(`This checkpoint's batch order covers ${state.order.length} images, not ${this.order.length}.`);
    }
    // the method checks its own state before changing anything, and throws if it does not fit
    this.method.loadState(state.method);
    // from here on nothing can fail for want of a fit
    variables.forEach((v, i) => {
      const saved = tf.tensor(state.variables[i].data as Float32Array, state.variables[i].shape);
      v.assign(saved);
      saved.dispose();
    });
    const toWeights = (optimizerState: OptimizerState) => [
      { name: 'iter', tensor: tf.scalar(optimizerState.iterations, 'int32') },
      ...optimizerState.moments.map((m, i) => ({ name: `moment${i}`, tensor: tf.tensor(m.data as Float32Array, m.shape) })),
    ];
    const setWeights = async (optimizer: tf.Optimizer, optimizerState: OptimizerState) => {
      const weights = toWeights(optimizerState);
      // setWeights makes its own variables from these tensors
      await optimizer.setWeights(weights);
      tf.dispose(weights.map((w) => w.tensor));
    };
    if (state.optimizer.moments.length > 0) await setWeights(this.optimizer, state.optimizer);
    if (state.restarted) {
      this.restartedOptimizer?.dispose();
      this.restartedOptimizer = tf.train.adam(this.config.learningRate);
      this.restartsSeen = state.restarted.restartsSeen;
      if (state.restarted.moments.length > 0) await setWeights(this.restartedOptimizer, state.restarted);
    }
    this.order = Int32Array.from(state.order);
    this.cursor = state.cursor;
    this.rng.restore(state.rngState);
    this.step = state.step;
  }

  /** One Adam update; the method's restartedVariables by their own Adam, fresh after each restart. */
  private applyGradients(grads: tf.NamedTensorMap): void {
    const restarted = this.method.restartedVariables;
    if (!restarted) {
      this.optimizer.applyGradients(grads);
      return;
    }
    const names = new Set(restarted.variables.map((v) => v.name));
    const own: tf.NamedTensorMap = {};
    const rest: tf.NamedTensorMap = {};
    for (const [name, grad] of Object.entries(grads)) (names.has(name) ? own : rest)[name] = grad;
    if (!this.restartedOptimizer || restarted.restarts() !== this.restartsSeen) {
      this.restartedOptimizer?.dispose();
      this.restartedOptimizer = tf.train.adam(this.config.learningRate);
      this.restartsSeen = restarted.restarts();
    }
    this.optimizer.applyGradients(rest);
    this.restartedOptimizer.applyGradients(own);
  }

  dispose(): void {
    this.method.dispose();
    this.model.dispose();
    this.optimizer.dispose();
    this.restartedOptimizer?.dispose();
    this.trainImages.dispose();
  }
}
