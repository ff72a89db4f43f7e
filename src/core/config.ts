/**
 * The experiment config, declared once. Each setting's declaration gives its
 * default, its limits, how it is validated, how it appears in the URL and
 * whether changing it needs a fresh encoder (a reset). The UI, the URL codec
 * and the worker all read this one table (cf. tensorflow/playground's state.ts).
 */

import { BUILTIN_DATASETS, isDatasetId } from './datasets';
import { clipText, decimalValue, num, quote, type FieldSpec, type NumberField } from './fields';
export type { FieldSpec, NumberField } from './fields';
import { METHOD_CATALOG, METHOD_FIELD, METHOD_SETTING_DEFAULTS, METHOD_SETTING_FIELDS, type MethodId, type MethodSettings } from './methods';
import {
  pipelineFromParam, pipelinesEqual, pipelineToParam, simclrPipeline, type AugmentPipeline,
} from './pipeline';

export type ProjectionHeadKind = 'none' | 'linear' | 'mlp';
export type BackendPreference = 'auto' | 'webgpu' | 'webgl' | 'cpu';

export interface ExperimentConfig extends MethodSettings {
  /** the self-supervised method (src/core/methods.ts) */
  method: MethodId;
  dataset: string;
  seed: number;
  backend: BackendPreference;
  // model
  imageSize: number;
  encoderWidth: number;
  projectionHead: ProjectionHeadKind;
  projectionDim: number;
  /** on webgpu, the encoder f's conv, batch norm + ReLU and pooling through the project's WGSL kernels (src/model/kernels) rather than tfjs's stock ones */
  fusedEncoder: boolean;
  // loss & optimizer
  batchSize: number;
  temperature: number;
  normalize: boolean;
  /** on webgpu, NT-Xent through the fused WGSL kernels (src/loss/ntxent-fused.ts) rather than composed tfjs ops */
  fusedLoss: boolean;
  learningRate: number;
  // augmentation: the ordered operator list t ~ T
  augmentation: AugmentPipeline;
  // linear probe
  probeEvery: number;
  probeTrainSize: number;
  probeTestSize: number;
  probeEpochs: number;
  // kNN monitor
  knnEvery: number;
  knnK: number;
  knnTemperature: number;
}

