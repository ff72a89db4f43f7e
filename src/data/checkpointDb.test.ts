/**
 * Stored checkpoints on fake-indexeddb (an in-memory IndexedDB for Node that
 * follows the spec, so transactions and aborts behave as in a browser).
 */
import { IDBFactory, IDBObjectStore } from 'fake-indexeddb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  AUTOSAVED_RUNS_KEPT, deleteCheckpoint, dismissCheckpoint, listCheckpoints, loadCheckpointBytes, saveCheckpointRecord, type StoredCheckpointInfo,
} from './checkpointDb';
import { StorageError } from './indexedDb';
import { writeRawRecord } from './idbRaw.testutil';

function info(id: string, savedAt: number, overrides: Partial<StoredCheckpointInfo> = {}): StoredCheckpointInfo {
  return {
    id, runId: id.replace(/^auto-/, ''), auto: id.startsWith('auto-'), reason: 'pause', savedAt, step: 10, method: 'simclr', methodLabel: 'SimCLR',
    datasetId: 'fashion-mnist', datasetName: 'Fashion-MNIST', bytes: 4, ...overrides,
  };
}

beforeEach(() => {
  vi.stubGlobal('indexedDB', new IDBFactory());
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

describe('checkpointDb', () => {
  it('saves, lists newest first, reads back the file bit for bit, marks one dismissed and deletes it', async () => {
    await saveCheckpointRecord(info('saved-1', 1000, { step: 3 }), Uint8Array.of(1, 2, 3, 4));
    await saveCheckpointRecord(info('auto-run', 2000), Uint8Array.of(9, 8, 7, 6));
    const { checkpoints, broken } = await listCheckpoints();
    expect(checkpoints.map((c) => c.id)).toEqual(['auto-run', 'saved-1']);
    expect(broken).toBe(0);
    expect(Array.from((await loadCheckpointBytes('saved-1'))!)).toEqual([1, 2, 3, 4]);
    expect(await loadCheckpointBytes('none')).toBeNull();
    await dismissCheckpoint('auto-run');
    expect((await listCheckpoints()).checkpoints[0].dismissed).toBe(true);
    await deleteCheckpoint('auto-run');
    expect((await listCheckpoints()).checkpoints.map((c) => c.id)).toEqual(['saved-1']);
    expect(await loadCheckpointBytes('auto-run')).toBeNull();
  });

  it('a run’s automatic save replaces its last one; only the newest runs’ automatic saves are kept, and saves the user asked for stay', async () => {
    await saveCheckpointRecord(info('saved-1', 1), Uint8Array.of(1));
    await saveCheckpointRecord(info('auto-a', 10, { step: 5 }), Uint8Array.of(1));
    await saveCheckpointRecord(info('auto-a', 11, { step: 9 }), Uint8Array.of(2));
    let list = (await listCheckpoints()).checkpoints;
    expect(list.filter((c) => c.id === 'auto-a').map((c) => c.step)).toEqual([9]);
    for (let k = 0; k < AUTOSAVED_RUNS_KEPT + 1; k++) await saveCheckpointRecord(info(`auto-r${k}`, 100 + k), Uint8Array.of(k));
    list = (await listCheckpoints()).checkpoints;
    expect(list.filter((c) => c.auto).map((c) => c.id)).toEqual(['auto-r3', 'auto-r2', 'auto-r1']);
    expect(list.some((c) => c.id === 'saved-1')).toBe(true);
    expect(await loadCheckpointBytes('auto-a')).toBeNull();
  });

  it('says the storage is full, with the size and what to do, when a write fails with QuotaExceededError, and keeps nothing', async () => {
    vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(() => {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    });
    const error = await saveCheckpointRecord(info('saved-2', 1), new Uint8Array(2_500_000)).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).kind).toBe('quota');
    expect((error as StorageError).message).toMatch(/^There is not enough storage to save this checkpoint \(2\.5 MB\).*download the checkpoint as a file instead\.$/);
    vi.restoreAllMocks();
    expect(await listCheckpoints()).toEqual({ checkpoints: [], broken: 0 });
  });

  it('leaves out and counts a record that does not add up, and refuses to save a description with holes', async () => {
    await saveCheckpointRecord(info('saved-1', 1), Uint8Array.of(1));
    await writeRawRecord('ssp-checkpoints', 1, 'meta', { id: 'half', step: 'ten' });
    await writeRawRecord('ssp-checkpoints', 1, 'meta', { ...info('no-file', 2) });
    expect(await listCheckpoints()).toMatchObject({ broken: 2 });
    expect((await listCheckpoints()).checkpoints.map((c) => c.id)).toEqual(['saved-1']);
    await expect(saveCheckpointRecord({ ...info('x', 1), step: Number.NaN }, Uint8Array.of(1))).rejects.toThrow(/its step is missing/);
  });
});
