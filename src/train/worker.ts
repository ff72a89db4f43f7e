/// <reference lib="webworker" />
/**
 * The training worker: owns tfjs, the dataset on the device, the encoder and
 * its optimizer. Every request runs on one serial queue, so a step, a probe
 * and a reset never interleave; the loop yields between steps so pause and
 * configure messages are read promptly.
 */
import { renderPreview } from '../augment/previewViews';
import { createRng } from '../core/random';
import { classCounts, type ImageDataset } from '../data/dataset';
import { loadDataset as loadStoredDataset } from '../data/datasetDb';
import { loadBuiltinDataset } from '../data/fashionMnist';
import { SYNTHETIC_SHAPES_ID, UPLOAD_PREFIX } from '../core/datasets';
import { generateSyntheticShapes } from '../data/syntheticShapes';
import { withMethodDefaults, type ExperimentConfig } from '../core/config';
import { METHOD_CATALOG, methodUnfitReason, type MethodId } from '../core/methods';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from './backend';
import { deviceMemoryLimits } from './deviceLimits';
import { estimateTrainingMemory, memoryRefusal } from '../model/memoryEstimate';
import { cpuEmulatorName } from '../core/device';
import { setEvaluationDevicePolicy } from '../eval/devicePolicy';
import { explainFailure, isDeviceLost } from './failure';
import { CancelledError, clearEvaluationCaches, computeEmbedding, findNeighbours, runLabelEfficiency, splitFeatures } from './evaluations';
import { assertNever, type Activity, type BackendName, type ErrorSource, type FromWorker, type ProbeKind, type RunStatus, type ToWorker } from './protocol';
import { Trainer } from './trainer';
import type { TrainerState } from './checkpoint';
import { runWalkthrough } from './walkthrough';
import { GeneratorSession } from './generatorSession';
import { encoderSafetensors } from '../export/encoderWeights';
import { encoderOnnx } from '../export/onnx';
import { imageFolderZip } from '../export/imageFolder';
import { buildMixedDataset } from './mixDataset';
import { isMixedDataset, trainRowOrigin } from '../data/generatedMix';
import { loadGenerator, saveGenerator, type StoredGeneratorInfo } from '../data/generatorDb';
import type { GeneratorState, MixRequest } from './protocol';

declare const self: DedicatedWorkerGlobalScope;

/** Gallery: up to this many training images per class (or in all, for an unlabelled set). */
const GALLERY_PER_CLASS = 8;
const GALLERY_UNLABELLED = 48;
/** Gallery of a set X ∪ Z: this many of the generated images besides the real ones. */
const GALLERY_GENERATED = 32;

let baseUrl = '';
let dataset: ImageDataset | null = null;
let trainer: Trainer | null = null;
let config: ExperimentConfig | null = null;
let backendPreference: string | null = null;
let activeBackend: BackendName | null = null;
let deviceIsCpuEmulation = false;
/** set when the WebGPU device is gone: nothing more runs on it (the page starts a new worker for a new device) */
let deviceLost: string | null = null;
/** the first GPU error no operation caught since the encoder was built (WebGPU's uncapturederror) */
let gpuError: string | null = null;
/** a test asked for a fault (inject-fault): a destroyed device is then reported, not taken for our own dispose */
let faultInjected = false;
let throwMidStep = false;
let running = false;
/** the settings the baselines (random-init encoder, raw pixels) of the probe and of kNN were measured with; measured again when these change */
const baselineKeys: { probe: string | null; knn: string | null } = { probe: null, knn: null };
/** the label-efficiency run in progress, and whether the user cancelled it */
let labelEfficiencyRun: { requestId: number; cancelled: boolean } | null = null;
/** a 'start' with untilStep pauses once the encoder has taken this many steps */
let stopAtStep: number | null = null;
let queue: Promise<void> = Promise.resolve();
/** the dataset being trained on, or on its way; a preview waits for it */
let currentDataset: Promise<ImageDataset> = new Promise(() => {});
/** built-in datasets are kept once made: switching back is instant */
const builtins = new Map<string, ImageDataset>();
/** uploads the browser would not store, handed over by the page ('provide-dataset'): this visit only, by dataset id; and the latest sets X ∪ Z ('mix-dataset') */
const provided = new Map<string, ImageDataset>();
/** the name of the real dataset each mixed set in `provided` was made from */
const mixSourceNames = new Map<string, string>();
/** the generative model trained or loaded last (issue 19), its id once saved, and the training request in progress */
let generator: GeneratorSession | null = null;
let generatorSavedId: string | null = null;
let generatorRun: { requestId: number; cancelled: boolean } | null = null;

function post(message: FromWorker, transfer: Transferable[] = []): void {
  self.postMessage(message, transfer);
}

function setStatus(status: RunStatus): void {
  post({ type: 'status', status });
}

/** Progress within one activity is posted at most this often; a new activity or its end at once. */
const ACTIVITY_INTERVAL_MS = 250;
let activityLabel: string | null = null;
let activityPostedAt = 0;

/** The progress line's message: what the worker is busy with (null: nothing beyond training step after step). */
function setActivity(activity: Activity | null): void {
  const label = activity?.label ?? null;
  const now = performance.now();
  if (label === activityLabel && (label === null || now - activityPostedAt < ACTIVITY_INTERVAL_MS)) return;
  activityLabel = label;
  activityPostedAt = now;
  post({ type: 'activity', activity });
}

/** Raised by Pause and Reset (evaluationEpoch moves on), read at every progress report of an evaluation. */
let evaluationEpoch = 0;

/** Pause and Reset interrupt whatever evaluation is running: the probe and kNN at their next progress report, a label-efficiency run at its next row. */
function interruptEvaluations(): void {
  evaluationEpoch += 1;
  if (labelEfficiencyRun) labelEfficiencyRun.cancelled = true;
}