export const CONFIG_SCHEMA: { [K in keyof ExperimentConfig]: FieldSpec } = {
  method: METHOD_FIELD,
  dataset: { kind: 'dataset', url: 'data', label: 'Dataset', help: 'Images the encoder learns from.', needsReset: true },
  seed: num('seed', 'Seed', 'Seeds weights, batch order and augmentations: same seed, same run.', 0, 2 ** 31 - 1, { integer: true, needsReset: true }),
  backend: {
    kind: 'enum', url: 'backend', label: 'Compute backend', needsReset: true,
    help: 'auto tries WebGPU, then WebGL, then CPU.',
    options: [
      { value: 'auto', label: 'auto' }, { value: 'webgpu', label: 'webgpu' },
      { value: 'webgl', label: 'webgl' }, { value: 'cpu', label: 'cpu' },
    ],
  },
  imageSize: num('size', 'View size (px)', 'Side of each augmented view fed to the encoder.', 8, 64, { integer: true, needsReset: true }),
  encoderWidth: num('width', 'Encoder width', 'Channels of the first conv block; the four blocks have w, 2w, 4w, 8w channels and h has 8w dimensions.', 2, 64, { integer: true, needsReset: true }),
  projectionHead: {
    kind: 'enum', url: 'head', label: 'Projection head g', needsReset: true,
    help: 'z = g(h). SimCLR found an MLP head gives a better h than a linear head or none.',
    options: [
      { value: 'mlp', label: 'MLP (one hidden ReLU layer)' },
      { value: 'linear', label: 'linear' },
      { value: 'none', label: 'none (z = h)' },
    ],
  },
  projectionDim: num('zdim', 'z dimensions', 'Output size of the projection head.', 2, 512, { integer: true, needsReset: true }),
  fusedEncoder: {
    kind: 'boolean', url: 'fusedf', label: 'Fused WebGPU encoder kernels', needsReset: false,
    help: 'On webgpu: the encoder’s 3×3 convolutions (forward and both gradients), batch norm with ReLU and the pooling in purpose-built WGSL kernels. Off: tfjs’s stock kernels, for comparison. Same weights, same numbers within float32 rounding; other backends always use the stock kernels.',
  },
  batchSize: num('batch', 'Batch size N', 'Images per batch; each gives two views, so the affinity matrix is 2N×2N.', 2, 512, { integer: true }),
  temperature: num('tau', 'Temperature τ', 'Divides the similarities before the softmax: small τ sharpens it.', 0, 100, { minExclusive: true, step: 0.05 }),
  normalize: { kind: 'boolean', url: 'l2', label: 'L2-normalize z', help: 'Cosine similarity when on, raw dot product when off.', needsReset: false },
  fusedLoss: {
    kind: 'boolean', url: 'fused', label: 'Fused WebGPU loss kernels', needsReset: false,
    help: 'On webgpu: NT-Xent and its gradient in purpose-built WGSL kernels, one pass over the 2N×2N matrix. Off: the same loss composed of generic tfjs ops, for comparison. Other backends always compose ops.',
  },
  learningRate: num('lr', 'Learning rate', 'Adam step size.', 0, 1, { minExclusive: true, step: 0.0001 }),
  augmentation: {
    kind: 'pipeline', url: 'aug', label: 'Augmentations', needsReset: false,
    help: 'The ordered list of random operators that make the two views of each image.',
  },
  probeEvery: num('probeEvery', 'Probe every K steps', 'Run the linear probe every K steps while training (0: only on demand).', 0, 100000, { integer: true }),
  probeTrainSize: num('probeTrain', 'Probe train images', 'Labelled training images the probe and kNN are fitted on (the reference uses 10,000).', 50, 60000, { integer: true }),
  probeTestSize: num('probeTest', 'Probe test images', 'Test images the probe accuracy is measured on.', 50, 2000, { integer: true }),
  probeEpochs: num('probeIters', 'Probe iterations', 'Full-batch Adam iterations of the logistic regression (step size decays to 0, so it settles; the chart reports the final gradient norm).', 10, 5000, { integer: true }),
  knnEvery: num('knnEvery', 'kNN every K steps', 'Weighted kNN accuracy on h every K steps while training (0: only with the probe).', 0, 100000, { integer: true }),
  knnK: num('knnK', 'kNN neighbours k', 'Training images that vote for each test image.', 1, 200, { integer: true }),
  knnTemperature: num('knnTau', 'kNN temperature', 'Each neighbour votes with weight exp(s/τ): small τ lets the nearest decide.', 0, 10, { minExclusive: true, step: 0.01 }),
  ...METHOD_SETTING_FIELDS,
};

export const DEFAULT_CONFIG: ExperimentConfig = {
  method: 'simclr',
  dataset: 'fashion-mnist',
  seed: 1,
  backend: 'auto',
  imageSize: 28,
  encoderWidth: 32,
  projectionHead: 'mlp',
  projectionDim: 128,
  fusedEncoder: true,
  batchSize: 256,
  temperature: 0.5,
  normalize: true,
  fusedLoss: true,
  learningRate: 0.001,
  augmentation: simclrPipeline(),
  probeEvery: 50,
  probeTrainSize: 10000,
  probeTestSize: 2000,
  probeEpochs: 300,
  knnEvery: 25,
  knnK: 20,
  knnTemperature: 0.07,
  ...METHOD_SETTING_DEFAULTS,
};

export const CONFIG_KEYS = Object.keys(CONFIG_SCHEMA) as (keyof ExperimentConfig)[];

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

function describeRange(spec: NumberField): string {
  const lo = spec.minExclusive ? `greater than ${spec.min}` : `at least ${spec.min}`;
  const hi = spec.maxExclusive ? `less than ${spec.max}` : `at most ${spec.max}`;
  return `${spec.integer ? 'a whole number' : 'a number'} ${lo} and ${hi}`;
}

/**
 * A plain decimal number: optional sign, digits, optional fraction, optional
 * exponent (`0.5`, `-3`, `1e-3`, `.5`). Not `0x1`, `0b1`, `0o1`, `Infinity`
 * or `NaN`, all of which `Number()` would take.
 */
const DECIMAL_RE = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i;

/** Most pipeline problems one message lists; the rest are counted. */
const PIPELINE_ERRORS_SHOWN = 1;

