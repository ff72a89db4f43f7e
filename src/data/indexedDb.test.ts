/**
 * Opening and transactions on fake-indexeddb, an in-memory IndexedDB for Node
 * that follows the spec: version changes, blocked opens and aborted
 * transactions behave as in a browser.
 */
import { IDBFactory } from 'fake-indexeddb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { inTransaction, OPEN_TIMEOUT_MS, openDatabase, StorageError, type DatabaseSpec } from './indexedDb';

const spec = (version = 1): DatabaseSpec => ({
  name: 'test-db', version, stores: ['things'], unavailable: 'No storage here.', blocked: 'Another tab blocks it.',
});

/** The rejection of `promise`, which must reject. */
async function rejection(promise: Promise<unknown>): Promise<StorageError> {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(StorageError);
  return error as StorageError;
}

function rawOpen(version: number): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open('test-db', version);
    request.onupgradeneeded = () => {
      if (!request.result.objectStoreNames.contains('things')) request.result.createObjectStore('things', { keyPath: 'id' });
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

beforeEach(() => {
  vi.stubGlobal('indexedDB', new IDBFactory());
});
afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

describe('openDatabase', () => {
  it('says storage is unavailable when there is no IndexedDB, or touching it throws, or open throws', async () => {
    vi.stubGlobal('indexedDB', undefined);
    const missing = await rejection(openDatabase(spec()));
    expect(missing.kind).toBe('unavailable');
    expect(missing.message).toMatch(/^No storage here\. \(this browser offers no IndexedDB here\)$/);

    Object.defineProperty(globalThis, 'indexedDB', {
      configurable: true,
      get: () => {
        throw new DOMException('The operation is insecure.', 'SecurityError');
      },
    });
    const insecure = await rejection(openDatabase(spec()));
    expect(insecure.kind).toBe('unavailable');
    expect(insecure.detail).toBe('SecurityError: The operation is insecure.');
    Reflect.deleteProperty(globalThis, 'indexedDB');

    vi.stubGlobal('indexedDB', { open: () => { throw new DOMException('blocked by the user', 'InvalidStateError'); } });
    expect((await rejection(openDatabase(spec()))).detail).toBe('InvalidStateError: blocked by the user');
  });

  it('gives up on an open that never answers, instead of hanging', async () => {
    vi.useFakeTimers();
    vi.stubGlobal('indexedDB', { open: () => ({}) });
    const pending = rejection(openDatabase(spec()));
    await vi.advanceTimersByTimeAsync(OPEN_TIMEOUT_MS);
    const error = await pending;
    expect(error.kind).toBe('unavailable');
    expect(error.detail).toMatch(/did not answer within 10 s/);
  });

  it('reports an upgrade blocked by another tab that keeps the old version open', async () => {
    const old = await rawOpen(1);
    // the other tab ignores versionchange, as an older version of a page might
    const blocked = await rejection(openDatabase(spec(2)));
    expect(blocked.kind).toBe('blocked');
    expect(blocked.message).toBe('Another tab blocks it.');
    old.close();
    // once that tab is gone, the upgrade goes through
    const db = await openDatabase(spec(2));
    expect(db.version).toBe(2);
    db.close();
  });

  it('closes its connection when another tab upgrades, so that tab is not blocked', async () => {
    const ours = await openDatabase(spec(1));
    const onBlocked = vi.fn();
    const theirs = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open('test-db', 2);
      request.onblocked = onBlocked;
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    expect(onBlocked).not.toHaveBeenCalled();
    expect(theirs.version).toBe(2);
    theirs.close();
    expect(() => ours.transaction(['things'], 'readonly')).toThrow();
  });
});

describe('inTransaction', () => {
  const open = () => openDatabase(spec());
  const explain = (error: unknown, aborted: boolean) => `failed${aborted ? ' (aborted)' : ''}: ${String(error)}`;
  const all = () => inTransaction(open, ['things'], 'readonly', (store) => {
    const request = store.getAll();
    return () => request.result as { id: string }[];
  }, explain);

  it('commits every write of its body together', async () => {
    await inTransaction(open, ['things'], 'readwrite', (store) => {
      store.put({ id: 'a' });
      store.put({ id: 'b' });
      return () => undefined;
    }, explain);
    expect((await all()).map((t) => t.id)).toEqual(['a', 'b']);
  });

  it('aborts when its body throws: a write queued before the throw is not kept', async () => {
    const error = await rejection(inTransaction(open, ['things'], 'readwrite', (store) => {
      store.put({ id: 'half' });
      throw new DOMException('disk full', 'QuotaExceededError');
    }, explain));
    expect(error.kind).toBe('quota');
    expect(await all()).toEqual([]);
  });

  it('rejects with kind failed and the reason when the transaction aborts', async () => {
    const error = await rejection(inTransaction(open, ['things'], 'readwrite', (store) => {
      store.put({ id: 'x' });
      store.add({ id: 'x' }); // a ConstraintError aborts the whole transaction
      return () => undefined;
    }, explain));
    expect(error.kind).toBe('failed');
    expect(error.message).toMatch(/^failed \(aborted\): .*ConstraintError/);
    expect(await all()).toEqual([]);
  });
});
