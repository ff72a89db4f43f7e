/**
 * Uploaded datasets: the list kept in IndexedDB, the sets kept for this visit
 * only (the browser would not store them), and an upload in progress.
 * Decoding runs in its own worker (src/data/upload/decodeWorker.ts), which
 * also saves the result, so the page stays responsive on thousands of files.
 * Other tabs announce their changes (src/data/storageChannel.ts): the list
 * follows them.
 */
import { create } from 'zustand';
import { deleteGeneratorsOf } from '../data/generatorDb';
import { deleteDataset, describeDataset, listDatasets, renameDataset, type BrokenDataset, type StoredDatasetInfo } from '../data/datasetDb';
import { adviceToSave, StorageError, whyNotSaved } from '../data/indexedDb';
import { onStorageChange, type StorageChange } from '../data/storageChannel';
import { UPLOAD_PREFIX } from '../core/datasets';
import { checkNewName } from '../data/upload/datasetName';
import type { DecodeFromWorker, DecodeOptions, SkippedFile, UnsavedDataset, UploadSummary } from '../data/upload/protocol';
import { useConfigStore } from './configStore';
import { useRunStore } from './runStore';
import { provideDataset, training } from './trainingClient';

export interface UploadProgress {
  done: number;
  total: number;
  phase: string;
}

/**
 * What the page says about storage, one message per subject, so a cause is
 * said once: list (the saved sets cannot be read), save (the last upload was
 * not saved; it replaces list, which says the same of the storage), action (a
 * rename or delete failed), broken (stored sets skipped), other-tab (the set
 * in use was deleted in another tab).
 */
export type StorageMessageKey = 'list' | 'save' | 'action' | 'broken' | 'other-tab';
export interface StorageMessage {
  key: StorageMessageKey;
  text: string;
}

interface DatasetState {
  stored: StoredDatasetInfo[];
  /** sets used for this visit only: the browser would not store them; the training worker holds their images */
  session: StoredDatasetInfo[];
  /** stored sets that cannot be used, skipped from the list */
  broken: BrokenDataset[];
  /** set while an upload is decoding */
  progress: UploadProgress | null;
  /** the last upload's outcome */
  summary: UploadSummary | null;
  uploadError: string | null;
  /** skipped files of the last upload, kept also when it failed */
  skipped: SkippedFile[];
  storageMessages: StorageMessage[];
}

export const useDatasetStore = create<DatasetState>(() => ({
  stored: [],
  session: [],
  broken: [],
  progress: null,
  summary: null,
  uploadError: null,
  skipped: [],
  storageMessages: [],
}));

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** Sets (text) or clears (null) the message on one subject; a text already shown under another subject is not shown twice. */
export function setStorageMessage(key: StorageMessageKey, text: string | null): void {
  useDatasetStore.setState((s) => {
    const others = s.storageMessages.filter((m) => m.key !== key && !(key === 'save' && m.key === 'list'));
    if (text === null || others.some((m) => m.text === text)) return { storageMessages: others };
    return { storageMessages: [...others, { key, text }] };
  });
}

let decoder: Worker | null = null;
let watching = false;

/** From the first listing on: other tabs' changes update the list; a new active set ends the deleted-in-another-tab message. */
function watchOtherTabs(): void {
  if (watching) return;
  watching = true;
  onStorageChange(onOtherTab);
  useConfigStore.subscribe((state, previous) => {
    if (state.config.dataset !== previous.config.dataset) setStorageMessage('other-tab', null);
  });
}

export async function refreshStoredDatasets(): Promise<void> {
  watchOtherTabs();
  try {
    const { datasets, broken } = await listDatasets();
    useDatasetStore.setState({ stored: datasets, broken });
    setStorageMessage('list', null);
    setStorageMessage('broken', broken.length === 0 ? null : brokenMessage(broken));
  } catch (error) {
    // the last upload's not-saved message already says the storage cannot be used
    if (useDatasetStore.getState().storageMessages.some((m) => m.key === 'save')) return;
    setStorageMessage('list', listFailure(error));
  }
}