/** Parses one setting from user text (an input box or a URL parameter). */
export function parseField<K extends keyof ExperimentConfig>(key: K, raw: string): ParseResult<ExperimentConfig[K]> {
  const spec = CONFIG_SCHEMA[key];
  const text = raw.trim();
  switch (spec.kind) {
    case 'number': {
      if (text === '') return { ok: false, error: `${spec.label} is empty: enter ${describeRange(spec)}.` };
      if (!DECIMAL_RE.test(text)) return { ok: false, error: `${spec.label} must be ${describeRange(spec)}; ${quote(raw)} is not a number.` };
      const value = decimalValue(text);
      if (typeof value === 'string') return { ok: false, error: `${spec.label} must be ${describeRange(spec)}; ${quote(text)} ${value}.` };
      const tooLow = spec.minExclusive ? value <= spec.min : value < spec.min;
      const tooHigh = spec.maxExclusive ? value >= spec.max : value > spec.max;
      if (tooLow || tooHigh || (spec.integer && !Number.isInteger(value))) {
        return { ok: false, error: `${spec.label} must be ${describeRange(spec)}; got ${clipText(text)}.` };
      }
      return { ok: true, value: value as ExperimentConfig[K] };
    }
    case 'boolean': {
      if (['1', 'true', 'on', 'yes'].includes(text.toLowerCase())) return { ok: true, value: true as ExperimentConfig[K] };
      if (['0', 'false', 'off', 'no'].includes(text.toLowerCase())) return { ok: true, value: false as ExperimentConfig[K] };
      return { ok: false, error: `${spec.label} must be on or off; got ${quote(raw)}.` };
    }
    case 'enum': {
      if (spec.options.some((o) => o.value === text)) return { ok: true, value: text as ExperimentConfig[K] };
      return { ok: false, error: `${spec.label} must be one of ${spec.options.map((o) => o.value).join(', ')}; got ${quote(raw)}.` };
    }
    case 'dataset': {
      if (isDatasetId(text)) return { ok: true, value: text as ExperimentConfig[K] };
      return { ok: false, error: `${spec.label} must be a built-in dataset (${BUILTIN_DATASETS.map((d) => d.id).join(', ')}) or upload:<id>; got ${quote(raw)}.` };
    }
    case 'pipeline': {
      const parsed = pipelineFromParam(text);
      if (parsed.pipeline) return { ok: true, value: parsed.pipeline as ExperimentConfig[K] };
      const more = parsed.errors.length - PIPELINE_ERRORS_SHOWN;
      const rest = more > 0 ? ` (and ${more} more problem${more === 1 ? '' : 's'})` : '';
      return { ok: false, error: `${spec.label}: ${parsed.errors.slice(0, PIPELINE_ERRORS_SHOWN).join(' ')}${rest}` };
    }
  }
}

/** Equality per setting (the pipeline is compared by value). */
export function sameSetting<K extends keyof ExperimentConfig>(key: K, a: ExperimentConfig[K], b: ExperimentConfig[K]): boolean {
  return CONFIG_SCHEMA[key].kind === 'pipeline'
    ? pipelinesEqual(a as AugmentPipeline, b as AugmentPipeline)
    : a === b;
}

function formatField(key: keyof ExperimentConfig, value: ExperimentConfig[keyof ExperimentConfig]): string {
  const kind = CONFIG_SCHEMA[key].kind;
  if (kind === 'boolean') return value ? '1' : '0';
  if (kind === 'pipeline') return pipelineToParam(value as AugmentPipeline);
  return String(value);
}

/** URL query string holding the settings that differ from the defaults. */
export function configToSearch(config: ExperimentConfig): string {
  const params = new URLSearchParams();
  // a setting equal to its method's default is left out: `?method=moco` alone means MoCo's τ 0.2
  const defaults = { ...withMethodDefaults({ ...DEFAULT_CONFIG, method: config.method }), method: DEFAULT_CONFIG.method };
  for (const key of CONFIG_KEYS) {
    if (!sameSetting(key, config[key], defaults[key])) params.set(CONFIG_SCHEMA[key].url, formatField(key, config[key]));
  }
  const s = params.toString();
  return s ? `?${s}` : '';
}

/** Longest warning, in characters: one line in the banner, whatever the link holds. */
export const WARNING_MAX = 280;
/** Most warnings listed for one link; the rest are counted in the last line. */
export const WARNINGS_MAX = 20;