/**
 * An evaluation's progress callback, posting `what: phase` with its counts;
 * it throws CancelledError once Pause or Reset has come in since it began.
 */
function evaluationProgress(what: string, detail?: string) {
  const epoch = evaluationEpoch;
  return (phase: string, done: number, total: number) => {
    if (evaluationEpoch !== epoch) throw new CancelledError('interrupted by Pause or Reset');
    setActivity({ label: `${what}: ${phase}`, detail, done, total });
  };
}

function enqueue(task: () => Promise<void>, source: ErrorSource = 'training'): void {
  queue = queue.then(task).catch((error: unknown) => fail(error, source)).finally(() => setActivity(null));
}

function fail(error: unknown, source: ErrorSource): void {
  running = false;
  const message = error instanceof Error ? error.message : String(error);
  // found lost by an operation before the browser's event: the event then says no more
  if (!deviceLost && activeBackend === 'webgl' && webglContext()?.isContextLost()) {
    deviceLost = 'WebGL context was lost';
    source = 'device';
  }
  // the device lost event (watchWebGpuDevice) has already said so; an operation failing on the dead device says no more
  if (!deviceLost || source === 'device') {
    // a failure that says the device is gone offers a new one, whatever was running
    const from: ErrorSource = isDeviceLost(message) ? 'device' : source;
    post({ type: 'error', message: explainFailure(message, from), detail: error instanceof Error ? error.stack : undefined, source: from });
  }
  setStatus('error');
}

async function obtainDataset(id: string): Promise<ImageDataset> {
  const cached = builtins.get(id) ?? provided.get(id);
  if (cached) return cached;
  if (id === 'fashion-mnist') {
    const loaded = await loadBuiltinDataset(baseUrl, (p) =>
      post({ type: 'dataset-progress', loadedBytes: p.loadedBytes, totalBytes: p.totalBytes, phase: p.phase }),
    );
    builtins.set(id, loaded);
    return loaded;
  }
  if (id === SYNTHETIC_SHAPES_ID) {
    const generated = generateSyntheticShapes({ seed: 1 });
    builtins.set(id, generated);
    return generated;
  }
  if (id.startsWith(UPLOAD_PREFIX)) {
    let stored: ImageDataset | null;
    try {
      stored = await loadStoredDataset(id.slice(UPLOAD_PREFIX.length));
    } catch (error) {
      // storage that cannot be read, or a broken record: said, and the built-in set used instead (switchDataset)
      const missing = new DatasetMissingError(id);
      missing.message = error instanceof Error ? error.message : String(error);
      throw missing;
    }
    if (!stored) throw new DatasetMissingError(id);
    return { ...stored, id };
  }
  throw new DatasetMissingError(id);
}

class DatasetMissingError extends Error {
  constructor(readonly id: string) {
    super(`The dataset “${id}” is not stored in this browser (deleted, or the link came from another machine).`);
  }
}

/** Training indices shown in the gallery: a few per class, in dataset order. */
function galleryIndices(ds: ImageDataset): number[] {
  if (isMixedDataset(ds)) {
    // X comes first in the training split, Z after it: a gallery of each, so the page can show X, Z or both
    const { provenance, ...plain } = ds;
    const { realCount, generatedCount } = provenance;
    const real = galleryIndices({ ...plain, train: { ...ds.train, count: realCount } });
    const generated = Array.from({ length: Math.min(GALLERY_GENERATED, generatedCount) }, (_, i) => realCount + i);
    return [...real, ...generated];
  }
  const labelled = ds.classNames.length >= 2;
  if (!labelled) return Array.from({ length: Math.min(GALLERY_UNLABELLED, ds.train.count) }, (_, i) => i);
  const perClass = new Array(ds.classNames.length).fill(0);
  const indices: number[] = [];
  for (let i = 0; i < ds.train.count; i++) {
    const label = ds.train.labels[i];
    if (label >= 0 && perClass[label] < GALLERY_PER_CLASS) {
      perClass[label] += 1;
      indices.push(i);
    }
  }
  return indices;
}

function announceDataset(ds: ImageDataset): void {
  const { imageSize, channels } = ds;
  const pixels = imageSize * imageSize * channels;
  const indices = galleryIndices(ds);
  const galleryImages = new Uint8Array(indices.length * pixels);
  indices.forEach((index, k) => galleryImages.set(ds.train.images.subarray(index * pixels, (index + 1) * pixels), k * pixels));
  const labelled = ds.classNames.length >= 2;
  const mixed = isMixedDataset(ds) ? ds : null;
  // a mixed set's generated rows have no class: the counts are the real images' (X's)
  const realTrain = mixed ? { ...ds.train, count: mixed.provenance.realCount } : ds.train;
  post({
    type: 'dataset-ready',
    dataset: {
      id: ds.id,
      name: ds.name,
      imageSize,
      channels,
      classNames: ds.classNames,
      labelled,
      trainCount: ds.train.count,
      testCount: ds.test.count,
      trainClassCounts: labelled ? classCounts(realTrain, ds.classNames.length) : [],
      credit: ds.credit,
      galleryImages,
      galleryLabels: indices.map((i) => ds.train.labels[i]),
      galleryIndices: indices,
      ...(mixed && {
        galleryGenerated: indices.map((i) => trainRowOrigin(mixed, i).kind === 'generated'),
        mix: {
          sourceId: mixed.provenance.sourceDatasetId,
          sourceName: mixSourceNames.get(ds.id) ?? mixed.provenance.sourceDatasetId,
          realCount: mixed.provenance.realCount,
          generatedCount: mixed.provenance.generatedCount,
        },
      }),
    },
  }, [galleryImages.buffer]);
}

