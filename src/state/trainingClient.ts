/**
 * The page's side of the worker protocol: starts the worker, turns its
 * messages into store updates and the user's actions into messages.
 * Step metrics arrive up to hundreds of times a second on a fast GPU; they are
 * buffered and written to the store at most every FLUSH_MS so React repaints
 * the charts at a steady rate and the main thread never stalls.
 */
import { createRng, permutation } from '../core/random';
import { assertNever, type FromWorker, type InjectedFault, type StepMetrics, type ToWorker } from '../train/protocol';
import { pendingResetFields, type ExperimentConfig } from '../core/config';
import { useConfigStore } from './configStore';
import { PREVIEW_COUNT, usePreviewStore } from './previewStore';
import { initialRunState, latestStep, useRunStore } from './runStore';
import { explainFailure } from '../train/failure';
import { useWalkthroughStore } from './walkthroughStore';
import { applyGeneratorMessage } from './generatorStore';
import { projectorFiles } from './projectorExport';
import {
  DEFAULT_FRACTIONS, DEFAULT_SHOTS, DEFAULT_SUPERVISED_STEPS, initialEvalState, initialLabelEfficiency, useEvalStore, type EvalState, type WeightsFormat,
} from './evalStore';
import type { EmbeddingEncoder, EmbeddingProjection, GeneratorSettings } from '../train/protocol';
import type { ImageDataset } from '../data/dataset';
import type { TrainerState } from '../train/checkpoint';

const FLUSH_MS = 100;

let worker: Worker | null = null;
let pendingSteps: StepMetrics[] = [];
let flushTimer: ReturnType<typeof setTimeout> | null = null;

function flushSteps(): void {
  flushTimer = null;
  if (pendingSteps.length === 0) return;
  const batch = pendingSteps;
  pendingSteps = [];
  useRunStore.setState((s) => ({ steps: s.steps.concat(batch), lastStepAt: performance.now() }));
}

function send(message: ToWorker): void {
  worker?.postMessage(message);
}

/**
 * While a comparison (src/state/comparisonRunner.ts) owns the worker, the
 * user's own actions and setting changes are not sent: they would change the
 * run being measured. The settings are applied with a reset on release.
 */
let claimed = false;
const listeners = new Set<(message: FromWorker) => void>();

/** Sends messages for the owner of the worker, and stops the user's actions and live settings from reaching it. */
export function claimWorker(): (message: ToWorker) => void {
  claimed = true;
  return send;
}

/**
 * Gives the worker back. With `reset`, a new encoder with the user's current
 * settings; without, the user's live settings apply to the encoder loaded now
 * (after an error, so its history and the error stay on screen; settings that
 * need a reset are flagged by the settings panel as usual).
 */
export function releaseWorker({ reset }: { reset: boolean }): void {
  claimed = false;
  const { config } = useConfigStore.getState();
  send(reset ? { type: 'reset', config } : { type: 'configure', config });
}

