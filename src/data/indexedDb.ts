/**
 * Opening an IndexedDB database, shared by the stores that keep things across
 * reloads (uploaded datasets, comparison runs). Raw IndexedDB, usable on the
 * main thread and in workers.
 */

/** "Name: message" of an Error or DOMException. */
export function describeError(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'message' in error) {
    const { name, message } = error as { name?: unknown; message?: unknown };
    return typeof name === 'string' && name !== '' && name !== 'Error' ? `${name}: ${String(message)}` : String(message);
  }
  return String(error);
}

export interface DatabaseSpec {
  name: string;
  version: number;
  /** object stores keyed by `id`, created on first open */
  stores: string[];
  /** what to tell the user when IndexedDB is not allowed here */
  unavailable: string;
  /** what to tell the user when an older version of the page in another tab blocks the upgrade */
  blocked: string;
}

/** Opens (creating if needed) the database; rejects with the spec's messages, never throws. */
export function openDatabase(spec: DatabaseSpec): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    let factory: IDBFactory | undefined;
    try {
      factory = globalThis.indexedDB;
    } catch {
      // some browsers throw a SecurityError on access when storage is blocked
    }
    if (!factory) return reject(new Error(spec.unavailable));
    let request: IDBOpenDBRequest;
    try {
      request = factory.open(spec.name, spec.version);
    } catch (error) {
      return reject(new Error(`${spec.unavailable} (${describeError(error)})`));
    }
    let settled = false;
    request.onupgradeneeded = () => {
      const db = request.result;
      for (const store of spec.stores) if (!db.objectStoreNames.contains(store)) db.createObjectStore(store, { keyPath: 'id' });
    };
    request.onsuccess = () => {
      const db = request.result;
      if (settled) return db.close();
      settled = true;
      // a newer version of the page wants to upgrade: let it
      db.onversionchange = () => db.close();
      resolve(db);
    };
    request.onerror = () => {
      if (settled) return;
      settled = true;
      reject(new Error(`${spec.unavailable} (${describeError(request.error)})`));
    };
    request.onblocked = () => {
      if (settled) return;
      settled = true;
      reject(new Error(spec.blocked));
    };
  });
}

/**
 * Opens the database, runs `body` in one transaction over `stores` (passed in
 * that order) and resolves with its result once the transaction has
 * committed, then closes the database. Rejects with `explain(error, aborted)`:
 * aborted is false when the transaction could not start, true when it aborted.
 */
export async function inTransaction<T>(
  open: () => Promise<IDBDatabase>,
  stores: string[],
  mode: IDBTransactionMode,
  body: (...objectStores: IDBObjectStore[]) => () => T,
  explain: (error: unknown, aborted: boolean) => string,
): Promise<T> {
  const db = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      let tx: IDBTransaction;
      let result: () => T;
      try {
        tx = db.transaction(stores, mode);
        result = body(...stores.map((name) => tx.objectStore(name)));
      } catch (error) {
        return reject(new Error(explain(error, false)));
      }
      tx.oncomplete = () => resolve(result());
      tx.onabort = () => reject(new Error(explain(tx.error ?? new Error('the transaction was aborted'), true)));
    });
  } finally {
    db.close();
  }
}
