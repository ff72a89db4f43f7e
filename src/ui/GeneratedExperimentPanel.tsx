import { memo, useEffect, useMemo, useState } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import './compare.css';
import './generatedExperiment.css';
import { GENERATOR_KINDS, generatorUnfitReason } from '../core/generatorSettings';
import { methodUnfitReason } from '../core/methods';
import { exportFileName, runToCsv, runToJson, type ComparisonRun } from '../state/comparison';
import { cancelComparison, runGeneratedExperiment } from '../state/comparisonRunner';
import { comparisonsOf, deleteComparisonRuns, loadSavedRuns, useComparisonStore } from '../state/comparisonStore';
import { useConfigStore } from '../state/configStore';
import {
  EXPERIMENT_DEFAULTS, EXPERIMENT_MAX_RATIO, EXPERIMENT_METHODS, budgetGeneratorProblem, budgetPercent, budgetsWithWiderGenerator,
  checkExperimentForm, experimentChart, experimentCsv, experimentFindings, experimentLabel, experimentSpecs, experimentTable,
  formatPoints, hasAccuracies, isExperimentMethod, needsGenerator, plannedSizes, type ExperimentChartLine, type ExperimentChartRow, type ExperimentForm, type ExperimentRow,
  type GeneratedExperimentSettings,
} from '../state/generatedExperiment';
import { generatorSettingsFromFields, refreshSavedGenerators, useGeneratorStore } from '../state/generatorStore';
import { useRunStore } from '../state/runStore';
import type { StoredGeneratorInfo } from '../train/protocol';
import { accuracyAxisLow } from './accuracy';
import {
  AXIS_FONT_PX, AXIS_TICK, BELOW_PLOT_WITH_LEGEND, LEGEND_PROPS, linearYAxis, logDomain, percentTickFormatter, xAxisLayout, yAxisTitle,
} from './chartAxis';
import { ChartPlot } from './ChartPlot';
import { RUN_COLORS } from './CompareCharts';
import { downloadText } from './compareDownload';
import { percent, unitTicks } from './format';

/** The generator select's value for "train a new one first". */
const TRAIN_NEW = 'train';

const PHASE_TEXT = {
  generator: 'training the generator', mixing: 'sampling Z and mixing it with X', building: 'building the encoder', training: 'training', probing: 'final probe',
} as const;

/**
 * The experiment this panel started last, and the comparison started last
 * anywhere (the store's one message is that one's). Kept outside the
 * component so that a panel mounted again (a tab switch) still knows its own
 * experiment, to show its progress and to cancel it.
 */
const started: { mine: string | null; latest: string | null } = { mine: null, latest: null };

const BASELINE_COLOR = '#64748b';
const KIND_LABEL = Object.fromEntries(GENERATOR_KINDS.map((k) => [k.id, k.label])) as Record<StoredGeneratorInfo['kind'], string>;

