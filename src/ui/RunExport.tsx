import { useConfigStore } from '../state/configStore';
import { exportFileName, runToCsv, runToJson } from '../state/comparison';
import { mainRunAsComparisonRun } from '../state/runExport';
import { useRunStore } from '../state/runStore';
import { downloadText } from './compareDownload';

/**
 * The run's metrics as files (issue 21): every step's loss, the method's
 * metrics and the geometry, with the probe and kNN accuracies at the steps
 * they were measured, as CSV; the same with the config, the link that
 * reproduces it and the baselines, as JSON. The comparisons' exports, reused.
 */
export function RunExport() {
  const steps = useRunStore((s) => s.steps.length);
  const download = (kind: 'csv' | 'json') => {
    const run = mainRunAsComparisonRun(useRunStore.getState(), useConfigStore.getState().config);
    const name = exportFileName({ ...run, label: `main run step ${run.stepsRequested}` }, kind);
    if (kind === 'csv') downloadText(runToCsv(run), name, 'text/csv');
    else downloadText(runToJson(run), name, 'application/json');
  };
  return (
    <div className="run-export" aria-label="Export this run's metrics">
      <span className="hint">Metrics of this run:</span>
      <button type="button" className="link-button" data-testid="run-export-csv" disabled={steps === 0} onClick={() => download('csv')}
        title="One row per step: loss, the method's metrics, geometry, and the probe and kNN accuracies where measured">CSV</button>
      <button type="button" className="link-button" data-testid="run-export-json" disabled={steps === 0} onClick={() => download('json')}
        title="The same, with the config, the link that reproduces it and the baselines">JSON</button>
    </div>
  );
}
