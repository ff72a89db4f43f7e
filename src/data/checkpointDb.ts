/**
 * Checkpoints of training runs (src/train/checkpoint.ts) kept in IndexedDB, so
 * a run survives a reload. Its own database, `ssp-checkpoints` (see
 * generatorDb.ts for why not a store in the datasets' database). Two stores
 * keyed by the checkpoint's id: `meta` holds what the list shows, `files` the
 * checkpoint file's bytes (the same bytes a download gives, so what is stored
 * is checked by the same reader as an uploaded file). A run's automatic saves
 * (on pause, every few minutes, when the page is hidden) replace each other:
 * one record per run, id `auto-<runId>`; saves the user asks for are kept
 * until deleted.
 */
import { describeError as describe, inTransaction, isQuotaError, openDatabase } from './indexedDb';

const DB_NAME = 'ssp-checkpoints';
const DB_VERSION = 1;
const META = 'meta';
const FILES = 'files';

/** Automatic saves of this many runs are kept; older runs' are deleted when a new one is saved. */
export const AUTOSAVED_RUNS_KEPT = 3;

export interface StoredCheckpointInfo {
  id: string;
  /** the run it belongs to (a new encoder is a new run) */
  runId: string;
  /** true for the run's automatic save (replaced by the next), false for one the user asked for */
  auto: boolean;
  reason: string;
  /** ms since the epoch */
  savedAt: number;
  step: number;
  method: string;
  methodLabel: string;
  datasetId: string;
  datasetName: string;
  bytes: number;
  /** set when the user dismissed the offer to resume it (it stays listed) */
  dismissed?: boolean;
}

interface FileRecord {
  id: string;
  bytes: Uint8Array;
}

const open = () => openDatabase({
  name: DB_NAME,
  version: DB_VERSION,
  stores: [META, FILES],
  unavailable: 'This browser does not let the page store checkpoints',
  blocked: 'Another tab of this page holds the checkpoint storage open with an older version: close it, then reload.',
});

function transact<T>(mode: IDBTransactionMode, body: (meta: IDBObjectStore, files: IDBObjectStore) => () => T, explain: (error: unknown) => string): Promise<T> {
  return inTransaction(open, [META, FILES], mode, body, explain);
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** Why a meta record cannot be listed, or null when it is whole. */
function checkInfo(record: unknown): string | null {
  if (!isRecord(record)) return 'its description is not an object';
  for (const key of ['id', 'runId', 'reason', 'method', 'methodLabel', 'datasetId', 'datasetName'] as const) {
    if (typeof record[key] !== 'string') return `its ${key} is missing`;
  }
  for (const key of ['savedAt', 'step', 'bytes'] as const) {
    if (typeof record[key] !== 'number' || !Number.isFinite(record[key])) return `its ${key} is missing`;
  }
  if (typeof record.auto !== 'boolean') return 'it does not say whether it was saved automatically';
  return null;
}

/**
 * Stores a checkpoint file with its description, replacing one with the same
 * id; with `auto`, also deletes the automatic saves of runs beyond the
 * AUTOSAVED_RUNS_KEPT newest. Rejects with a StorageError (kind quota when the
 * browser is out of room, with the size and what to do).
 */
export async function saveCheckpointRecord(info: StoredCheckpointInfo, bytes: Uint8Array): Promise<void> {
  const reason = checkInfo(info);
  if (reason) throw new Error(`The checkpoint cannot be saved: ${reason}.`);
  const megabytes = (bytes.length / 1e6).toFixed(1);
  await transact(
    'readwrite',
    (metaStore, fileStore) => {
      fileStore.put({ id: info.id, bytes } satisfies FileRecord);
      metaStore.put(info);
      if (info.auto) {
        const all = metaStore.getAll();
        all.onsuccess = () => {
          const autos = (all.result as unknown[]).filter((r): r is StoredCheckpointInfo => checkInfo(r) === null && (r as StoredCheckpointInfo).auto);
          autos.sort((a, b) => b.savedAt - a.savedAt);
          for (const old of autos.slice(AUTOSAVED_RUNS_KEPT)) {
            if (old.id === info.id) continue;
            metaStore.delete(old.id);
            fileStore.delete(old.id);
          }
        };
      }
      return () => undefined;
    },
    (error) =>
      isQuotaError(error)
        ? `There is not enough storage to save this checkpoint (${megabytes} MB): the browser's quota for this page is used up. ` +
          'Delete checkpoints, datasets or generators you no longer need, or download the checkpoint as a file instead.'
        : `Could not save the checkpoint in this browser (${describe(error)}). Download it as a file to keep it.`,
  );
}

/** The stored checkpoints, newest first; records that do not add up are left out and counted. */
export async function listCheckpoints(): Promise<{ checkpoints: StoredCheckpointInfo[]; broken: number }> {
  const [records, fileKeys] = await transact(
    'readonly',
    (metaStore, fileStore) => {
      const metaRequest = metaStore.getAll();
      const keyRequest = fileStore.getAllKeys();
      return () => [metaRequest.result as unknown[], new Set(keyRequest.result)] as const;
    },
    (error) => `Could not read the saved checkpoints (${describe(error)}). Reload the page to try again.`,
  );
  const checkpoints: StoredCheckpointInfo[] = [];
  let broken = 0;
  for (const record of records) {
    if (checkInfo(record) === null && fileKeys.has((record as StoredCheckpointInfo).id)) checkpoints.push(record as StoredCheckpointInfo);
    else broken += 1;
  }
  return { checkpoints: checkpoints.sort((a, b) => b.savedAt - a.savedAt), broken };
}

/** The checkpoint file's bytes, or null when there is none with this id. */
export async function loadCheckpointBytes(id: string): Promise<Uint8Array | null> {
  const record = await transact(
    'readonly',
    (_meta, fileStore) => {
      const request = fileStore.get(id);
      return () => request.result as unknown;
    },
    (error) => `Could not read the checkpoint (${describe(error)}). Reload the page to try again.`,
  );
  if (!isRecord(record) || !(record.bytes instanceof Uint8Array)) return null;
  return record.bytes;
}

/** Marks a checkpoint as not to be offered for resuming again (it stays in the list). */
export async function dismissCheckpoint(id: string): Promise<void> {
  await transact(
    'readwrite',
    (metaStore) => {
      const request = metaStore.get(id);
      request.onsuccess = () => {
        if (checkInfo(request.result) === null) metaStore.put({ ...(request.result as StoredCheckpointInfo), dismissed: true });
      };
      return () => undefined;
    },
    (error) => `Could not update the checkpoint (${describe(error)}).`,
  );
}

/** Removes a checkpoint, both its records at once. */
export async function deleteCheckpoint(id: string): Promise<void> {
  await transact(
    'readwrite',
    (metaStore, fileStore) => {
      metaStore.delete(id);
      fileStore.delete(id);
      return () => undefined;
    },
    (error) => `Could not delete the checkpoint (${describe(error)}). Reload the page and try again.`,
  );
}
