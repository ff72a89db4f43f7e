/**
 * "Export as PyTorch" (issue 21): the current experiment as a self-contained
 * `train.py`, the `config.json` it reads and a README, plus the trained
 * encoder's safetensors when there is one. The script (./pytorch/train.py,
 * kept as Python and imported as text) rebuilds f and g under the names of
 * encoderWeights.ts, the augmentation pipeline with the pixel math of
 * src/augment, the method (SimCLR, memory bank, MoCo v2, BYOL, SimSiam,
 * Barlow Twins, RotNet, Exemplar CNN, autoencoder, relative patch location,
 * jigsaw, inpainting, colorization, CMC, PIRL, CPC, PixelCNN, DeepCluster: its loss, its own parts
 * started as the app starts them, its after-step update)
 * and Adam with tfjs's defaults, and scales out under torchrun with
 * DistributedDataParallel.
 *
 * Pure TypeScript, no tfjs: runs in the worker, on the page and in Node.
 */
import { strToU8, zipSync, type Zippable } from 'fflate';
import trainPy from './pytorch/train.py?raw';
import { CONFIG_SCHEMA, type ExperimentConfig } from '../core/config';
import { BUILTIN_DATASETS } from '../core/datasets';
import { METHOD_CATALOG, type MethodId } from '../core/methods';
import { cmcGreyscaleReason } from '../core/entries/cmc';
import { DEEPCLUSTER_FIT_MAX } from '../core/entries/deepcluster';
import { colorizationGreyscaleReason } from '../core/pretext/colorization';
import { validatePipeline, type AugmentOperator } from '../core/pipeline';

/** The script, as the export writes it. */
export const PYTORCH_TRAIN_SCRIPT: string = trainPy;

/** Methods train.py implements (its METHODS dict); the others are refused by pytorchExportProblem. */
export const PYTORCH_EXPORT_METHODS: readonly MethodId[] = [
  'simclr', 'memory-bank', 'moco', 'byol', 'simsiam', 'barlow-twins', 'rotation', 'exemplar', 'autoencoder',
  'relative-patch', 'jigsaw', 'inpainting', 'colorization', 'cmc', 'pirl', 'cpc', 'autoregressive', 'deepcluster',
];

/**
 * What config.json says it is; train.py refuses any other format or version.
 * Version 2: the method's settings moved from `loss` into `method_settings`.
 */
export const PYTORCH_CONFIG_FORMAT = 'ssl-playground-pytorch-config';
export const PYTORCH_CONFIG_VERSION = 2;

/** Steps written when the run has not trained yet (the app trains until paused, so a fresh run has no count of its own). */
export const DEFAULT_PYTORCH_STEPS = 1000;

/**
 * tfjs 4.22's tf.train.adam(learningRate) defaults: β1 0.9, β2 0.999, and ε
 * the backend's epsilon(), 1e-7 for float32 (tfjs-core backend.ts
 * EPSILON_FLOAT32). tfjs's update θ − lr·m̂/(√v̂ + ε) is PyTorch's Adam; only
 * PyTorch's default ε (1e-8) differs, so the config names it.
 */
export const TFJS_ADAM = { beta1: 0.9, beta2: 0.999, epsilon: 1e-7 } as const;

/**
 * The app's batch norm (src/model/encoderNetwork.ts): running ← 0.9·running +
 * 0.1·batch (PyTorch's momentum 0.1), ε 1e-5, the unbiased batch variance in
 * the running variance, as PyTorch.
 */
export const APP_BATCH_NORM = { momentum: 0.1, epsilon: 1e-5 } as const;

/** What the export needs to know of the dataset: the shape of its images, nothing of their content or names. */
export interface PytorchDatasetShape {
  imageSize: number;
  channels: 1 | 3;
}

/**
 * A method's settings in config.json: the keys of its catalog entry's
 * `settings` (src/core/methods.ts) in snake_case, e.g. MoCo's
 * { temperature, queue_size, momentum }.
 */
export type PytorchMethodSettings = Record<string, number | boolean | string>;

