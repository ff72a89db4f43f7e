/**
 * A training run's checkpoint (issue 21): everything a resumed run needs to
 * give the same losses as one never interrupted — the trainer's state (every
 * trained variable, the batch-norm running statistics, Adam's moments and
 * iteration count, the batch order and where in it the run is, the seeded
 * random stream that draws batches and augmentations, the method's own
 * state) — and the run's metrics history behind every chart.
 *
 * As a file it is one safetensors file (src/export/safetensors.ts), so any
 * safetensors reader can list what is inside:
 *
 *   variables.{i}            the trainer's variables: method.trainableVariables, then f's running statistics
 *   optimizer.moments.{i}    Adam's first moments, then its second moments (tfjs Optimizer.getWeights order)
 *   restarted.moments.{i}    the same for a method's restarted head (DeepCluster), when it has one
 *   order                    the epoch's shuffled batch order (int32)
 *   method.{name}            the method's own arrays (SslMethod.saveState)
 *   history                  the metrics history, UTF-8 JSON (U8)
 *
 * and in its metadata: format, version, the run's description (config,
 * dataset, step, method values) as JSON, and a CRC-32 of the tensor bytes so
 * a damaged or edited file is refused rather than resumed into wrong numbers.
 */
import { CONFIG_KEYS, configFromSearch, configToSearch, sameSetting, type ExperimentConfig } from '../core/config';
import { crc32 } from '../data/upload/zip';
import { decodeSafetensors, encodeSafetensors, SafetensorsError, type NamedTensor } from '../export/safetensors';
import type { MethodState, StateArray } from '../methods/method';
import type { KnnPoint, ProbePoint, StepMetrics } from './protocol';

export const CHECKPOINT_FORMAT = 'ssl-playground-checkpoint';
export const CHECKPOINT_VERSION = 1;
/** The file name's extension: a safetensors file, named so a user can tell it from an exported encoder. */
export const CHECKPOINT_EXTENSION = '.ckpt.safetensors';

/** What the checkpoint's run trained on: a resumed run must see the same images. */
export interface CheckpointDataset {
  id: string;
  name: string;
  trainCount: number;
  testCount: number;
  imageSize: number;
  channels: number;
  classCount: number;
}

/** Adam's state: its iteration count and its moment estimates (first moments, then second). */
export interface OptimizerState {
  iterations: number;
  moments: StateArray[];
}

/** The Trainer's state (Trainer.saveCheckpoint / Trainer.loadCheckpoint). */
export interface TrainerState {
  config: ExperimentConfig;
  dataset: CheckpointDataset;
  step: number;
  /** the trainer's mulberry32 state (batches and augmentations) */
  rngState: number;
  order: Int32Array;
  cursor: number;
  /** method.trainableVariables, then the encoder's batch-norm running statistics */
  variables: StateArray[];
  optimizer: OptimizerState;
  /** a method's restarted head's own Adam (DeepCluster), and which restart it belongs to */
  restarted: (OptimizerState & { restartsSeen: number }) | null;
  method: MethodState;
}

/** The metrics behind every chart of the main run (what runStore holds of a run). */
export interface RunHistory {
  steps: StepMetrics[];
  probes: ProbePoint[];
  randomInitBaseline: ProbePoint | null;
  rawPixelBaseline: ProbePoint | null;
  knn: KnnPoint[];
  knnRandomInit: KnnPoint | null;
  knnRawPixels: KnnPoint | null;
  restarts: { step: number; reason: string }[];
}

export const EMPTY_HISTORY: RunHistory = {
  steps: [], probes: [], randomInitBaseline: null, rawPixelBaseline: null, knn: [], knnRandomInit: null, knnRawPixels: null, restarts: [],
};

export type CheckpointReason = 'pause' | 'autosave' | 'unload' | 'manual';

export interface Checkpoint {
  trainer: TrainerState;
  history: RunHistory;
  /** ISO time */
  savedAt: string;
  reason: CheckpointReason;
}

/** Thrown by decodeCheckpointFile; the message is for the user. */
export class CheckpointError extends Error {}

const DTYPE_TO_SAFETENSORS = { float32: 'F32', int32: 'I32', uint8: 'U8' } as const;
const SAFETENSORS_TO_DTYPE = { F32: 'float32', I32: 'int32', U8: 'uint8' } as const;

const named = (name: string, a: StateArray): NamedTensor => ({ name, dtype: DTYPE_TO_SAFETENSORS[a.dtype], shape: a.shape, data: a.data });