/**
 * Reads a config from a query string: good parameters are applied, bad or
 * unknown ones are reported and ignored. Settings the URL leaves out take the
 * chosen method's defaults (`?method=moco` gives τ 0.2), as picking the method
 * in the menu does.
 *
 * A link is held to the form `configToSearch` writes, and is read as data
 * only (never an object key, never HTML):
 * - a key given more than once: its last value is used (a link edited by
 *   appending `&tau=0.1` means the new value), and a warning says so;
 * - numbers are plain decimals (`0.5`, `-3`, `1e-3`, `.5`); `0x1`, `Infinity`,
 *   `1e400` or `1e-400` are refused, and so is a value with spaces around it;
 * - every warning is one line of at most WARNING_MAX characters, quoting user
 *   text cut short with control characters escaped (`quote`), and there are
 *   at most WARNINGS_MAX of them.
 */
export function configFromSearch(search: string): { config: ExperimentConfig; warnings: string[] } {
  const params = new URLSearchParams(search);
  const config: ExperimentConfig = { ...DEFAULT_CONFIG };
  const given = new Set<keyof ExperimentConfig>();
  // each warning is finished once the method, and so each setting's default, is known
  const notes: (() => string)[] = [];
  const byUrl = new Map(CONFIG_KEYS.map((k) => [CONFIG_SCHEMA[k].url, k] as const));
  // a Map, not an object: a key such as `__proto__` is just a string here
  const valuesByName = new Map<string, string[]>();
  for (const [name, raw] of params) {
    const values = valuesByName.get(name);
    if (values) values.push(raw);
    else valuesByName.set(name, [raw]);
  }
  for (const [name, values] of valuesByName) {
    const key = byUrl.get(name);
    if (!key) {
      notes.push(() => `Unknown parameter ${quote(name)} ignored.`);
      continue;
    }
    // the last value wins: a link edited by appending `&tau=0.1` means the new value
    const raw = values[values.length - 1];
    if (values.length > 1) notes.push(() => `${quote(name)} is given ${values.length} times; the last value, ${quote(raw)}, is used.`);
    const parsed: ParseResult<unknown> = raw !== raw.trim()
      ? { ok: false, error: `${CONFIG_SCHEMA[key].label}: ${quote(raw)} has spaces around it.` }
      : parseField(key, raw);
    if (parsed.ok) {
      (config as unknown as Record<string, unknown>)[key] = parsed.value;
      given.add(key);
    } else {
      notes.push(() => {
        const fallback = key === 'method' ? DEFAULT_CONFIG : withMethodDefaults({ ...DEFAULT_CONFIG, method: config.method });
        return `${parsed.error} Using the default${CONFIG_SCHEMA[key].kind === 'pipeline' ? '' : `, ${formatField(key, fallback[key])}`}.`;
      });
    }
  }
  for (const [key, value] of Object.entries(METHOD_CATALOG[config.method].defaults)) {
    if (!given.has(key as keyof ExperimentConfig)) (config as unknown as Record<string, unknown>)[key] = value;
  }
  return { config, warnings: boundWarnings(notes.map((note) => note())) };
}

/** One short line each (a last safety net behind `quote`), no repeats, and not too many. */
function boundWarnings(all: string[]): string[] {
  const warnings = [...new Set(all.map((w) => clipText(w, WARNING_MAX - 1, false)))];
  if (warnings.length <= WARNINGS_MAX) return warnings;
  const more = warnings.length - (WARNINGS_MAX - 1);
  return [...warnings.slice(0, WARNINGS_MAX - 1), `…and ${more} more problems with the link, also ignored.`];
}

/** Settings whose change since `applied` needs a reset to take effect. */
export function pendingResetFields(applied: ExperimentConfig, current: ExperimentConfig): (keyof ExperimentConfig)[] {
  return CONFIG_KEYS.filter((k) => CONFIG_SCHEMA[k].needsReset && !sameSetting(k, applied[k], current[k]));
}

/**
 * The config with its method's own defaults applied (MoCo's τ 0.2, the memory
 * bank's τ 0.07, SimCLR's 0.5), as when a user picks the method; the
 * comparison preset "methods" builds its runs the same way.
 */
export function withMethodDefaults(config: ExperimentConfig): ExperimentConfig {
  return { ...config, ...METHOD_CATALOG[config.method].defaults };
}
