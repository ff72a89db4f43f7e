/**
 * One generative model (DCGAN or VAE, src/generative) held by the worker with
 * everything it needs to train on a dataset's real training images and to
 * show what it learnt: the fixed-noise sample grid, sample quality on a fixed
 * random-init encoder's features (a proxy, not ImageNet FID), the nearest
 * real training images of a few samples, its weights to save, and bulk
 * samples for a mixed training set X ∪ Z (src/train/mixDataset.ts).
 *
 * Knows nothing of the worker's messages: it reports through callbacks, and
 * the worker turns them into generator-step / generator-samples /
 * generator-quality messages (src/train/protocol.ts).
 *
 * Every random draw comes from the settings' seed: the model's initial
 * weights, each step's batch of real images and its noise (derived from the
 * seed and the step number, so a run is reproduced by its seed and a request
 * of 2·n steps takes the same steps as two of n), the grid's z and the
 * quality samples' z.
 *
 * Tensors: the model's variables, the optimizers' moments and the quality
 * encoder are the only ones that outlive a call; dispose() frees them all.
 */
import * as tf from '@tensorflow/tfjs';
import { generatorSettingErrors, generatorUnfitReason, GENERATOR_KINDS } from '../core/generatorSettings';
import { createRng } from '../core/random';
import { imageBytes, type ImageDataset } from '../data/dataset';
import { isMixedDataset, pixelsToBytes, realBudget, trainRowOrigin } from '../data/generatedMix';
import type { GeneratorConfig, GeneratorKind, GeneratorToSave, StoredGenerator } from '../data/generatorDb';
import { DEFAULT_PRECISION_RECALL_K, featureFrechetDistance, knnPrecisionRecall } from '../eval/sampleQuality';
import { Dcgan, gaussianTensor } from '../generative/dcgan';
import { createGanOptimizers, createVaeOptimizer, ganStep, vaeStep, type GanOptimizers } from '../generative/training';
import { ConvVae } from '../generative/vae';
import { getWeights, setWeights } from '../generative/weights';
import { EncoderNetwork } from '../model/encoderNetwork';
import {
  GENERATOR_GRID_COUNT, type GeneratorNeighbours, type GeneratorQualityPoint, type GeneratorSamples, type GeneratorSettings,
  type GeneratorStepMetrics,
} from './protocol';

/** Samples drawn per pass on the device: 256 images of 32×32×3 and G's widest maps stay within a few tens of MB. */
export const GENERATOR_SAMPLE_CHUNK = 256;
/** At most this many held-out real images (and as many samples) are compared by quality(): O(n²) k-NN balls in plain JS. */
export const QUALITY_MAX_IMAGES = 256;
/** The fixed random-init encoder quality() reads h from: width 8 gives h of 8·8 = 64 dimensions; seed 0 for every run. */
export const QUALITY_ENCODER_WIDTH = 8;
export const QUALITY_ENCODER_SEED = 0;
/** Default cadence of the grid sent during training, in steps. */
export const DEFAULT_SAMPLES_EVERY = 25;

/** The independent random streams drawn from one seed. */
const STREAM = { batch: 1, noise: 2, grid: 3, quality: 4, mix: 5 } as const;