/** Makes `id` the dataset in use; a missing upload falls back to the built-in set and says so. */
async function switchDataset(id: string): Promise<ExperimentConfig['dataset']> {
  if (dataset?.id === id) return id;
  const next = obtainDataset(id);
  currentDataset = next;
  try {
    dataset = await next;
  } catch (error) {
    if (!(error instanceof DatasetMissingError) || id === 'fashion-mnist') throw error;
    post({ type: 'notice', message: `${error.message} Using Fashion-MNIST instead.`, dataset: 'fashion-mnist' });
    return switchDataset('fashion-mnist');
  }
  // back on a real dataset (the experiment ended or was cancelled): its sets X ∪ Z are let go
  if (!mixSourceNames.has(id)) {
    for (const mixed of mixSourceNames.keys()) provided.delete(mixed);
    mixSourceNames.clear();
  }
  announceDataset(dataset);
  return id;
}

/** Throws, with the figures, when `next` would not fit the device this run uses (memoryEstimate.ts). */
function checkMemory(next: ExperimentConfig, ds: ImageDataset): void {
  if (!activeBackend) return;
  const estimate = estimateTrainingMemory(next, { trainCount: ds.train.count, imageSize: ds.imageSize, channels: ds.channels });
  const refusal = memoryRefusal(estimate, deviceMemoryLimits(activeBackend, deviceIsCpuEmulation));
  if (refusal) throw new Error(refusal);
}

/**
 * On WebGPU, a lost device and errors nobody caught (an allocation that
 * failed: out of memory) are events, not exceptions: they are noted here and
 * stop training at the next step with an explanation, never a hang.
 */
function watchWebGpuDevice(): void {
  const device = (tf.backend() as unknown as { device?: GPUDevice }).device;
  if (!device) return;
  void device.lost.then((info) => {
    if (info.reason === 'destroyed' && !faultInjected) return; // our own dispose
    deviceLost = `GPU device was lost: ${info.message || info.reason}`;
    running = false;
    post({ type: 'error', message: explainFailure(deviceLost, 'device'), source: 'device' });
    setStatus('error');
  });
  device.addEventListener('uncapturederror', (event) => {
    const error = (event as GPUUncapturedErrorEvent).error;
    gpuError ??= error instanceof GPUOutOfMemoryError ? `out of memory: ${error.message}` : error.message;
  });
}

/**
 * A method that does not fit the dataset (colorization on grey images, jigsaw
 * on views too small for a 3×3 grid, more exemplars than images) is refused
 * with its reason: the run stays on the method it had, when that fits, or
 * SimCLR, with that method's defaults as a pick in the menu would bring, and
 * the page is told to follow.
 */
function fittingMethod(next: ExperimentConfig, ds: ImageDataset, previous: MethodId | null): ExperimentConfig {
  const shape = { name: ds.name, channels: ds.channels, imageSize: ds.imageSize, trainCount: ds.train.count };
  const reason = methodUnfitReason(next.method, shape, next);
  if (!reason) return next;
  const fallback: MethodId = previous && previous !== next.method && !methodUnfitReason(previous, shape, next) ? previous : 'simclr';
  post({
    type: 'notice',
    message: `${METHOD_CATALOG[next.method].label} cannot train on “${ds.name}”: ${reason} The run uses ${METHOD_CATALOG[fallback].label} instead.`,
    method: fallback,
  });
  return withMethodDefaults({ ...next, method: fallback });
}

/** The WebGL backend's context (null on other backends). */
function webglContext(): WebGLRenderingContext | null {
  return (tf.backend() as unknown as { gpgpu?: { gl?: WebGLRenderingContext } }).gpgpu?.gl ?? null;
}

/**
 * On WebGL, a lost context (a driver reset, too many contexts, the GPU
 * process restarted) takes every texture, so the encoder's weights, with it:
 * stop with an explanation, as for a lost WebGPU device.
 */
function watchWebGlContext(): void {
  const canvas = webglContext()?.canvas as OffscreenCanvas | HTMLCanvasElement | undefined;
  canvas?.addEventListener('webglcontextlost', () => {
    if (deviceLost) return; // a step already found it lost and said so
    deviceLost = 'WebGL context was lost';
    running = false;
    post({ type: 'error', message: explainFailure(deviceLost, 'device'), source: 'device' });
    setStatus('error');
  });
}

async function buildTrainer(next: ExperimentConfig, resumeStep?: number): Promise<void> {
  if (deviceLost) throw new Error(`${deviceLost}.`);
  // a configuration the device cannot hold is refused before the encoder it replaces is freed
  if (dataset && dataset.id === next.dataset && backendPreference === next.backend) checkMemory(next, dataset);
  const previousMethod = trainer?.method.id ?? null;
  // free the old run's tensors on the backend that made them
  trainer?.dispose();
  trainer = null;
  gpuError = null;
  if (backendPreference !== next.backend) {
    const choice = await selectBackend(next.backend);
    backendPreference = next.backend;
    activeBackend = choice.backend;
    deviceIsCpuEmulation = choice.backend === 'cpu' || cpuEmulatorName(choice.device) !== undefined;
    post({ type: 'backend', backend: choice.backend, reasons: choice.reasons, adapter: choice.adapter, device: choice.device });
    // a CPU emulation pays milliseconds a kernel launch: the probe's fit and kNN run there as arrays
    setEvaluationDevicePolicy({ cpuEmulation: deviceIsCpuEmulation });
    if (choice.backend === 'webgpu') watchWebGpuDevice();
    if (choice.backend === 'webgl') watchWebGlContext();
  }
  const datasetId = await switchDataset(next.dataset);
  let chosen = datasetId === next.dataset ? next : { ...next, dataset: datasetId };
  chosen = fittingMethod(chosen, dataset!, previousMethod);
  checkMemory(chosen, dataset!);
  config = chosen;
  trainer = new Trainer(dataset!, config);
  // a new worker after a failure: a fresh encoder whose steps count on from where the lost one stopped
  if (resumeStep) trainer.step = resumeStep;
  if (config.method === 'moco' && config.queueSize > dataset!.train.count) {
    post({ type: 'notice', message: `MoCo’s queue holds ${dataset!.train.count} keys, not ${config.queueSize}: a queue longer than the ${dataset!.train.count} training images would hold several keys of the same image.` });
  }
  announceModel(trainer, config, resumeStep || undefined);
}