function listFailure(error: unknown): string {
  if (!(error instanceof StorageError) || error.kind === 'failed' || error.kind === 'broken') return errorText(error);
  const advice = adviceToSave(error);
  return `Uploads are not saved on this visit: ${whyNotSaved(error)}. An uploaded set is used for this visit only and is gone after a reload.${advice ? ` ${advice}` : ''}`;
}

function brokenMessage(broken: readonly BrokenDataset[]): string {
  const names = broken.slice(0, 3).map((b) => `“${b.name}” (${b.reason})`).join(', ');
  const more = broken.length > 3 ? ` and ${broken.length - 3} more` : '';
  return broken.length === 1
    ? `A saved dataset cannot be used and is skipped: ${names}.`
    : `${broken.length} saved datasets cannot be used and are skipped: ${names}${more}.`;
}

/** The active set takes a new name: the page shows it, and the worker's copy takes it for its messages and results. */
function nameActive(id: string, name: string): void {
  const active = useRunStore.getState().dataset;
  if (active?.id !== `${UPLOAD_PREFIX}${id}`) return;
  useRunStore.setState({ dataset: { ...active, name } });
  training.renameDataset(active.id, name);
}

/** Another tab saved, renamed or deleted a set: the list follows; a deleted set in use here goes on from memory. */
function onOtherTab(change: StorageChange): void {
  if (change.store !== 'datasets') return;
  const before = useDatasetStore.getState().stored.find((d) => d.id === change.id);
  void refreshStoredDatasets().then(() => {
    const inUse = useConfigStore.getState().config.dataset === `${UPLOAD_PREFIX}${change.id}`;
    if (change.change === 'renamed') {
      const after = useDatasetStore.getState().stored.find((d) => d.id === change.id);
      if (after) {
        useDatasetStore.setState((s) => ({ summary: s.summary?.id === change.id ? { ...s.summary, name: after.name } : s.summary }));
        nameActive(change.id, after.name);
      }
    } else if (change.change === 'deleted' && inUse) {
      const name = before?.name ?? useRunStore.getState().dataset?.name ?? change.id;
      // the training worker holds its copy: training goes on, until the page is closed or another set is chosen
      setStorageMessage(
        'other-tab',
        `“${name}” was deleted in another tab. Training goes on with the copy this page holds, for this visit only: it will be gone after a reload.`,
      );
    }
  });
}

/** The set is used for this visit only: listed as such, and handed to the training worker before the page switches to it. */
function keepForThisVisit(summary: UploadSummary, unsaved: UnsavedDataset): void {
  const { dataset, warning } = unsaved;
  const info = describeDataset(dataset, { skipped: summary.skipped, createdAt: Date.now() });
  useDatasetStore.setState((s) => ({ session: [info, ...s.session.filter((d) => d.id !== info.id)] }));
  setStorageMessage('save', warning);
  // the worker's copy carries the id the config names it by; the page's arrays move to the worker
  provideDataset(`${UPLOAD_PREFIX}${summary.id}`, { ...dataset, id: `${UPLOAD_PREFIX}${summary.id}` });
}

function handle(message: DecodeFromWorker): void {
  switch (message.type) {
    case 'progress':
      useDatasetStore.setState({ progress: { done: message.done, total: message.total, phase: message.phase } });
      break;
    case 'done': {
      useDatasetStore.setState({ progress: null, summary: message.summary, skipped: message.summary.skipped, uploadError: null });
      // the new set becomes the active dataset (the training client resets on the switch)
      const activate = () => useConfigStore.getState().setField('dataset', `${UPLOAD_PREFIX}${message.summary.id}`);
      if (message.unsaved) {
        keepForThisVisit(message.summary, message.unsaved);
        activate();
      } else {
        setStorageMessage('save', null);
        void refreshStoredDatasets().then(activate);
      }
      break;
    }
    case 'failed':
      useDatasetStore.setState({ progress: null, summary: null, uploadError: message.message, skipped: message.skipped });
      break;
    case 'cancelled':
      useDatasetStore.setState({ progress: null, uploadError: 'Upload cancelled: nothing was saved.' });
      break;
  }
}