/** config.json: every setting train.py reads, in its snake_case. */
export interface PytorchConfig {
  format: typeof PYTORCH_CONFIG_FORMAT;
  version: typeof PYTORCH_CONFIG_VERSION;
  method: MethodId;
  seed: number;
  steps: number;
  /** N, images per step per process; the global batch under torchrun is K × N */
  batch_size: number;
  learning_rate: number;
  optimizer: { name: 'adam'; beta1: number; beta2: number; epsilon: number };
  /** exactly the settings the method reads (pytorchMethodSettings); train.py refuses a missing or unknown one */
  method_settings: PytorchMethodSettings;
  model: {
    in_channels: number;
    encoder_width: number;
    projection_head: ExperimentConfig['projectionHead'];
    projection_dim: number;
    batch_norm: { momentum: number; epsilon: number };
  };
  /** the images train.py reads are resized to image_size² and converted to `channels`; `source` names a built-in dataset, or says "upload" */
  data: { image_size: number; channels: 1 | 3; source: string };
  /** S, the side of the augmented views f sees (the app's config.imageSize) */
  view_size: number;
  /** the app's pipeline operators, as they are (src/core/pipeline.ts) */
  augmentation: AugmentOperator[];
}

/** The export's files by name: text, and the encoder's bytes when there is one. */
export type PytorchExportFiles = {
  'train.py': string;
  'config.json': string;
  'README.md': string;
  'encoder.safetensors'?: Uint8Array;
};

const positiveInteger = (v: number) => Number.isInteger(v) && v >= 1;
const positiveNumber = (v: number) => Number.isFinite(v) && v > 0;

/** The config keys of the method's settings config.json carries: its catalog settings but fusedLoss, which picks the browser's WGSL kernel, not the math. */
function exportedSettingKeys(method: MethodId): (keyof ExperimentConfig)[] {
  return METHOD_CATALOG[method].settings.filter((key) => key !== 'fusedLoss');
}

/** A setting's name in config.json: the app's key in snake_case (queueSize → queue_size). */
export function pytorchSettingName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/**
 * config.json's method_settings: the settings the config's method reads, by
 * their snake_case names, with the config's values (SimCLR: temperature,
 * normalize; memory bank: temperature, bank_momentum; MoCo v2: temperature,
 * queue_size, momentum; BYOL: momentum, predictor_hidden, use_predictor,
 * ema_target; SimSiam: predictor_hidden, stop_gradient; Barlow Twins:
 * barlow_lambda; RotNet: none; Exemplar CNN: exemplar_count; autoencoder:
 * denoise; relative patch location: none; jigsaw: jigsaw_permutations;
 * inpainting: inpaint_mask; colorization: colorization_mode; CMC: temperature; PIRL: temperature,
 * bank_momentum, pirl_lambda; CPC: none; PixelCNN: none; DeepCluster:
 * cluster_count, cluster_every).
 */
export function pytorchMethodSettings(config: ExperimentConfig): PytorchMethodSettings {
  const out: PytorchMethodSettings = {};
  for (const key of exportedSettingKeys(config.method)) out[pytorchSettingName(key)] = config[key] as number | boolean | string;
  return out;
}

/** Why a method setting's value is outside its declared field (CONFIG_SCHEMA: type, whole number, limits), or null. */
function settingProblem(key: keyof ExperimentConfig, value: unknown): string | null {
  const spec = CONFIG_SCHEMA[key];
  const bad = `The setting “${spec.label}” (${String(value)}) cannot be exported: set a valid value first`;
  if (spec.kind === 'boolean') return typeof value === 'boolean' ? null : bad;
  if (spec.kind === 'enum') return spec.options.some((option) => option.value === value) ? null : bad;
  if (spec.kind !== 'number') return null;
  if (typeof value !== 'number' || !Number.isFinite(value) || (spec.integer && !Number.isInteger(value))) return bad;
  const aboveMin = spec.minExclusive ? value > spec.min : value >= spec.min;
  const belowMax = spec.maxExclusive ? value < spec.max : value <= spec.max;
  return aboveMin && belowMax ? null : bad;
}

/**
 * Why this config cannot be exported as PyTorch, in the user's words, or null
 * when it can: a method train.py does not cover yet, or a setting it cannot
 * run (only reachable by a config that skipped validation).
 */
export function pytorchExportProblem(config: ExperimentConfig): string | null {
  if (!PYTORCH_EXPORT_METHODS.includes(config.method)) {
    const label = METHOD_CATALOG[config.method]?.label ?? String(config.method);
    return `PyTorch export covers ${PYTORCH_EXPORT_METHODS.map((m) => METHOD_CATALOG[m].label).join(', ')} so far; ${label} is not covered yet`;
  }
  const { errors } = validatePipeline(config.augmentation);
  if (errors.length > 0) return `The augmentation pipeline needs fixing before it can be exported: ${errors[0].message}`;
  const numbers: [string, number, (v: number) => boolean][] = [
    ['batch size N', config.batchSize, positiveInteger],
    ['view size', config.imageSize, positiveInteger],
    ['encoder width', config.encoderWidth, positiveInteger],
    ['z dimensions', config.projectionDim, positiveInteger],
    ['learning rate', config.learningRate, positiveNumber],
  ];
  for (const [label, value, ok] of numbers) {
    if (!ok(value)) return `The ${label} (${String(value)}) cannot be exported: set a valid value first`;
  }
  for (const key of exportedSettingKeys(config.method)) {
    const problem = settingProblem(key, config[key]);
    if (problem) return problem;
  }
  if (!Number.isInteger(config.seed) || config.seed < 0) return `The seed (${String(config.seed)}) cannot be exported: set a whole number ≥ 0 first`;
  return null;
}