/** murmur3's 32-bit finalizer: every input bit reaches every output bit. */
function fmix32(x: number): number {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * A seed for one use (`stream`) at one step, from the run's seed: distinct
 * streams and steps give unrelated seeds, the same three the same seed.
 */
export function deriveSeed(seed: number, step: number, stream: number): number {
  return fmix32(fmix32((seed ^ Math.imul(stream, 0x9e3779b9)) >>> 0) ^ (step >>> 0));
}

/** The seed Z is sampled with for a mix request's seed (src/train/mixDataset.ts). */
export function mixSampleSeed(requestSeed: number): number {
  return deriveSeed(requestSeed, 0, STREAM.mix);
}

type Model = { kind: 'dcgan'; gan: Dcgan; optimizers: GanOptimizers } | { kind: 'vae'; vae: ConvVae; optimizer: tf.Optimizer };

export interface GeneratorTrainOptions {
  /** read before every step: true stops the request after the step in progress */
  shouldStop: () => boolean;
  onStep: (metrics: GeneratorStepMetrics) => void;
  onSamples: (samples: GeneratorSamples) => void;
  onQuality?: (point: GeneratorQualityPoint) => void;
  /** steps between two grids (default 25); the grid is also sent after the last step */
  samplesEvery?: number;
  /** steps between two quality points; absent: only after the last step */
  qualityEvery?: number;
}

const kindLabel = (kind: GeneratorKind) => GENERATOR_KINDS.find((k) => k.id === kind)?.label ?? kind;

/**
 * Rows `indices` of a uint8 HWC split as float pixels b / 255, [n, S, S, C]:
 * built on the CPU so only the batch goes to the device.
 */
function rowsToTensor(images: Uint8Array, indices: ArrayLike<number>, size: number, channels: number): tf.Tensor4D {
  const rowBytes = imageBytes(size, channels);
  const pixels = new Float32Array(indices.length * rowBytes);
  for (let k = 0; k < indices.length; k++) {
    const at = indices[k] * rowBytes;
    for (let p = 0; p < rowBytes; p++) pixels[k * rowBytes + p] = images[at + p] / 255;
  }
  return tf.tensor4d(pixels, [indices.length, size, size, channels]);
}

/** `n` distinct indices of 0..count−1 from the rng: the first n swaps of a Fisher–Yates shuffle, kept in a map (O(n), not O(count)). */
function drawDistinct(rng: () => number, count: number, n: number): Int32Array {
  const swapped = new Map<number, number>();
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(rng() * (count - i));
    const atJ = swapped.get(j) ?? j;
    out[i] = atJ;
    swapped.set(j, swapped.get(i) ?? i);
  }
  return out;
}

export class GeneratorSession {
  readonly kind: GeneratorKind;
  /** the real dataset the generator draws from (a mixed set's source) */
  readonly datasetId: string;
  readonly datasetName: string;
  private readonly dataset: ImageDataset;
  private readonly size: number;
  private readonly channels: 1 | 3;
  private readonly width: number;
  private readonly zDim: number;
  private readonly seed: number;
  private readonly model: Model;
  /** training rows that are real images (every row, unless the set is mixed) */
  private readonly realRows: Int32Array;
  /** the real-data budget it trains on, when not the whole training split */
  private readonly budget: GeneratorConfig['budget'];
  private steps: number;
  private qualityEncoder: EncoderNetwork | null = null;
  /** the latest sample-quality figures, and the step they were measured at */
  private latestQuality: { step: number; values: Record<string, number> } | null = null;
  private training = false;
  private disposed = false;

  private constructor(dataset: ImageDataset, kind: GeneratorKind, config: GeneratorConfig) {
    this.dataset = dataset;
    this.kind = kind;
    this.datasetId = isMixedDataset(dataset) ? dataset.provenance.sourceDatasetId : dataset.id;
    this.datasetName = dataset.name;
    this.size = config.size;
    this.channels = config.channels;
    this.width = config.width;
    this.zDim = config.zDim;
    this.seed = config.seed;
    this.steps = config.stepsTrained;
    const model = { size: config.size, channels: config.channels, width: config.width, seed: config.seed };
    if (kind === 'dcgan') {
      this.model = { kind, gan: new Dcgan({ ...model, zDim: config.zDim }), optimizers: createGanOptimizers() };
    } else {
      this.model = { kind, vae: new ConvVae({ ...model, latentDim: config.zDim }), optimizer: createVaeOptimizer() };
    }
    this.budget = config.budget;
    if (config.budget && !isMixedDataset(dataset)) {
      // the lecture's set-up: the generator sees only X, the budget's real images
      this.realRows = realBudget(dataset.train, config.budget.realFraction, config.budget.seed);
    } else {
      const rows: number[] = [];
      for (let row = 0; row < dataset.train.count; row++) {
        if (!isMixedDataset(dataset) || trainRowOrigin(dataset, row).kind === 'real') rows.push(row);
      }
      this.realRows = Int32Array.from(rows);
    }
  }

