/**
 * Stored datasets on fake-indexeddb (an in-memory IndexedDB for Node that
 * follows the spec, so transactions and aborts behave as in a browser).
 */
import { IDBFactory, IDBObjectStore } from 'fake-indexeddb';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { tinyDataset } from './dataset.testutil';
import { deleteDataset, listDatasets, loadDataset, notSavedMessage, renameDataset, saveDataset } from './datasetDb';
import { StorageError } from './indexedDb';
import { closeStorageChannel, STORAGE_CHANNEL } from './storageChannel';
import { writeRawRecord } from './idbRaw.testutil';

const meta = { skipped: [], createdAt: 1000 };

/** Writes records straight into the stores, as an older version or a damaged profile might have left them. */
async function writeRaw(store: 'meta' | 'pixels', record: object): Promise<void> {
  await listDatasets(); // creates the database
  await writeRawRecord('ssp-datasets', 1, store, record);
}

async function rejection(promise: Promise<unknown>): Promise<StorageError> {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(StorageError);
  return error as StorageError;
}

beforeEach(() => {
  vi.stubGlobal('indexedDB', new IDBFactory());
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});
afterAll(() => closeStorageChannel());

describe('datasetDb', () => {
  it('saves, lists, loads, renames and deletes a set', async () => {
    await saveDataset(tinyDataset('one', 'First', 7), meta);
    await saveDataset(tinyDataset('two', 'Second', 9), { skipped: [], createdAt: 2000 });
    const { datasets, broken } = await listDatasets();
    expect(broken).toEqual([]);
    expect(datasets.map((d) => [d.id, d.name, d.imageCount, d.classCounts])).toEqual([
      ['two', 'Second', 8, [4, 4]],
      ['one', 'First', 8, [4, 4]],
    ]);
    const loaded = await loadDataset('one');
    expect(loaded?.name).toBe('First');
    expect(loaded?.train.count).toBe(6);
    expect(Array.from(loaded!.test.images.slice(0, 3))).toEqual([7, 7, 7]);
    expect(Array.from(loaded!.train.labels)).toEqual([0, 1, 0, 1, 0, 1]);

    expect(await renameDataset('one', 'Renamed')).toBe(true);
    expect(await renameDataset('nobody', 'x')).toBe(false);
    expect((await loadDataset('one'))?.name).toBe('Renamed');
    await deleteDataset('one');
    expect(await loadDataset('one')).toBeNull();
    expect((await listDatasets()).datasets.map((d) => d.id)).toEqual(['two']);
  });

  it('says the storage is full when a write fails with QuotaExceededError, and what was not saved', async () => {
    vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(() => {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    });
    const dataset = tinyDataset('big', 'Holiday photos');
    const error = await rejection(saveDataset(dataset, meta));
    expect(error.kind).toBe('quota');
    expect(error.message).toMatch(/not enough storage to save “Holiday photos”/);
    expect(notSavedMessage(dataset, error)).toBe(
      '“Holiday photos” (1 MB) was not saved: the browser’s storage is full (quota exceeded). ' +
        'This set is used for this visit only, so it will be gone after a reload. ' +
        'Delete saved datasets or comparisons you no longer need, or free disk space, to keep the next one.',
    );
    vi.restoreAllMocks();
    expect((await listDatasets()).datasets).toEqual([]);
  });

  it('says the storage is unavailable when there is no IndexedDB', async () => {
    vi.stubGlobal('indexedDB', undefined);
    const dataset = tinyDataset('x', 'Pets');
    const error = await rejection(saveDataset(dataset, meta));
    expect(error.kind).toBe('unavailable');
    expect(notSavedMessage(dataset, error)).toMatch(
      /^“Pets” \(1 MB\) was not saved: the browser’s storage is unavailable \(this browser offers no IndexedDB here\)\. This set is used for this visit only, so it will be gone after a reload\./,
    );
  });

  it('keeps the old record whole when a write is aborted half way', async () => {
    await saveDataset(tinyDataset('same', 'Old', 1), meta);
    // the pixels are put, then the transaction dies before the description is (a reload, a crash)
    const put = IDBObjectStore.prototype.put;
    vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(function (this: IDBObjectStore, value: unknown, key?: IDBValidKey) {
      if (this.name === 'meta') this.transaction.abort();
      return put.call(this, value, key);
    });
    const error = await rejection(saveDataset(tinyDataset('same', 'New', 2, 10, 4), meta));
    expect(error.kind).toBe('failed');
    vi.restoreAllMocks();
    const old = await loadDataset('same');
    expect(old?.name).toBe('Old');
    expect(old?.train.count).toBe(6);
    expect(old?.train.images.every((v) => v === 1)).toBe(true);
    expect((await listDatasets()).broken).toEqual([]);
  });

  it('keeps the old record when the second write of a save throws', async () => {
    await saveDataset(tinyDataset('same', 'Old', 1), meta);
    const put = IDBObjectStore.prototype.put;
    vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(function (this: IDBObjectStore, value: unknown, key?: IDBValidKey) {
      if (this.name === 'meta') throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      return put.call(this, value, key);
    });
    expect((await rejection(saveDataset(tinyDataset('same', 'New', 2, 10, 4), meta))).kind).toBe('quota');
    vi.restoreAllMocks();
    const old = await loadDataset('same');
    expect(old?.name).toBe('Old');
    expect(old?.train.images.length).toBe(6 * 48);
  });

  it('reports and skips a record without its images, or with images of the wrong size, instead of failing', async () => {
    await saveDataset(tinyDataset('good', 'Good'), meta);
    const { train, test, ...rest } = tinyDataset('orphan', 'Half written');
    void train;
    void test;
    await writeRaw('meta', { ...rest, imageCount: 8, trainCount: 6, testCount: 2, classCounts: [4, 4], labelled: true, createdAt: 5, skippedCount: 0 });
    await writeRaw('meta', { id: 'junk', name: 'Junk' });
    // pixels without a description are not listed at all
    await writeRaw('pixels', { id: 'leftover', trainImages: new Uint8Array(3), testImages: new Uint8Array(0), trainLabels: new Int32Array(0), testLabels: new Int32Array(0), skipped: [] });

    const { datasets, broken } = await listDatasets();
    expect(datasets.map((d) => d.id)).toEqual(['good']);
    expect(broken).toEqual([
      { id: 'junk', name: 'Junk', reason: 'its description is incomplete' },
      { id: 'orphan', name: 'Half written', reason: 'its images are missing' },
    ]);
    const error = await rejection(loadDataset('orphan'));
    expect(error.kind).toBe('broken');
    expect(error.message).toBe('The saved dataset “Half written” cannot be used (its images are missing), so it is skipped. Delete it and upload it again.');
    expect(await loadDataset('leftover')).toBeNull();

    await writeRaw('pixels', { id: 'good', trainImages: new Uint8Array(5), testImages: new Uint8Array(0), trainLabels: new Int32Array(6), testLabels: new Int32Array(2), skipped: [] });
    expect((await rejection(loadDataset('good'))).detail).toBe('its pixel data has the wrong size');

    // and they can be removed
    await deleteDataset('orphan');
    await deleteDataset('junk');
    expect((await listDatasets()).broken).toEqual([]);
  });

  it('announces every committed change to the other tabs, and no failed one', async () => {
    const otherTab = new BroadcastChannel(STORAGE_CHANNEL);
    const heard: unknown[] = [];
    otherTab.onmessage = (event) => heard.push(event.data);
    try {
      await saveDataset(tinyDataset('a', 'A'), meta);
      await renameDataset('a', 'B');
      await renameDataset('missing', 'C');
      await deleteDataset('a');
      vi.stubGlobal('indexedDB', undefined);
      await saveDataset(tinyDataset('b', 'B'), meta).catch(() => undefined);
      await vi.waitFor(() => expect(heard).toHaveLength(3));
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(heard).toEqual([
        { store: 'datasets', change: 'saved', id: 'a' },
        { store: 'datasets', change: 'renamed', id: 'a' },
        { store: 'datasets', change: 'deleted', id: 'a' },
      ]);
    } finally {
      otherTab.close();
    }
  });
});