/** Built-in datasets by id; an upload's id (and name, and classes) stay in the browser. */
function dataSource(datasetId: string): string {
  return BUILTIN_DATASETS.some((d) => d.id === datasetId) ? datasetId : 'upload';
}

/**
 * config.json for train.py: the method, seed, steps, batch size, learning
 * rate, Adam's constants, the method's settings, f and g's
 * architecture, the data's image size and channels, the view size and the
 * augmentation pipeline. Nothing else of the dataset (no name, classes,
 * images or upload id) goes in. `steps`: the run's steps so far (0 or absent:
 * DEFAULT_PYTORCH_STEPS). Throws, in the user's words, when the config cannot
 * be exported (pytorchExportProblem) or the dataset's shape is impossible.
 */
export function pytorchConfig(config: ExperimentConfig, dataset: PytorchDatasetShape, options: { steps?: number } = {}): PytorchConfig {
  const problem = pytorchExportProblem(config);
  if (problem) throw new Error(problem);
  const { imageSize, channels } = dataset;
  if (!positiveInteger(imageSize)) throw new RangeError(`The dataset's image size (${String(imageSize)}) must be a whole number of pixels ≥ 1`);
  if (channels !== 1 && channels !== 3) throw new RangeError(`The dataset's images must have 1 or 3 channels, not ${String(channels)}`);
  // the app refuses it at the start of the run (colorization.ts), and train.py with the same words
  if (config.method === 'colorization' && channels !== 3) throw new Error(colorizationGreyscaleReason('this dataset'));
  if (config.method === 'cmc' && channels !== 3) throw new Error(cmcGreyscaleReason('this dataset'));
  const steps = options.steps ?? 0;
  if (!Number.isInteger(steps) || steps < 0) throw new RangeError(`Steps must be a whole number ≥ 0, got ${String(steps)}`);
  const entry = METHOD_CATALOG[config.method];
  return {
    format: PYTORCH_CONFIG_FORMAT,
    version: PYTORCH_CONFIG_VERSION,
    method: config.method,
    seed: config.seed,
    steps: steps > 0 ? steps : DEFAULT_PYTORCH_STEPS,
    batch_size: config.batchSize,
    learning_rate: config.learningRate,
    optimizer: { name: 'adam', ...TFJS_ADAM },
    method_settings: pytorchMethodSettings(config),
    model: {
      // f's input: the dataset's channels unless the method fixes them (Trainer.modelConfig)
      in_channels: entry.encoderChannels ?? channels,
      encoder_width: config.encoderWidth,
      projection_head: config.projectionHead,
      projection_dim: config.projectionDim,
      batch_norm: { ...APP_BATCH_NORM },
    },
    data: { image_size: imageSize, channels, source: dataSource(config.dataset) },
    view_size: config.imageSize,
    augmentation: validatePipeline(config.augmentation).pipeline!.operators,
  };
}

/** What the README says of a method: what it keeps beside f and g, what --init leaves to it, and what K processes change. */
interface MethodReadme {
  /** what the method keeps beside f and g, and how each part starts */
  keeps: string;
  /** after --init: how the method's own parts start (none for a method with no parts of its own) */
  afterInit?: string;
  /** what changes with K processes, after "Each process takes N images per step, so the global batch is K × N." */
  scaling: string;
}

const on = (value: unknown) => (value ? 'on' : 'off');

/** A paragraph as lines of at most `width` characters, broken at spaces (a word longer than that keeps its own line). */
function wrap(text: string, width = 115): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