/** A new encoder is in place: the evaluation caches describe the old one; the page is told. */
function announceModel(built: Trainer, builtConfig: ExperimentConfig, resumedAt?: number): void {
  baselineKeys.probe = null;
  baselineKeys.knn = null;
  clearEvaluationCaches();
  const { model } = built;
  post({
    type: 'model-ready',
    model: { parameterCount: model.parameterCount, hDim: model.hDim, zDim: model.zDim, methodBytes: built.method.extraBytes() },
    config: builtConfig,
    resumedAt,
  });
}

/** Every buffer of a trainer state, to transfer rather than copy. */
function stateBuffers(state: TrainerState): ArrayBuffer[] {
  const arrays = [...state.variables, ...state.optimizer.moments, ...(state.restarted?.moments ?? []), ...Object.values(state.method.arrays)];
  return [...arrays.map((a) => a.data.buffer as ArrayBuffer), state.order.buffer as ArrayBuffer];
}

/**
 * Replaces the run with a checkpoint's. The checkpoint's run is built beside
 * the one in use, on its own dataset, and only once it has taken the state
 * (Trainer.loadCheckpoint checks dataset, architecture and method state) does
 * it replace it: a checkpoint that does not fit changes nothing. The backend
 * stays the one in use: weights and moments are the same numbers on any.
 */
async function restoreCheckpoint(requestId: number, state: TrainerState): Promise<void> {
  if (deviceLost) throw new Error(`${deviceLost}.`);
  const next: ExperimentConfig = { ...state.config, backend: (config?.backend ?? state.config.backend) };
  const source = await obtainDataset(next.dataset);
  checkMemory(next, source);
  const candidate = new Trainer(source, next);
  try {
    await candidate.loadCheckpoint(state);
  } catch (error) {
    candidate.dispose();
    throw error;
  }
  trainer?.dispose();
  trainer = candidate;
  config = next;
  if (dataset?.id !== source.id) {
    dataset = source;
    currentDataset = Promise.resolve(source);
    announceDataset(source);
  }
  announceModel(candidate, next);
  post({ type: 'checkpoint-loaded', requestId, step: candidate.step });
}

/**
 * Previews run outside the queue: tfjs work here is synchronous between
 * awaits, so a preview slots in while a training step waits for the GPU and
 * the previewer stays live during training.
 */
async function preview(message: Extract<ToWorker, { type: 'preview' }>): Promise<void> {
  try {
    const ds = await currentDataset;
    const indices = message.indices.filter((i) => Number.isInteger(i) && i >= 0 && i < ds.train.count);
    const result = await renderPreview(ds.train, ds.imageSize, ds.channels, indices, message.pipeline, message.outputSize, message.seed);
    post({ type: 'preview', requestId: message.requestId, result }, [result.originals.buffer, result.views1.buffer, result.views2.buffer]);
  } catch (error) {
    post({ type: 'preview-error', requestId: message.requestId, message: error instanceof Error ? error.message : String(error) });
  }
}

/**
 * The linear probe and/or the kNN monitor on the encoder, each preceded (once
 * per encoder, and again when its settings change) by the same evaluation on
 * the random-init encoder and on raw pixels: the baselines drawn as dashed
 * lines. Only what is asked for runs, so a kNN every few steps never pays for
 * a linear probe.
 */
const BASELINE_DETAIL = 'Once per encoder (and when the probe settings change): the baselines the chart draws as dashed lines.';

function evaluationLabel(what: { probe: boolean; knn: boolean }, kind: ProbeKind): string {
  const name = what.probe && what.knn ? 'Linear probe and kNN' : what.probe ? 'Linear probe' : 'kNN';
  const on = kind === 'encoder' ? 'the encoder' : kind === 'random-init' ? 'the random-init encoder' : 'raw pixels';
  return `${name} on ${on}`;
}

async function runEvaluations(what: { probe: boolean; knn: boolean }): Promise<void> {
  try {
    await runEvaluationsUninterrupted(what);
  } catch (error) {
    // Pause or Reset came in: the evaluation stops where it was, and what it had not finished is not charted
    if (!(error instanceof CancelledError)) throw error;
  }
}

async function runEvaluationsUninterrupted(what: { probe: boolean; knn: boolean }): Promise<void> {
  if (!trainer || !dataset || !config) return;
  if (dataset.classNames.length < 2 || dataset.test.count === 0) return; // unlabelled: the UI explains why there is no probe
  setStatus('probing');
  const { probeTrainSize, probeTestSize, probeEpochs, knnK, knnTemperature } = config;
  const probeKey = JSON.stringify([probeTrainSize, probeTestSize, probeEpochs]);
  const knnKey = JSON.stringify([probeTrainSize, probeTestSize, knnK, knnTemperature]);
  const stale = { probe: what.probe && baselineKeys.probe !== probeKey, knn: what.knn && baselineKeys.knn !== knnKey };
  if (stale.probe || stale.knn) {
    for (const kind of ['random-init', 'raw-pixels'] as const) {
      const result = await trainer.evaluate(kind, stale, evaluationProgress(evaluationLabel(stale, kind), BASELINE_DETAIL));
      if (result.probe) post({ type: 'probe', point: result.probe });
      if (result.knn) post({ type: 'knn', point: result.knn });
    }
    if (stale.probe) baselineKeys.probe = probeKey;
    if (stale.knn) baselineKeys.knn = knnKey;
  }
  if (trainer.step > 0) {
    const result = await trainer.evaluate('encoder', what, evaluationProgress(evaluationLabel(what, 'encoder'), `Training waits until this finishes (every ${config.probeEvery} steps for the probe, ${config.knnEvery} for kNN; 0 turns one off).`));
    if (result.probe) post({ type: 'probe', point: result.probe });
    if (result.knn) post({ type: 'knn', point: result.knn });
  }
}

