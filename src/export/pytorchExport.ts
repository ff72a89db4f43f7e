/**
 * "Export as PyTorch" (issue 21): the current experiment as a self-contained
 * `train.py`, the `config.json` it reads and a README, plus the trained
 * encoder's safetensors when there is one. The script (./pytorch/train.py,
 * kept as Python and imported as text) rebuilds f and g under the names of
 * encoderWeights.ts, the augmentation pipeline with the pixel math of
 * src/augment, the method's loss and Adam with tfjs's defaults, and scales out
 * under torchrun with DistributedDataParallel.
 *
 * Pure TypeScript, no tfjs: runs in the worker, on the page and in Node.
 */
import { strToU8, zipSync, type Zippable } from 'fflate';
import trainPy from './pytorch/train.py?raw';
import type { ExperimentConfig } from '../core/config';
import { BUILTIN_DATASETS } from '../core/datasets';
import { METHOD_CATALOG, type MethodId } from '../core/methods';
import { validatePipeline, type AugmentOperator } from '../core/pipeline';

/** The script, as the export writes it. */
export const PYTORCH_TRAIN_SCRIPT: string = trainPy;

/** Methods whose loss train.py implements (its METHODS dict); the others are refused by pytorchExportProblem. */
export const PYTORCH_EXPORT_METHODS: readonly MethodId[] = ['simclr'];

/** What config.json says it is; train.py refuses any other format or version. */
export const PYTORCH_CONFIG_FORMAT = 'ssl-playground-pytorch-config';
export const PYTORCH_CONFIG_VERSION = 1;

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
  loss: { temperature: number; normalize: boolean };
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
    ['temperature τ', config.temperature, positiveNumber],
  ];
  for (const [label, value, ok] of numbers) {
    if (!ok(value)) return `The ${label} (${String(value)}) cannot be exported: set a valid value first`;
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
 * rate, Adam's constants, the loss's τ and normalization, f and g's
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
    loss: { temperature: config.temperature, normalize: config.normalize },
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

/** The README beside the script: when to move from the browser to PyTorch, how, and what matches the app. */
export function pytorchReadme(cfg: PytorchConfig, options: { withEncoder?: boolean } = {}): string {
  const label = METHOD_CATALOG[cfg.method].label;
  const n = cfg.batch_size;
  const init = options.withEncoder ? ' --init encoder.safetensors' : '';
  const operators = cfg.augmentation.filter((op) => op.enabled).map((op) => op.kind).join(' → ') || 'none';
  const source = cfg.data.source === 'upload' ? 'your uploaded images' : `the built-in ${cfg.data.source}`;
  return [
    `# ${label} in PyTorch`,
    '',
    'The experiment from the Self-Supervised Playground as a PyTorch script:',
    '',
    '- the same encoder f and head g, and the same initial weights for the seed;',
    `- the same augmentations (${operators}) with the same settings;`,
    `- the same ${label} loss and the same Adam;`,
    `- batch size ${n}, learning rate ${cfg.learning_rate}, seed ${cfg.seed}, ${cfg.steps} steps, ${cfg.view_size}×${cfg.view_size} views.`,
    '',
    "It runs on one CPU or GPU, and on several GPUs or machines with PyTorch's DistributedDataParallel.",
    '',
    '- `train.py`: the script (needs only torch, numpy and Pillow).',
    '- `config.json`: every setting above; edit it to change the run (`train.py` checks it and says what is wrong).',
    ...(options.withEncoder
      ? ['- `encoder.safetensors`: the weights the app had trained. `--init encoder.safetensors` starts from them instead of the',
        "  seed's initial weights and trains the config's steps more (`--steps` to choose); Adam's moments start afresh."]
      : []),
    '',
    '## When to move from the browser to the script',
    '',
    'The browser is for seeing: small runs on small images where every view, matrix and loss is on screen. Move to the',
    'script when the run outgrows the tab: a dataset of your own with tens of thousands of images or more, batches the',
    'browser runs out of memory for (SimCLR wants large batches: its negatives are the batch), runs of hours, or a',
    'machine with one or more GPUs.',
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
    '`trained/encoder.safetensors` holds the weights under the same names as the app\'s export, and a last line gives',
    'each process\'s weight digest (they must agree).',
    '',
    'Debian 12\'s python3-torch (1.13 on Python 3.11) has a torchrun bug that stops it at launch with',
    '`AttributeError: \'NoneType\' object has no attribute \'get\'`; give it `--redirects 2 --tee 2` (before',
    '`train.py`) and it runs.',
    '',
    '## Scaling out: what changes with K processes',
    '',
    `Each process takes N = ${n} images per step, so the global batch is K × ${n}. ${label}'s NT-Xent compares each`,
    `process's 2 × ${n} views with all 2 × K × ${n} views gathered from every process (as SimCLR does at scale), and batch`,
    'norm takes its statistics over the global batch, so K processes train exactly as one process with a batch of',
    `K × ${n} would. That is a different experiment from the app's batch of ${n}: to keep it, set \`batch_size\` to`,
    `${n} / K in config.json (the learning rate is not scaled for you).`,
    '',
    '## What matches the app, and what does not',
    '',
    '- The same: the architecture and its initial weights for the seed (the app\'s own generator), the pixel math of',
    '  every augmentation operator for given random choices, the loss, Adam (β1 0.9, β2 0.999, ε 1e-7, tfjs\'s values),',
    '  batch norm (momentum 0.1, ε 1e-5).',
    '- Not the same: the random numbers. Crops, jitter, noise and the batch order are drawn from the same',
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