  /**
   * A fresh generator for the dataset's real training images.
   * @throws Error, its message the reason to show the user, when the dataset
   *   cannot train a generator (mixed, wrong size or channels, too few images)
   *   or a setting is out of range
   */
  static create(dataset: ImageDataset, settings: GeneratorSettings): GeneratorSession {
    const { budget } = settings;
    let trainCount = dataset.train.count;
    let budgetConfig: GeneratorConfig['budget'];
    if (budget && !isMixedDataset(dataset)) {
      trainCount = realBudget(dataset.train, budget.realFraction, budget.seed).length;
      budgetConfig = { realFraction: budget.realFraction, seed: budget.seed, count: trainCount };
    }
    const unfit = generatorUnfitReason({
      name: budgetConfig ? `${dataset.name} (${Number((budgetConfig.realFraction * 100).toPrecision(3))}% of its training images)` : dataset.name,
      imageSize: dataset.imageSize, channels: dataset.channels, trainCount, mixed: isMixedDataset(dataset),
    });
    if (unfit) throw new Error(unfit);
    const errors = Object.values(generatorSettingErrors(settings, trainCount));
    if (errors.length > 0) throw new Error(errors.join(' '));
    if (settings.kind !== 'dcgan' && settings.kind !== 'vae') throw new Error(`There is no generator kind “${String(settings.kind)}”; pick DCGAN or VAE.`);
    return new GeneratorSession(dataset, settings.kind, {
      size: dataset.imageSize, channels: dataset.channels, width: settings.width, zDim: settings.zDim, seed: settings.seed, stepsTrained: 0,
      ...(budgetConfig && { budget: budgetConfig }),
    });
  }

  /**
   * A saved generator rebuilt on `dataset`: its model from stored.config and
   * its weights; its step count goes on from stored.config.stepsTrained. A
   * later train() continues it with fresh Adam optimizers: their moments are
   * not saved (they are as large as the weights and matter only for the next
   * few dozen steps), so a continued run differs slightly from one that never
   * stopped. A mixed dataset is accepted for samples and neighbours (its
   * generated rows are skipped) but train() refuses it.
   * @throws Error when the dataset's image size or channels differ from the
   *   generator's, or the weights do not fit the configuration
   */
  static fromStored(dataset: ImageDataset, stored: StoredGenerator): GeneratorSession {
    const { config } = stored;
    if (stored.kind !== 'dcgan' && stored.kind !== 'vae') throw new Error(`This saved generator is of an unknown kind “${String(stored.kind)}”; delete it and train a new one.`);
    if (dataset.imageSize !== config.size || dataset.channels !== config.channels) {
      const shape = (size: number, channels: number) => `${size}×${size} px with ${channels} channel${channels === 1 ? '' : 's'}`;
      throw new Error(
        `This saved ${kindLabel(stored.kind)} makes images of ${shape(config.size, config.channels)}, but “${dataset.name}” has images of ` +
          `${shape(dataset.imageSize, dataset.channels)}. Load it on the dataset it was trained on, or train a new generator here.`,
      );
    }
    const session = new GeneratorSession(dataset, stored.kind, { ...config });
    try {
      setWeights(session.modelForWeights(), stored.weights);
    } catch (error) {
      session.dispose();
      throw error;
    }
    if (stored.quality) {
      const { frechet, precision, recall } = stored.quality;
      if (frechet !== undefined && precision !== undefined && recall !== undefined) {
        session.latestQuality = { step: config.stepsTrained, values: { frechet, precision, recall } };
      }
    }
    return session;
  }