async function runLabelEfficiencyRequest(request: Extract<ToWorker, { type: 'label-efficiency' }>['request']): Promise<void> {
  const run = { requestId: request.requestId, cancelled: false };
  labelEfficiencyRun = run;
  const { requestId } = request;
  const trainDatasetName = dataset?.name ?? '';
  let evalDatasetName = trainDatasetName;
  try {
    if (!trainer || !dataset) throw new Error('The encoder is not built yet: wait until the dataset has loaded.');
    const evalDataset = request.evalDataset === dataset.id ? dataset : await obtainDataset(request.evalDataset);
    evalDatasetName = evalDataset.name;
    setStatus('evaluating');
    await runLabelEfficiency(trainer, evalDataset, request, {
      row: (row) => post({ type: 'label-efficiency-row', requestId, row }),
      fewShot: (row) => post({ type: 'few-shot-row', requestId, row }),
      progress: (done, total, phase) => {
        post({ type: 'label-efficiency-progress', requestId, done, total, phase });
        setActivity({ label: `Label efficiency: ${phase}`, detail: 'Training waits until this finishes; Cancel in the label-efficiency panel keeps the rows measured so far.', done, total });
      },
      isCancelled: () => run.cancelled,
    });
    post({ type: 'label-efficiency-done', requestId, cancelled: false, evalDatasetName, trainDatasetName });
  } catch (error) {
    if (error instanceof CancelledError) {
      post({ type: 'label-efficiency-done', requestId, cancelled: true, evalDatasetName, trainDatasetName });
    } else {
      const message = error instanceof Error ? error.message : String(error);
      post({ type: 'label-efficiency-done', requestId, cancelled: false, error: message, evalDatasetName, trainDatasetName });
    }
  } finally {
    if (labelEfficiencyRun === run) labelEfficiencyRun = null;
  }
}


function generatorState(): GeneratorState | null {
  if (!generator) return null;
  return { datasetId: generator.datasetId, datasetName: generator.datasetName, kind: generator.kind, config: generator.config, savedId: generatorSavedId };
}

/** A failure of the device itself stops everything (fail); any other failure of a generator request is its own answer. */
function rethrowIfDeviceLost(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  if (deviceLost || isDeviceLost(message)) throw error;
}

/** The grid, its nearest real images and (when asked) the sample quality of the generator held now. */
async function postGeneratorViews(requestId: number, quality: boolean): Promise<void> {
  if (!generator) return;
  const samples = await generator.samples();
  const result = generator.neighbours(samples);
  post({ type: 'generator-samples', requestId, samples }, [samples.images.buffer]);
  post({ type: 'generator-neighbours', requestId, result }, [result.images.buffer]);
  if (quality) {
    setActivity({ label: 'Generator: sample quality', detail: 'Features of a fixed random-init encoder for held-out real images and for samples.' });
    post({ type: 'generator-quality', requestId, point: await generator.quality() });
  }
}

/** Saves the generator held now; says why when the browser would not store it. */
async function saveHeldGenerator(): Promise<{ saved: StoredGeneratorInfo | null; saveError?: string }> {
  if (!generator) return { saved: null };
  try {
    const saved = await saveGenerator(await generator.toSave());
    generatorSavedId = saved.id;
    return { saved };
  } catch (error) {
    rethrowIfDeviceLost(error);
    return { saved: null, saveError: `The generator was trained but not saved: ${error instanceof Error ? error.message : String(error)} It stays usable until the page is reloaded.` };
  }
}

/**
 * Trains the generator on the active dataset's real training images: a new
 * one (fresh, or when the one held is of another kind or dataset) or the one
 * held, `steps` more steps. Losses every step, the fixed-noise grid about 20
 * times, sample quality about 5 times and at the end; then the nearest real
 * images of some samples, and the generator is saved.
 */
async function trainGenerator(message: Extract<ToWorker, { type: 'generator-train' }>): Promise<void> {
  const { requestId, settings } = message;
  const run = { requestId, cancelled: false };
  generatorRun = run;
  try {
    if (!dataset) throw new Error('The dataset has not loaded yet: wait until it has, then train the generator.');
    // between two runs of the experiment the set loaded is X ∪ Z: a generator learns from the real dataset it came from
    const ds = isMixedDataset(dataset) ? await obtainDataset(dataset.provenance.sourceDatasetId) : dataset;
    if (message.fresh || !generator || generator.datasetId !== ds.id || generator.kind !== settings.kind) {
      generator?.dispose();
      generator = null;
      generatorSavedId = null;
      generator = GeneratorSession.create(ds, settings);
    }
    const session = generator;
    const total = settings.steps;
    const first = session.step;
    const label = `Training the ${settings.kind === 'dcgan' ? 'DCGAN' : 'VAE'} on “${ds.name}”`;
    const detail = 'SSL training waits; Cancel in the generator panel keeps what it has learnt.';
    setActivity({ label, detail, done: 0, total });
    const { cancelled } = await session.train(total, settings.batchSize, {
      shouldStop: () => run.cancelled,
      onStep: (metrics) => {
        post({ type: 'generator-step', requestId, metrics });
        setActivity({ label, detail, done: metrics.step - first, total });
      },
      onSamples: (samples) => post({ type: 'generator-samples', requestId, samples }, [samples.images.buffer]),
      onQuality: (point) => post({ type: 'generator-quality', requestId, point }),
      samplesEvery: Math.max(1, Math.round(total / 20)),
      qualityEvery: Math.max(25, Math.ceil(total / 5)),
    });
    const result = session.neighbours(await session.samples());
    post({ type: 'generator-neighbours', requestId, result }, [result.images.buffer]);
    generatorSavedId = null;
    const { saved, saveError } = await saveHeldGenerator();
    post({ type: 'generator-done', requestId, cancelled, state: generatorState(), saved, saveError });
  } catch (error) {
    rethrowIfDeviceLost(error);
    post({ type: 'generator-done', requestId, cancelled: false, error: error instanceof Error ? error.message : String(error), state: generatorState(), saved: null });
  } finally {
    if (generatorRun === run) generatorRun = null;
  }
}