/** Every message from the worker, unbuffered, after the stores have been updated. Returns the unsubscribe. */
export function onWorkerMessage(listener: (message: FromWorker) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

// One preview render in flight at a time; changes that arrive meanwhile
// (a slider being dragged) collapse into one more render when it returns.
let previewRequestId = 0;
let previewInFlight = false;
let previewDirty = false;

function requestPreview(): void {
  const { indices, seed } = usePreviewStore.getState();
  if (indices.length === 0) return;
  if (previewInFlight) {
    previewDirty = true;
    return;
  }
  previewInFlight = true;
  previewDirty = false;
  usePreviewStore.setState({ pending: true });
  const { augmentation, imageSize } = useConfigStore.getState().config;
  send({ type: 'preview', requestId: ++previewRequestId, pipeline: augmentation, outputSize: imageSize, seed, indices });
}

function previewSettled(): void {
  previewInFlight = false;
  if (previewDirty) requestPreview();
  else usePreviewStore.setState({ pending: false });
}

/** A seeded sample of distinct training images for the previewer. */
function sampleIndices(count: number, total: number, seed: number): number[] {
  return Array.from(permutation(createRng(seed), total).subarray(0, Math.min(count, total)));
}

function handle(message: FromWorker): void {
  switch (message.type) {
    case 'backend':
      useRunStore.setState({ backend: message.backend, backendReasons: message.reasons, adapter: message.adapter, device: message.device ?? null });
      break;
    case 'activity':
      useRunStore.setState((s) => ({
        activity: message.activity && {
          ...message.activity,
          // the clock restarts only when the activity itself changes, not with its progress
          since: s.activity?.label === message.activity.label ? s.activity.since : performance.now(),
        },
      }));
      break;
    case 'dataset-progress':
      useRunStore.setState({ loadProgress: { loadedBytes: message.loadedBytes, totalBytes: message.totalBytes, phase: message.phase } });
      break;
    case 'dataset-ready':
      useRunStore.setState({ dataset: message.dataset, loadProgress: null });
      {
        const sample = sampleIndices(PREVIEW_COUNT, message.dataset.trainCount, 7);
        usePreviewStore.setState({ sample, picked: [], indices: sample });
      }
      requestPreview();
      break;
    case 'pong':
      break;
    case 'model-ready':
      flushSteps();
      if (message.resumedAt !== undefined) {
        // a new worker after a failure: the history stays, and the new encoder carries on from the step the old one reached
        useRunStore.setState({ model: message.model, appliedConfig: message.config, error: null, errorSource: null, affinity: null, methodMatrix: null, taskSnapshot: null });
        break;
      }
      useRunStore.setState({
        model: message.model, appliedConfig: message.config,
        steps: [], probes: [], randomInitBaseline: null, rawPixelBaseline: null, error: null, affinity: null, methodMatrix: null, taskSnapshot: null, restarts: [],
        knn: [], knnRandomInit: null, knnRawPixels: null,
      });
      // maps, neighbours and the label table describe the old encoder; keep the table's settings only
      useEvalStore.setState((s) => ({
        labelEfficiency: { ...initialLabelEfficiency, requestId: s.labelEfficiency.requestId },
        embedding: { ...initialEvalState.embedding, requestId: s.embedding.requestId, projection: s.embedding.projection, sideBySide: s.embedding.sideBySide },
        neighbours: { ...initialEvalState.neighbours, requestId: s.neighbours.requestId },
      }));
      // a walkthrough shows the encoder it ran on; a new encoder makes it history
      useWalkthroughStore.setState({ result: null, line: 0 });
      break;
    case 'status':
      flushSteps();
      useRunStore.setState({ status: message.status });
      break;
    case 'step':
      pendingSteps.push(message.metrics);
      flushTimer ??= setTimeout(flushSteps, FLUSH_MS);
      break;
    case 'probe': {
      flushSteps();
      const { point } = message;
      if (point.kind === 'random-init') useRunStore.setState({ randomInitBaseline: point });
      else if (point.kind === 'raw-pixels') useRunStore.setState({ rawPixelBaseline: point });
      else useRunStore.setState((s) => ({ probes: [...s.probes, point] }));
      break;
    }
    case 'knn': {
      flushSteps();
      const { point } = message;
      if (point.kind === 'random-init') useRunStore.setState({ knnRandomInit: point });
      else if (point.kind === 'raw-pixels') useRunStore.setState({ knnRawPixels: point });
      else useRunStore.setState((s) => ({ knn: [...s.knn, point] }));
      break;
    }
    case 'label-efficiency-progress':
      updateLabelEfficiency(message.requestId, { progress: { done: message.done, total: message.total, phase: message.phase } });
      break;
    case 'label-efficiency-row':
      updateLabelEfficiency(message.requestId, (le) => ({ rows: [...le.rows, message.row] }));
      break;
    case 'few-shot-row':
      updateLabelEfficiency(message.requestId, (le) => ({ fewShot: [...le.fewShot, message.row] }));
      break;
    case 'label-efficiency-done':
      updateLabelEfficiency(message.requestId, {
        running: false, progress: null, cancelled: message.cancelled, error: message.error ?? null,
        evalDatasetName: message.evalDatasetName, trainDatasetName: message.trainDatasetName,
      });
      break;
    case 'embedding':
      if (message.result.requestId === useEvalStore.getState().embedding.requestId) {
        const { result } = message;
        useEvalStore.setState((s) => {
          const maps = { ...s.embedding.maps, [result.encoder]: result };
          const waiting = s.embedding.sideBySide && !(maps.encoder && maps['random-init']);
          return { embedding: { ...s.embedding, maps, pending: waiting, progress: waiting ? s.embedding.progress : null, error: null } };
        });
      }
      break;
    case 'embedding-progress':
      if (message.requestId === useEvalStore.getState().embedding.requestId) {
        useEvalStore.setState((s) => ({ embedding: { ...s.embedding, progress: { phase: message.phase, done: message.done, total: message.total } } }));
      }
      break;
    case 'embedding-error':
      if (message.requestId === useEvalStore.getState().embedding.requestId) {
        useEvalStore.setState((s) => ({ embedding: { ...s.embedding, pending: false, progress: null, error: message.message } }));
      }
      break;
    case 'neighbours':
      if (message.result.requestId === useEvalStore.getState().neighbours.requestId) {
        useEvalStore.setState((s) => ({ neighbours: { ...s.neighbours, pending: false, result: message.result, error: null } }));
      }
      break;
    case 'neighbours-error':
      if (message.requestId === useEvalStore.getState().neighbours.requestId) {
        useEvalStore.setState((s) => ({ neighbours: { ...s.neighbours, pending: false, error: message.message } }));
      }
      break;
    case 'error':
      flushSteps();
      useRunStore.setState({ error: message.message, errorSource: message.source ?? null });
      break;
    case 'affinity':
      useRunStore.setState({ affinity: message.snapshot });
      break;
    case 'task-snapshot':
      useRunStore.setState({ taskSnapshot: message.snapshot });
      break;
    case 'method-matrix':
      useRunStore.setState({ methodMatrix: message.snapshot });
      break;
    case 'notice':
      useRunStore.setState((s) => ({ notices: [...s.notices, message.message] }));
      if (message.dataset) useConfigStore.getState().setField('dataset', message.dataset);
      if (message.method) useConfigStore.getState().setField('method', message.method);
      break;
    case 'preview':
      if (message.requestId === previewRequestId) usePreviewStore.setState({ result: message.result, error: null });
      previewSettled();
      break;
    case 'preview-error':
      usePreviewStore.setState({ error: `The previewer could not render the views: ${message.message}` });
      previewSettled();
      break;
    case 'walkthrough':
      flushSteps();
      if (message.result.requestId === useWalkthroughStore.getState().requestId) {
        useWalkthroughStore.setState({ result: message.result, line: 0, pending: false, error: null });
      }
      break;
    case 'walkthrough-error':
      if (message.requestId === useWalkthroughStore.getState().requestId) {
        useWalkthroughStore.setState({ pending: false, error: `The walkthrough stopped: ${message.message}` });
      }
      break;
    case 'generator-step':
    case 'generator-samples':
    case 'generator-quality':
    case 'generator-neighbours':
    case 'generator-done':
      applyGeneratorMessage(message);
      break;
    case 'features-export':
      if (message.result.requestId === useEvalStore.getState().projector.requestId) {
        try {
          const bundle = projectorFiles(message.result);
          useEvalStore.setState((s) => ({ projector: { ...s.projector, pending: false, error: null, bundle } }));
        } catch (error) {
          useEvalStore.setState((s) => ({ projector: { ...s.projector, pending: false, error: error instanceof Error ? error.message : String(error) } }));
        }
      }
      break;
    case 'weights-export':
      if (message.requestId === useEvalStore.getState().weights.requestId) {
        const file = { requestId: message.requestId, bytes: message.bytes, fileName: message.fileName };
        useEvalStore.setState((s) => ({ weights: { ...s.weights, pending: false, error: null, file } }));
      }
      break;
    case 'weights-export-error':
      if (message.requestId === useEvalStore.getState().weights.requestId) {
        useEvalStore.setState((s) => ({ weights: { ...s.weights, pending: false, error: message.message } }));
      }
      break;
    case 'features-export-error':
      if (message.requestId === useEvalStore.getState().projector.requestId) {
        useEvalStore.setState((s) => ({ projector: { ...s.projector, pending: false, error: message.message } }));
      }
      break;
    case 'mix-ready':
    case 'mix-error':
      // the experiment runner's (a listener)
      break;
    case 'checkpoint-saved':
    case 'checkpoint-loaded':
    case 'checkpoint-error':
    case 'dataset-export':
    case 'dataset-export-error':
      // the checkpoint store's (checkpointClient below)
      break;
    default:
      assertNever(message);
  }
}

type LabelEfficiencyPatch = Partial<EvalState['labelEfficiency']>;

/** Applies a label-efficiency message if it answers the latest request. */
function updateLabelEfficiency(requestId: number, patch: LabelEfficiencyPatch | ((le: EvalState['labelEfficiency']) => LabelEfficiencyPatch)): void {
  useEvalStore.setState((s) => {
    if (requestId !== s.labelEfficiency.requestId) return s;
    const change = typeof patch === 'function' ? patch(s.labelEfficiency) : patch;
    return { labelEfficiency: { ...s.labelEfficiency, ...change } };
  });
}

/** The heartbeat: a ping this often; a worker silent for WORKER_SILENT_MS with a ping unanswered is taken for dead. */
const PING_EVERY_MS = 5_000;
/** Generous: a default-sized first step on a CPU emulation can keep the worker from reading messages for over a minute. */
const WORKER_SILENT_MS = 180_000;
/** WORKER_SILENT_MS, shortened only by the fault tests' hook (a hung worker found in seconds, not minutes) */
let workerSilentMs = WORKER_SILENT_MS;
let lastHeardAt = 0;
let pingId = 0;
let heartbeat: ReturnType<typeof setInterval> | null = null;

/** The worker failed (an uncaught error, or silence): stop, say so, keep the history, and offer a new worker. */
function workerFailed(what: string): void {
  flushSteps();
  // a worker that threw may still be running: stop it, so nothing more lands on the charts
  const failed = worker;
  worker = null;
  failed?.terminate();
  if (heartbeat) clearInterval(heartbeat);
  heartbeat = null;
  useRunStore.setState({
    status: 'error',
    activity: null,
    errorSource: 'worker',
    error: explainFailure(what, 'worker'),
  });
}

/** A worker of our own: its messages go to the stores and to the listeners (a comparison), and a heartbeat watches it. */
function spawnWorker(resumeStep?: number): void {
  worker = new Worker(new URL('../train/worker.ts', import.meta.url), { type: 'module' });
  const own = worker;
  lastHeardAt = performance.now();
  worker.onmessage = (event: MessageEvent<FromWorker>) => {
    if (worker !== own) return;
    lastHeardAt = performance.now();
    handle(event.data);
    for (const listener of listeners) listener(event.data);
  };
  worker.onerror = (event) => {
    if (worker !== own) return;
    event.preventDefault();
    workerFailed(`the training worker crashed (${event.message || 'an error it did not report'})`);
  };
  if (heartbeat) clearInterval(heartbeat);
  heartbeat = setInterval(() => {
    if (worker !== own || useRunStore.getState().errorSource === 'worker') return;
    if (performance.now() - lastHeardAt > workerSilentMs) {
      workerFailed(`the training worker stopped answering for ${Math.round(workerSilentMs / 1000)} s (killed for memory, or stuck)`);
      return;
    }
    send({ type: 'ping', id: ++pingId });
  }, PING_EVERY_MS);
  // this visit's unsaved uploads, in place before 'init' reads the configured dataset
  for (const [id, dataset] of visitUploads) send({ type: 'provide-dataset', id, dataset });
  send({ type: 'init', config: useConfigStore.getState().config, baseUrl: new URL(import.meta.env.BASE_URL, window.location.href).href, resumeStep });
}

/**
 * After a lost GPU device or a failed worker: a new worker (so a new device),
 * a new encoder whose steps count on from the last one, and the charts'
 * history kept with a mark where the encoder was replaced.
 */
export function restartWorker(reason: string): void {
  flushSteps();
  const old = worker;
  worker = null;
  old?.terminate();
  claimed = false;
  const resumeStep = latestStep(useRunStore.getState())?.step ?? 0;
  useRunStore.setState((s) => ({
    status: 'loading', error: null, errorSource: null, activity: null, model: null,
    restarts: resumeStep > 0 ? [...s.restarts, { step: resumeStep, reason }] : s.restarts,
  }));
  spawnWorker(resumeStep || undefined);
}

export function startTrainingClient(): void {
  if (worker) return;
  useRunStore.setState(initialRunState);
  spawnWorker();
  // for the fault tests (e2e/faults.spec.ts): a lost device, a crash or a hang on demand; a user can only break their own page with it
  (window as unknown as { __sspInjectFault?: (fault: InjectedFault, options?: { silentMs?: number }) => void }).__sspInjectFault = (fault, options) => {
    if (options?.silentMs !== undefined && Number.isFinite(options.silentMs) && options.silentMs > 0) workerSilentMs = options.silentMs;
    send({ type: 'inject-fault', fault });
  };

  // live settings go to the worker as soon as they are valid
  useConfigStore.subscribe((state, previous) => {
    if (state.config === previous.config || claimed) return;
    const applied = useRunStore.getState().appliedConfig;
    if (state.config.dataset !== previous.config.dataset && applied && applied.dataset !== state.config.dataset) {
      // a new dataset changes what everything else depends on: start over, and say so
      useRunStore.setState((s) => ({
        notices: [...s.notices, 'Switched dataset: the encoder, its metrics and the probe were reset.'],
      }));
      training.reset();
      return;
    }
    send({ type: 'configure', config: state.config });
    if (state.config.augmentation !== previous.config.augmentation || state.config.imageSize !== previous.config.imageSize) {
      requestPreview();
    }
  });
}

/** Settings changed since the encoder was built that only a reset applies. */
export function needsReset(config: ExperimentConfig, applied: ExperimentConfig | null): (keyof ExperimentConfig)[] {
  return applied ? pendingResetFields(applied, config) : [];
}

export const previewer = {
  resample: () => {
    usePreviewStore.setState((s) => ({ seed: s.seed + 1 }));
    requestPreview();
  },
  /**
   * Toggle a training image (picked in the gallery) in the previewer. The
   * first pick replaces the random sample; the previewer shows up to 16.
   */
  pick: (index: number) => {
    usePreviewStore.setState((s) => {
      const picked = s.picked.includes(index) ? s.picked.filter((i) => i !== index) : [...s.picked, index].slice(-16);
      return { picked, indices: picked.length > 0 ? picked : s.sample };
    });
    requestPreview();
  },
};

/** Sends a user action unless a comparison owns the worker. */
function userSend(message: ToWorker): void {
  if (!claimed) send(message);
}

export const training = {
  start: () => {
    useRunStore.setState({ error: null });
    userSend({ type: 'start' });
  },
  pause: () => userSend({ type: 'pause' }),
  step: () => {
    useRunStore.setState({ error: null });
    userSend({ type: 'step' });
  },
  probe: () => userSend({ type: 'probe' }),
  /** tells the worker an uploaded set's new name (sent even during a comparison: it changes no measurement) */
  renameDataset: (id: string, name: string) => send({ type: 'rename-dataset', id, name }),
  reset: () => {
    useRunStore.setState({ error: null });
    userSend({ type: 'reset', config: useConfigStore.getState().config });
  },
};

/**
 * Uploads the browser would not store, kept by the page for this visit: a new
 * worker (after a lost device or a crash) is handed them again, so a run on
 * one carries on. One copy here and one in the worker; such uploads are
 * capped at the upload limit, and only exist when IndexedDB is missing or full.
 */
const visitUploads = new Map<string, ImageDataset>();

/**
 * Hands the worker an uploaded set the browser would not store, to hold for
 * this visit, before the page switches to it (null: the page dropped it).
 * Sent even during a comparison: it changes no measurement. The worker gets a
 * copy (structured clone); the page keeps its own for a new worker.
 */
export function provideDataset(id: string, dataset: ImageDataset | null): void {
  if (dataset) visitUploads.set(id, dataset);
  else visitUploads.delete(id);
  send({ type: 'provide-dataset', id, dataset });
}

/** Lecture mode: one small minibatch through Algorithm 1, with one real update of the model. */
export const walkthrough = {
  start: () => {
    if (claimed) return;
    const { batchSize, requestId } = useWalkthroughStore.getState();
    const id = requestId + 1;
    useWalkthroughStore.setState({ requestId: id, pending: true, error: null });
    // a new minibatch and new t, t′ each time, reproducible from the run's seed
    const seed = (useConfigStore.getState().config.seed * 7919 + id) >>> 0;
    send({ type: 'walkthrough', requestId: id, batchSize, seed });
  },
};

export interface LabelEfficiencyOptions {
  fractions?: number[];
  supervisedSteps?: number;
  shots?: number[];
  /** dataset id the probes are fitted and scored on; defaults to the training dataset */
  evalDataset?: string;
}

/** The on-demand evaluations: the label-efficiency table, the embedding map, nearest neighbours. */
export const evaluation = {
  runLabelEfficiency: (options: LabelEfficiencyOptions = {}) => {
    if (claimed) return;
    const requestId = useEvalStore.getState().labelEfficiency.requestId + 1;
    useEvalStore.setState({ labelEfficiency: { ...initialLabelEfficiency, requestId, running: true, progress: { done: 0, total: 1, phase: 'starting' } } });
    const config = useConfigStore.getState().config;
    send({
      type: 'label-efficiency',
      request: {
        requestId,
        fractions: options.fractions ?? DEFAULT_FRACTIONS,
        supervisedSteps: options.supervisedSteps ?? DEFAULT_SUPERVISED_STEPS,
        shots: options.shots ?? DEFAULT_SHOTS,
        evalDataset: options.evalDataset ?? config.dataset,
      },
    });
  },
  cancelLabelEfficiency: () => {
    const { requestId, running } = useEvalStore.getState().labelEfficiency;
    if (running) send({ type: 'cancel-evaluation', requestId });
  },
  /** Maps h of the test images to 2-D for the trained encoder, and the random-init one beside it when side by side. */
  embedding: (projection: EmbeddingProjection, sideBySide: boolean, count = 1000) => {
    if (claimed) return;
    const requestId = useEvalStore.getState().embedding.requestId + 1;
    useEvalStore.setState((s) => ({
      embedding: { ...s.embedding, requestId, pending: true, projection, sideBySide, maps: {}, error: null, progress: null },
    }));
    const encoders: EmbeddingEncoder[] = sideBySide ? ['encoder', 'random-init'] : ['encoder'];
    for (const encoder of encoders) send({ type: 'embedding', request: { requestId, encoder, projection, count } });
  },
  /** the encoder's weights as safetensors under PyTorch's names */
  exportWeights: (format: WeightsFormat = 'safetensors') => {
    if (claimed) return;
    const requestId = useEvalStore.getState().weights.requestId + 1;
    useEvalStore.setState((s) => ({ weights: { ...s.weights, requestId, format, pending: true, error: null } }));
    send({ type: 'export-weights', requestId, format });
  },
  /** h of the map's images, every dimension, zipped for TensorBoard's Embedding Projector */
  exportProjector: (count = 1000) => {
    if (claimed) return;
    const requestId = useEvalStore.getState().projector.requestId + 1;
    useEvalStore.setState((s) => ({ projector: { ...s.projector, requestId, pending: true, error: null } }));
    send({ type: 'export-features', requestId, encoder: 'encoder', count });
  },
  neighbours: (split: 'train' | 'test', index: number) => {
    if (claimed) return;
    const requestId = useEvalStore.getState().neighbours.requestId + 1;
    useEvalStore.setState((s) => ({ neighbours: { ...s.neighbours, requestId, pending: true, error: null } }));
    send({ type: 'neighbours', requestId, split, index });
  },
};

/** Whether a comparison or the generated-data experiment owns the worker now (the user's own requests wait). */
export const workerClaimed = (): boolean => claimed;

/**
 * The generator panel's requests (issue 19). Each returns its request id (0
 * when refused because a comparison owns the worker); the answers reach
 * useGeneratorStore through applyGeneratorMessage.
 */
export const generatorClient = {
  /** trains `settings.steps` steps: a new generator (fresh) or the one the worker holds, on the active dataset */
  train: (settings: GeneratorSettings, fresh: boolean): number => {
    if (claimed) return 0;
    const requestId = ++generatorRequestId;
    send({ type: 'generator-train', requestId, settings, fresh });
    return requestId;
  },
  cancel: (requestId: number): void => {
    send({ type: 'generator-cancel', requestId });
  },
  /** loads a saved generator into the worker: its grid, neighbours and quality come back as after training */
  load: (id: string): number => {
    if (claimed) return 0;
    const requestId = ++generatorRequestId;
    send({ type: 'generator-load', requestId, id });
    return requestId;
  },
};
let generatorRequestId = 0;
/** A request id for a generator request sent by the owner of the worker (the experiment runner). */
export const nextGeneratorRequestId = (): number => ++generatorRequestId;

let checkpointRequestId = 0;

/**
 * One request to the worker and its one answer: `answer` maps each message to
 * the value to resolve with, an Error to reject with, or undefined for a
 * message that is not the answer. A worker error rejects too.
 */
function workerRequest<T>(message: ToWorker, answer: (reply: FromWorker) => T | Error | undefined): Promise<T> {
  return new Promise((resolve, reject) => {
    if (!worker) return reject(new Error('The training worker is not running.'));
    const stop = onWorkerMessage((reply) => {
      const value = reply.type === 'error' ? new Error(reply.message) : answer(reply);
      if (value === undefined) return;
      stop();
      if (value instanceof Error) reject(value);
      else resolve(value);
    });
    send(message);
  });
}

/**
 * The checkpoint store's requests (src/state/checkpointStore.ts): the
 * trainer's state for a checkpoint, and a checkpoint's state put in place.
 * Refused while a comparison owns the worker (it would save or replace the run
 * being measured).
 */
export const checkpointClient = {
  save: (): Promise<TrainerState> => {
    if (claimed) return Promise.reject(new Error('A comparison or experiment is using the trainer: save when it has finished.'));
    flushSteps();
    const requestId = ++checkpointRequestId;
    return workerRequest({ type: 'checkpoint-save', requestId }, (m) =>
      m.type === 'checkpoint-saved' && m.requestId === requestId ? m.state
        : m.type === 'checkpoint-error' && m.requestId === requestId ? new Error(m.message) : undefined);
  },
  load: (state: TrainerState): Promise<number> => {
    if (claimed) return Promise.reject(new Error('A comparison or experiment is using the trainer: resume when it has finished.'));
    flushSteps();
    const requestId = ++checkpointRequestId;
    return workerRequest({ type: 'checkpoint-load', requestId, state }, (m) =>
      m.type === 'checkpoint-loaded' && m.requestId === requestId ? m.step
        : m.type === 'checkpoint-error' && m.requestId === requestId ? new Error(m.message) : undefined);
  },
  /** the page's history of the main run, as a checkpoint keeps it */
  flush: flushSteps,
};

/** Requests of the page's own (not the evaluation panel's) count down, so their answers never match the panel's. */
let ownExportRequestId = 0;

/** The encoder's safetensors bytes, for a file the page builds around them (the PyTorch export), without a download. */
export function encoderBytes(): Promise<Uint8Array> {
  if (claimed) return Promise.reject(new Error('A comparison or experiment is using the trainer: export when it has finished.'));
  const requestId = --ownExportRequestId;
  return workerRequest({ type: 'export-weights', requestId, format: 'safetensors' }, (m) =>
    m.type === 'weights-export' && m.requestId === requestId ? m.bytes
      : m.type === 'weights-export-error' && m.requestId === requestId ? new Error(m.message) : undefined);
}

/** The training images as an ImageFolder zip, built in the worker (the page does not hold the images). */
export function datasetImageFolder(): Promise<{ bytes: Uint8Array; fileName: string; count: number }> {
  if (claimed) return Promise.reject(new Error('A comparison or experiment is using the trainer: export when it has finished.'));
  const requestId = --ownExportRequestId;
  return workerRequest({ type: 'export-dataset', requestId }, (m) =>
    m.type === 'dataset-export' && m.requestId === requestId ? { bytes: m.bytes, fileName: m.fileName, count: m.count }
      : m.type === 'dataset-export-error' && m.requestId === requestId ? new Error(m.message) : undefined);
}
