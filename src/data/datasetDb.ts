/**
 * Uploaded datasets kept in IndexedDB, so they survive a reload. Raw
 * IndexedDB, usable on the main thread and in workers. Two object stores,
 * both keyed by the dataset id: `meta` holds what the dataset list shows,
 * `pixels` the images and labels, so listing never reads pixel data.
 */
import { imageBytes, type ImageDataset } from './dataset';
import type { SkippedFile } from './upload/protocol';
import { describeError as describe, inTransaction, openDatabase } from './indexedDb';

const DB_NAME = 'ssp-datasets';
const DB_VERSION = 1;
const META = 'meta';
const PIXELS = 'pixels';

/** One stored dataset, as the dataset list shows it. */
export interface StoredDatasetInfo {
  id: string;
  name: string;
  imageCount: number;
  trainCount: number;
  testCount: number;
  imageSize: number;
  channels: 1 | 3;
  /** empty when unlabelled */
  classNames: string[];
  /** images per class over train and test; empty when unlabelled */
  classCounts: number[];
  labelled: boolean;
  /** ms since the epoch */
  createdAt: number;
  skippedCount: number;
}

interface PixelRecord {
  id: string;
  trainImages: Uint8Array;
  trainLabels: Int32Array;
  testImages: Uint8Array;
  testLabels: Int32Array;
  skipped: SkippedFile[];
}

const UNAVAILABLE =
  'Saved datasets need IndexedDB, which this browser does not allow here (private browsing, or site data turned off). ' +
  'Allow site data for this page, or use a normal window, then try again.';


function isQuotaError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: string }).name === 'QuotaExceededError';
}

function openDb(): Promise<IDBDatabase> {
  return openDatabase({
    name: DB_NAME, version: DB_VERSION, stores: [META, PIXELS], unavailable: UNAVAILABLE,
    blocked: 'The saved datasets are locked by another tab of this page running an older version. Close the other tabs, then try again.',
  });
}

/** Runs `body` in one transaction over both stores (see inTransaction); rejects with `explain(error)`. */
function transact<T>(
  mode: IDBTransactionMode,
  body: (meta: IDBObjectStore, pixels: IDBObjectStore) => () => T,
  explain: (error: unknown) => string,
): Promise<T> {
  return inTransaction(openDb, [META, PIXELS], mode, body, (error) => explain(error));
}

/** The view itself when it covers its whole buffer, else a copy: storing a view stores its whole buffer. */
function compact<T extends Uint8Array | Int32Array>(array: T): T {
  return array.byteOffset === 0 && array.byteLength === array.buffer.byteLength ? array : (array.slice() as T);
}

function classCountsOf(dataset: ImageDataset): number[] {
  const counts = new Array<number>(dataset.classNames.length).fill(0);
  for (const split of [dataset.train, dataset.test]) {
    for (let i = 0; i < split.count; i++) {
      const label = split.labels[i];
      if (label >= 0 && label < counts.length) counts[label] += 1;
    }
  }
  return counts;
}

/** Stores a dataset under its id, replacing any dataset stored with that id. */
export async function saveDataset(dataset: ImageDataset, meta: { skipped: SkippedFile[]; createdAt: number }): Promise<void> {
  const labelled = dataset.classNames.length >= 2;
  const info: StoredDatasetInfo = {
    id: dataset.id,
    name: dataset.name,
    imageCount: dataset.train.count + dataset.test.count,
    trainCount: dataset.train.count,
    testCount: dataset.test.count,
    imageSize: dataset.imageSize,
    channels: dataset.channels,
    classNames: [...dataset.classNames],
    classCounts: labelled ? classCountsOf(dataset) : [],
    labelled,
    createdAt: meta.createdAt,
    skippedCount: meta.skipped.length,
  };
  const pixels: PixelRecord = {
    id: dataset.id,
    trainImages: compact(dataset.train.images),
    trainLabels: compact(dataset.train.labels),
    testImages: compact(dataset.test.images),
    testLabels: compact(dataset.test.labels),
    skipped: meta.skipped,
  };
  const megabytes = Math.ceil((pixels.trainImages.byteLength + pixels.testImages.byteLength) / 1e6);
  await transact(
    'readwrite',
    (metaStore, pixelStore) => {
      pixelStore.put(pixels);
      metaStore.put(info);
      return () => undefined;
    },
    (error) =>
      isQuotaError(error)
        ? `There is not enough storage to save “${dataset.name}” (${megabytes} MB). ` +
          'Delete saved datasets you no longer need, choose a smaller image size, or free disk space, then upload again.'
        : `Could not save “${dataset.name}” in this browser (${describe(error)}). Try again; if it keeps failing, reload the page.`,
  );
}

/** Every stored dataset's description, newest first; reads no pixel data. */
export async function listDatasets(): Promise<StoredDatasetInfo[]> {
  const infos = await transact(
    'readonly',
    (metaStore) => {
      const request = metaStore.getAll();
      return () => request.result as StoredDatasetInfo[];
    },
    (error) => `Could not read the saved datasets (${describe(error)}). Reload the page to try again.`,
  );
  return infos.sort((a, b) => b.createdAt - a.createdAt);
}

/** The stored dataset with this id, or null when there is none. */
export async function loadDataset(id: string): Promise<ImageDataset | null> {
  const [info, pixels] = await transact(
    'readonly',
    (metaStore, pixelStore) => {
      const infoRequest = metaStore.get(id);
      const pixelRequest = pixelStore.get(id);
      return () => [infoRequest.result as StoredDatasetInfo | undefined, pixelRequest.result as PixelRecord | undefined] as const;
    },
    (error) => `Could not read the saved dataset “${id}” (${describe(error)}). Reload the page to try again.`,
  );
  if (!info || !pixels) return null;
  const bytes = imageBytes(info.imageSize, info.channels);
  if (pixels.trainImages.length !== info.trainCount * bytes || pixels.testImages.length !== info.testCount * bytes) {
    throw new Error(`The saved dataset “${info.name}” is damaged (its pixel data has the wrong size). Delete it and upload it again.`);
  }
  return {
    id: info.id,
    name: info.name,
    imageSize: info.imageSize,
    channels: info.channels,
    classNames: info.classNames,
    train: { images: pixels.trainImages, labels: pixels.trainLabels, count: info.trainCount },
    test: { images: pixels.testImages, labels: pixels.testLabels, count: info.testCount },
  };
}

/**
 * Gives a stored dataset a new name, as given (the caller checks it:
 * datasetName.ts's checkNewName). Only the description changes; the pixels
 * are not read. Resolves false when there is no dataset with this id.
 */
export async function renameDataset(id: string, name: string): Promise<boolean> {
  return transact(
    'readwrite',
    (metaStore) => {
      let found = false;
      const request = metaStore.get(id);
      request.onsuccess = () => {
        const info = request.result as StoredDatasetInfo | undefined;
        if (!info) return;
        found = true;
        metaStore.put({ ...info, name });
      };
      return () => found;
    },
    (error) => `Could not rename the saved dataset (${describe(error)}). Reload the page and try again.`,
  );
}

/** Removes a stored dataset; nothing happens when there is none with this id. */
export async function deleteDataset(id: string): Promise<void> {
  await transact(
    'readwrite',
    (metaStore, pixelStore) => {
      metaStore.delete(id);
      pixelStore.delete(id);
      return () => undefined;
    },
    (error) => `Could not delete the saved dataset (${describe(error)}). Reload the page and try again.`,
  );
}
