import { useEffect, useState } from 'react';
import { latestStep, useRunStore } from '../state/runStore';
import { activityProgress, formatDuration, SLOW_STEP_MS, typicalStepMs } from './device';

/** Repaints every `ms` while `active`, so elapsed times tick. */
function useNow(active: boolean, ms = 500): number {
  const [now, setNow] = useState(() => performance.now());
  useEffect(() => {
    if (!active) return;
    setNow(performance.now());
    const timer = setInterval(() => setNow(performance.now()), ms);
    return () => clearInterval(timer);
  }, [active, ms]);
  return now;
}

/** What the controls do from here, for a line that would otherwise stand empty. */
function idleHint(status: string, step: number): string {
  if (status === 'running') return 'Training · Space pauses after the current step';
  if (status === 'loading') return '';
  if (step > 0) return `Paused at step ${step} · Space resumes, S runs one step, R starts a new encoder`;
  return 'Ready · Space trains, S runs one step, ? lists the shortcuts';
}

interface Line {
  label: string;
  detail?: string;
  fraction?: number;
  /** "12 s", "12 s of about 40 s", "12 s, about 30 s left" */
  timing?: string;
}

/**
 * The progress line under the controls: anything that takes longer than a
 * second says what is happening and, where known, how long is left. The
 * first step (kernel compilation), probes, kNN, label efficiency, the
 * embedding map and lecture mode come from the worker; loading the dataset
 * and a slow training step are read from the run's state.
 */
export function ActivityLine() {
  const activity = useRunStore((s) => s.activity);
  const loading = useRunStore((s) => s.loadProgress);
  const status = useRunStore((s) => s.status);
  const step = useRunStore((s) => latestStep(s)?.step ?? 0);
  const lastStepAt = useRunStore((s) => s.lastStepAt);
  const stepMs = useRunStore((s) => typicalStepMs(s.steps));
  // a step's clock starts at the later of the last step and the press of Train (after a pause)
  const [runningSince, setRunningSince] = useState<number | null>(null);
  useEffect(() => setRunningSince(status === 'running' ? performance.now() : null), [status]);
  const slowSteps = status === 'running' && !activity && stepMs !== undefined && stepMs > SLOW_STEP_MS && lastStepAt !== null;
  const now = useNow(!!activity || !!loading || slowSteps);

  let line: Line | null = null;
  if (activity) {
    const p = activityProgress(activity, now);
    line = {
      label: activity.label,
      detail: activity.detail,
      fraction: p.fraction,
      timing: p.elapsedMs < 1000 ? undefined : `${formatDuration(p.elapsedMs)}${p.remainingMs !== undefined ? `, about ${formatDuration(p.remainingMs)} left` : ''}`,
    };
  } else if (loading) {
    const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
    line = {
      label: `Loading the dataset: ${loading.phase}`,
      fraction: loading.totalBytes ? loading.loadedBytes / loading.totalBytes : undefined,
      timing: loading.totalBytes ? `${mb(loading.loadedBytes)} of ${mb(loading.totalBytes)}` : loading.loadedBytes > 0 ? mb(loading.loadedBytes) : undefined,
    };
  } else if (slowSteps) {
    const elapsed = Math.max(0, now - Math.max(lastStepAt!, runningSince ?? 0));
    line = {
      label: `Step ${step + 1} running`,
      fraction: Math.min(1, elapsed / stepMs!),
      timing: `${formatDuration(elapsed)} of about ${formatDuration(stepMs!)}`,
    };
  }
  // one line of fixed height, busy or idle: the command bar never changes height (which would lay out the whole page again);
  // idle, it says what the controls do next (data-label stays empty: nothing is running)
  if (!line) {
    const hint = idleHint(status, step);
    return <div className="activity activity-idle" data-testid="activity" data-label="" title={hint}>{hint}</div>;
  }
  return (
    <div className="activity" data-testid="activity" data-label={line.label} role="status" aria-live="polite">
      <span className="activity-marker" aria-hidden="true" />
      <span className="activity-label" title={line.label}>{line.label}</span>
      {line.timing && <span className="activity-timing">{line.timing}</span>}
      {line.fraction !== undefined && (
        <progress className="activity-bar" max={1} value={line.fraction} aria-label={`${Math.round(line.fraction * 100)}% done`} />
      )}
      {line.detail && <span className="activity-detail" title={line.detail}>{line.detail}</span>}
    </div>
  );
}