function methodReadme(cfg: PytorchConfig): MethodReadme {
  const s = cfg.method_settings;
  const oneProcess = 'so K processes train exactly as one process with a batch of K × N would';
  switch (cfg.method) {
    case 'moco':
      return {
        keeps: `MoCo v2 keeps a key encoder and a queue. The key encoder is a moving average of f and g (momentum m = ${s.momentum}, ` +
          'batch-norm running statistics included) and starts as their copy. The queue holds ' +
          `${s.queue_size} keys (or as many as your images, when fewer); it starts as the same random unit vectors as the app's ` +
          'for the seed, and after each step the ' +
          `batch's keys replace the oldest. τ = ${s.temperature}. Shuffling BN as in the app: queries, and keys of a shuffled ` +
          'batch (the shuffle drawn from the app\'s seeded stream), are encoded in two halves with batch statistics of their own.',
        afterInit: 'the key encoder starts as a copy of the loaded f and g and the queue as the random unit vectors of the seed (the app\'s key encoder and queue are not exported)',
        scaling: 'Each process encodes its queries in two halves with batch norm over each half: MoCo\'s shuffling BN needs ' +
          'statistics per device, so they are not synchronized. The keys\' images are shuffled across all K processes and each ' +
          'encodes its share (MoCo\'s batch shuffle); the keys of all processes are gathered and enqueued, so every process ' +
          'holds the same queue, and K × N keys enter it per step. The running statistics are averaged across processes after each step.',
      };
    case 'byol':
      return {
        keeps: `BYOL keeps a target network and a predictor q (${s.predictor_hidden} hidden units). The target is a moving average ` +
          `of f and g (momentum m = ${s.momentum}, batch-norm running statistics included) and starts as their copy; q starts ` +
          `with the app's initial weights for the seed. Predictor q: ${on(s.use_predictor)}; target = moving average: ${on(s.ema_target)} ` +
          '(off: the target is the online z behind a stop-gradient).',
        afterInit: 'the target starts as a copy of the loaded f and g and the predictor q from the seed (the app\'s target and q are not exported)',
        scaling: 'Each process\'s loss is the mean over its N pairs and DistributedDataParallel averages the gradients; batch ' +
          `norm in f, g, the target and q takes its statistics over the global batch, ${oneProcess}.`,
      };
    case 'simsiam':
      return {
        keeps: `SimSiam keeps a predictor q (${s.predictor_hidden} hidden units) beside f and g, starting with the app's initial ` +
          `weights for the seed. Stop-gradient on the target: ${on(s.stop_gradient)}.`,
        afterInit: 'the predictor q starts from the seed (the app\'s q is not exported)',
        scaling: 'Each process\'s loss is the mean over its N pairs and DistributedDataParallel averages the gradients; batch ' +
          `norm in f, g and q takes its statistics over the global batch, ${oneProcess}.`,
      };
    case 'memory-bank':
      return {
        keeps: `The memory bank (InstDisc) keeps a bank of one unit vector per training image (its row: the image's place in ` +
          'the sorted ImageFolder), random unit vectors from the seed to start with, as the app\'s. Both views of each image are ' +
          `scored against all n entries by a softmax at τ = ${s.temperature}, the image's own entry the right answer; after each ` +
          `step its entry becomes normalize(m · entry + (1 − m) · the two views' mean unit feature), m = ${s.bank_momentum}.`,
        afterInit: 'the bank starts as the random unit vectors of the seed (the app\'s bank is not exported)',
        scaling: 'Every process holds the whole bank and scores its own 2 × N views against it; DistributedDataParallel ' +
          'averages the gradients. The features and image indices of all processes are gathered after each step and every ' +
          'process writes the K × N entries of the global batch, so the banks stay identical; batch norm takes its statistics ' +
          `over the global batch, ${oneProcess}.`,
      };
    case 'rotation':
      return {
        keeps: 'RotNet keeps a linear head on h that names the rotation, starting with the app\'s initial weights for the seed. ' +
          'Each image gives one view, seen at 0°, 90°, 180° and 270°; f and the head train on the cross-entropy, and g plays ' +
          'no part (it stays as it was).',
        afterInit: 'the rotation head starts from the seed (the app\'s head is not exported)',
        scaling: 'Each process\'s loss is the mean over its 4 × N turned views and DistributedDataParallel averages the ' +
          `gradients; batch norm takes its statistics over the global batch, ${oneProcess}.`,
      };
    case 'exemplar':
      return {
        keeps: `Exemplar CNN takes the first ${s.exemplar_count} images of the ImageFolder (in its sorted order; all of them, when ` +
          'fewer) as that many classes and draws every batch from them; a linear head on h, starting with the app\'s initial ' +
          'weights for the seed, names the image each of the two views came from. g plays no part (it stays as it was).',
        afterInit: 'the exemplar head starts from the seed (the app\'s head is not exported)',
        scaling: 'Every process draws its share of the same pool of exemplars; each process\'s loss is the mean over its ' +
          `2 × N views and DistributedDataParallel averages the gradients; batch norm takes its statistics over the global batch, ${oneProcess}.`,
      };
    case 'autoencoder':
      return {
        keeps: 'The autoencoder keeps a decoder of transposed convolutions that rebuilds each view from h, starting with the ' +
          `app's initial weights for the seed; the loss is the mean squared error over every pixel. Denoising: ${on(s.denoise)}` +
          (s.denoise ? ' (f sees the view under Gaussian noise of σ 0.2, the same noise as the app\'s for the seed, and the target is the clean view).' : '.') +
          ' g plays no part (it stays as it was).',
        afterInit: 'the decoder starts from the seed (the app\'s decoder is not exported)',
        scaling: 'Each process\'s loss is the mean over its own views and DistributedDataParallel averages the gradients' +
          `${s.denoise ? '; each process draws its own noise, from a stream of its own' : ''}; batch norm takes its statistics ` +
          `over the global batch, ${oneProcess}.`,
      };
    case 'relative-patch':
      return {
        keeps: 'Relative patch location keeps a head that names where a neighbour patch sat around the centre patch, starting ' +
          'with the app\'s initial weights for the seed (its last layer at zero, a uniform guess). Each view is cut into the ' +
          'app\'s 3×3 grid of patches with gaps, each patch moved by its own jitter from the app\'s seeded stream; f encodes ' +
          'every patch alone and the head reads the centre\'s and each neighbour\'s features side by side (8 pairs a view, ' +
          'cross-entropy over the 8 positions). g plays no part (it stays as it was).',
        afterInit: 'the head starts from the seed (the app\'s head is not exported)',
        scaling: 'Every process draws the jitter of the K × N views of the step from the same seeded stream and cuts its own ' +
          'share; each process\'s loss is the mean over its 8 × N pairs and DistributedDataParallel averages the gradients; batch ' +
          `norm takes its statistics over the global batch, ${oneProcess}.`,
      };
    case 'jigsaw':
      return {
        keeps: `The jigsaw keeps ${s.jigsaw_permutations} fixed permutations of the 3×3 tiles (the app's greedy ` +
          'maximal-Hamming-distance set, recomputed) and a head that names which one shuffled a view, starting with the app\'s ' +
          'initial weights for the seed (its last layer at zero, a uniform guess). The tiles\' jitter and each view\'s ' +
          'permutation come from the app\'s seeded stream; f encodes each tile alone and the head reads the nine features ' +
          'side by side in the shuffled order. g plays no part (it stays as it was).',
        afterInit: 'the head starts from the seed (the app\'s head is not exported)',
        scaling: 'Every process draws the jitter and permutations of the K × N views of the step from the same seeded stream ' +
          'and takes its own share; each process\'s loss is the mean over its N views and DistributedDataParallel averages the ' +
          `gradients; batch norm takes its statistics over the global batch, ${oneProcess}.`,
      };
    case 'inpainting':
      return {
        keeps: 'Inpainting (context encoder, L2 loss) keeps a decoder that paints a hidden square of half the view\'s side ' +
          `back from h, starting with the app's initial weights for the seed. Masked region: ${s.inpaint_mask === 'random'
            ? 'a square at a random place, drawn from the app\'s seeded stream' : 'the central square'}; it is filled with the ` +
          'batch\'s mean visible colour, and the loss is the mean squared error over the hidden pixels. g plays no part (it stays as it was).',
        afterInit: 'the decoder starts from the seed (the app\'s decoder is not exported)',
        scaling: 'Each process\'s loss is the mean over its own hidden squares and DistributedDataParallel averages the ' +
          'gradients; the fill colour is the mean over the global batch, and random squares are drawn for the K × N views from ' +
          `one seeded stream, each process taking its share; batch norm takes its statistics over the global batch, ${oneProcess}.`,
      };
    case 'colorization':
      return {
        keeps: 'Colorization keeps a colour head that predicts the a and b channels of CIE Lab at every pixel from h, starting ' +
          'with the app\'s initial weights for the seed; f sees the lightness L alone. Colour head: ' +
          (s.colorization_mode === 'classification'
            ? 'classification over the ab bins of side 10 that sRGB reaches, cross-entropy at the head\'s grid points.'
            : 'regression of a/110 and b/110, mean squared error over every pixel.') +
          ' It needs colour (RGB) images. g plays no part (it stays as it was).',
        afterInit: 'the colour head starts from the seed (the app\'s head is not exported)',
        scaling: 'Each process\'s loss is the mean over its own views and DistributedDataParallel averages the gradients; ' +
          `batch norm takes its statistics over the global batch, ${oneProcess}.`,
      };
    case 'cmc':
      return {
        keeps: 'CMC keeps a second encoder f_ab, of f\'s architecture with a projection head like g, that sees the colour ' +
          'channels a and b of CIE Lab (divided by 110), starting with the app\'s initial weights for its own seed; f and g see ' +
          `the lightness L / 100. Each lightness view picks its own image's colour view among the batch's, and each colour view ` +
          `its lightness view (cross-entropy over the cosines at τ = ${s.temperature}, the two directions averaged); both ` +
          'encoders train. It needs colour (RGB) images.',
        afterInit: 'f_ab and its head start from the seed (the app\'s f_ab is not exported)',
        scaling: 'Each process\'s lightness views are scored against the colour views gathered from all K processes, and its ' +
          'colour views against all the lightness views (the in-batch candidates of the global batch, as SimCLR gathers its ' +
          `negatives); DistributedDataParallel averages the gradients, and batch norm in both encoders takes its statistics over the global batch, ${oneProcess}.`,
      };
    case 'cpc':
      return {
        keeps: 'CPC keeps a context network, starting with the app\'s initial weights for the seed (its three prediction maps ' +
          'W_k at zero, so the loss starts at log(16 N)). Each view is cut into the app\'s 4×4 grid of patches that overlap by ' +
          'half; f encodes every patch alone, the context at each patch reads its own code and the mean code of the rows down ' +
          'to it (never a row below), and W_k predicts the code k = 1, 2, 3 rows further down, which must pick the true ' +
          'patch among every patch code of the batch (InfoNCE on dot products). g plays no part (it stays as it was).',
        afterInit: 'the context network starts from the seed (the app\'s is not exported)',
        scaling: 'Each process\'s predictions are scored against the patch codes gathered from all K processes (the candidates ' +
          'of the global batch, as SimCLR gathers its negatives); DistributedDataParallel averages the gradients, and batch norm ' +
          `takes its statistics over the global batch, ${oneProcess}.`,
      };
    case 'autoregressive':
      return {
        keeps: 'The PixelCNN auto-encoder keeps two PixelCNNs, each starting with the app\'s initial weights for the seed: ' +
          'masked convolutions (a 7×7 layer that sees only the pixels before each pixel in reading order, then three 3×3) and a ' +
          'softmax over 16 levels for each pixel value. The views are quantized to those levels; f encodes the view into h, ' +
          'which enters every layer of the first PixelCNN as a bias, and f and that PixelCNN train on the mean −log p of each ' +
          'pixel value\'s level given the pixels before it and h (in nats). The second PixelCNN, without h, trains beside it ' +
          'as the baseline by its own gradient, outside the loss\'s value. g plays no part (it stays as it was); the app\'s ' +
          'sampler, which draws images for the instrument, is not part of the script.',
        afterInit: 'both PixelCNNs start from the seed (the app\'s are not exported)',
        scaling: 'Each process\'s loss is the mean over its own views\' pixel values and DistributedDataParallel averages the ' +
          `gradients; batch norm takes its statistics over the global batch, ${oneProcess}.`,
      };
    case 'deepcluster':
      return {
        keeps: `DeepCluster keeps a pseudo-label for every training image (its row: the image's place in the sorted ImageFolder) ` +
          `and a ${s.cluster_count}-way linear head on h. Before the first step, and again after every ${s.cluster_every} steps, a ` +
          'k-means round as the app\'s: f encodes every training image in inference mode (running statistics), the features are ' +
          'whitened (ZCA, with the app\'s ridge) and ℓ2-normalized, and k-means (k-means++ seeds from the app\'s seeded stream, 20 ' +
          `Lloyd iterations, empty clusters refilled by splitting the largest; fitted on a sample of at most ${DEEPCLUSTER_FIT_MAX.toLocaleString('en-US')} images, every ` +
          'image then joining its nearest centroid) gives the labels; the head then starts afresh from the seed, with an Adam of ' +
          'its own. Each step, one view of each image; f and the head train on the cross-entropy against its label, each image ' +
          'weighted by 1 / the size of its cluster. g plays no part (it stays as it was).',
        afterInit: 'the first round clusters the loaded f\'s features, and the head starts from the seed (the app\'s labels and head are not exported)',
        scaling: 'Process 0 runs each k-means round over all training images and broadcasts the labels, so every process holds ' +
          'the same ones; each process\'s loss is over its own N views and DistributedDataParallel averages the gradients; batch ' +
          `norm takes its statistics over the global batch, ${oneProcess}.`,
      };
    case 'pirl':
      return {
        keeps: 'PIRL keeps a memory bank of one unit vector per training image (in the ImageFolder\'s sorted order), starting ' +
          'as the same random unit vectors as the app\'s for the seed, and a linear head, starting with the app\'s initial ' +
          'weights for the seed, that maps the nine features of a view\'s shuffled jigsaw tiles, side by side, to one ' +
          'embedding. The tiles\' jitter and each view\'s shuffle come from the app\'s seeded stream. Both the view\'s own ' +
          `embedding g(f(I)) and its tiles' embedding must pick the image's own entry among all entries (softmax at τ = ${s.temperature}); ` +
          `λ = ${s.pirl_lambda} weighs the tiles' term and 1 − λ the view's. After each step the image's entry becomes ` +
          `normalize(m · entry + (1 − m) · the view's unit embedding), m = ${s.bank_momentum}; the tiles' embedding is never written.`,
        afterInit: 'the bank starts as the random unit vectors of the seed and the tiles\' head from the seed (the app\'s bank and head are not exported)',
        scaling: 'Every process draws the jitter and shuffles of the K × N views of the step from the same seeded stream and ' +
          'cuts its own share, holds the whole bank and scores its own N views against it; DistributedDataParallel averages the ' +
          'gradients. The embeddings and image indices of all processes are gathered after each step and every process writes ' +
          `the K × N entries of the global batch, so the banks stay identical; batch norm takes its statistics over the global batch, ${oneProcess}.`,
      };
    case 'barlow-twins':
      return {
        keeps: `Barlow Twins keeps nothing beside f and g; λ = ${s.barlow_lambda}.`,
        scaling: 'The standardization of z and the cross-correlation C are over the global batch: their sums are all-reduced ' +
          'across processes (as the paper\'s implementation does), so every process computes the same loss, and batch norm ' +
          `takes its statistics over the global batch, ${oneProcess}.`,
      };
    default:
      return {
        keeps: `SimCLR keeps nothing beside f and g: its negatives are the other views of the batch (τ = ${s.temperature}, ` +
          `L2-normalized z: ${on(s.normalize)}).`,
        scaling: 'SimCLR\'s NT-Xent compares each process\'s 2 × N views with all 2 × K × N views gathered from every process ' +
          `(as SimCLR does at scale), and batch norm takes its statistics over the global batch, ${oneProcess}.`,
      };
  }
}

