import { useComparisonStore } from '../state/comparisonStore';
import { useRunStore } from '../state/runStore';
import { training } from '../state/trainingClient';
import type { RunStatus } from '../train/protocol';

/** The Train button says what is going on while it is disabled, and Resume once a run has steps. */
function startLabel(status: RunStatus, steps: number): string {
  switch (status) {
    case 'running': return 'Training…';
    case 'probing': return 'Probing…';
    case 'evaluating': return 'Evaluating…';
    case 'loading': return 'Loading…';
    default: return steps > 0 ? 'Resume' : 'Train';
  }
}

export function TrainControls() {
  const status = useRunStore((s) => s.status);
  const ready = useRunStore((s) => s.model !== null);
  const steps = useRunStore((s) => s.steps.length);
  const running = status === 'running' || status === 'probing';
  // a comparison (Runs side by side) owns the worker until it ends
  const comparing = useComparisonStore((s) => s.progress !== null);
  // a lost device or a failed worker took the encoder: the banner's button starts a new one
  const encoderLost = useRunStore((s) => s.errorSource === 'device' || s.errorSource === 'worker');
  const busy = status === 'loading' || !ready || comparing || encoderLost;
  const probeable = useRunStore((s) => !!s.dataset && s.dataset.labelled && s.dataset.testCount > 0);
  return (
    <div className="controls" role="toolbar" aria-label="Training controls" title={comparing ? 'A comparison is running: it owns the training worker until it ends or is cancelled.' : undefined}>
      <button type="button" className="primary" data-testid="train-start" disabled={busy || running} onClick={training.start}>
        {startLabel(status, steps)}
      </button>
      <button type="button" data-testid="train-pause" disabled={!running || comparing} onClick={training.pause}>Pause</button>
      <button type="button" data-testid="train-step" disabled={busy || running} onClick={training.step} title="Run exactly one optimizer step">
        Step
      </button>
      <button type="button" data-testid="train-reset" disabled={busy} onClick={training.reset} title="New random encoder; metrics cleared">
        Reset
      </button>
      <button type="button" data-testid="probe-run" disabled={busy || !probeable} onClick={training.probe} title={probeable ? 'Fit the linear probe on the current encoder now' : 'No labelled test images: the probe is off for this dataset'}>
        Probe now
      </button>
    </div>
  );
}
