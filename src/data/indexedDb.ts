/**
 * Opening an IndexedDB database, shared by the stores that keep things across
 * reloads (uploaded datasets, comparison runs). Raw IndexedDB, usable on the
 * main thread and in workers. Every failure is a StorageError that says what
 * kind it is, so a caller can keep the thing in memory and say what was not
 * saved and why.
 */

/** "Name: message" of an Error or DOMException. */
export function describeError(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'message' in error) {
    const { name, message } = error as { name?: unknown; message?: unknown };
    return typeof name === 'string' && name !== '' && name !== 'Error' ? `${name}: ${String(message)}` : String(message);
  }
  return String(error);
}

/**
 * unavailable: no IndexedDB here, or opening it failed or never answered;
 * blocked: another tab holds an older version open; quota: the storage is
 * full; failed: a transaction failed for another reason; broken: a stored
 * record is incomplete or malformed.
 */
export type StorageFailure = 'unavailable' | 'blocked' | 'quota' | 'failed' | 'broken';

/** A storage operation that failed: `message` in the user's words for that operation, `detail` the browser's own reason. */
export class StorageError extends Error {
  constructor(
    readonly kind: StorageFailure,
    message: string,
    readonly detail: string,
  ) {
    super(message);
  }
}

export function isQuotaError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'QuotaExceededError';
}

/** Why something could not be kept, in the user's words: the end of "… was not saved: …". */
export function whyNotSaved(error: unknown): string {
  const kind = error instanceof StorageError ? error.kind : isQuotaError(error) ? 'quota' : 'failed';
  const detail = error instanceof StorageError ? error.detail : describeError(error);
  switch (kind) {
    case 'quota':
      return 'the browser’s storage is full (quota exceeded)';
    case 'unavailable':
      return `the browser’s storage is unavailable (${detail})`;
    case 'blocked':
      return 'the browser’s storage is locked by another tab of this page running an older version';
    default:
      return `writing to the browser’s storage failed (${detail})`;
  }
}

/** What the user can do so that the next thing is kept, after whyNotSaved; empty when nothing helps but trying again. */
export function adviceToSave(error: unknown): string {
  const kind = error instanceof StorageError ? error.kind : isQuotaError(error) ? 'quota' : 'failed';
  switch (kind) {
    case 'quota':
      return 'Delete saved datasets or comparisons you no longer need, or free disk space, to keep the next one.';
    case 'unavailable':
      return 'Allow site data for this page, or use a normal (not private) window, to keep them.';
    case 'blocked':
      return 'Close the other tabs of this page, then reload, to keep them.';
    default:
      return '';
  }
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

/**
 * An open that has not answered after this long is given up: some private
 * modes leave indexedDB.open pending forever, and an upload or a list must
 * not wait on it.
 */
export const OPEN_TIMEOUT_MS = 10_000;

/** Opens (creating if needed) the database; rejects with a StorageError carrying the spec's messages, never throws or hangs. */
export function openDatabase(spec: DatabaseSpec): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const unavailable = (detail: string) => new StorageError('unavailable', `${spec.unavailable} (${detail})`, detail);
    let factory: IDBFactory | undefined;
    try {
      factory = globalThis.indexedDB;
    } catch (error) {
      // some browsers throw a SecurityError on access when storage is blocked
      return reject(unavailable(describeError(error)));
    }
    if (!factory) return reject(unavailable('this browser offers no IndexedDB here'));
    let request: IDBOpenDBRequest;
    try {
      request = factory.open(spec.name, spec.version);
    } catch (error) {
      return reject(unavailable(describeError(error)));
    }
    let settled = false;
    const settle = (error: StorageError | null, db?: IDBDatabase) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(db!);
    };
    const timer = setTimeout(
      () => settle(unavailable(`it did not answer within ${OPEN_TIMEOUT_MS / 1000} s`)),
      OPEN_TIMEOUT_MS,
    );
    request.onupgradeneeded = () => {
      const db = request.result;
      for (const store of spec.stores) if (!db.objectStoreNames.contains(store)) db.createObjectStore(store, { keyPath: 'id' });
    };
    request.onsuccess = () => {
      const db = request.result;
      // a newer version of the page in another tab wants to upgrade: let it
      db.onversionchange = () => db.close();
      // answered too late (blocked, or timed out): nobody uses this connection
      if (settled) return db.close();
      settle(null, db);
    };
    request.onerror = () => settle(unavailable(describeError(request.error)));
    // the upgrade waits on a tab that keeps an older version open: say so rather than wait
    request.onblocked = () => settle(new StorageError('blocked', spec.blocked, 'another tab holds an older version open'));
  });
}

/**
 * Opens the database, runs `body` in one transaction over `stores` (passed in
 * that order) and resolves with its result once the transaction has
 * committed, then closes the database. All of `body`'s writes commit together
 * or none does: if `body` throws, the transaction is aborted. Rejects with a
 * StorageError whose message is `explain(error, aborted)`: aborted is false
 * when the transaction could not start or `body` threw, true when it aborted.
 */
export async function inTransaction<T>(
  open: () => Promise<IDBDatabase>,
  stores: string[],
  mode: IDBTransactionMode,
  body: (...objectStores: IDBObjectStore[]) => () => T,
  explain: (error: unknown, aborted: boolean) => string,
): Promise<T> {
  const failure = (error: unknown, aborted: boolean) =>
    new StorageError(isQuotaError(error) ? 'quota' : 'failed', explain(error, aborted), describeError(error));
  const db = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      let tx: IDBTransaction | undefined;
      let result: () => T;
      try {
        tx = db.transaction(stores, mode);
        result = body(...stores.map((name) => tx!.objectStore(name)));
      } catch (error) {
        // writes already queued must not commit without the rest
        try {
          tx?.abort();
        } catch {
          // already finished or aborted
        }
        return reject(failure(error, false));
      }
      tx.oncomplete = () => resolve(result());
      tx.onabort = () => reject(failure(tx.error ?? new DOMException('the transaction was aborted', 'AbortError'), true));
    });
  } finally {
    db.close();
  }
}