  /** Steps trained so far, across requests and saves. */
  get step(): number {
    return this.steps;
  }

  get config(): GeneratorConfig {
    return {
      size: this.size, channels: this.channels, width: this.width, zDim: this.zDim, seed: this.seed, stepsTrained: this.steps,
      ...(this.budget && { budget: { ...this.budget } }),
    };
  }

  private modelForWeights(): Dcgan | ConvVae {
    return this.model.kind === 'dcgan' ? this.model.gan : this.model.vae;
  }

  private checkAlive(what: string): void {
    if (this.disposed) throw new Error(`GeneratorSession.${what}: this generator has been disposed.`);
  }

  /** x̂ for latents z [n, zDim] in inference mode (DCGAN: G with batch norm's running statistics; VAE: the decoder's mean). */
  private decode(z: tf.Tensor2D): tf.Tensor4D {
    return this.model.kind === 'dcgan' ? this.model.gan.generator.generate(z, false) : this.model.vae.decode(z);
  }

  /**
   * `count` samples, z drawn row by row from createRng(seed) and decoded in
   * chunks of at most GENERATOR_SAMPLE_CHUNK: the z rows are those of
   * fixedNoise(count, zDim, seed), and in inference mode each image depends on
   * its own z only, so the result equals model.sample(count, seed) at any chunk size.
   */
  private async samplePixels(count: number, seed: number): Promise<Float32Array> {
    const rng = createRng(seed);
    const rowBytes = imageBytes(this.size, this.channels);
    const pixels = new Float32Array(count * rowBytes);
    for (let start = 0; start < count; start += GENERATOR_SAMPLE_CHUNK) {
      const n = Math.min(GENERATOR_SAMPLE_CHUNK, count - start);
      const images = tf.tidy(() => this.decode(gaussianTensor(rng, [n, this.zDim], 1) as tf.Tensor2D));
      try {
        pixels.set(await images.data<'float32'>(), start * rowBytes);
      } finally {
        images.dispose();
      }
    }
    return pixels;
  }

