import { useConfigStore } from '../state/configStore';
import { useRunStore } from '../state/runStore';
import { restartWorker } from '../state/trainingClient';
import { restartFromCheckpoint, useCheckpointStore } from '../state/checkpointStore';
import type { ErrorSource } from '../train/protocol';

/** Shown only when training stopped with an error; the run's history stays on the charts. It sits in the sticky command bar, so it is in view wherever the page is scrolled. */
export function ErrorBanner() {
  const error = useRunStore((s) => s.error);
  const source = useRunStore((s) => s.errorSource);
  const savedStep = useCheckpointStore((s) => s.savedStep);
  if (!error) return null;
  // a lost device or a failed worker took the encoder with it: one click starts a new worker, the history stays
  const recover = source === 'device' || source === 'worker';
  return (
    <div className="banner banner-error" role="alert" data-testid="error-banner" id="error-banner" tabIndex={-1}>
      <strong>Training stopped.</strong> {error}
      {recover && (
        <button type="button" className="primary" data-testid="error-recover" onClick={() => restartWorker(source === 'device' ? 'the GPU device was lost' : 'the worker failed')}>
          {source === 'device' ? 'Continue on a new device' : 'Continue in a new worker'}
        </button>
      )}
      {recover && savedStep !== null && (
        <button type="button" data-testid="error-recover-checkpoint" title="A new worker, then this run's latest save resumed in it: the steps since that save are trained again"
          onClick={() => void restartFromCheckpoint(source === 'device' ? 'the GPU device was lost' : 'the worker failed')}>
          Resume from the save at step {savedStep.toLocaleString('en-US')}
        </button>
      )}
    </div>
  );
}

/** Parameters in the address bar that were unknown or invalid, and what was used instead. */
export function UrlWarnings() {
  const warnings = useConfigStore((s) => s.urlWarnings);
  const dismiss = useConfigStore((s) => s.dismissUrlWarnings);
  if (warnings.length === 0) return null;
  return (
    <div className="banner banner-warning" role="status" data-testid="url-warnings">
      <strong>Some link parameters were ignored:</strong>
      <ul>{warnings.map((w) => <li key={w}>{w}</li>)}</ul>
      <button type="button" onClick={dismiss}>Dismiss</button>
    </div>
  );
}

/** Notices from the run (a dataset switch, a fallback); dismissable. */
export function Notices() {
  const notices = useRunStore((s) => s.notices);
  if (notices.length === 0) return null;
  return (
    <div className="banner banner-info" role="status" data-testid="notices">
      <ul>{notices.map((n, i) => <li key={i}>{n}</li>)}</ul>
      <button type="button" onClick={() => useRunStore.setState({ notices: [] })}>Dismiss</button>
    </div>
  );
}

const SOURCE_WORDS: Record<ErrorSource, string> = {
  settings: 'after a change of settings',
  training: 'during a training step',
  dataset: 'while loading the dataset',
  evaluation: 'during an evaluation',
  device: 'because the GPU device was lost',
  worker: 'because the training worker failed',
};

/**
 * In the settings panel, where a user who just changed something is looking:
 * training stopped, and the reason is in the banner at the top.
 */
export function ErrorPointer() {
  const error = useRunStore((s) => s.error);
  const source = useRunStore((s) => s.errorSource);
  if (!error || source === 'evaluation') return null;
  return (
    <p className="error-pointer" role="status" data-testid="error-pointer">
      Training stopped {SOURCE_WORDS[source ?? 'training']}.{' '}
      <button type="button" className="link-button" onClick={() => document.getElementById('error-banner')?.focus()}>
        Why? See the red banner above the charts.
      </button>
    </p>
  );
}
