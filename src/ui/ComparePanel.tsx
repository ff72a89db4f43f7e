import { useEffect, useMemo, useState } from 'react';
import './compare.css';
import { COMPARISON_PRESETS, isComparisonPreset, parseStepsPerRun, presetLeftOut, presetSpecs, type SweepPresetId } from '../state/comparison';
import { cancelComparison, runComparison } from '../state/comparisonRunner';
import { comparisonsOf, deleteComparisonRuns, loadSavedRuns, useComparisonStore } from '../state/comparisonStore';
import { useConfigStore } from '../state/configStore';
import { useRunStore } from '../state/runStore';
import { CompareLossChart, CompareProbeChart, CompareTrajectoryChart } from './CompareCharts';
import { CompareTable } from './CompareTable';

const DEFAULT_STEPS = '100';

const PHASE_TEXT = {
  generator: 'training the generator', mixing: 'sampling Z and mixing it with X', building: 'building the encoder', training: 'training', probing: 'final probe',
} as const;

/**
 * Runs side by side: a preset makes several runs from the current settings,
 * the worker runs them one after another, and their loss and probe accuracy
 * are overlaid, with a summary row per run.
 */
export function ComparePanel() {
  const [preset, setPreset] = useState<SweepPresetId>('tau-sweep');
  const [stepsText, setStepsText] = useState(DEFAULT_STEPS);
  const runs = useComparisonStore((s) => s.runs);
  const selected = useComparisonStore((s) => s.selected);
  const live = useComparisonStore((s) => s.live);
  const progress = useComparisonStore((s) => s.progress);
  const message = useComparisonStore((s) => s.message);
  const storageError = useComparisonStore((s) => s.storageError);
  const workerReady = useRunStore((s) => s.model !== null && s.status !== 'loading');
  const config = useConfigStore((s) => s.config);
  useEffect(() => {
    void loadSavedRuns();
  }, []);

  const steps = parseStepsPerRun(stepsText);
  const stepsPerRun = steps.ok ? steps.value : null;
  const dataset = useRunStore((s) => s.dataset);
  const planned = useMemo(() => (stepsPerRun ? presetSpecs(preset, config, stepsPerRun, dataset) : []), [preset, config, stepsPerRun, dataset]);
  const leftOut = useMemo(() => presetLeftOut(preset, config, dataset), [preset, config, dataset]);
  const comparisons = useMemo(() => comparisonsOf(runs), [runs]);
  const shown = useMemo(() => runs.filter((r) => r.comparisonId === selected), [runs, selected]);
  const liveShown = live && live.comparisonId === selected ? live : null;
  const charted = useMemo(() => (liveShown ? [...shown, liveShown] : shown), [shown, liveShown]);
  const running = progress !== null;

  return (
    <section className="panel compare-panel" data-testid="compare-panel" aria-label="Runs side by side">
      <h2>Runs side by side</h2>
      <p className="hint">
        Queue runs that differ in one setting and compare them. Each run starts a new encoder from the current settings and seed, with
        the preset’s change, and trains for the same number of steps; your encoder is replaced, and your settings are restored when the
        comparison ends.
      </p>
      <div className="compare-controls">
        <label>
          Compare{' '}
          <select data-testid="compare-preset" value={preset} disabled={running} onChange={(e) => isComparisonPreset(e.target.value) && setPreset(e.target.value)}>
            {COMPARISON_PRESETS.map((p) => <option key={p.id} value={p.id} title={p.help}>{p.label}</option>)}
          </select>
        </label>
        <label>
          Steps per run{' '}
          <input
            type="text" inputMode="numeric" size={6} data-testid="compare-steps" value={stepsText} disabled={running}
            aria-invalid={steps.ok ? undefined : true} onChange={(e) => setStepsText(e.target.value)}
          />
        </label>
        <button
          type="button" className="primary" data-testid="compare-run" disabled={running || !workerReady || !steps.ok}
          onClick={() => steps.ok && runComparison(preset, steps.value)}
        >
          Run comparison
        </button>
        <button type="button" data-testid="compare-cancel" disabled={!running} onClick={cancelComparison}>Cancel</button>
      </div>
      {!steps.ok && <p className="field-error" role="alert" data-testid="compare-steps-error">{steps.error}</p>}
      {!running && steps.ok && (
        <p className="hint">Runs: {planned.map((s) => s.label).join(' · ')}.</p>
      )}
      {leftOut.length > 0 && (
        <p className="hint" data-testid="compare-left-out">Left out on this dataset: {leftOut.join('; ')}</p>
      )}
      {progress && (
        <p className="compare-progress" role="status" data-testid="compare-progress" data-run={progress.index + 1} data-step={progress.step}>
          run {progress.index + 1} of {progress.total}: {progress.label}, step {progress.step}/{progress.steps}
          {progress.phase !== 'training' && ` (${PHASE_TEXT[progress.phase]})`}. The comparison owns the training worker until it ends.
        </p>
      )}
      {message && (
        <p className={message.kind === 'error' ? 'compare-message compare-error' : 'compare-message'} role={message.kind === 'error' ? 'alert' : 'status'} data-testid="compare-message">
          {message.text}
        </p>
      )}
      {storageError && <p className="compare-message compare-error" role="alert" data-testid="compare-storage-error">{storageError}</p>}

      {comparisons.length > 0 && (
        <div className="compare-saved">
          <label>
            Saved comparison{' '}
            <select data-testid="compare-select" value={selected ?? ''} onChange={(e) => useComparisonStore.setState({ selected: e.target.value })}>
              {progress && !comparisons.some((c) => c.id === progress.comparisonId) && <option value={progress.comparisonId}>in progress…</option>}
              {comparisons.map((c) => <option key={c.id} value={c.id}>{c.title} ({c.count} {c.count === 1 ? 'run' : 'runs'})</option>)}
            </select>
          </label>
          <button
            type="button" data-testid="compare-delete" disabled={running || shown.length === 0}
            onClick={() => void deleteComparisonRuns(shown.map((r) => r.id))}
          >
            Delete this comparison
          </button>
          <button
            type="button" data-testid="compare-clear" disabled={running || runs.length === 0}
            onClick={() => {
              if (window.confirm(`Delete all ${runs.length} saved runs?`)) void deleteComparisonRuns(runs.map((r) => r.id));
            }}
          >
            Clear all
          </button>
        </div>
      )}

      {charted.length > 0 && (
        <>
          <div className="compare-charts">
            <CompareLossChart runs={charted} />
            <CompareProbeChart runs={charted} />
            <CompareTrajectoryChart runs={charted} />
          </div>
          <CompareTable runs={shown} live={liveShown} onDelete={(run) => void deleteComparisonRuns([run.id])} />
        </>
      )}
    </section>
  );
}