  /**
   * Trains `steps` more steps on batches of `batchSize` real training images.
   * Step t (the generator's own count, 1-based) draws its batch and its noise
   * from seeds derived from the settings' seed and t. The grid is sent every
   * samplesEvery steps and after the last step taken; quality every
   * qualityEvery steps (when onQuality is given) and after the last step.
   * A cancelled request (shouldStop) ends after the step in progress and still
   * sends the final grid and quality: what it learnt is kept.
   * @returns cancelled: whether shouldStop ended it early
   * @throws Error when a loss is NaN (the generator diverged), the dataset is
   *   mixed, or steps / batchSize are out of range
   */
  async train(steps: number, batchSize: number, options: GeneratorTrainOptions): Promise<{ cancelled: boolean }> {
    this.checkAlive('train');
    if (this.training) throw new Error('This generator is already training; wait for it to finish or cancel it first.');
    if (isMixedDataset(this.dataset)) {
      throw new Error(`“${this.dataset.name}” already holds generated images; train the generator on the real dataset it came from.`);
    }
    const trainCount = this.realRows.length;
    const errors = generatorSettingErrors({ steps, batchSize, width: this.width, zDim: this.zDim, seed: this.seed }, trainCount);
    const refused = [errors.steps, errors.batchSize].filter((e): e is string => e !== undefined);
    if (refused.length > 0) throw new Error(refused.join(' '));
    const samplesEvery = Math.max(1, Math.floor(options.samplesEvery ?? DEFAULT_SAMPLES_EVERY));
    const qualityEvery = options.qualityEvery !== undefined ? Math.max(1, Math.floor(options.qualityEvery)) : Infinity;

    this.training = true;
    let taken = 0;
    let cancelled = false;
    let lastSamplesStep = -1;
    let lastQualityStep = -1;
    try {
      for (let i = 0; i < steps; i++) {
        if (options.shouldStop()) {
          cancelled = true;
          break;
        }
        const started = performance.now();
        const t = this.steps + 1;
        const batchRows = drawDistinct(createRng(deriveSeed(this.seed, t, STREAM.batch)), trainCount, batchSize).map((k) => this.realRows[k]);
        const x = rowsToTensor(this.dataset.train.images, batchRows, this.size, this.channels);
        const noiseSeed = deriveSeed(this.seed, t, STREAM.noise);
        let values: Record<string, number>;
        try {
          values = this.model.kind === 'dcgan'
            ? { ...(await ganStep(this.model.gan, x, this.model.optimizers, noiseSeed)) }
            : { ...(await vaeStep(this.model.vae, x, this.model.optimizer, noiseSeed)) };
        } finally {
          x.dispose();
        }
        // the weights have moved: the step counts even when it diverged
        this.steps = t;
        taken++;
        const bad = Object.entries(values).find(([, v]) => Number.isNaN(v));
        if (bad) {
          throw new Error(
            `The ${kindLabel(this.kind)} diverged at step ${t}: its ${bad[0]} became NaN, so its samples would be noise. ` +
              (this.kind === 'dcgan'
                ? 'Train a fresh one with another seed or a larger batch, or pick the VAE, which trains more steadily.'
                : 'Train a fresh one with another seed, a larger batch or a smaller z size.'),
          );
        }
        options.onStep({ step: t, kind: this.kind, values, stepMs: performance.now() - started });
        if (taken % samplesEvery === 0) {
          options.onSamples(await this.samples());
          lastSamplesStep = t;
        }
        if (options.onQuality && taken % qualityEvery === 0) {
          options.onQuality(await this.quality());
          lastQualityStep = t;
        }
      }
      if (taken > 0 && lastSamplesStep !== this.steps) options.onSamples(await this.samples());
      if (taken > 0 && options.onQuality && lastQualityStep !== this.steps) options.onQuality(await this.quality());
      return { cancelled };
    } finally {
      this.training = false;
    }
  }

  /**
   * The grid: GENERATOR_GRID_COUNT samples from the same z every call (drawn
   * from a seed derived from the settings' seed), in inference mode, so two
   * grids differ only because the model changed.
   *
   * Async (the brief asked for a synchronous one): reading pixels back
   * synchronously is slow on WebGPU and stalls the worker (tfjs warns), so it
   * awaits the read-back as every other read in the worker does.
   */
  async samples(): Promise<GeneratorSamples> {
    this.checkAlive('samples');
    const pixels = await this.samplePixels(GENERATOR_GRID_COUNT, deriveSeed(this.seed, 0, STREAM.grid));
    return { step: this.steps, count: GENERATOR_GRID_COUNT, images: pixelsToBytes(pixels), imageSize: this.size, channels: this.channels };
  }

  /**
   * Held-out real images for quality(): the first min(256, test count) of the
   * test split; when the test split has too few for k-NN balls (k or fewer),
   * the last min(256, real training count) training images instead.
   */
  private qualityRealImages(): { images: Uint8Array; count: number; source: string } {
    const rowBytes = imageBytes(this.size, this.channels);
    const { test, train } = this.dataset;
    if (test.count > DEFAULT_PRECISION_RECALL_K) {
      const count = Math.min(QUALITY_MAX_IMAGES, test.count);
      return { images: test.images.subarray(0, count * rowBytes), count, source: `${count} held-out test images` };
    }
    const count = Math.min(QUALITY_MAX_IMAGES, this.realRows.length);
    const images = new Uint8Array(count * rowBytes);
    const first = this.realRows.length - count;
    for (let k = 0; k < count; k++) {
      const row = this.realRows[first + k];
      images.set(train.images.subarray(row * rowBytes, (row + 1) * rowBytes), k * rowBytes);
    }
    const why = test.count === 0 ? 'the test split is empty' : `the test split has only ${test.count}`;
    return { images, count, source: `the last ${count} training images (${why}, so these are not held out)` };
  }

