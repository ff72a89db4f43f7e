/**
 * Checkpoints on the page (issue 21): the main run is saved to IndexedDB when
 * it pauses, every AUTOSAVE_MS while it trains and when the page is hidden
 * (where the browser still lets the save finish), each run's automatic save
 * replacing the last; the user can save one to keep, download any as a file,
 * load one from a file, delete them. After a reload the newest save is offered
 * for resuming. Resuming builds the checkpoint's run in the worker
 * (src/train/worker.ts restoreCheckpoint) and puts back its settings and the
 * history behind every chart.
 */
import { create } from 'zustand';
import { METHOD_CATALOG, type MethodId } from '../core/methods';
import {
  deleteCheckpoint, dismissCheckpoint, listCheckpoints, loadCheckpointBytes, saveCheckpointRecord, type StoredCheckpointInfo,
} from '../data/checkpointDb';
import {
  CHECKPOINT_EXTENSION, CheckpointError, decodeCheckpointFile, encodeCheckpointFile, type Checkpoint, type CheckpointReason, type RunHistory,
} from '../train/checkpoint';
import { useConfigStore } from './configStore';
import { useRunStore } from './runStore';
import { checkpointClient, onWorkerMessage, restartWorker, workerClaimed } from './trainingClient';

/** While the run trains, it is saved this often. */
export const AUTOSAVE_MS = 2 * 60 * 1000;
/** A paused run is saved once it has stayed paused this long. */
export const PAUSE_SAVE_DELAY_MS = 1500;
/** Largest checkpoint file the page reads (a width-64 encoder with a 60,000-image bank is far below). */
export const MAX_CHECKPOINT_FILE_BYTES = 1024 * 2 ** 20;

export interface CheckpointMessage {
  kind: 'ok' | 'error';
  text: string;
}

export interface CheckpointState {
  checkpoints: StoredCheckpointInfo[];
  /** stored records that could not be read back */
  broken: number;
  /** what the store is doing now */
  busy: 'saving' | 'loading' | null;
  message: CheckpointMessage | null;
  /** the automatic save offered for resuming after a reload */
  offer: StoredCheckpointInfo | null;
  /** the main run's id: its automatic saves share it */
  runId: string;
  /** the step the main run was last saved at (null: not saved since it began) */
  savedStep: number | null;
  savedAt: number | null;
}

const newRunId = () => `${Date.now().toString(36)}-${Math.floor(Math.random() * 2 ** 32).toString(36)}`;

export const useCheckpointStore = create<CheckpointState>(() => ({
  checkpoints: [], broken: 0, busy: null, message: null, offer: null, runId: newRunId(), savedStep: null, savedAt: null,
}));

const methodLabel = (method: string) => METHOD_CATALOG[method as MethodId]?.label ?? method;

/** The history behind the main run's charts, as the run store holds it. */
function currentHistory(): RunHistory {
  const s = useRunStore.getState();
  return {
    steps: s.steps, probes: s.probes, randomInitBaseline: s.randomInitBaseline, rawPixelBaseline: s.rawPixelBaseline,
    knn: s.knn, knnRandomInit: s.knnRandomInit, knnRawPixels: s.knnRawPixels, restarts: s.restarts,
  };
}

function say(kind: CheckpointMessage['kind'], text: string): void {
  useCheckpointStore.setState({ message: { kind, text } });
}

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Reads the stored list again. */
export async function refreshCheckpoints(): Promise<void> {
  try {
    const { checkpoints, broken } = await listCheckpoints();
    useCheckpointStore.setState({ checkpoints, broken });
  } catch (error) {
    say('error', errorText(error));
  }
}

/** A file name that says what the checkpoint is; the dataset's name is reduced to safe characters. */
export function checkpointFileName(info: Pick<StoredCheckpointInfo, 'method' | 'step' | 'datasetName'>): string {
  const slug = info.datasetName.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'dataset';
  return `checkpoint-${info.method}-step${info.step}-${slug}${CHECKPOINT_EXTENSION}`;
}

/**
 * Saves the main run: the trainer's state from the worker, the history from
 * the run store, into IndexedDB. `auto` saves replace the run's previous
 * automatic save; a manual one is kept. Resolves with the stored description,
 * or null when there was nothing to save or it failed (the message says why).
 */
