/**
 * Uploaded datasets kept in IndexedDB, so they survive a reload. Raw
 * IndexedDB, usable on the main thread and in workers. Two object stores,
 * both keyed by the dataset id: `meta` holds what the dataset list shows,
 * `pixels` the images and labels, so listing never reads pixel data. A set's
 * two records are written and deleted in one transaction, so a reload in the
 * middle leaves the old set or the new one, never half of one; a half found
 * anyway (written by an older version, or damaged) is reported and skipped.
 * Every committed change is announced to the other tabs (storageChannel.ts).
 */
import { imageBytes, type ImageDataset } from './dataset';
import type { SkippedFile } from './upload/protocol';
import { adviceToSave, describeError as describe, inTransaction, isQuotaError, openDatabase, StorageError, whyNotSaved } from './indexedDb';
import { announceStorageChange } from './storageChannel';

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

/** A stored set that cannot be used, and why; listed apart so the page can say so and offer to remove it. */
export interface BrokenDataset {
  id: string;
  /** its name when the description could be read, else its id */
  name: string;
  reason: string;
}

const UNAVAILABLE =
  'Saved datasets need IndexedDB, which this browser does not allow here (private browsing, or site data turned off). ' +
  'Allow site data for this page, or use a normal window, then try again.';

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

function megabytesOf(dataset: ImageDataset): number {
  return Math.ceil((dataset.train.images.byteLength + dataset.test.images.byteLength) / 1e6);
}

