import { useComparisonStore } from '../state/comparisonStore';
import { useRunStore } from '../state/runStore';

/**
 * Why an on-demand evaluation cannot be asked for now, in the user's words,
 * or null when it can: the evaluations need a loaded encoder, and a running
 * comparison owns the worker (the training client drops the request then).
 */
export function useEvaluationBlocker(): string | null {
  const loading = useRunStore((s) => s.model === null || s.status === 'loading');
  const comparing = useComparisonStore((s) => s.progress !== null);
  if (comparing) return 'A comparison is using the training worker: evaluate when it has finished.';
  if (loading) return 'Waiting for the dataset and the encoder to load…';
  return null;
}