/** The README beside the script: when to move from the browser to PyTorch, how, and what matches the app. */
export function pytorchReadme(cfg: PytorchConfig, options: { withEncoder?: boolean } = {}): string {
  const label = METHOD_CATALOG[cfg.method].label;
  const n = cfg.batch_size;
  const init = options.withEncoder ? ' --init encoder.safetensors' : '';
  const operators = cfg.augmentation.filter((op) => op.enabled).map((op) => op.kind).join(' → ') || 'none';
  const source = cfg.data.source === 'upload' ? 'your uploaded images' : `the built-in ${cfg.data.source}`;
  const method = methodReadme(cfg);
  return [
    `# ${label} in PyTorch`,
    '',
    'The experiment from the Self-Supervised Playground as a PyTorch script:',
    '',
    '- the same encoder f and head g, and the same initial weights for the seed;',
    `- the same augmentations (${operators}) with the same settings;`,
    `- the same ${label}: its loss, its own parts started as the app starts them, the same updates after each step, and the same Adam;`,
    `- batch size ${n}, learning rate ${cfg.learning_rate}, seed ${cfg.seed}, ${cfg.steps} steps, ${cfg.view_size}×${cfg.view_size} views.`,
    '',
    ...wrap(method.keeps),
    '',
    "It runs on one CPU or GPU, and on several GPUs or machines with PyTorch's DistributedDataParallel.",
    '',
    '- `train.py`: the script (needs only torch, numpy and Pillow).',
    '- `config.json`: every setting above; edit it to change the run (`train.py` checks it and says what is wrong).',
    ...(options.withEncoder
      ? ['- `encoder.safetensors`: the weights the app had trained. `--init encoder.safetensors` starts from them instead of the',
        "  seed's initial weights and trains the config's steps more (`--steps` to choose); Adam's moments start afresh.",
        ...wrap(`It loads f and g only${method.afterInit ? `: ${method.afterInit}` : ''}.`, 113).map((line) => `  ${line}`)]
      : []),
    '',
    '## When to move from the browser to the script',
    '',
    ...wrap('The browser is for seeing: small runs on small images where every view, matrix and loss is on screen. Move to the ' +
      'script when the run outgrows the tab: a dataset of your own with tens of thousands of images or more, batches the ' +
      `browser runs out of memory for${cfg.method === 'simclr' ? ' (SimCLR wants large batches: its negatives are the batch)' : ''}, ` +
      'runs of hours, or a machine with one or more GPUs.'),
    '',
    '## How',
    '',
    '1. Install PyTorch (any recent version; tested with 1.13), numpy and Pillow: `pip install torch numpy pillow`',
    '   (Debian: `apt-get install python3-torch python3-numpy python3-pil`).',
    `2. Put the images in an ImageFolder directory: \`DIR/<class>/<image>.png\` or \`.jpg\` (labels are not used; images`,
    `   directly in \`DIR\` count too). Each is centre-cropped to a square and resized to ${cfg.data.image_size}×${cfg.data.image_size}`,
    `   ${cfg.data.channels === 1 ? 'grey' : 'RGB'} pixels, as the app does with uploads (the experiment ran on ${source}).`,
    '3. One process, on the GPU when there is one:',
    '',
    `       python train.py --config config.json --data DIR${init}`,
    '',
    '4. K GPUs on one machine:',
    '',
    `       torchrun --nproc_per_node=K train.py --config config.json --data DIR${init}`,
    '',
    '5. Several machines (M of them, K GPUs each; run on every machine, with its own --node_rank):',
    '',
    `       torchrun --nnodes=M --nproc_per_node=K --node_rank=0 --master_addr=HOST --master_port=29500 train.py --config config.json --data DIR${init}`,
    '',
    '`--steps STEPS` overrides the step count, `--out DIR` says where the trained weights go (default `trained/`),',
    '`--device cpu` keeps off the GPU. Each step prints one JSON line, `{"step": 1, "loss": …}`; at the end',
    '`trained/encoder.safetensors` holds f and g under the same names as the app\'s export, and a last line gives',
    'each process\'s digest of the whole method state (they must agree).',
    '',
    'Debian 12\'s python3-torch (1.13 on Python 3.11) has a torchrun bug that stops it at launch with',
    '`AttributeError: \'NoneType\' object has no attribute \'get\'`; give it `--redirects 2 --tee 2` (before',
    '`train.py`) and it runs.',
    '',
    '## Scaling out: what changes with K processes',
    '',
    ...wrap(`Each process takes N = ${n} images per step, so the global batch is K × ${n}. ${method.scaling} That is a different ` +
      `experiment from the app's batch of ${n}: to keep it, set \`batch_size\` to ${n} / K in config.json (the learning rate is ` +
      'not scaled for you).'),
    '',
    '## What matches the app, and what does not',
    '',
    '- The same: the architecture and its initial weights for the seed (the app\'s own generator), the pixel math of',
    `  every augmentation operator for given random choices, ${label}'s loss and its own parts' starting values for the`,
    '  seed, Adam (β1 0.9, β2 0.999, ε 1e-7, tfjs\'s values), batch norm (momentum 0.1, ε 1e-5).',
    '- Not the same: the random numbers of the data. Crops, jitter, noise and the batch order are drawn from the same',
    '  distributions with torch\'s generator instead of the app\'s, so a run matches the app\'s in distribution, not',
    '  image for image, and its losses are close rather than equal.',
    '',
  ].join('\n');
}

