import { memo } from 'react';
import { exportFileName, runToCsv, runToJson, summarize, type ComparisonRun } from '../state/comparison';
import { downloadText } from './compareDownload';
import { runColor } from './CompareCharts';
import { fixed, percent } from './format';

/** A number cell: the raw value in data-value (UI contract), formatted text for people. */
function Cell({ value, text, name }: { value: number | undefined; text: string; name: string }) {
  return <td data-col={name} data-value={value === undefined ? '' : String(value)}>{text}</td>;
}

/**
 * One row per run: its final numbers, and its history as CSV or JSON. A row
 * still running is shown too, marked as such, without exports.
 */
export const CompareTable = memo(function CompareTable({ runs, live, onDelete }: {
  runs: ComparisonRun[];
  live: ComparisonRun | null;
  onDelete: (run: ComparisonRun) => void;
}) {
  const rows = live ? [...runs, live] : runs;
  return (
    <table className="compare-table" data-testid="compare-summary">
      <thead>
        <tr>
          <th scope="col">run</th>
          <th scope="col" title="Test accuracy of the linear probe on the frozen h after the last step">probe acc</th>
          <th scope="col" title="Share of the anchors whose positive was their most similar candidate, last step (SimCLR; MoCo: against the queue)">contrastive acc</th>
          <th scope="col" title="Mean cosine similarity of positive pairs, last step">pos sim</th>
          <th scope="col" title="Mean cosine similarity of negative pairs, last step">neg sim</th>
          <th scope="col" title="Collapse meter at the last step: mean over dimensions of the std of ℓ2-normalized z; near 1/√d is spread, near 0 is collapse">collapse</th>
          <th scope="col">steps</th>
          <th scope="col" title="Wall time from start to the last step, periodic probes included">time</th>
          <th scope="col"><span className="visually-hidden">exports</span></th>
        </tr>
      </thead>
      <tbody>
        {rows.map((run) => {
          const row = summarize(run);
          const running = run === live;
          return (
            <tr key={run.id} data-testid={running ? 'compare-row-live' : 'compare-row'} className={running ? 'compare-row-live' : undefined}>
              <th scope="row">
                <span className="compare-swatch" style={{ background: runColor(run.index) }} />
                {row.label}{running && <em> (running)</em>}
              </th>
              <Cell name="probe" value={row.finalProbeAccuracy} text={percent(row.finalProbeAccuracy)} />
              <Cell name="contrastive" value={row.contrastiveAccuracy} text={percent(row.contrastiveAccuracy)} />
              <Cell name="positive" value={row.positiveSimilarity} text={fixed(row.positiveSimilarity)} />
              <Cell name="negative" value={row.negativeSimilarity} text={fixed(row.negativeSimilarity)} />
              <Cell name="collapse" value={row.collapseStd} text={fixed(row.collapseStd, 3)} />
              <Cell name="steps" value={row.steps} text={String(row.steps)} />
              <Cell name="time" value={running ? undefined : row.wallMs / 1000} text={running ? '…' : `${(row.wallMs / 1000).toFixed(1)} s`} />
              <td className="compare-actions">
                {!running && (
                  <>
                    <button type="button" data-testid="compare-export-csv" onClick={() => downloadText(runToCsv(run), exportFileName(run, 'csv'), 'text/csv')}>CSV</button>
                    <button type="button" data-testid="compare-export-json" onClick={() => downloadText(runToJson(run), exportFileName(run, 'json'), 'application/json')}>JSON</button>
                    <button type="button" className="compare-delete" data-testid="compare-delete-run" title="Delete this run" onClick={() => onDelete(run)}>Delete</button>
                  </>
                )}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
});