/** What the dataset list shows of a set: stored as its `meta` record, and kept by the page for a set it could not store. */
export function describeDataset(dataset: ImageDataset, meta: { skipped: SkippedFile[]; createdAt: number }): StoredDatasetInfo {
  const labelled = dataset.classNames.length >= 2;
  return {
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
}

/**
 * The one message for an uploaded set the browser would not keep (see
 * saveDataset's StorageError): what was not saved, why, and that the set is
 * used for this visit only.
 */
export function notSavedMessage(dataset: ImageDataset, error: unknown): string {
  const advice = adviceToSave(error);
  return (
    `“${dataset.name}” (${megabytesOf(dataset)} MB) was not saved: ${whyNotSaved(error)}. ` +
    'This set is used for this visit only, so it will be gone after a reload.' +
    (advice ? ` ${advice}` : '')
  );
}

/**
 * Stores a dataset under its id, replacing any dataset stored with that id:
 * its description and its pixels in one transaction. Rejects with a
 * StorageError (kind: unavailable, blocked, quota or failed).
 */
export async function saveDataset(dataset: ImageDataset, meta: { skipped: SkippedFile[]; createdAt: number }): Promise<void> {
  const info = describeDataset(dataset, meta);
  const pixels: PixelRecord = {
    id: dataset.id,
    trainImages: compact(dataset.train.images),
    trainLabels: compact(dataset.train.labels),
    testImages: compact(dataset.test.images),
    testLabels: compact(dataset.test.labels),
    skipped: meta.skipped,
  };
  const megabytes = megabytesOf(dataset);
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
  announceStorageChange({ store: 'datasets', change: 'saved', id: dataset.id });
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/** Why a stored description cannot be listed, or null when it is whole. */
function checkInfo(record: unknown): string | null {
  if (typeof record !== 'object' || record === null) return 'its description is unreadable';
  const r = record as Record<string, unknown>;
  const whole =
    typeof r.id === 'string' && typeof r.name === 'string' &&
    isCount(r.trainCount) && isCount(r.testCount) && isCount(r.imageCount) && r.imageCount === r.trainCount + r.testCount &&
    isCount(r.imageSize) && r.imageSize >= 1 && (r.channels === 1 || r.channels === 3) &&
    Array.isArray(r.classNames) && r.classNames.every((c) => typeof c === 'string') &&
    Array.isArray(r.classCounts) && typeof r.labelled === 'boolean' && typeof r.createdAt === 'number' && isCount(r.skippedCount);
  return whole ? null : 'its description is incomplete';
}

/** Why a set's pixel record does not match its description, or null when it does. */
function checkPixels(info: StoredDatasetInfo, pixels: unknown): string | null {
  if (typeof pixels !== 'object' || pixels === null) return 'its images are missing';
  const p = pixels as Partial<PixelRecord>;
  if (!(p.trainImages instanceof Uint8Array && p.testImages instanceof Uint8Array && p.trainLabels instanceof Int32Array && p.testLabels instanceof Int32Array)) {
    return 'its images are unreadable';
  }
  const bytes = imageBytes(info.imageSize, info.channels);
  if (p.trainImages.length !== info.trainCount * bytes || p.testImages.length !== info.testCount * bytes) return 'its pixel data has the wrong size';
  if (p.trainLabels.length !== info.trainCount || p.testLabels.length !== info.testCount) return 'its labels have the wrong length';
  return null;
}

/** A broken record as the list names it. */
function broken(id: unknown, record: unknown, reason: string): BrokenDataset {
  const name = typeof record === 'object' && record !== null && typeof (record as { name?: unknown }).name === 'string' ? (record as { name: string }).name : '';
  return { id: String(id), name: name || String(id), reason };
}

/**
 * Every stored dataset's description, newest first, and apart from them the
 * ones that cannot be used (a description that is incomplete, or has no
 * pixel record), with why. Reads no pixel data, only the pixel records' keys.
 */
export async function listDatasets(): Promise<{ datasets: StoredDatasetInfo[]; broken: BrokenDataset[] }> {
  const [records, pixelKeys] = await transact(
    'readonly',
    (metaStore, pixelStore) => {
      const metaRequest = metaStore.getAll();
      const keyRequest = pixelStore.getAllKeys();
      return () => [metaRequest.result as unknown[], new Set(keyRequest.result)] as const;
    },
    (error) => `Could not read the saved datasets (${describe(error)}). Reload the page to try again.`,
  );
  const datasets: StoredDatasetInfo[] = [];
  const skipped: BrokenDataset[] = [];
  for (const record of records) {
    const id = (record as { id?: unknown } | null)?.id;
    const reason = checkInfo(record) ?? (pixelKeys.has(id as IDBValidKey) ? null : 'its images are missing');
    if (reason) skipped.push(broken(id, record, reason));
    else datasets.push(record as StoredDatasetInfo);
  }
  return { datasets: datasets.sort((a, b) => b.createdAt - a.createdAt), broken: skipped };
}

/**
 * The stored dataset with this id, or null when there is none. Rejects with a
 * StorageError of kind 'broken' when only part of it is there or it does not
 * add up, saying which set and why.
 */
export async function loadDataset(id: string): Promise<ImageDataset | null> {
  const [info, pixels] = await transact(
    'readonly',
    (metaStore, pixelStore) => {
      const infoRequest = metaStore.get(id);
      const pixelRequest = pixelStore.get(id);
      return () => [infoRequest.result as unknown, pixelRequest.result as PixelRecord | undefined] as const;
    },
    (error) => `Could not read the saved dataset “${id}” (${describe(error)}). Reload the page to try again.`,
  );
  // pixels without a description are unreachable leftovers: as good as none
  if (info === undefined) return null;
  const reason = checkInfo(info) ?? checkPixels(info as StoredDatasetInfo, pixels);
  if (reason) {
    const { name } = broken(id, info, reason);
    throw new StorageError('broken', `The saved dataset “${name}” cannot be used (${reason}), so it is skipped. Delete it and upload it again.`, reason);
  }
  return toDataset(info as StoredDatasetInfo, pixels!);
}

function toDataset(info: StoredDatasetInfo, pixels: PixelRecord): ImageDataset {
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
  const found = await transact(
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
  if (found) announceStorageChange({ store: 'datasets', change: 'renamed', id });
  return found;
}

/** Removes a stored dataset, both its records at once; nothing happens when there is none with this id. */
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
  announceStorageChange({ store: 'datasets', change: 'deleted', id });
}