/** "DCGAN on 10% of the images (6,000), 300 steps, w 16, z 64, saved 12 Mar, 14:05": how the select names a saved generator. */
function generatorName(g: StoredGeneratorInfo): string {
  const when = new Date(g.createdAt).toLocaleString([], { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
  const on = g.config.budget ? `${budgetPercent(g.config.budget.realFraction)}% of the images (${g.config.budget.count.toLocaleString()})` : 'all training images';
  return `${KIND_LABEL[g.kind] ?? g.kind} on ${on}, ${g.config.stepsTrained.toLocaleString()} steps, w ${g.config.width}, z ${g.config.zDim}, saved ${when}`;
}

/**
 * The generated-data experiment (issue 19): for every real budget × ratio
 * |Z|/|X|, pretrain SimCLR or MoCo on X ∪ Z at the same steps and batch, and
 * probe each encoder on the real test split. Settings and plan here, the
 * queue in the comparison runner, the results from the comparison store.
 */
export function GeneratedExperimentPanel() {
  const [form, setForm] = useState<ExperimentForm>({
    method: EXPERIMENT_DEFAULTS.method, budgets: EXPERIMENT_DEFAULTS.budgets, ratios: EXPERIMENT_DEFAULTS.ratios, steps: EXPERIMENT_DEFAULTS.steps,
  });
  /** null: the newest saved generator when there is one, else train a new one */
  const [generatorChoice, setGeneratorChoice] = useState<string | null>(null);
  const [mine, setMine] = useState<string | null>(() => started.mine);
  const [latestStarted, setLatestStarted] = useState<string | null>(() => started.latest);

  const dataset = useRunStore((s) => s.dataset);
  const workerReady = useRunStore((s) => s.model !== null && s.status !== 'loading');
  const config = useConfigStore((s) => s.config);
  const runs = useComparisonStore((s) => s.runs);
  const selected = useComparisonStore((s) => s.selected);
  const progress = useComparisonStore((s) => s.progress);
  const message = useComparisonStore((s) => s.message);
  const storageError = useComparisonStore((s) => s.storageError);
  const savedAll = useGeneratorStore((s) => s.saved);
  const generatorKind = useGeneratorStore((s) => s.kind);
  const generatorFields = useGeneratorStore((s) => s.fields);
  const generatorBusy = useGeneratorStore((s) => s.running);

  useEffect(() => {
    void loadSavedRuns();
  }, []);
  const realDatasetId = dataset && !dataset.mix ? dataset.id : null;
  useEffect(() => {
    if (realDatasetId) void refreshSavedGenerators(realDatasetId);
  }, [realDatasetId]);
  const progressId = progress?.comparisonId ?? null;
  useEffect(() => {
    if (progressId) setLatestStarted((started.latest = progressId));
  }, [progressId]);

  // ---- settings ----
  const checked = checkExperimentForm(form);
  const errors = checked.ok ? {} : checked.errors;
  const ratios = checked.ok ? checked.value.ratios : [];
  const usesGenerator = !checked.ok || needsGenerator(ratios);
  const saved = useMemo(() => savedAll.filter((g) => g.datasetId === realDatasetId), [savedAll, realDatasetId]);
  const choice = generatorChoice === TRAIN_NEW || saved.some((g) => g.id === generatorChoice) ? generatorChoice! : (saved[0]?.id ?? TRAIN_NEW);
  // the runner trains one generator per budget, on that budget's X: the batch is checked against the smallest X below
  const trainSettings = generatorSettingsFromFields(generatorKind, generatorFields);
  const generatorError = choice !== TRAIN_NEW || !usesGenerator
    ? null
    : !trainSettings.ok
      ? `The generator panel’s settings cannot train a generator: ${Object.values(trainSettings.errors).join(' ')} Correct them in the generator panel, or pick a saved generator.`
      : checked.ok && dataset ? budgetGeneratorProblem(checked.value.realFractions, dataset.trainCount, trainSettings.settings.batchSize) : null;
  const savedChoice = saved.find((g) => g.id === choice) ?? null;
  const wider = savedChoice && checked.ok && usesGenerator ? budgetsWithWiderGenerator(savedChoice.config.budget, checked.value.realFractions, config.seed) : [];
  const generator: GeneratedExperimentSettings['generator'] | null = choice !== TRAIN_NEW
    ? { source: 'saved', id: choice }
    : trainSettings.ok ? { source: 'train', settings: trainSettings.settings } : null;
  const settings: GeneratedExperimentSettings | null = checked.ok && generator ? { ...checked.value, generator } : null;

  const planned = settings && dataset ? experimentSpecs(config, settings, dataset.id, choice === TRAIN_NEW ? null : choice) : [];

  // ---- why it cannot run now ----
  const running = progress !== null;
  const blocker = ((): string | null => {
    if (!dataset) return 'The dataset is still loading.';
    if (dataset.mix) {
      // X must be real: a run of an experiment that stopped with an error is still loaded
      return `“${dataset.name}” holds generated images, left loaded by an experiment run that stopped; press Reset (or pick ${dataset.mix.sourceName}) to go back to the real images, then run the experiment.`;
    }
    const unfit = generatorUnfitReason({ name: dataset.name, imageSize: dataset.imageSize, channels: dataset.channels, trainCount: dataset.trainCount });
    // the generator's own limits (image size, 64 images) matter only when Z is drawn
    if (unfit && usesGenerator) return unfit;
    if (!dataset.labelled) {
      return 'This dataset has no labels, so the linear probe and kNN are off: every run would train, but the experiment’s answer, '
        + 'the accuracy on real test images, could not be measured and its table would stay empty. Pick a labelled dataset '
        + '(Fashion-MNIST, the coloured shapes, or an upload with class folders); the generator panel still trains on this one.';
    }
    if (dataset.testCount === 0) return 'This dataset has no test images, so the probe cannot score the encoders. Upload it with two or more images per class.';
    const methodProblem = methodUnfitReason(form.method, dataset, config);
    if (methodProblem) return methodProblem;
    if (running) return 'A comparison is running; wait for it to end, or cancel it, before starting the experiment.';
    if (generatorBusy) return 'The generator panel is training or loading a generator; wait for it to finish, or cancel it.';
    if (!workerReady) return 'The training worker is still starting.';
    return null;
  })();

  const run = () => {
    if (!settings || blocker || generatorError) return;
    runGeneratedExperiment(settings);
    const id = useComparisonStore.getState().progress?.comparisonId ?? null;
    setMine((started.mine = id));
    setLatestStarted((started.latest = id));
  };

  // ---- results ----
  const experiments = useMemo(() => {
    const ids = new Set(runs.filter((r) => r.preset === 'generated-data').map((r) => r.comparisonId));
    return comparisonsOf(runs).filter((c) => ids.has(c.id));
  }, [runs]);
  const mineRunning = running && progress.comparisonId === mine;
  const shownId = (mineRunning && selected === mine) || experiments.some((c) => c.id === selected) ? selected : experiments.at(-1)?.id ?? null;
  const shown = useMemo(() => runs.filter((r) => r.comparisonId === shownId && r.preset === 'generated-data'), [runs, shownId]);
  const setField = (field: keyof ExperimentForm) => (value: string) => setForm((f) => ({ ...f, [field]: value }));

  return (
    <section className="panel experiment-panel" data-testid="experiment-panel" aria-label="Generated-data experiment">
      <h2>Experiment: does adding generated images help?</h2>
      <p className="hint">
        The lecture’s set-up: train a generative model on the real images X, sample a set Z of generated images, pretrain a
        self-supervised encoder on X ∪ Z, and judge it with a linear probe (and kNN) on real test images. Each run below uses a
        share of the real training images (the budget) and adds |Z| = ratio · |X| generated ones; every run takes the same steps at
        the same batch size, so they cost the same, and the question is whether a run with Z beats the real-only run of its budget.
        The hope is that it does when real images are few. At this scale, with a small generator and a few hundred steps, it may
        well not: the table says what happened, either way.
      </p>

      <div className="experiment-controls">
        <label className="experiment-field">
          <span>Method</span>
          <select
            data-testid="experiment-method" value={form.method} disabled={running}
            onChange={(e) => {
              const method = e.target.value;
              if (isExperimentMethod(method)) setForm((f) => ({ ...f, method }));
            }}
          >
            {EXPERIMENT_METHODS.map((m) => <option key={m.id} value={m.id}>{m.label}</option>)}
          </select>
        </label>
        <Field
          testId="experiment-budgets" errorTestId="experiment-error-budgets" label="Real images (% of the training split)" value={form.budgets} onChange={setField('budgets')} disabled={running}
          error={errors.budgets} size={14} placeholder="1, 10, 100" help="Budgets in percent, separated by commas: up to 6, each above 0 and at most 100."
        />
        <Field
          testId="experiment-ratios" errorTestId="experiment-error-ratios" label="Generated per real image, |Z|/|X|" value={form.ratios} onChange={setField('ratios')} disabled={running}
          error={errors.ratios} size={14} placeholder="0, 0.5, 1, 2" help={`Ratios from 0 (real only) to ${EXPERIMENT_MAX_RATIO}, separated by commas: up to 6.`}
        />
        <Field
          testId="experiment-steps" errorTestId="experiment-error-steps" label="Pretraining steps per run" value={form.steps} onChange={setField('steps')} disabled={running}
          error={errors.steps} size={7} inputMode="numeric" help="Every run takes this many steps at the batch size of the current settings: fixed compute."
        />
        <div className={`experiment-field${generatorError ? ' field-invalid' : ''}`}>
          <label>
            <span>Z comes from</span>
            <select
              data-testid="experiment-generator" value={choice} disabled={running} onChange={(e) => setGeneratorChoice(e.target.value)}
              aria-invalid={generatorError ? true : undefined} aria-describedby={generatorError ? 'experiment-error-generator' : undefined}
            >
              {saved.length > 0 && (
                <optgroup label={`Saved generators of ${dataset?.name ?? 'this dataset'}`}>
                  {saved.map((g) => <option key={g.id} value={g.id}>{generatorName(g)}</option>)}
                </optgroup>
              )}
              <option value={TRAIN_NEW}>Train a new one first, with the generator panel’s settings</option>
            </select>
          </label>
          {generatorError && <span className="field-error" role="alert" id="experiment-error-generator" data-testid="experiment-error-generator">{generatorError}</span>}
        </div>
      </div>
      {errors.runs && <p className="field-error" role="alert" data-testid="experiment-error-runs">{errors.runs}</p>}
      {checked.ok && !usesGenerator && (
        <p className="hint" data-testid="experiment-generator-unused">Every ratio is 0: the runs use real images only, so no generator is trained or sampled.</p>
      )}
      {usesGenerator && choice === TRAIN_NEW && trainSettings.ok && checked.ok && !generatorError && (
        <p className="hint" data-testid="experiment-generator-plan">
          Before each budget’s first run with Z, a new {KIND_LABEL[trainSettings.settings.kind]} trains on that budget’s X alone (the
          lecture’s set-up: the generator sees only the real images the encoder will) for {trainSettings.settings.steps.toLocaleString()} steps
          (batch {trainSettings.settings.batchSize}, width {trainSettings.settings.width}, z size {trainSettings.settings.zDim}, seed{' '}
          {trainSettings.settings.seed}): {checked.value.realFractions.length} {checked.value.realFractions.length === 1 ? 'generator' : 'generators'} in
          all, each saved so that a later experiment can reuse it.
        </p>
      )}
      {savedChoice && wider.length > 0 && (
        <p className="hint experiment-caveat" data-testid="experiment-caveat">
          Mind the comparison: this generator learnt from {savedChoice.config.budget
            ? `${budgetPercent(savedChoice.config.budget.realFraction)}% of the training images (seed ${savedChoice.config.budget.seed})`
            : 'the whole training split'}, which X does not hold at {wider.map((f) => `${budgetPercent(f)}%`).join(', ')} real. There, Z carries
          something of the real images X leaves out, and a gain is more than a generator trained on X alone could give. Choose
          “train a new one first” to train one per budget on its own X.
        </p>
      )}

      {planned.length > 0 && dataset && !running && <Plan planned={planned} trainCount={dataset.trainCount} batchSize={config.batchSize} />}

      <div className="experiment-actions">
        <button type="button" className="primary" data-testid="experiment-run" disabled={!settings || blocker !== null || generatorError !== null} onClick={run}>
          Run the experiment{planned.length > 0 ? ` (${planned.length} ${planned.length === 1 ? 'run' : 'runs'})` : ''}
        </button>
        <button type="button" data-testid="experiment-cancel" disabled={!mineRunning} onClick={cancelComparison}>Cancel</button>
        {blocker && !mineRunning && <span className="experiment-blocked" data-testid="experiment-blocked">{blocker}</span>}
      </div>

      {mineRunning && progress && (
        <p className="compare-progress" role="status" data-testid="experiment-progress" data-phase={progress.phase} data-run={progress.index + 1} data-step={progress.step}>
          {progress.phase === 'generator'
            ? `Training ${progress.label} (for Z): step ${progress.step}/${progress.steps}, before run ${progress.index + 1} of ${progress.total}.`
            : `Run ${progress.index + 1} of ${progress.total}: ${progress.label}, ${PHASE_TEXT[progress.phase]}${progress.phase === 'training' ? `, step ${progress.step}/${progress.steps}` : ''}.`}
          {' '}The experiment owns the training worker until it ends; your settings come back afterwards.
        </p>
      )}
      {message && mine !== null && latestStarted === mine && !running && (
        <p className={message.kind === 'error' ? 'compare-message compare-error' : 'compare-message'} role={message.kind === 'error' ? 'alert' : 'status'} data-testid="experiment-message">
          {message.text}
        </p>
      )}
      {storageError && <p className="compare-message compare-error" role="alert" data-testid="experiment-storage-error">{storageError}</p>}

      {experiments.length > 0 && (
        <div className="compare-saved">
          <label>
            Experiment{' '}
            <select data-testid="experiment-select" value={shownId ?? ''} onChange={(e) => useComparisonStore.setState({ selected: e.target.value })}>
              {mineRunning && !experiments.some((c) => c.id === mine) && <option value={mine!}>in progress…</option>}
              {experiments.map((c) => <option key={c.id} value={c.id}>{c.title} ({c.count} {c.count === 1 ? 'run' : 'runs'})</option>)}
            </select>
          </label>
          <button
            type="button" data-testid="experiment-delete" disabled={running || shown.length === 0}
            onClick={() => void deleteComparisonRuns(shown.map((r) => r.id))}
          >
            Delete this experiment
          </button>
        </div>
      )}
      {shown.length > 0 && <ExperimentResults runs={shown} />}
      {shown.length === 0 && mineRunning && shownId === mine && (
        <p className="hint">The table and chart fill in as the runs complete.</p>
      )}
    </section>
  );
}

/** A text control with its error next to it (role alert), under its UI-contract test ids. */
function Field({ testId, errorTestId, label, value, onChange, disabled, error, size, placeholder, help, inputMode }: {
  testId: string; errorTestId: string; label: string; value: string; onChange: (v: string) => void; disabled: boolean; error: string | undefined;
  size: number; placeholder?: string; help: string; inputMode?: 'numeric' | 'decimal';
}) {
  const errorId = errorTestId;
  return (
    <div className={`experiment-field${error ? ' field-invalid' : ''}`}>
      <label>
        <span>{label}</span>
        <input
          type="text" data-testid={testId} value={value} size={size} placeholder={placeholder} title={help}
          inputMode={inputMode} disabled={disabled} aria-invalid={error ? true : undefined} aria-describedby={error ? errorId : undefined}
          onChange={(e) => onChange(e.target.value)}
        />
      </label>
      {error && <span className="field-error" role="alert" id={errorId} data-testid={errorId}>{error}</span>}
    </div>
  );
}

/** The runs the settings make, with about how many real and generated images each trains on. */
function Plan({ planned, trainCount, batchSize }: { planned: ReturnType<typeof experimentSpecs>; trainCount: number; batchSize: number }) {
  return (
    <details className="experiment-plan" open={planned.length <= 8}>
      <summary>
        {planned.length} {planned.length === 1 ? 'run' : 'runs'} of {planned[0].steps.toLocaleString()} steps at batch {batchSize}, one after another
      </summary>
      <ol data-testid="experiment-plan">
        {planned.map((spec, i) => {
          const { realCount, generatedCount } = plannedSizes(spec.mix!.realFraction, spec.mix!.ratio, trainCount);
          const small = realCount + generatedCount < batchSize;
          return (
            <li key={i} data-fraction={spec.mix!.realFraction} data-ratio={spec.mix!.ratio}>
              {spec.label}: about {realCount.toLocaleString()} real{generatedCount > 0 ? ` + ${generatedCount.toLocaleString()} generated` : ''} images
              {small && <span className="experiment-note"> (fewer than the batch of {batchSize}: each batch holds some images twice)</span>}
            </li>
          );
        })}
      </ol>
    </details>
  );
}

const ratioColor = (k: number): string => RUN_COLORS[k % RUN_COLORS.length];

/** The selected experiment's table, what its numbers say, its chart and its CSV. */
const ExperimentResults = memo(function ExperimentResults({ runs }: { runs: ComparisonRun[] }) {
  const rows = useMemo(() => experimentTable(runs), [runs]);
  const chart = useMemo(() => experimentChart(runs), [runs]);
  const findings = useMemo(() => experimentFindings(rows), [rows]);
  const byId = useMemo(() => new Map(runs.map((r) => [r.id, r])), [runs]);
  const measured = hasAccuracies(rows);
  const method = rows[0]?.method ?? 'simclr';
  return (
    <div className="experiment-results">
      {findings.length > 0 && (
        <ul className="experiment-findings" data-testid="experiment-findings">
          {findings.map((f, i) => <li key={i} data-testid="experiment-finding">{f}</li>)}
        </ul>
      )}
      <ExperimentTable rows={rows} byId={byId} ratios={chart.lines} />
      <div className="experiment-actions">
        <button
          type="button" data-testid="experiment-download-csv"
          onClick={() => downloadText(experimentCsv(runs), `${method}-generated-data-experiment.csv`, 'text/csv')}
        >
          Download the table (CSV)
        </button>
      </div>
      <div className="experiment-charts">
        <ExperimentAccuracyChart
          testId="experiment-chart" title="Linear-probe accuracy against real-data budget" rows={chart.rows} lines={chart.lines}
          column={(l) => l.linearKey} baselineKey="randomInitLinear" measured={measured}
          caption="Test accuracy on real images of a logistic regression on the frozen h, one line per |Z|/|X|; dashed: the same probe on the untrained encoder, fitted on the same budget’s real images."
        />
        <ExperimentAccuracyChart
          testId="experiment-chart-knn" title="kNN accuracy against real-data budget" rows={chart.rows} lines={chart.lines}
          column={(l) => l.knnKey} baselineKey="randomInitKnn" measured={measured}
          caption="Weighted kNN on h, the budget’s real images voting for each real test image; dashed: the untrained encoder."
        />
      </div>
    </div>
  );
});

/** A cell with an accuracy (data-value in [0, 1], or empty when not measured). */
function AccuracyCell({ testId, value }: { testId: string; value: number | undefined }) {
  return <td data-testid={testId} data-value={value === undefined ? '' : String(value)}>{percent(value)}</td>;
}

/** A gain over the budget's real-only run, in points (data-value: the difference of fractions); the real-only run itself is the reference. */
function GainCell({ testId, value, reference }: { testId: string; value: number | undefined; reference: boolean }) {
  const text = value === undefined ? '—' : formatPoints(value);
  const cls = text.startsWith('+') ? 'experiment-up' : text.startsWith('−') ? 'experiment-down' : undefined;
  return (
    <td data-testid={testId} data-value={value === undefined ? '' : String(value)} className={cls}>
      {reference ? <span className="experiment-reference">reference</span> : text}
    </td>
  );
}

function ExperimentTable({ rows, byId, ratios }: { rows: ExperimentRow[]; byId: Map<string, ComparisonRun>; ratios: ExperimentChartLine[] }) {
  return (
    <table className="compare-table experiment-table" data-testid="experiment-table">
      <caption>
        Each run’s final accuracies on the real test split; “gain” is in percentage points over the real-only run of the same budget.
      </caption>
      <thead>
        <tr>
          <th scope="col">run</th>
          <th scope="col" title="|X|: real training images">real</th>
          <th scope="col" title="|Z|: generated training images">generated</th>
          <th scope="col" title="Linear-probe test accuracy after the last step">linear probe</th>
          <th scope="col" title="Linear-probe accuracy minus the real-only run’s, same budget (points)">gain</th>
          <th scope="col" title="Weighted-kNN test accuracy after the last step">kNN</th>
          <th scope="col" title="kNN accuracy minus the real-only run’s, same budget (points)">gain</th>
          <th scope="col" title="The same linear probe and kNN on the untrained encoder">random init (linear / kNN)</th>
          <th scope="col"><span className="visually-hidden">exports</span></th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => {
          const run = byId.get(row.runId);
          const k = ratios.findIndex((l) => l.ratio === row.ratio);
          return (
            <tr key={row.runId} data-testid="experiment-row" data-fraction={row.realFraction} data-ratio={row.ratio}>
              <th scope="row">
                <span className="compare-swatch" style={{ background: ratioColor(Math.max(0, k)) }} />
                {experimentLabel(row.realFraction, row.ratio)}
              </th>
              <td data-value={row.realCount}>{row.realCount.toLocaleString()}</td>
              <td data-value={row.generatedCount}>{row.generatedCount.toLocaleString()}</td>
              <AccuracyCell testId="experiment-linear" value={row.linear} />
              <GainCell testId="experiment-linear-gain" value={row.linearGain} reference={row.ratio === 0} />
              <AccuracyCell testId="experiment-knn" value={row.knn} />
              <GainCell testId="experiment-knn-gain" value={row.knnGain} reference={row.ratio === 0} />
              <td data-testid="experiment-random-init" data-value={row.randomInitLinear ?? ''} data-knn-value={row.randomInitKnn ?? ''}>
                {percent(row.randomInitLinear)} / {percent(row.randomInitKnn)}
              </td>
              <td className="compare-actions">
                {run && (
                  <>
                    <button type="button" data-testid="experiment-export-csv" onClick={() => downloadText(runToCsv(run), exportFileName(run, 'csv'), 'text/csv')}>CSV</button>
                    <button type="button" data-testid="experiment-export-json" onClick={() => downloadText(runToJson(run), exportFileName(run, 'json'), 'application/json')}>JSON</button>
                  </>
                )}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** Accuracy against real budget (log axis: 1%, 10%, 100% evenly spaced), one line per ratio and the dashed random-init baseline. */
function ExperimentAccuracyChart({ testId, title, caption, rows, lines, column, baselineKey, measured }: {
  testId: string; title: string; caption: string; rows: ExperimentChartRow[]; lines: ExperimentChartLine[];
  column: (line: ExperimentChartLine) => string; baselineKey: 'randomInitLinear' | 'randomInitKnn'; measured: boolean;
}) {
  const values = rows.flatMap((r) => [...lines.map((l) => r[column(l)]), r[baselineKey]]);
  const drawn = lines.filter((l) => rows.some((r) => r[column(l)] !== undefined)).length;
  const low = accuracyAxisLow(values);
  const yTicks = unitTicks([low, 1], 0.05);
  const yAxis = linearYAxis(yTicks, { titled: true, format: percentTickFormatter(yTicks) });
  const budgets = rows.map((r) => r.budgetPercent);
  const xDomain = logDomain(budgets.length ? budgets : [1, 100]);
  const budgetText = (v: number) => `${v}%`;
  return (
    <figure className="compare-chart" data-testid={testId} data-lines={drawn}>
      <figcaption>
        <h3>{title}</h3>
        <p>{caption}</p>
      </figcaption>
      <ChartPlot
        empty={drawn === 0 && (measured ? 'No run has this accuracy yet.' : 'No accuracy was measured: the dataset has no labels, so the probe and kNN were off.')}
        axisLeft={yAxis.width} below={BELOW_PLOT_WITH_LEGEND}
      >
        <ResponsiveContainer width="100%" height={280}>
          <LineChart data={rows.length ? rows : [{ budgetPercent: 100 }]} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
            <XAxis
              {...xAxisLayout('real images, % of the training split (log scale)')} dataKey="budgetPercent" type="number" scale="log"
              domain={xDomain} ticks={budgets.length ? budgets : xDomain} allowDataOverflow tickFormatter={budgetText}
            />
            <YAxis
              domain={yAxis.domain} ticks={yAxis.ticks} tickFormatter={yAxis.format} width={yAxis.width} tick={AXIS_TICK}
              label={yAxisTitle('test accuracy', AXIS_FONT_PX)}
            />
            <Tooltip formatter={(v) => (typeof v === 'number' ? percent(v) : String(v))} labelFormatter={(v) => `${v}% of the real training images`} />
            <Legend {...LEGEND_PROPS} />
            {lines.map((l, k) => (
              <Line
                key={l.ratio} type="linear" dataKey={column(l)} name={l.name} stroke={ratioColor(k)} strokeWidth={2}
                dot connectNulls isAnimationActive={false}
              />
            ))}
            <Line
              type="linear" dataKey={baselineKey} name="random-init encoder" stroke={BASELINE_COLOR} strokeDasharray="6 4" strokeWidth={1.5}
              dot={rows.length === 1} connectNulls isAnimationActive={false}
            />
          </LineChart>
        </ResponsiveContainer>
      </ChartPlot>
    </figure>
  );
}