/** Loads a saved generator: it becomes the one held, and its grid, neighbours and quality are sent. */
async function loadSavedGenerator(requestId: number, id: string): Promise<void> {
  try {
    const loaded = await loadGenerator(id);
    if (!loaded) throw new Error('That generator is no longer stored in this browser (deleted in another tab?).');
    if (!loaded.ok) throw new Error(`That generator cannot be used: ${loaded.broken.reason}`);
    const stored = loaded.generator;
    const ds = dataset?.id === stored.datasetId ? dataset : await obtainDataset(stored.datasetId);
    const session = GeneratorSession.fromStored(ds, stored);
    generator?.dispose();
    generator = session;
    generatorSavedId = stored.id;
    await postGeneratorViews(requestId, true);
    post({ type: 'generator-done', requestId, cancelled: false, state: generatorState(), saved: null });
  } catch (error) {
    rethrowIfDeviceLost(error);
    post({ type: 'generator-done', requestId, cancelled: false, error: error instanceof Error ? error.message : String(error), state: generatorState(), saved: null });
  }
}

/**
 * Builds X ∪ Z for the experiment runner and holds it (in `provided`) for the
 * reset that follows; earlier mixes not in use are let go. Z comes from the
 * saved generator asked for (the one held when it is that one), or the one
 * held when none is named.
 */
async function makeMix(request: MixRequest): Promise<void> {
  const { requestId } = request;
  let temporary: GeneratorSession | null = null;
  try {
    const source = await obtainDataset(request.sourceDatasetId);
    if (isMixedDataset(source)) throw new Error('The experiment needs the real dataset, not a mix.');
    let session: GeneratorSession | null = null;
    if (request.ratio > 0) {
      if (request.generatorId && request.generatorId !== generatorSavedId) {
        const loaded = await loadGenerator(request.generatorId);
        if (!loaded) throw new Error('The generator chosen for the experiment is no longer stored in this browser.');
        if (!loaded.ok) throw new Error(`The generator chosen for the experiment cannot be used: ${loaded.broken.reason}`);
        session = temporary = GeneratorSession.fromStored(source, loaded.generator);
      } else {
        session = generator;
      }
      if (!session) throw new Error('No generator is loaded: train one in the generator panel, or pick a saved one.');
      if (session.datasetId !== source.id) throw new Error(`The generator was trained on “${session.datasetName}”, not on “${source.name}”.`);
    }
    setActivity({ label: 'Experiment: sampling Z and mixing it with X', detail: `|X| = ${Math.round(request.realFraction * 100)}% of the training images, |Z| = ${request.ratio}·|X|.` });
    const mixed = await buildMixedDataset(source, request, session);
    for (const id of [...provided.keys()]) {
      if (mixSourceNames.has(id) && dataset?.id !== id) {
        provided.delete(id);
        mixSourceNames.delete(id);
      }
    }
    provided.set(mixed.id, mixed);
    mixSourceNames.set(mixed.id, source.name);
    post({
      type: 'mix-ready',
      mix: { requestId, datasetId: mixed.id, name: mixed.name, realCount: mixed.provenance.realCount, generatedCount: mixed.provenance.generatedCount },
    });
  } catch (error) {
    rethrowIfDeviceLost(error);
    post({ type: 'mix-error', requestId, message: error instanceof Error ? error.message : String(error) });
  } finally {
    temporary?.dispose();
  }
}

/** The heatmap gets a new matrix at most this often (and after every single step). */
const AFFINITY_INTERVAL_MS = 500;
let lastAffinityAt = 0;

const FIRST_STEP: Activity = {
  label: 'First step: compiling the GPU kernels',
  detail: 'A new encoder’s first step compiles a shader for every operation and uploads the images; later steps reuse them and run much faster.',
};

async function oneStep(single = false): Promise<void> {
  if (!trainer || !config) return;
  trainer.captureAffinity = single || performance.now() - lastAffinityAt >= AFFINITY_INTERVAL_MS;
  if (trainer.step === 0) setActivity(FIRST_STEP);
  if (throwMidStep) {
    throwMidStep = false;
    // uncaught, outside any promise: what a crash looks like from the page (the worker's error event)
    setTimeout(() => {
      throw new Error('a fault injected by a test: the worker threw mid-step');
    }, 0);
  }
  const metrics = await trainer.trainStep();
  setActivity(null);
  // a step on a lost device or context reads back zeros or nothing: never charted
  if (deviceLost) throw new Error(`${deviceLost}.`);
  if (activeBackend === 'webgl' && webglContext()?.isContextLost()) throw new Error('WebGL context was lost during the step.');
  if (gpuError) throw new Error(`The GPU reported an error during step ${metrics.step} (${gpuError})`);
  post({ type: 'step', metrics });
  const snapshot = trainer.affinity;
  if (snapshot) {
    trainer.affinity = null;
    lastAffinityAt = performance.now();
    post({ type: 'affinity', snapshot }, [snapshot.matrix.buffer, snapshot.norms.buffer, ...(snapshot.views ? [snapshot.views.buffer] : [])]);
  }
  const own = trainer.methodMatrix;
  if (own) {
    trainer.methodMatrix = null;
    lastAffinityAt = performance.now();
    post({ type: 'method-matrix', snapshot: own }, [own.matrix.buffer, own.unwritten.buffer]);
  }
  const task = trainer.taskSnapshot;
  if (task) {
    trainer.taskSnapshot = null;
    lastAffinityAt = performance.now();
    post({ type: 'task-snapshot', snapshot: task }, task.rows.map((row) => row.images.buffer));
  }
  const probe = config.probeEvery > 0 && trainer.step % config.probeEvery === 0;
  const knn = probe || (config.knnEvery > 0 && trainer.step % config.knnEvery === 0);
  if (probe || knn) await runEvaluations({ probe, knn });
}