export async function saveCheckpoint(reason: CheckpointReason): Promise<StoredCheckpointInfo | null> {
  const auto = reason !== 'manual';
  const { busy } = useCheckpointStore.getState();
  if (busy) return null;
  const run = useRunStore.getState();
  if (!run.model || !run.appliedConfig) {
    if (!auto) say('error', 'There is no encoder to save yet: wait until the dataset has loaded.');
    return null;
  }
  useCheckpointStore.setState({ busy: 'saving', ...(auto ? {} : { message: null }) });
  try {
    const state = await checkpointClient.save();
    const checkpoint: Checkpoint = { trainer: state, history: currentHistory(), savedAt: new Date().toISOString(), reason };
    const bytes = encodeCheckpointFile(checkpoint);
    const { runId } = useCheckpointStore.getState();
    const savedAt = Date.now();
    const info: StoredCheckpointInfo = {
      id: auto ? `auto-${runId}` : `saved-${savedAt.toString(36)}-${state.step}`,
      runId, auto, reason, savedAt, step: state.step, method: state.config.method, methodLabel: methodLabel(state.config.method),
      datasetId: state.dataset.id, datasetName: state.dataset.name, bytes: bytes.length,
    };
    await saveCheckpointRecord(info, bytes);
    useCheckpointStore.setState({ savedStep: state.step, savedAt });
    if (!auto) say('ok', `Saved step ${state.step} (${(bytes.length / 1e6).toFixed(1)} MB). It stays in this browser until you delete it.`);
    await refreshCheckpoints();
    return info;
  } catch (error) {
    // an automatic save that fails is said too, in the command bar (seen from any tab), once per reason: a run the
    // user believes is kept must not silently not be
    const text = `${auto ? 'The automatic save failed' : 'Could not save the checkpoint'}: ${errorText(error)}`;
    say('error', text);
    if (auto) useRunStore.setState((s) => (s.notices.includes(text) ? {} : { notices: [...s.notices, text] }));
    return null;
  } finally {
    useCheckpointStore.setState({ busy: null });
  }
}

/**
 * Makes a checkpoint's run the main run: the worker builds it (refusing, with
 * the reason and nothing changed, one that does not fit), then its settings
 * and history go back on the page.
 */
async function resume(checkpoint: Checkpoint, runId: string, from: string): Promise<boolean> {
  if (useCheckpointStore.getState().busy) return false;
  useCheckpointStore.setState({ busy: 'loading', message: null, offer: null });
  try {
    const step = await checkpointClient.load(checkpoint.trainer);
    const history = checkpoint.history;
    useRunStore.setState({
      steps: history.steps, probes: history.probes, randomInitBaseline: history.randomInitBaseline, rawPixelBaseline: history.rawPixelBaseline,
      knn: history.knn, knnRandomInit: history.knnRandomInit, knnRawPixels: history.knnRawPixels, restarts: history.restarts,
      error: null, errorSource: null,
    });
    const applied = useRunStore.getState().appliedConfig;
    if (applied) useConfigStore.getState().replaceConfig(applied);
    useCheckpointStore.setState({ runId, savedStep: step, savedAt: Date.now() });
    say('ok', `Resumed ${methodLabel(checkpoint.trainer.config.method)} on “${checkpoint.trainer.dataset.name}” at step ${step} ${from}. Press Train to go on.`);
    return true;
  } catch (error) {
    say('error', `Could not resume ${from}: ${errorText(error)} Nothing was changed.`);
    return false;
  } finally {
    useCheckpointStore.setState({ busy: null });
  }
}

/** Resumes a stored checkpoint. */
export async function resumeStored(id: string): Promise<boolean> {
  const info = useCheckpointStore.getState().checkpoints.find((c) => c.id === id) ?? useCheckpointStore.getState().offer;
  let checkpoint: Checkpoint;
  try {
    const bytes = await loadCheckpointBytes(id);
    if (!bytes) throw new CheckpointError('It is no longer stored (deleted in another tab?).');
    checkpoint = decodeCheckpointFile(bytes);
  } catch (error) {
    say('error', `Could not resume the saved checkpoint: ${errorText(error)}`);
    useCheckpointStore.setState({ offer: null });
    return false;
  }
  // resuming a run's automatic save carries on that run: its next automatic saves replace the same record
  return resume(checkpoint, info?.auto ? info.runId : newRunId(), 'from the saved checkpoint');
}

/** Resumes from a checkpoint file the user picked; anything that is not one is refused with why, and nothing changes. */
export async function resumeFromFile(file: File): Promise<boolean> {
  // the name is the user's: shown as text, cut short
  const name = file.name.length > 60 ? `${file.name.slice(0, 57)}…` : file.name;
  if (file.size > MAX_CHECKPOINT_FILE_BYTES) {
    say('error', `“${name}” is ${(file.size / 2 ** 20).toFixed(0)} MB, more than the ${MAX_CHECKPOINT_FILE_BYTES / 2 ** 20} MB a checkpoint of this app can be. Nothing was changed.`);
    return false;
  }
  let checkpoint: Checkpoint;
  try {
    checkpoint = decodeCheckpointFile(new Uint8Array(await file.arrayBuffer()));
  } catch (error) {
    say('error', `“${name}” cannot be loaded: ${errorText(error)} Nothing was changed.`);
    return false;
  }
  return resume(checkpoint, newRunId(), `from “${name}”`);
}

