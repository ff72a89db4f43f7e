/// <reference lib="webworker" />
/**
 * The training worker: owns tfjs, the dataset on the device, the encoder and
 * its optimizer. Every request runs on one serial queue, so a step, a probe
 * and a reset never interleave; the loop yields between steps so pause and
 * configure messages are read promptly.
 */
import { renderPreview } from '../augment/previewViews';
import { classCounts, type ImageDataset } from '../data/dataset';
import { loadBuiltinDataset } from '../data/fashionMnist';
import type { ExperimentConfig } from '../state/config';
import { selectBackend } from './backend';
import { assertNever, type FromWorker, type RunStatus, type ToWorker } from './protocol';
import { SimclrTrainer } from './trainer';

declare const self: DedicatedWorkerGlobalScope;

const GALLERY_SIZE = 40;

let dataset: ImageDataset | null = null;
let trainer: SimclrTrainer | null = null;
let config: ExperimentConfig | null = null;
let backendPreference: string | null = null;
let running = false;
let baselinesDone = false;
let queue: Promise<void> = Promise.resolve();
/** resolves once the dataset is on hand, so a preview asked for during loading waits for it */
let resolveDataset: (d: ImageDataset) => void = () => {};
const datasetReady = new Promise<ImageDataset>((resolve) => { resolveDataset = resolve; });

function post(message: FromWorker, transfer: Transferable[] = []): void {
  self.postMessage(message, transfer);
}

function setStatus(status: RunStatus): void {
  post({ type: 'status', status });
}

function enqueue(task: () => Promise<void>): void {
  queue = queue.then(task).catch(fail);
}

function fail(error: unknown): void {
  running = false;
  const message = error instanceof Error ? error.message : String(error);
  const lower = message.toLowerCase();
  let explained = message;
  if (lower.includes('device') && lower.includes('lost')) {
    explained = `The GPU device was lost (${message}). Training stopped; the history is kept. Reload the page to get a new device.`;
  } else if (lower.includes('out of memory') || lower.includes('oom') || lower.includes('allocation')) {
    explained = `The GPU ran out of memory (${message}). Lower the batch size, view size or encoder width, then press Reset.`;
  }
  post({ type: 'error', message: explained, detail: error instanceof Error ? error.stack : undefined });
  setStatus('error');
}

async function loadDataset(baseUrl: string): Promise<ImageDataset> {
  const loaded = await loadBuiltinDataset(baseUrl, (p) =>
    post({ type: 'dataset-progress', loadedBytes: p.loadedBytes, totalBytes: p.totalBytes, phase: p.phase }),
  );
  const { imageSize, channels } = loaded;
  const gallery = Math.min(GALLERY_SIZE, loaded.train.count);
  post({
    type: 'dataset-ready',
    dataset: {
      id: loaded.id,
      name: loaded.name,
      imageSize,
      channels,
      classNames: loaded.classNames,
      trainCount: loaded.train.count,
      testCount: loaded.test.count,
      trainClassCounts: classCounts(loaded.train, loaded.classNames.length),
      credit: loaded.credit,
      galleryImages: loaded.train.images.slice(0, gallery * imageSize * imageSize * channels),
      galleryLabels: Array.from(loaded.train.labels.subarray(0, gallery)),
    },
  });
  return loaded;
}

async function buildTrainer(next: ExperimentConfig): Promise<void> {
  // free the old run's tensors on the backend that made them
  trainer?.dispose();
  trainer = null;
  if (backendPreference !== next.backend) {
    const choice = await selectBackend(next.backend);
    backendPreference = next.backend;
    post({ type: 'backend', backend: choice.backend, reasons: choice.reasons, adapter: choice.adapter });
  }
  config = next;
  trainer = new SimclrTrainer(dataset!, next);
  baselinesDone = false;
  const { model } = trainer;
  post({ type: 'model-ready', model: { parameterCount: model.parameterCount, hDim: model.hDim, zDim: model.zDim }, config: next });
}

/**
 * Previews run outside the queue: tfjs work here is synchronous between
 * awaits, so a preview slots in while a training step waits for the GPU and
 * the previewer stays live during training.
 */
async function preview(message: Extract<ToWorker, { type: 'preview' }>): Promise<void> {
  try {
    const ds = await datasetReady;
    const indices = message.indices.filter((i) => Number.isInteger(i) && i >= 0 && i < ds.train.count);
    const result = await renderPreview(ds.train, ds.imageSize, ds.channels, indices, message.pipeline, message.outputSize, message.seed);
    post({ type: 'preview', requestId: message.requestId, result }, [result.originals.buffer, result.views1.buffer, result.views2.buffer]);
  } catch (error) {
    post({ type: 'preview-error', requestId: message.requestId, message: error instanceof Error ? error.message : String(error) });
  }
}

/** The random-init and raw-pixel baselines, once per encoder; then the encoder itself. */
async function runProbe(): Promise<void> {
  if (!trainer) return;
  setStatus('probing');
  if (!baselinesDone) {
    post({ type: 'probe', point: await trainer.probe('random-init') });
    post({ type: 'probe', point: await trainer.probe('raw-pixels') });
    baselinesDone = true;
  }
  if (trainer.step > 0) post({ type: 'probe', point: await trainer.probe('encoder') });
}

async function oneStep(): Promise<void> {
  if (!trainer || !config) return;
  const metrics = await trainer.trainStep();
  post({ type: 'step', metrics });
  if (config.probeEvery > 0 && trainer.step % config.probeEvery === 0) {
    await runProbe();
  }
}

function loop(): void {
  enqueue(async () => {
    if (!running) return;
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
        const choice = await selectBackend(message.config.backend);
        backendPreference = message.config.backend;
        post({ type: 'backend', backend: choice.backend, reasons: choice.reasons, adapter: choice.adapter });
        dataset = await loadDataset(message.baseUrl);
        resolveDataset(dataset);
        await buildTrainer(message.config);
        setStatus('idle');
      });
      break;
    case 'configure':
      enqueue(async () => {
        config = message.config;
        trainer?.configure(message.config);
      });
      break;
    case 'start':
      if (running) break;
      running = true;
      setStatus('running');
      loop();
      break;
    case 'pause':
      running = false;
      enqueue(async () => setStatus('paused'));
      break;
    case 'step':
      running = false;
      enqueue(async () => {
        await oneStep();
        setStatus('paused');
      });
      break;
    case 'probe':
      enqueue(async () => {
        await runProbe();
        setStatus(running ? 'running' : 'paused');
      });
      break;
    case 'reset':
      running = false;
      enqueue(async () => {
        if (!dataset) return;
        await buildTrainer(message.config);
        setStatus('idle');
      });
      break;
    case 'preview':
      void preview(message);
      break;
    default:
      assertNever(message);
  }
};
