import { useConfigStore } from '../state/configStore';
import { useRunStore } from '../state/runStore';

/** Shown only when training stopped with an error; the run's history stays on the charts. */
export function ErrorBanner() {
  const error = useRunStore((s) => s.error);
  if (!error) return null;
  return (
    <div className="banner banner-error" role="alert" data-testid="error-banner">
      <strong>Training stopped.</strong> {error}
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