  /** h of the fixed random-init encoder in inference mode (as the trainer's random-init baseline reads it), one row per image. */
  private async features(pixels: Float32Array, count: number): Promise<Float32Array> {
    this.qualityEncoder ??= new EncoderNetwork({
      channels: this.channels, encoderWidth: QUALITY_ENCODER_WIDTH, projectionHead: 'none', projectionDim: 8 * QUALITY_ENCODER_WIDTH, seed: QUALITY_ENCODER_SEED,
    });
    const encoder = this.qualityEncoder;
    const h = tf.tidy(() => encoder.encode(tf.tensor4d(pixels, [count, this.size, this.size, this.channels]), false));
    try {
      return await h.data<'float32'>();
    } finally {
      h.dispose();
    }
  }

  /**
   * Sample quality now: the Fréchet distance between Gaussians fitted to h of
   * n real images and of n samples, and k-NN precision and recall
   * (k = DEFAULT_PRECISION_RECALL_K), with n = min(256, test count) and h from
   * a fixed random-init encoder (width 8, seed 0): a proxy, not ImageNet FID.
   * The samples come from one fixed seed (not the grid's), so successive
   * points differ because the model changed.
   */
  async quality(): Promise<GeneratorQualityPoint> {
    this.checkAlive('quality');
    const started = performance.now();
    const real = this.qualityRealImages();
    const n = real.count;
    if (n <= DEFAULT_PRECISION_RECALL_K) {
      throw new Error(`Sample quality compares at least ${DEFAULT_PRECISION_RECALL_K + 1} real images with as many samples, but “${this.dataset.name}” has only ${n} real images to compare; add images to the dataset.`);
    }
    const generatedPixels = await this.samplePixels(n, deriveSeed(this.seed, 0, STREAM.quality));
    const realPixels = Float32Array.from(real.images, (b) => b / 255);
    const d = 8 * QUALITY_ENCODER_WIDTH;
    const realH = { values: await this.features(realPixels, n), n, d };
    const generatedH = { values: await this.features(generatedPixels, n), n, d };
    const frechet = featureFrechetDistance(realH, generatedH);
    const { precision, recall } = knnPrecisionRecall(realH, generatedH, DEFAULT_PRECISION_RECALL_K);
    this.latestQuality = { step: this.steps, values: { frechet, precision, recall } };
    return {
      step: this.steps, frechet, precision, recall, k: DEFAULT_PRECISION_RECALL_K, generatedCount: n, realCount: n,
      features:
        `h (${d} dimensions) of a fixed random-init encoder (width ${QUALITY_ENCODER_WIDTH}, seed ${QUALITY_ENCODER_SEED}, never trained, ` +
        `batch norm in inference mode), compared on ${real.source} and ${n} samples: a proxy for sample quality, not ImageNet FID.`,
      ms: performance.now() - started,
    };
  }

