/**
 * Uploaded datasets: the list kept in IndexedDB, and an upload in progress.
 * Decoding runs in its own worker (src/data/upload/decodeWorker.ts), which
 * also saves the result, so the page stays responsive on thousands of files.
 */
import { create } from 'zustand';
import { deleteDataset, listDatasets, type StoredDatasetInfo } from '../data/datasetDb';
import { UPLOAD_PREFIX } from '../core/datasets';
import type { DecodeFromWorker, DecodeOptions, SkippedFile, UploadSummary } from '../data/upload/protocol';
import { useConfigStore } from './configStore';

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
