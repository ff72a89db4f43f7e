/**
 * Uploaded datasets: the list kept in IndexedDB, and an upload in progress.
 * Decoding runs in its own worker (src/data/upload/decodeWorker.ts), which
 * also saves the result, so the page stays responsive on thousands of files.
 */
import { create } from 'zustand';
import { deleteDataset, listDatasets, renameDataset, type StoredDatasetInfo } from '../data/datasetDb';
import { UPLOAD_PREFIX } from '../core/datasets';
import { checkNewName } from '../data/upload/datasetName';
import type { DecodeFromWorker, DecodeOptions, SkippedFile, UploadSummary } from '../data/upload/protocol';
import { useConfigStore } from './configStore';
import { useRunStore } from './runStore';
import { training } from './trainingClient';

export interface UploadProgress {
  done: number;
  total: number;
  phase: string;
}

interface DatasetState {
  stored: StoredDatasetInfo[];
  /** set while an upload is decoding */
  progress: UploadProgress | null;
  /** the last upload's outcome */
  summary: UploadSummary | null;
  uploadError: string | null;
  /** skipped files of the last upload, kept also when it failed */
  skipped: SkippedFile[];
  storageError: string | null;
}

export const useDatasetStore = create<DatasetState>(() => ({
  stored: [],
  progress: null,
  summary: null,
  uploadError: null,
  skipped: [],
  storageError: null,
}));

let decoder: Worker | null = null;

export async function refreshStoredDatasets(): Promise<void> {
  try {
    useDatasetStore.setState({ stored: await listDatasets(), storageError: null });
  } catch (error) {
    useDatasetStore.setState({ storageError: error instanceof Error ? error.message : String(error) });
  }
}

function handle(message: DecodeFromWorker): void {
  switch (message.type) {
    case 'progress':
      useDatasetStore.setState({ progress: { done: message.done, total: message.total, phase: message.phase } });
      break;
    case 'done':
      useDatasetStore.setState({ progress: null, summary: message.summary, skipped: message.summary.skipped, uploadError: null });
      void refreshStoredDatasets().then(() => {
        // the new set becomes the active dataset (the training client resets on the switch)
        useConfigStore.getState().setField('dataset', `${UPLOAD_PREFIX}${message.summary.id}`);
      });
      break;
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
    decoder.postMessage({ type: 'decode', files, options });
  },
  cancel(): void {
    decoder?.postMessage({ type: 'cancel' });
  },
  /**
   * Renames a stored set to what the user typed, cleaned; resolves with why
   * it was refused (blank, too long, another set's name, a storage error),
   * or null once the new name is stored and shown.
   */
  async rename(id: string, typed: string): Promise<string | null> {
    const { stored } = useDatasetStore.getState();
    const current = stored.find((d) => d.id === id);
    if (!current) return 'This dataset is no longer saved in this browser (deleted in another tab?). Reload the page.';
    const check = checkNewName(typed, stored.filter((d) => d.id !== id).map((d) => d.name));
    if (!check.ok) return check.message;
    if (check.name === current.name) return null;
    let found: boolean;
    try {
      found = await renameDataset(id, check.name);
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
    if (!found) {
      await refreshStoredDatasets();
      return 'This dataset is no longer saved in this browser (deleted in another tab?). Nothing was renamed.';
    }
    const name = check.name;
    useDatasetStore.setState((s) => ({
      stored: s.stored.map((d) => (d.id === id ? { ...d, name } : d)),
      summary: s.summary?.id === id ? { ...s.summary, name } : s.summary,
    }));
    // the page shows the new name now, and the worker's copy of the active set takes it for its messages and results
    const active = useRunStore.getState().dataset;
    if (active?.id === `${UPLOAD_PREFIX}${id}`) {
      useRunStore.setState({ dataset: { ...active, name } });
      training.renameDataset(active.id, name);
    }
    return null;
  },
  async remove(id: string): Promise<void> {
    try {
      await deleteDataset(id);
    } catch (error) {
      useDatasetStore.setState({ storageError: error instanceof Error ? error.message : String(error) });
    }
    const config = useConfigStore.getState();
    if (config.config.dataset === `${UPLOAD_PREFIX}${id}`) config.setField('dataset', 'fashion-mnist');
    await refreshStoredDatasets();
  },
};
