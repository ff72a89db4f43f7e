/**
 * Completed comparison runs kept in IndexedDB, so they are listed again after
 * a reload. Raw IndexedDB, one object store keyed by the run's id; each run
 * is small (plain numbers per step), so listing reads them whole. A run is
 * one record written in one transaction; a record that is not a whole run is
 * reported and skipped. Committed changes are announced to the other tabs
 * (src/data/storageChannel.ts).
 */
import { describeError as describe, inTransaction, openDatabase } from '../data/indexedDb';
import { announceStorageChange } from '../data/storageChannel';
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

/** Rejects with a StorageError (src/data/indexedDb.ts) when the browser will not store it. */
export async function saveRun(run: ComparisonRun): Promise<void> {
  await transact('readwrite', (store) => {
    store.put(run);
    return () => undefined;
  }, `save the run “${run.label}”`);
  announceStorageChange({ store: 'comparisons', change: 'saved', ids: [run.id] });
}

/** Whether a stored record is a whole run, as far as the list and the charts read it. */
function isRun(record: unknown): record is ComparisonRun {
  if (typeof record !== 'object' || record === null) return false;
  const r = record as Record<string, unknown>;
  return (
    typeof r.id === 'string' && typeof r.comparisonId === 'string' && typeof r.comparisonTitle === 'string' &&
    typeof r.label === 'string' && typeof r.index === 'number' && typeof r.createdAt === 'number' &&
    typeof r.config === 'object' && r.config !== null && Array.isArray(r.steps) && Array.isArray(r.probes)
  );
}

/** Every saved run, oldest first (and in queue order within a comparison), and how many records were not whole runs and are skipped. */
export async function listRuns(): Promise<{ runs: ComparisonRun[]; skipped: number }> {
  const records = await transact('readonly', (store) => {
    const request = store.getAll();
    return () => request.result as unknown[];
  }, 'read the saved comparisons');
  const runs = records.filter(isRun);
  return { runs: runs.sort((a, b) => a.createdAt - b.createdAt || a.index - b.index), skipped: records.length - runs.length };
}

export async function deleteRuns(ids: readonly string[]): Promise<void> {
  await transact('readwrite', (store) => {
    for (const id of ids) store.delete(id);
    return () => undefined;
  }, 'delete the runs');
  announceStorageChange({ store: 'comparisons', change: 'deleted', ids: [...ids] });
}