export const uploads = {
  start(files: File[], options: DecodeOptions): void {
    if (files.length === 0) return;
    decoder ??= new Worker(new URL('../data/upload/decodeWorker.ts', import.meta.url), { type: 'module' });
    decoder.onmessage = (event: MessageEvent<DecodeFromWorker>) => handle(event.data);
    decoder.onerror = (event) => {
      useDatasetStore.setState({ progress: null, uploadError: `The image decoder crashed: ${event.message || 'unknown error'}. Try fewer or smaller files.` });
      decoder?.terminate();
      decoder = null;
    };
    useDatasetStore.setState({ progress: { done: 0, total: files.length, phase: 'reading' }, summary: null, uploadError: null, skipped: [] });
    const sessionNames = useDatasetStore.getState().session.map((d) => d.name);
    decoder.postMessage({ type: 'decode', files, options, sessionNames });
  },
  cancel(): void {
    decoder?.postMessage({ type: 'cancel' });
  },
  /**
   * Renames a stored or this-visit set to what the user typed, cleaned;
   * resolves with why it was refused (blank, too long, another set's name, a
   * storage error), or null once the new name is stored and shown.
   */
  async rename(id: string, typed: string): Promise<string | null> {
    const { stored, session } = useDatasetStore.getState();
    const inSession = session.some((d) => d.id === id);
    const current = (inSession ? session : stored).find((d) => d.id === id);
    if (!current) return 'This dataset is no longer saved in this browser (deleted in another tab?). Reload the page.';
    const others = [...stored, ...session].filter((d) => d.id !== id).map((d) => d.name);
    const check = checkNewName(typed, others);
    if (!check.ok) return check.message;
    if (check.name === current.name) return null;
    if (!inSession) {
      let found: boolean;
      try {
        found = await renameDataset(id, check.name);
      } catch (error) {
        return errorText(error);
      }
      if (!found) {
        await refreshStoredDatasets();
        return 'This dataset is no longer saved in this browser (deleted in another tab?). Nothing was renamed.';
      }
    }
    const name = check.name;
    const renamed = (list: StoredDatasetInfo[]) => list.map((d) => (d.id === id ? { ...d, name } : d));
    useDatasetStore.setState((s) => ({
      stored: renamed(s.stored),
      session: renamed(s.session),
      summary: s.summary?.id === id ? { ...s.summary, name } : s.summary,
    }));
    nameActive(id, name);
    return null;
  },
  async remove(id: string): Promise<void> {
    const inSession = useDatasetStore.getState().session.some((d) => d.id === id);
    if (inSession) {
      useDatasetStore.setState((s) => ({ session: s.session.filter((d) => d.id !== id) }));
    } else {
      try {
        await deleteDataset(id);
        setStorageMessage('action', null);
      } catch (error) {
        setStorageMessage('action', errorText(error));
      }
    }
    // its generators (issue 19) describe images that are gone: they go with it (a failure here keeps the dataset's deletion)
    try {
      await deleteGeneratorsOf(`${UPLOAD_PREFIX}${id}`);
    } catch (error) {
      // a set of this visit only, in a browser that stores nothing, had no generator stored either
      if (!inSession) setStorageMessage('action', `The dataset was deleted, but its saved generators could not be: ${errorText(error)}`);
    }
    const config = useConfigStore.getState();
    if (config.config.dataset === `${UPLOAD_PREFIX}${id}`) config.setField('dataset', 'fashion-mnist');
    // after the switch away: the worker lets its copy go
    if (inSession) provideDataset(`${UPLOAD_PREFIX}${id}`, null);
    if (!inSession) await refreshStoredDatasets();
  },
  /** Deletes the stored sets that cannot be used (listed in `broken`), then lists again. */
  async removeBroken(): Promise<void> {
    for (const { id } of useDatasetStore.getState().broken) {
      try {
        await deleteDataset(id);
      } catch (error) {
        setStorageMessage('action', errorText(error));
        break;
      }
    }
    await refreshStoredDatasets();
  },
};
