/**
 * Runs side by side: the completed runs (kept in IndexedDB when the browser
 * allows, else for this visit only), which comparison is shown, and the queue
 * in progress. Written by the comparison runner (comparisonRunner.ts), the
 * panel's delete controls, and other tabs' announced changes.
 */
import { create } from 'zustand';
import { adviceToSave, StorageError, whyNotSaved } from '../data/indexedDb';
import { onStorageChange, type StorageChange } from '../data/storageChannel';
import type { ComparisonRun } from './comparison';
import { deleteRuns, listRuns, saveRun } from './comparisonDb';

export interface ComparisonProgress {
  comparisonId: string;
  /** position of the run in progress, from 0 */
  index: number;
  total: number;
  label: string;
  /** steps taken by the run in progress */
  step: number;
  steps: number;
  /** generator: the generated-data experiment trains its generator first (step/steps count its steps); mixing: the worker builds X ∪ Z */
  phase: 'generator' | 'mixing' | 'building' | 'training' | 'probing';
}

interface ComparisonState {
  /** completed runs, oldest first */
  runs: ComparisonRun[];
  /** the comparison drawn in the charts and the table */
  selected: string | null;
  /** the run in progress, as far as it got (redrawn a few times a second) */
  live: ComparisonRun | null;
  /** non-null while a comparison owns the worker */
  progress: ComparisonProgress | null;
  /** how the last comparison ended, when that needs saying (an error, a cancel) */
  message: { kind: 'error' | 'info'; text: string } | null;
  storageError: string | null;
}

export const useComparisonStore = create<ComparisonState>(() => ({
  runs: [],
  selected: null,
  live: null,
  progress: null,
  message: null,
  storageError: null,
}));

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));

let loaded = false;
/** once a run was not saved, its message stays: it says more than a later listing could */
let notSaved = false;

/** Lists the saved runs once per page, and from then on follows other tabs' changes; the latest comparison is shown. */
export async function loadSavedRuns(): Promise<void> {
  if (loaded) return;
  loaded = true;
  onStorageChange(onOtherTab);
  await readSavedRuns();
}

/** Reads the saved runs into the list; runs already listed (completed here, saved or not) are kept. */
async function readSavedRuns(): Promise<void> {
  try {
    const { runs: saved, skipped } = await listRuns();
    useComparisonStore.setState((s) => {
      const ids = new Set(saved.map((r) => r.id));
      const runs = [...saved, ...s.runs.filter((r) => !ids.has(r.id))].sort((a, b) => a.createdAt - b.createdAt || a.index - b.index);
      const storageError = notSaved
        ? s.storageError
        : skipped === 0
          ? null
          : `${skipped === 1 ? 'A saved comparison run is' : `${skipped} saved comparison runs are`} skipped: not a whole run (damaged, or written by another version of the page).`;
      return { runs, selected: s.selected ?? runs.at(-1)?.comparisonId ?? null, storageError };
    });
  } catch (error) {
    if (notSaved) return;
    const why = error instanceof StorageError && error.kind !== 'failed' ? whyNotSaved(error) : null;
    const advice = adviceToSave(error);
    useComparisonStore.setState({
      storageError: why
        ? `Comparisons are not saved on this visit: ${why}. The runs you make are shown for this visit only and are gone after a reload.${advice ? ` ${advice}` : ''}`
        : errorText(error),
    });
  }
}

/**
 * Saves a completed run (already in the list). When the browser will not
 * store it, one message says which comparison was not saved and why; the run
 * stays in the list for this visit.
 */
export async function saveComparisonRun(run: ComparisonRun): Promise<void> {
  try {
    await saveRun(run);
  } catch (error) {
    notSaved = true;
    const advice = adviceToSave(error);
    // every run of one comparison says the same: the message is shown once
    useComparisonStore.setState({
      storageError:
        `The comparison “${run.comparisonTitle}” was not saved: ${whyNotSaved(error)}. ` +
        `It is shown for this visit only, so it will be gone after a reload.${advice ? ` ${advice}` : ''}`,
    });
  }
}

/** Another tab saved or deleted runs: the list follows. */
function onOtherTab(change: StorageChange): void {
  if (change.store !== 'comparisons') return;
  if (change.change === 'deleted') dropRuns(change.ids);
  else void readSavedRuns();
}

/** Removes runs from the list; the selection moves to the latest comparison if its own is gone. */
function dropRuns(ids: readonly string[]): void {
  const gone = new Set(ids);
  useComparisonStore.setState((s) => {
    const runs = s.runs.filter((r) => !gone.has(r.id));
    const selected = runs.some((r) => r.comparisonId === s.selected) || s.progress?.comparisonId === s.selected
      ? s.selected
      : runs.at(-1)?.comparisonId ?? null;
    return { runs, selected };
  });
}

/** Removes runs from the list and from IndexedDB. */
export async function deleteComparisonRuns(ids: readonly string[]): Promise<void> {
  dropRuns(ids);
  try {
    await deleteRuns(ids);
  } catch (error) {
    useComparisonStore.setState({ storageError: errorText(error) });
  }
}

/** The comparisons there are, newest last: id and title. */
export function comparisonsOf(runs: readonly ComparisonRun[]): { id: string; title: string; count: number }[] {
  const byId = new Map<string, { id: string; title: string; count: number }>();
  for (const r of runs) {
    const entry = byId.get(r.comparisonId);
    if (entry) entry.count += 1;
    else byId.set(r.comparisonId, { id: r.comparisonId, title: r.comparisonTitle, count: 1 });
  }
  return [...byId.values()];
}