/** The stored checkpoint's file, for a download; null (with a message) when it cannot be read. */
export async function checkpointFile(id: string): Promise<{ bytes: Uint8Array; fileName: string } | null> {
  const info = useCheckpointStore.getState().checkpoints.find((c) => c.id === id);
  try {
    const bytes = await loadCheckpointBytes(id);
    if (!bytes || !info) throw new Error('It is no longer stored.');
    return { bytes, fileName: checkpointFileName(info) };
  } catch (error) {
    say('error', `Could not read the checkpoint: ${errorText(error)}`);
    return null;
  }
}

export async function removeCheckpoint(id: string): Promise<void> {
  try {
    await deleteCheckpoint(id);
    useCheckpointStore.setState((s) => ({ offer: s.offer?.id === id ? null : s.offer }));
  } catch (error) {
    say('error', errorText(error));
  }
  await refreshCheckpoints();
}

/**
 * After a lost device or a failed worker: a new worker, then the run's latest
 * automatic save resumed in it, so the run carries on from that save rather
 * than from an untrained encoder (the steps since the save are redone).
 */
export async function restartFromCheckpoint(reason: string): Promise<boolean> {
  const { runId } = useCheckpointStore.getState();
  const ready = new Promise<void>((resolve) => {
    const stop = onWorkerMessage((message) => {
      if (message.type === 'model-ready') {
        stop();
        resolve();
      }
    });
  });
  restartWorker(reason);
  await ready;
  return resumeStored(`auto-${runId}`);
}

/** Not now: the offer goes, and this checkpoint is not offered again (it stays in the list). */
export async function dismissOffer(): Promise<void> {
  const { offer } = useCheckpointStore.getState();
  useCheckpointStore.setState({ offer: null });
  if (!offer) return;
  try {
    await dismissCheckpoint(offer.id);
  } catch {
    // the offer is gone from this page either way
  }
  await refreshCheckpoints();
}

/** Whether the main run has steps its newest save does not hold. */
function unsaved(): boolean {
  const run = useRunStore.getState();
  const step = run.steps[run.steps.length - 1]?.step ?? 0;
  return step > 0 && step !== useCheckpointStore.getState().savedStep && !workerClaimed() && run.status !== 'error';
}

let started = false;

/**
 * Starts the automatic saves and the offer to resume; call once after the
 * training client has started.
 */
export function startCheckpoints(): void {
  if (started) return;
  started = true;
  void (async () => {
    await refreshCheckpoints();
    // the newest save, automatic or the user's (a manual save also counts as the run's latest), unless declined;
    // offered only while nothing has trained on this page yet
    const [newest] = useCheckpointStore.getState().checkpoints;
    if (newest && !newest.dismissed && newest.step > 0 && useRunStore.getState().steps.length === 0) useCheckpointStore.setState({ offer: newest });
  })();
  // a new encoder (Reset, a new dataset or method) is a new run: its saves do not replace the old run's
  onWorkerMessage((message) => {
    if (message.type === 'model-ready' && message.resumedAt === undefined && useCheckpointStore.getState().busy !== 'loading') {
      useCheckpointStore.setState({ runId: newRunId(), savedStep: null, savedAt: null });
    }
  });
  // paused (after Pause, or after Step): saved once the run has stayed paused a moment, so stepping through
  // minibatches one click at a time saves after the last click rather than after each
  let pauseTimer: ReturnType<typeof setTimeout> | null = null;
  useRunStore.subscribe((state, previous) => {
    if (state.status === previous.status && state.steps === previous.steps) return;
    // training started here: the offer to resume another run goes (it stays in the list)
    if (state.status === 'running' && previous.status !== 'running') useCheckpointStore.setState({ offer: null });
    if (pauseTimer) clearTimeout(pauseTimer);
    pauseTimer = null;
    if (state.status === 'paused') {
      pauseTimer = setTimeout(() => {
        pauseTimer = null;
        if (useRunStore.getState().status === 'paused' && unsaved()) void saveCheckpoint('pause');
      }, PAUSE_SAVE_DELAY_MS);
    }
  });
  setInterval(() => {
    if (useRunStore.getState().status === 'running' && unsaved()) void saveCheckpoint('autosave');
  }, AUTOSAVE_MS);
  // the page is going away or to the background: save while the browser still runs it (it may not finish on close)
  const onHidden = () => {
    if (document.visibilityState === 'hidden' && unsaved()) void saveCheckpoint('unload');
  };
  document.addEventListener('visibilitychange', onHidden);
  window.addEventListener('pagehide', () => {
    if (unsaved()) void saveCheckpoint('unload');
  });
}