/**
 * The export's files: train.py, config.json (pytorchConfig), README.md, and
 * encoder.safetensors (the bytes given, unchanged) when the caller has a
 * trained encoder. Throws like pytorchConfig.
 */
export function pytorchExportFiles(
  config: ExperimentConfig,
  dataset: PytorchDatasetShape,
  options: { steps?: number; encoder?: Uint8Array } = {},
): PytorchExportFiles {
  const cfg = pytorchConfig(config, dataset, { steps: options.steps });
  const files: PytorchExportFiles = {
    'train.py': PYTORCH_TRAIN_SCRIPT,
    'config.json': `${JSON.stringify(cfg, null, 2)}\n`,
    'README.md': pytorchReadme(cfg, { withEncoder: options.encoder !== undefined }),
  };
  if (options.encoder) files['encoder.safetensors'] = options.encoder;
  return files;
}

/**
 * The export as one zip, its files in one folder (so unzipping puts nothing
 * loose beside the user's other files); train.py keeps its executable bit.
 */
export function pytorchExportZip(files: PytorchExportFiles, folder: string): Uint8Array {
  const safe = folder.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|-+$/g, '') || 'pytorch-export';
  const entries: Zippable = {};
  for (const [name, content] of Object.entries(files)) {
    if (content === undefined) continue;
    entries[`${safe}/${name}`] = [typeof content === 'string' ? strToU8(content) : content, name === 'train.py' ? { os: 3, attrs: 0o100755 << 16 } : {}];
  }
  return zipSync(entries);
}