function loop(): void {
  enqueue(async () => {
    if (!running) return;
    if (stopAtStep !== null && trainer && trainer.step >= stopAtStep) {
      running = false;
      stopAtStep = null;
      setStatus('paused');
      return;
    }
    await oneStep();
    if (running) {
      setStatus('running');
      // a macrotask between steps lets pause/configure messages in
      setTimeout(loop, 0);
    }
  });
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  switch (message.type) {
    case 'init':
      enqueue(async () => {
        setStatus('loading');
        baseUrl = message.baseUrl;
        await buildTrainer(message.config, message.resumeStep);
        setStatus('idle');
      }, 'dataset');
      break;
    case 'ping':
      post({ type: 'pong', id: message.id });
      break;
    case 'inject-fault':
      faultInjected = true;
      if (message.fault === 'destroy-device') (tf.backend() as unknown as { device?: GPUDevice }).device?.destroy();
      else if (message.fault === 'lose-webgl-context') webglContext()?.getExtension('WEBGL_lose_context')?.loseContext();
      else if (message.fault === 'hang') {
        // a worker stuck in a loop: it never reads another message, so only the page's heartbeat can tell
        for (;;) { /* stuck on purpose */ }
      } else throwMidStep = true;
      break;
    case 'configure':
      enqueue(async () => {
        config = message.config;
        trainer?.configure(message.config);
      }, 'settings');
      break;
    case 'start':
      if (running) break;
      stopAtStep = message.untilStep ?? null;
      running = true;
      setStatus('running');
      loop();
      break;
    case 'pause':
      running = false;
      interruptEvaluations();
      enqueue(async () => setStatus('paused'));
      break;
    case 'step':
      running = false;
      enqueue(async () => {
        await oneStep(true);
        setStatus('paused');
      });
      break;
    case 'probe':
      enqueue(async () => {
        await runEvaluations({ probe: true, knn: true });
        setStatus(running ? 'running' : 'paused');
      }, 'evaluation');
      break;
    case 'reset':
      running = false;
      interruptEvaluations();
      enqueue(async () => {
        await buildTrainer(message.config);
        setStatus('idle');
      }, 'settings');
      break;
    case 'preview':
      void preview(message);
      break;
    case 'walkthrough':
      // on the queue: it applies a real update, so it never overlaps a training step
      enqueue(async () => {
        if (!trainer || !config || !dataset) {
          post({ type: 'walkthrough-error', requestId: message.requestId, message: 'The encoder is not built yet: wait until the dataset has loaded.' });
          return;
        }
        try {
          setActivity({ label: 'Lecture mode: one minibatch through Algorithm 1', detail: 'Every intermediate tensor is read back for display, then one real update is applied.' });
          const result = await runWalkthrough(trainer, dataset, config, message.batchSize, createRng(message.seed), message.requestId);
          post({ type: 'step', metrics: result.metrics });
          // every array is a buffer of its own (runWalkthrough copies), so all of them move to the page rather than being cloned
          const own = result.method === 'simclr' ? [result.h, result.s] : [result.h, result.ownMatrix?.matrix, result.ownMatrix?.unwritten];
          const arrays = [result.originals, result.views, result.z, ...own].filter((a) => a !== undefined);
          post({ type: 'walkthrough', result }, arrays.map((a) => a.buffer));
        } catch (error) {
          post({ type: 'walkthrough-error', requestId: message.requestId, message: error instanceof Error ? error.message : String(error) });
        }
      });
      break;
    case 'provide-dataset':
      // not queued: in place before the 'reset' that switches to it, which the page sends next
      if (message.dataset) provided.set(message.id, message.dataset);
      else provided.delete(message.id);
      break;
    case 'rename-dataset':
      // not queued: a name, read only when a message or result is written
      if (dataset?.id === message.id) dataset.name = message.name;
      break;
    case 'label-efficiency':
      // on the queue: it reads the encoder, so training waits for it (and resumes after)
      enqueue(async () => {
        await runLabelEfficiencyRequest(message.request);
        setStatus(running ? 'running' : trainer && trainer.step > 0 ? 'paused' : 'idle');
      }, 'evaluation');
      break;
    case 'cancel-evaluation':
      if (labelEfficiencyRun?.requestId === message.requestId) labelEfficiencyRun.cancelled = true;
      break;
    case 'embedding':
      enqueue(async () => {
        const { requestId } = message.request;
        try {
          if (!trainer) throw new Error('The encoder is not built yet: wait until the dataset has loaded.');
          const result = await computeEmbedding(trainer, message.request, (phase, done, total) => {
            post({ type: 'embedding-progress', requestId, phase, done, total });
            setActivity({ label: `Embedding map: ${phase}`, done, total });
          });
          post({ type: 'embedding', result }, [result.points.buffer, result.labels.buffer, result.indices.buffer, result.images.buffer]);
        } catch (error) {
          post({ type: 'embedding-error', requestId, message: error instanceof Error ? error.message : String(error) });
        }
      }, 'evaluation');
      break;
    case 'export-weights':
      enqueue(async () => {
        const { requestId } = message;
        try {
          if (!trainer || !dataset || !config) throw new Error('The encoder is not built yet: wait until the dataset has loaded.');
          const info = { method: config.method, step: trainer.step, dataset: dataset.name, imageSize: config.imageSize, extra: { config: JSON.stringify(config) } };
          const onnx = message.format !== 'safetensors';
          const bytes = onnx
            ? await encoderOnnx(trainer.model, info, { includeHead: message.format === 'onnx-head' })
            : await encoderSafetensors(trainer.model, info);
          const slug = dataset.name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'dataset';
          const name = `${message.format === 'onnx-head' ? 'encoder-head' : 'encoder'}-${config.method}-step${trainer.step}-${slug}`;
          post({ type: 'weights-export', requestId, bytes, fileName: `${name}.${onnx ? 'onnx' : 'safetensors'}` }, [bytes.buffer]);
        } catch (error) {
          post({ type: 'weights-export-error', requestId, message: error instanceof Error ? error.message : String(error) });
        }
      }, 'evaluation');
      break;
    case 'export-dataset':
      enqueue(async () => {
        const { requestId } = message;
        try {
          if (!dataset) throw new Error('The dataset has not loaded yet.');
          // a set mixed with generated images (issue 19) exports its real images only: the generated ones are not data
          const count = isMixedDataset(dataset) ? dataset.provenance.realCount : dataset.train.count;
          setActivity({ label: `Export: ${count.toLocaleString('en-US')} training images as PNG`, detail: 'An ImageFolder zip for the exported PyTorch script.' });
          const bytes = imageFolderZip({
            images: dataset.train.images, labels: dataset.train.labels, count,
            imageSize: dataset.imageSize, channels: dataset.channels, classNames: dataset.classNames,
          });
          const slug = dataset.name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'dataset';
          post({ type: 'dataset-export', requestId, bytes, fileName: `imagefolder-${slug}.zip`, count }, [bytes.buffer]);
        } catch (error) {
          post({ type: 'dataset-export-error', requestId, message: error instanceof Error ? error.message : String(error) });
        }
      }, 'evaluation');
      break;
    case 'checkpoint-save':
      enqueue(async () => {
        const { requestId } = message;
        try {
          if (!trainer) throw new Error('The encoder is not built yet: wait until the dataset has loaded.');
          const state = await trainer.saveCheckpoint();
          post({ type: 'checkpoint-saved', requestId, state }, stateBuffers(state));
        } catch (error) {
          post({ type: 'checkpoint-error', requestId, phase: 'save', message: error instanceof Error ? error.message : String(error) });
        }
      }, 'evaluation');
      break;
    case 'checkpoint-load':
      running = false;
      interruptEvaluations();
      enqueue(async () => {
        const { requestId } = message;
        try {
          await restoreCheckpoint(requestId, message.state);
          setStatus(trainer && trainer.step > 0 ? 'paused' : 'idle');
        } catch (error) {
          post({ type: 'checkpoint-error', requestId, phase: 'load', message: error instanceof Error ? error.message : String(error) });
          setStatus(trainer && trainer.step > 0 ? 'paused' : 'idle');
        }
      }, 'settings');
      break;
    case 'export-features':
      enqueue(async () => {
        const { requestId } = message;
        try {
          if (!trainer || !dataset || !config) throw new Error('The encoder is not built yet: wait until the dataset has loaded.');
          setActivity({ label: `Export: h of ${message.count.toLocaleString('en-US')} images`, detail: 'For the TensorBoard projector: every dimension of h, with labels and thumbnails.' });
          const f = await splitFeatures(trainer, message.encoder, message.count);
          const result = {
            requestId, encoder: message.encoder, step: message.encoder === 'encoder' ? trainer.step : 0, method: config.method,
            datasetName: dataset.name, classNames: dataset.classNames, split: f.split, n: f.n, d: f.d,
            vectors: f.features, labels: f.labels, indices: f.indices, images: f.images, imageSize: dataset.imageSize, channels: dataset.channels,
          };
          post({ type: 'features-export', result }, [f.features.buffer, f.labels.buffer, f.indices.buffer, f.images.buffer]);
        } catch (error) {
          post({ type: 'features-export-error', requestId, message: error instanceof Error ? error.message : String(error) });
        }
      }, 'evaluation');
      break;
    case 'neighbours':
      enqueue(async () => {
        try {
          if (!trainer) throw new Error('The encoder is not built yet: wait until the dataset has loaded.');
          const result = await findNeighbours(trainer, message.requestId, message.split, message.index);
          post({ type: 'neighbours', result }, [result.images.buffer]);
        } catch (error) {
          post({ type: 'neighbours-error', requestId: message.requestId, message: error instanceof Error ? error.message : String(error) });
        }
      }, 'evaluation');
      break;
    case 'generator-train':
      // SSL training pauses: the generator's steps take the GPU
      running = false;
      interruptEvaluations();
      enqueue(async () => {
        await trainGenerator(message);
        setStatus(trainer && trainer.step > 0 ? 'paused' : 'idle');
      }, 'evaluation');
      break;
    case 'generator-cancel':
      if (generatorRun?.requestId === message.requestId) generatorRun.cancelled = true;
      break;
    case 'generator-load':
      enqueue(() => loadSavedGenerator(message.requestId, message.id), 'evaluation');
      break;
    case 'mix-dataset':
      enqueue(() => makeMix(message.request), 'dataset');
      break;
    default:
      assertNever(message);
  }
};