  /**
   * For the first `count` grid samples, the k nearest real training images by
   * root-mean-square pixel difference √(mean (a − b)²), pixels in [0, 1]:
   * brute force over the whole training split (a mixed set's generated rows
   * skipped), ties to the lower index. neighbourIndices are rows of the
   * training split of the dataset this session holds.
   */
  neighbours(samples: GeneratorSamples, count = 4, k = 3): GeneratorNeighbours {
    this.checkAlive('neighbours');
    const rowBytes = imageBytes(this.size, this.channels);
    if (samples.imageSize !== this.size || samples.channels !== this.channels || samples.images.length !== samples.count * rowBytes) {
      throw new Error(`These samples are not ${samples.count} images of ${this.size}×${this.size}×${this.channels}; draw them with this generator.`);
    }
    const shown = Math.max(0, Math.min(Math.floor(count), samples.count));
    const kk = Math.max(0, Math.min(Math.floor(k), this.realRows.length));
    const train = this.dataset.train.images;
    // per shown sample: the kk smallest squared byte distances so far, ascending, and their rows
    const best = Array.from({ length: shown }, () => ({ sums: new Float64Array(kk).fill(Infinity), rows: new Int32Array(kk).fill(-1) }));
    for (const row of this.realRows) {
      const at = row * rowBytes;
      for (let s = 0; s < shown; s++) {
        const from = s * rowBytes;
        let sum = 0;
        for (let p = 0; p < rowBytes; p++) {
          const diff = samples.images[from + p] - train[at + p];
          sum += diff * diff;
        }
        const { sums, rows } = best[s];
        // rows arrive ascending, so a strict < keeps the lower index first among ties
        if (kk === 0 || !(sum < sums[kk - 1])) continue;
        let slot = kk - 1;
        while (slot > 0 && sums[slot - 1] > sum) {
          sums[slot] = sums[slot - 1];
          rows[slot] = rows[slot - 1];
          slot--;
        }
        sums[slot] = sum;
        rows[slot] = row;
      }
    }
    const images = new Uint8Array(shown * (1 + kk) * rowBytes);
    const neighbourIndices: number[] = [];
    const distances: number[] = [];
    best.forEach(({ sums, rows }, s) => {
      const base = s * (1 + kk) * rowBytes;
      images.set(samples.images.subarray(s * rowBytes, (s + 1) * rowBytes), base);
      for (let j = 0; j < kk; j++) {
        neighbourIndices.push(rows[j]);
        // bytes are 255 × pixels: RMS in [0, 1] = √(Σ diff² / pixels) / 255
        distances.push(Math.sqrt(sums[j] / rowBytes) / 255);
        images.set(train.subarray(rows[j] * rowBytes, (rows[j] + 1) * rowBytes), base + (1 + j) * rowBytes);
      }
    });
    return {
      step: samples.step, sampleIndices: Array.from({ length: shown }, (_, i) => i), k: kk, neighbourIndices, distances,
      images, imageSize: this.size, channels: this.channels,
    };
  }

  /**
   * What saveGenerator stores: the configuration, every weight (DCGAN: G and D
   * with batch norm's running statistics), and the sample-quality figures
   * (frechet, precision, recall) when they were measured at the current step.
   */
  async toSave(): Promise<GeneratorToSave> {
    this.checkAlive('toSave');
    const saved: GeneratorToSave = {
      datasetId: this.datasetId, kind: this.kind, config: this.config, weights: await getWeights(this.modelForWeights()), createdAt: Date.now(),
    };
    if (this.latestQuality && this.latestQuality.step === this.steps) saved.quality = { ...this.latestQuality.values };
    return saved;
  }

  /**
   * `count` samples as uint8 HWC rows (pixelsToBytes), drawn in chunks of at
   * most 256; the same seed gives the same bytes, and the first k of them are
   * sampleBytes(k, seed).
   * @throws RangeError when a pixel is NaN (a diverged generator)
   */
  async sampleBytes(count: number, seed: number): Promise<Uint8Array> {
    this.checkAlive('sampleBytes');
    if (!Number.isInteger(count) || count < 0) throw new Error(`The number of samples must be a whole number ≥ 0, got ${count}.`);
    return pixelsToBytes(await this.samplePixels(count, seed >>> 0));
  }

  /** Frees the model's variables, the optimizers' state and the quality encoder. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.model.kind === 'dcgan') {
      this.model.gan.dispose();
      this.model.optimizers.generator.dispose();
      this.model.optimizers.discriminator.dispose();
    } else {
      this.model.vae.dispose();
      this.model.optimizer.dispose();
    }
    this.qualityEncoder?.dispose();
    this.qualityEncoder = null;
  }
}
