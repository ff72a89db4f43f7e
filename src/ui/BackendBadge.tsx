import { useRunStore } from '../state/runStore';

/** The active compute backend, and after a fallback, why the better ones were not used. */
export function BackendBadge() {
  const backend = useRunStore((s) => s.backend);
  const reasons = useRunStore((s) => s.backendReasons);
  const adapter = useRunStore((s) => s.adapter);
  const status = useRunStore((s) => s.status);
  return (
    <div className="backend">
      <span
        data-testid="backend-badge"
        data-value={backend ?? ''}
        className={`badge badge-${backend ?? 'pending'}`}
        title={adapter ? `GPU adapter: ${adapter}` : undefined}
      >
        {backend ? `backend: ${backend}` : 'starting backend…'}
      </span>
      <span className={`status status-${status}`} data-testid="run-status" data-value={status}>{status}</span>
      {reasons.length > 0 && (
        <ul className="backend-reasons" data-testid="backend-reasons">
          {reasons.map((r) => <li key={r}>{r}</li>)}
        </ul>
      )}
    </div>
  );
}
