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