/** The CRC-32 of every tensor's name and bytes, in file order: what `checksum` in the metadata holds. */
function tensorChecksum(tensors: readonly NamedTensor[]): string {
  const parts: Uint8Array[] = [];
  const encoder = new TextEncoder();
  for (const t of tensors) {
    parts.push(encoder.encode(t.name));
    parts.push(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  const total = parts.reduce((n, p) => n + p.length, 0);
  const all = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return crc32(all).toString(16).padStart(8, '0');
}

/** The run's description in the metadata: everything but the arrays. */
interface CheckpointDescription {
  config: ExperimentConfig;
  dataset: CheckpointDataset;
  step: number;
  rngState: number;
  cursor: number;
  variableCount: number;
  optimizer: { iterations: number; moments: number };
  restarted: { iterations: number; moments: number; restartsSeen: number } | null;
  methodArrays: string[];
  methodValues: MethodState['values'];
  savedAt: string;
  reason: CheckpointReason;
}

/**
 * A checkpoint's config is user input (a file): read it through the same
 * checks as a link (configFromSearch), and refuse it, with the first problem,
 * unless every setting is one this app accepts.
 */
export function checkCheckpointConfig(raw: unknown): ExperimentConfig {
  if (!isObject(raw)) throw new CheckpointError('This checkpoint holds no config.');
  const missing = CONFIG_KEYS.filter((key) => !(key in raw));
  if (missing.length > 0) throw new CheckpointError(`This checkpoint’s config lacks ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? '…' : ''}: it was saved by another version.`);
  let parsed: { config: ExperimentConfig; warnings: string[] };
  try {
    parsed = configFromSearch(configToSearch(raw as unknown as ExperimentConfig));
  } catch {
    throw new CheckpointError('This checkpoint’s config has values of the wrong kind.');
  }
  if (parsed.warnings.length > 0) throw new CheckpointError(`This checkpoint’s config has a value this app refuses: ${parsed.warnings[0]}`);
  const differing = CONFIG_KEYS.find((key) => !sameSetting(key, parsed.config[key], (raw as unknown as ExperimentConfig)[key]));
  if (differing) throw new CheckpointError(`This checkpoint’s config has a value this app refuses: ${differing}.`);
  return parsed.config;
}

/** The checkpoint as one safetensors file. */
export function encodeCheckpointFile(checkpoint: Checkpoint): Uint8Array {
  const { trainer } = checkpoint;
  const tensors: NamedTensor[] = [];
  trainer.variables.forEach((a, i) => tensors.push(named(`variables.${i}`, a)));
  trainer.optimizer.moments.forEach((a, i) => tensors.push(named(`optimizer.moments.${i}`, a)));
  trainer.restarted?.moments.forEach((a, i) => tensors.push(named(`restarted.moments.${i}`, a)));
  tensors.push({ name: 'order', dtype: 'I32', shape: [trainer.order.length], data: trainer.order });
  const methodArrays = Object.keys(trainer.method.arrays);
  for (const key of methodArrays) tensors.push(named(`method.${key}`, trainer.method.arrays[key]));
  const history = new TextEncoder().encode(JSON.stringify(checkpoint.history));
  tensors.push({ name: 'history', dtype: 'U8', shape: [history.length], data: history });
  const description: CheckpointDescription = {
    config: trainer.config,
    dataset: trainer.dataset,
    step: trainer.step,
    rngState: trainer.rngState,
    cursor: trainer.cursor,
    variableCount: trainer.variables.length,
    optimizer: { iterations: trainer.optimizer.iterations, moments: trainer.optimizer.moments.length },
    restarted: trainer.restarted && { iterations: trainer.restarted.iterations, moments: trainer.restarted.moments.length, restartsSeen: trainer.restarted.restartsSeen },
    methodArrays,
    methodValues: trainer.method.values,
    savedAt: checkpoint.savedAt,
    reason: checkpoint.reason,
  };
  return encodeSafetensors(tensors, {
    format: CHECKPOINT_FORMAT,
    version: String(CHECKPOINT_VERSION),
    method: trainer.config.method,
    step: String(trainer.step),
    dataset: trainer.dataset.name,
    checkpoint: JSON.stringify(description),
    checksum: tensorChecksum(tensors),
  });
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/**
 * Reads a checkpoint file, refusing (CheckpointError, with what is wrong in a
 * user's words) anything that is not a whole, unedited checkpoint of this
 * version: not safetensors, another format or version, truncated, a checksum
 * that does not match, entries missing. Whether it fits the dataset and
 * architecture in use is checked when it is loaded (Trainer.loadCheckpoint).
 */
export function decodeCheckpointFile(bytes: Uint8Array): Checkpoint {
  let file: ReturnType<typeof decodeSafetensors>;
  try {
    file = decodeSafetensors(bytes);
  } catch (error) {
    const reason = error instanceof SafetensorsError ? error.message : String(error);
    throw new CheckpointError(`This file is not a checkpoint of this app: ${reason}`);
  }
  const { metadata } = file;
  if (metadata.format !== CHECKPOINT_FORMAT) {
    throw new CheckpointError(metadata.format === 'ssl-playground-encoder'
      ? 'This file is an exported encoder (weights only), not a checkpoint: it has no optimizer state or history to resume from.'
      : 'This safetensors file is not a checkpoint of this app (its metadata does not say format: ssl-playground-checkpoint).');
  }
  if (metadata.version !== String(CHECKPOINT_VERSION)) {
    throw new CheckpointError(`This checkpoint is version ${JSON.stringify(metadata.version ?? '(none)').slice(0, 40)}; this app reads version ${CHECKPOINT_VERSION}.`);
  }
  if (metadata.checksum !== tensorChecksum(file.tensors)) {
    throw new CheckpointError('This checkpoint is damaged or was edited: its contents do not match the checksum it was saved with.');
  }
  let description: CheckpointDescription;
  try {
    description = JSON.parse(metadata.checkpoint ?? '');
  } catch {
    throw new CheckpointError('This checkpoint’s description is not valid JSON.');
  }
  if (!isObject(description) || !isObject(description.config) || !isObject(description.dataset) || !isCount(description.step)
    || !isCount(description.rngState) || !isCount(description.cursor) || !isCount(description.variableCount)
    || !isObject(description.optimizer) || !Array.isArray(description.methodArrays) || !isObject(description.methodValues)) {
    throw new CheckpointError('This checkpoint’s description lacks entries this app needs (config, dataset, step, optimizer).');
  }
  const byName = new Map(file.tensors.map((t) => [t.name, t]));
  const take = (name: string): StateArray => {
    const t = byName.get(name);
    if (!t) throw new CheckpointError(`This checkpoint lacks the tensor “${name}”.`);
    return { dtype: SAFETENSORS_TO_DTYPE[t.dtype], shape: t.shape, data: t.data };
  };
  const list = (prefix: string, count: unknown) => {
    if (!isCount(count)) throw new CheckpointError(`This checkpoint’s description gives no count for ${prefix}.`);
    return Array.from({ length: count }, (_, i) => take(`${prefix}.${i}`));
  };
  const order = take('order');
  if (order.dtype !== 'int32') throw new CheckpointError('This checkpoint’s batch order is not int32.');
  const historyBytes = take('history');
  let history: RunHistory;
  try {
    history = { ...EMPTY_HISTORY, ...JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(historyBytes.data)) };
  } catch {
    throw new CheckpointError('This checkpoint’s metrics history is not valid JSON.');
  }
  if (!Array.isArray(history.steps) || !Array.isArray(history.probes) || !Array.isArray(history.knn)) {
    throw new CheckpointError('This checkpoint’s metrics history lacks its steps, probes or kNN points.');
  }
  const arrays: Record<string, StateArray> = {};
  for (const key of description.methodArrays) {
    if (typeof key !== 'string') throw new CheckpointError('This checkpoint names a method array that is not text.');
    arrays[key] = take(`method.${key}`);
  }
  const restarted = description.restarted;
  const config = checkCheckpointConfig(description.config);
  return {
    trainer: {
      config,
      dataset: description.dataset,
      step: description.step,
      rngState: description.rngState,
      order: order.data as Int32Array,
      cursor: description.cursor,
      variables: list('variables', description.variableCount),
      optimizer: { iterations: Number(description.optimizer.iterations), moments: list('optimizer.moments', description.optimizer.moments) },
      restarted: restarted ? {
        iterations: Number(restarted.iterations), restartsSeen: Number(restarted.restartsSeen), moments: list('restarted.moments', restarted.moments),
      } : null,
      method: { arrays, values: description.methodValues },
    },
    history,
    savedAt: String(description.savedAt ?? ''),
    reason: (['pause', 'autosave', 'unload', 'manual'] as const).find((r) => r === description.reason) ?? 'manual',
  };
}

/** Bytes a checkpoint takes (its arrays), for the list and the quota message. */
export function checkpointBytes(trainer: TrainerState): number {
  const arrays = [...trainer.variables, ...trainer.optimizer.moments, ...(trainer.restarted?.moments ?? []), ...Object.values(trainer.method.arrays)];
  return arrays.reduce((n, a) => n + a.data.byteLength, 0) + trainer.order.byteLength;
}
