import { METHOD_CATALOG } from '../core/methods';
import { useRunStore } from '../state/runStore';
import { AffinityHeatmap } from './AffinityHeatmap';
import { MethodMatrixPanel } from './MethodMatrixPanel';
import { TaskPanel } from './TaskPanel';

/**
 * The live matrix of the latest batch (sent by the worker at most every
 * 500 ms): SimCLR's 2N×2N affinity matrix, or the method's own (MoCo's
 * queries against keys and queue, the bank's batch against its rows, Barlow
 * Twins' C, BYOL's and SimSiam's predictions against targets); for a
 * pretext task, its own instrument (TaskPanel).
 */
export function AffinityPanel() {
  const a = useRunStore((s) => s.affinity);
  const own = useRunStore((s) => s.methodMatrix);
  const task = useRunStore((s) => s.taskSnapshot);
  const method = METHOD_CATALOG[useRunStore((s) => s.appliedConfig?.method ?? 'simclr')];
  if (method.matrix === 'task') {
    return (
      <>
        {method.matrixNote && <p className="hint matrix-note" data-testid="affinity-none">{method.matrixNote}</p>}
        <TaskPanel snapshot={task} method={method} />
      </>
    );
  }
  if (method.matrix === 'none') {
    return (
      <figure className="panel affinity-empty" data-testid="affinity-none">
        <h2>Affinity matrix</h2>
        <p className="hint">
          {method.matrixNote ?? `${method.label} does not score a 2N×2N matrix of the batch: ${method.summary}`} Its own numbers are in the metrics bar above.
        </p>
      </figure>
    );
  }
  if (method.matrix !== 'batch-affinity') {
    return (
      <>
        {method.matrixNote && <p className="hint matrix-note" data-testid="affinity-none">{method.matrixNote}</p>}
        <MethodMatrixPanel snapshot={own} method={method} />
      </>
    );
  }
  if (!a) {
    return (
      <figure className="panel affinity-empty" data-testid="affinity-waiting">
        <h2>Affinity matrix</h2>
        <p className="hint">Press Train or Step: the 2N×2N similarity matrix of the current batch appears here.</p>
      </figure>
    );
  }
  return (
    <AffinityHeatmap
      matrix={a.matrix} size={a.size} twoN={a.twoN} temperature={a.temperature} normalized={a.normalized}
      step={a.step} views={a.views} viewSize={a.viewSize} channels={a.channels}
    />
  );
}
