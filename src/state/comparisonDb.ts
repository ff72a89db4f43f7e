/**
 * Completed comparison runs kept in IndexedDB, so they are listed again after
 * a reload. Raw IndexedDB, one object store keyed by the run's id; each run
 * is small (plain numbers per step), so listing reads them whole.
 */
import { describeError as describe, inTransaction, openDatabase } from '../data/indexedDb';
import type { ComparisonRun } from './comparison';

const DB_NAME = 'ssl-playground-comparisons';
const DB_VERSION = 1;
const RUNS = 'runs';

const UNAVAILABLE =
  'Saved comparisons need IndexedDB, which this browser does not allow here (private browsing, or site data turned off). ' +
  'The runs are shown until you reload; allow site data for this page to keep them.';


function openDb(): Promise<IDBDatabase> {
  return openDatabase({
    name: DB_NAME, version: DB_VERSION, stores: [RUNS], unavailable: UNAVAILABLE,
    blocked: 'The saved comparisons are locked by another tab of this page running an older version. Close the other tabs, then reload.',
  });
}

/** Runs `body` in one transaction over the runs store (see inTransaction). */
function transact<T>(mode: IDBTransactionMode, body: (runs: IDBObjectStore) => () => T, what: string): Promise<T> {
  return inTransaction(openDb, [RUNS], mode, body, (error, aborted) =>
    `Could not ${what} (${describe(error)}).${aborted ? ' Reload the page to try again.' : ''}`,
  );
}

export async function saveRun(run: ComparisonRun): Promise<void> {
  await transact('readwrite', (store) => {
    store.put(run);
    return () => undefined;
  }, `save the run “${run.label}”`);
}

/** Every saved run, oldest first (and in queue order within a comparison). */
export async function listRuns(): Promise<ComparisonRun[]> {
  const runs = await transact('readonly', (store) => {
    const request = store.getAll();
    return () => request.result as ComparisonRun[];
  }, 'read the saved comparisons');
  return runs.sort((a, b) => a.createdAt - b.createdAt || a.index - b.index);
}

export async function deleteRuns(ids: readonly string[]): Promise<void> {
  await transact('readwrite', (store) => {
    for (const id of ids) store.delete(id);
    return () => undefined;
  }, 'delete the runs');
}
