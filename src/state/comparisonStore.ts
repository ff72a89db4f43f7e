/**
 * Runs side by side: the completed runs (kept in IndexedDB), which comparison
 * is shown, and the queue in progress. Written by the comparison runner
 * (comparisonRunner.ts) and the panel's delete controls.
 */
import { create } from 'zustand';
import type { ComparisonRun } from './comparison';
import { deleteRuns, listRuns } from './comparisonDb';

export interface ComparisonProgress {
  comparisonId: string;
  /** position of the run in progress, from 0 */
  index: number;
  total: number;
  label: string;
  /** steps taken by the run in progress */
  step: number;
  steps: number;
  phase: 'building' | 'training' | 'probing';
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

/** Lists the saved runs once per page; the latest comparison is shown. */
export async function loadSavedRuns(): Promise<void> {
  if (loaded) return;
  loaded = true;
  try {
    const saved = await listRuns();
    useComparisonStore.setState((s) => {
      // runs completed while the list was loading are kept
      const ids = new Set(saved.map((r) => r.id));
      const runs = [...saved, ...s.runs.filter((r) => !ids.has(r.id))];
      return { runs, selected: s.selected ?? runs.at(-1)?.comparisonId ?? null, storageError: null };
    });
  } catch (error) {
    useComparisonStore.setState({ storageError: errorText(error) });
  }
}

/** Removes runs from the list and from IndexedDB. */
export async function deleteComparisonRuns(ids: readonly string[]): Promise<void> {
  const gone = new Set(ids);
  useComparisonStore.setState((s) => {
    const runs = s.runs.filter((r) => !gone.has(r.id));
    const selected = runs.some((r) => r.comparisonId === s.selected) || s.progress?.comparisonId === s.selected
      ? s.selected
      : runs.at(-1)?.comparisonId ?? null;
    return { runs, selected };
  });
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
