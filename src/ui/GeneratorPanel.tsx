import { memo, useEffect, useMemo, useRef, useState } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { useShallow } from 'zustand/react/shallow';
import { GENERATOR_FIELDS, GENERATOR_KINDS, generatorUnfitReason } from '../core/generatorSettings';
import { FRECHET_PROXY_NAME } from '../eval/sampleQuality';
import { useComparisonStore } from '../state/comparisonStore';
import {
  beginGeneratorRequest, deleteSavedGenerator, generatorSettingsFromFields, refreshSavedGenerators, setGeneratorField, setGeneratorKind,
  useGeneratorStore,
} from '../state/generatorStore';
import { useRunStore } from '../state/runStore';
import { generatorClient } from '../state/trainingClient';
import type {
  GeneratorKind, GeneratorNeighbours, GeneratorQualityPoint, GeneratorSamples, GeneratorStepMetrics, StoredGeneratorInfo,
} from '../train/protocol';
import {
  AXIS_TICK, BELOW_PLOT_WITH_LEGEND, EMPTY_ROWS, LEGEND_PROPS, linearYAxis, stepTicks, tickFormatter, titleBand, xAxisLayout, yAxisTitle,
} from './chartAxis';
import { ChartPlot } from './ChartPlot';
import { fixed, percent } from './format';
import {
  FIELD_CONTROLS, KIND_LABEL, LOSS_SERIES, brokenText, closestDistance, continueBlocker, dateText, distanceText, frechetAxis, lossAxis,
  lossChartRows, mosaic, neighbourRows, progressFraction, progressText, qualityChartRows, savedSettingsText, stepAxisEnd, storedQuality,
  type ChartRow,
} from './generatorPanel';
import { PixelCanvas } from './PixelCanvas';
import { useThrottled } from './useThrottled';
import './evaluation.css';
import './generator.css';

/** The charts redraw at most once a second, on slots of their own (see useThrottled). */
const REDRAW_MS = 1000;
const LOSS_PHASE_MS = 250;
const QUALITY_PHASE_MS = 625;
/** On-screen widths (CSS px) of the latest grid and the one before it. */
const GRID_PX = 240;
const PREVIOUS_GRID_PX = 120;
const NEIGHBOUR_PX = 56;
/** D's outputs are probabilities: their axis is always [0, 1]. */
const SCORE_AXIS = linearYAxis([0, 0.25, 0.5, 0.75, 1], { titled: true });
const FRACTION_AXIS = linearYAxis([0, 0.25, 0.5, 0.75, 1], { titled: true });

const REFUSED =
  'The training worker is busy with a comparison or the generated-data experiment, so nothing was started. ' +
  'Train or load a generator when it has finished, or cancel it in its panel.';

/**
 * Issue 19's generative model: a small DCGAN or VAE trained in the worker on
 * the active dataset's real training images, shown live (losses, a grid from
 * fixed noise, the samples' nearest real images, sample quality), and the
 * generators saved for this dataset. The generated-data experiment uses them
 * to add generated images Z to a real budget X.
 */
export function GeneratorPanel() {
  const dataset = useRunStore((s) => s.dataset);
  const datasetLoading = useRunStore((s) => s.status === 'loading');
  const experiment = useComparisonStore((s) => s.progress);
  const comparing = experiment !== null;
  const g = useGeneratorStore(useShallow((s) => ({
    kind: s.kind, fields: s.fields, requestId: s.requestId, requestKind: s.requestKind, running: s.running, current: s.current,
    error: s.error, errorKind: s.errorKind, saveError: s.saveError, cancelled: s.cancelled,
  })));
  const [refused, setRefused] = useState(false);
  const [cancelFor, setCancelFor] = useState<number | null>(null);

  // the real dataset's generators, also while the experiment trains on one of its mixes X ∪ Z
  const datasetId = dataset ? dataset.mix?.sourceId ?? dataset.id : undefined;
  useEffect(() => {
    if (datasetId !== undefined) void refreshSavedGenerators(datasetId);
  }, [datasetId]);
  // after a request ends (generator-done): the list again, with what the worker saved
  const wasRunning = useRef(g.running);
  useEffect(() => {
    if (wasRunning.current && !g.running && datasetId !== undefined) void refreshSavedGenerators(datasetId);
    wasRunning.current = g.running;
  }, [g.running, datasetId]);
  useEffect(() => {
    if (!comparing) setRefused(false);
  }, [comparing]);

  const unfit = dataset === null
    ? 'No dataset is loaded yet: the generator trains on the active dataset’s training images once it has loaded.'
    : generatorUnfitReason({
      name: dataset.name, imageSize: dataset.imageSize, channels: dataset.channels, trainCount: dataset.trainCount, mixed: !!dataset.mix,
    });
  const parsed = generatorSettingsFromFields(g.kind, g.fields, dataset?.trainCount);
  const errors = parsed.ok ? {} : parsed.errors;
  const blockContinue = continueBlocker(g.current, datasetId, g.kind);
  const busy = g.running || comparing || datasetLoading;
  const canTrain = !busy && unfit === null && parsed.ok;
  const canContinue = canTrain && blockContinue === null;
  const cancelling = g.running && cancelFor === g.requestId;
  const help = GENERATOR_KINDS.find((k) => k.id === g.kind)?.help ?? '';

  const train = (fresh: boolean) => {
    if (!parsed.ok) return;
    const id = generatorClient.train(parsed.settings, fresh);
    setRefused(id === 0);
    if (id > 0) beginGeneratorRequest(id, fresh ? 'train-fresh' : 'train-continue', parsed.settings.steps);
  };
  const load = (id: string) => {
    const requestId = generatorClient.load(id);
    setRefused(requestId === 0);
    if (requestId > 0) beginGeneratorRequest(requestId, 'load');
  };
  const cancel = () => {
    setCancelFor(g.requestId);
    generatorClient.cancel(g.requestId);
  };

  return (
    <section className="panel eval-panel generator-panel" data-testid="generator-panel" aria-label="Generator" aria-busy={g.running}>
      <h2>Generator: make images like the dataset&apos;s</h2>
      <p className="hint">
        When real images are few, does it help a self-supervised learner to add images made by a generative model trained on those same
        images? Here a small DCGAN or VAE learns from the active dataset&apos;s training images: watch its losses, a fixed batch of its
        samples, whether they copy real images, and a sample-quality proxy. A saved generator supplies the generated images Z of the
        real + generated experiment.
      </p>
      {unfit && <p className="eval-notice" role="status" data-testid="generator-unfit">{unfit}</p>}

      <div className="eval-controls generator-controls">
        <label className="eval-field">
          <span>Model</span>
          <select data-testid="generator-kind" value={g.kind} disabled={g.running} title={help}
            onChange={(e) => setGeneratorKind(e.target.value === 'vae' ? 'vae' : 'dcgan')}>
            {GENERATOR_KINDS.map((k) => <option key={k.id} value={k.id} title={k.help}>{k.label}</option>)}
          </select>
        </label>
        {FIELD_CONTROLS.map(({ field, testId, errorTestId }) => {
          const spec = GENERATOR_FIELDS[field];
          const error = errors[field];
          return (
            <div key={field} className="generator-field">
              <label className={`eval-field${error ? ' field-invalid' : ''}`} title={spec.help}>
                <span>{spec.label}</span>
                <input
                  type="number" inputMode="numeric" min={spec.min} max={spec.max} step={1} data-testid={testId}
                  value={g.fields[field]} disabled={g.running} aria-invalid={error !== undefined}
                  aria-describedby={error ? errorTestId : undefined}
                  onChange={(e) => setGeneratorField(field, e.target.value)}
                />
              </label>
              {error && <span className="field-error" role="alert" id={errorTestId} data-testid={errorTestId}>{error}</span>}
            </div>
          );
        })}
      </div>
      <p className="eval-caption">{help}</p>

      <div className="eval-actions">
        <button type="button" className="primary" data-testid="generator-train" disabled={!canTrain} onClick={() => train(true)}>
          Train new
        </button>
        <button type="button" data-testid="generator-continue" disabled={!canContinue} title={blockContinue ?? 'Train the held generator further'}
          onClick={() => train(false)}>
          Continue
        </button>
        {g.running && !comparing && (
          <button type="button" data-testid="generator-cancel" disabled={cancelling} onClick={cancel}>
            {cancelling ? 'Cancelling…' : 'Cancel'}
          </button>
        )}
        {!g.running && comparing && (
          <span className="eval-blocker">A comparison or the generated-data experiment is using the training worker: train a generator when it has finished.</span>
        )}
        {!g.running && !comparing && datasetLoading && dataset && <span className="eval-blocker">Waiting for the dataset to load…</span>}
      </div>
      {g.current && blockContinue && !g.running && <p className="hint">{blockContinue}</p>}
      {refused && <p className="eval-notice" role="alert" data-testid="generator-refused">{REFUSED}</p>}
      {g.running && <GeneratorProgress experiment={comparing && experiment?.phase === 'generator'} />}
      <GeneratorMessages error={g.error} errorKind={g.errorKind} saveError={g.saveError} cancelled={g.cancelled && !g.running} />
      <HeldGenerator />

      <GeneratorLossChart />
      <GeneratorGrids />
      <GeneratorNeighboursView />
      <GeneratorQualityChart />

      <SavedGenerators
        datasetId={datasetId} datasetName={dataset?.name} disabled={busy || dataset === null} deleteDisabled={g.running || comparing} onLoad={load}
      />
    </section>
  );
}

/** "Step x of y" while a request runs (its own component: it repaints at every step, the panel does not). */
function GeneratorProgress({ experiment }: { experiment: boolean }) {
  const { lastStep, requestKind, target } = useGeneratorStore(useShallow((s) => ({
    lastStep: s.steps[s.steps.length - 1]?.step, requestKind: s.requestKind, target: s.target,
  })));
  const fraction = progressFraction(lastStep, target);
  return (
    <div className="eval-progress" data-testid="generator-progress" data-value={lastStep ?? ''} role="status">
      {fraction !== null && <progress value={fraction} max={1} />}
      <span>
        {progressText(requestKind, lastStep, target)}
        {experiment ? '. The generated-data experiment is training this generator; cancel it in the experiment’s panel.' : '. Encoder training waits until this finishes.'}
      </span>
    </div>
  );
}

function GeneratorMessages({ error, errorKind, saveError, cancelled }: {
  error: string | null; errorKind: 'request' | 'storage' | null; saveError: string | null; cancelled: boolean;
}) {
  const lastStep = useGeneratorStore((s) => s.steps[s.steps.length - 1]?.step);
  return (
    <>
      {error && (
        <p className="eval-error" role="alert" data-testid="generator-error">
          <strong>{errorKind === 'storage' ? 'Saved generators:' : 'The generator stopped:'}</strong> {error}
        </p>
      )}
      {saveError && (
        <p className="eval-error" role="alert" data-testid="generator-save-error">
          <strong>The generator was trained but not saved:</strong> {saveError} It stays usable until the page is reloaded.
        </p>
      )}
      {cancelled && (
        <p className="eval-notice" role="status" data-testid="generator-cancelled">
          Cancelled{lastStep !== undefined ? ` at step ${lastStep}` : ''}. What it learnt is kept: Continue goes on from there.
        </p>
      )}
    </>
  );
}

/** The generator the worker holds now, in one line. */
function HeldGenerator() {
  const current = useGeneratorStore((s) => s.current);
  if (!current) return null;
  return (
    <p className="eval-source" data-testid="generator-current" data-kind={current.kind} data-steps={current.config.stepsTrained}>
      Held now: a {KIND_LABEL[current.kind]} trained {current.config.stepsTrained.toLocaleString()} steps on <strong>{current.datasetName}</strong>
      {current.config.budget ? ` (${current.config.budget.count.toLocaleString()} of its real training images)` : ''}
      {current.savedId ? ', saved in this browser.' : ', not saved.'}
    </p>
  );
}

const valueTooltip = <Tooltip formatter={(v) => (typeof v === 'number' ? v.toFixed(4) : String(v))} labelFormatter={(s) => `step ${s}`} />;

/** The step axis of both charts: 0 to a nice number past the last step and the step the training aims for. */
function stepXAxis(end: number) {
  const ticks = stepTicks(0, end);
  return <XAxis {...xAxisLayout('generator step')} dataKey="step" type="number" domain={[0, end]} ticks={ticks} tickFormatter={tickFormatter(ticks)} />;
}

function GeneratorLossChart() {
  const steps = useThrottled(useGeneratorStore((s) => s.steps), REDRAW_MS, LOSS_PHASE_MS);
  const menuKind = useGeneratorStore((s) => s.kind);
  const loaded = useGeneratorStore((s) => s.requestKind === 'load');
  const targetStep = useGeneratorStore((s) => (s.running ? s.target?.to : undefined));
  // the kind of the steps drawn; before any, the kind Train new would train
  const kind = steps[steps.length - 1]?.kind ?? menuKind;
  return <LossFigure steps={steps} kind={kind} targetStep={targetStep} loaded={loaded} />;
}

const LOSS_CAPTION: Record<GeneratorKind, string> = {
  dcgan:
    'D learns to tell real images from G’s; G learns to fool D (non-saturating loss). Neither loss falls to 0 when training goes well: ' +
    'they balance. D(x) and D(G(z)) (dashed, right axis) near 1 and 0 for long means D wins and G learns little; both near ½ is the balance.',
  vae:
    '−ELBO = reconstruction + KL, per image, in nats: reconstruction is how well the decoder redraws an image from its z; KL is how far ' +
    'the encoder’s q(z|x) strays from the prior N(0, I) that samples are drawn from.',
};

const LossFigure = memo(function LossFigure({ steps, kind, targetStep, loaded }: {
  steps: GeneratorStepMetrics[]; kind: GeneratorKind; targetStep?: number; loaded: boolean;
}) {
  const rows = useMemo(() => lossChartRows(steps, kind), [steps, kind]);
  const axis = useMemo(() => lossAxis(rows, kind), [rows, kind]);
  const end = stepAxisEnd(rows[rows.length - 1]?.step, targetStep);
  const series = LOSS_SERIES[kind];
  const scores = series.some((s) => s.axis === 'score');
  const leftWidth = axis.width + titleBand();
  return (
    <figure className="chart generator-chart" data-testid="generator-loss-chart" data-kind={kind} data-points={steps.length}>
      <figcaption>
        <h3>{kind === 'dcgan' ? 'DCGAN: losses of D and G' : 'VAE: the ELBO’s terms'}</h3>
        <p>{LOSS_CAPTION[kind]}{axis.log ? ' Log scale: the terms differ by orders of magnitude.' : ''}</p>
      </figcaption>
      <ChartPlot
        empty={rows.length === 0 && (loaded
          ? 'A saved generator keeps no loss history: press Continue to train it further, and its losses appear here.'
          : `The ${kind === 'dcgan' ? 'losses of D and G' : 'ELBO’s terms'} appear here after the first generator step. Press Train new.`)}
        axisLeft={leftWidth} below={BELOW_PLOT_WITH_LEGEND}
      >
        <ResponsiveContainer width="100%" height={260}>
          <LineChart data={rows.length ? rows : [...EMPTY_ROWS]} margin={{ top: 8, right: scores ? 4 : 16, bottom: 8, left: 0 }}>
            {/* the grid follows the loss axis (recharts' default axis id 0 is not drawn here) */}
            <CartesianGrid yAxisId="loss" strokeDasharray="3 3" stroke="#e2e8f0" />
            {stepXAxis(end)}
            <YAxis
              yAxisId="loss" scale={axis.log ? 'log' : 'linear'} domain={axis.domain} ticks={axis.ticks} allowDataOverflow tickFormatter={axis.format}
              width={leftWidth} tick={AXIS_TICK} label={yAxisTitle(kind === 'dcgan' ? 'loss (nats)' : 'nats per image')}
            />
            {scores && (
              <YAxis
                yAxisId="score" orientation="right" domain={SCORE_AXIS.domain} ticks={SCORE_AXIS.ticks} tickFormatter={SCORE_AXIS.format}
                width={SCORE_AXIS.width} tick={AXIS_TICK} label={{ ...yAxisTitle('D’s mean output'), angle: 90, position: 'insideRight' }}
              />
            )}
            {valueTooltip}
            <Legend {...LEGEND_PROPS} />
            {series.map((s) => (
              <Line
                key={s.key} yAxisId={s.axis} type="monotone" dataKey={s.key} name={s.name} stroke={s.color} strokeWidth={2}
                strokeDasharray={s.dashed ? '5 3' : undefined} dot={false} isAnimationActive={false}
              />
            ))}
          </LineChart>
        </ResponsiveContainer>
      </ChartPlot>
    </figure>
  );
});

/** A whole sample grid on one canvas, scaled up without smoothing. */
function MosaicCanvas({ samples, px, label, role }: { samples: GeneratorSamples; px: number; label: string; role: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const picture = useMemo(() => mosaic(samples), [samples]);
  useEffect(() => {
    const ctx = canvas.current?.getContext('2d');
    if (!ctx || picture.width < 1 || picture.height < 1) return;
    const image = ctx.createImageData(picture.width, picture.height);
    image.data.set(picture.data);
    ctx.putImageData(image, 0, 0);
  }, [picture]);
  return (
    <canvas
      ref={canvas} className="pixel-canvas generator-mosaic" width={Math.max(1, picture.width)} height={Math.max(1, picture.height)}
      role="img" aria-label={label} data-role={role} style={{ width: px }}
    />
  );
}

/** The fixed-noise grid now, and smaller beside it the one before: the same z each time, so what changes is the model. */
function GeneratorGrids() {
  const { samples, previous } = useGeneratorStore(useShallow((s) => ({ samples: s.samples, previous: s.previousSamples })));
  return (
    <section className="generator-section" aria-label="Samples from fixed noise">
      <h3>Samples from a fixed batch of noise</h3>
      {samples ? (
        <div className="generator-grids">
          <figure className="generator-grid" data-testid="generator-grid" data-step={samples.step} data-count={samples.count}>
            <div className="generator-generated">
              <span className="generator-badge">generated</span>
              <MosaicCanvas samples={samples} px={GRID_PX} label={`${samples.count} generated images at step ${samples.step}`} role="generated-grid" />
            </div>
            <figcaption>Step {samples.step.toLocaleString()}: G(z) for the same {samples.count} noise vectors z every time</figcaption>
          </figure>
          {previous && (
            <figure className="generator-grid generator-grid-previous" data-testid="generator-grid-previous" data-step={previous.step}>
              <div className="generator-generated">
                <span className="generator-badge">generated</span>
                <MosaicCanvas samples={previous} px={PREVIOUS_GRID_PX} label={`the same ${previous.count} generated images at step ${previous.step}`} role="generated-grid-previous" />
              </div>
              <figcaption>Before: step {previous.step.toLocaleString()}</figcaption>
            </figure>
          )}
        </div>
      ) : (
        <p className="hint">The generator&apos;s samples appear here a few times during training, always from the same noise vectors, so you see the model change rather than the noise.</p>
      )}
    </section>
  );
}

function GeneratorNeighboursView() {
  const result = useGeneratorStore((s) => s.neighbours);
  if (!result) return null;
  return <NeighboursFigure result={result} />;
}

/** Each shown sample beside its k nearest real training images by pixels: a generator that copies shows neighbours at distance ≈ 0. */
const NeighboursFigure = memo(function NeighboursFigure({ result }: { result: GeneratorNeighbours }) {
  const rows = useMemo(() => neighbourRows(result), [result]);
  const closest = closestDistance(rows);
  return (
    <section className="generator-section" data-testid="generator-neighbours" data-step={result.step} data-closest={closest ?? ''} aria-label="Nearest real images of the samples">
      <h3>Does it copy? Samples and their nearest real images</h3>
      <p className="eval-caption">
        Each generated sample (left, marked) beside its {result.k} nearest training images by pixels, with the root-mean-square pixel
        difference (pixels from 0 to 1). A copy of a training image would sit at distance ≈ 0 and look the same; new images sit further off.
        Step {result.step.toLocaleString()}.
      </p>
      <ol className="generator-neighbour-rows">
        {rows.map((row) => (
          <li key={row.sample} className="generator-neighbour-row" data-sample={row.sample}>
            <figure className="generator-neighbour generator-generated">
              <span className="generator-badge">generated</span>
              <PixelCanvas
                batch={result.images} index={row.imageIndex} size={result.imageSize} channels={result.channels}
                label={`generated sample ${row.sample + 1}`} role="generated" px={NEIGHBOUR_PX}
              />
              <figcaption>sample {row.sample + 1}</figcaption>
            </figure>
            {row.neighbours.map((n) => (
              <figure key={n.imageIndex} className="generator-neighbour" data-value={n.distance}>
                <PixelCanvas
                  batch={result.images} index={n.imageIndex} size={result.imageSize} channels={result.channels}
                  label={`real training image #${n.trainIndex}, ${distanceText(n.distance)}`} role="real-neighbour" px={NEIGHBOUR_PX}
                />
                <figcaption>{distanceText(n.distance)}</figcaption>
              </figure>
            ))}
          </li>
        ))}
      </ol>
    </section>
  );
});

function GeneratorQualityChart() {
  const quality = useThrottled(useGeneratorStore((s) => s.quality), REDRAW_MS, QUALITY_PHASE_MS);
  const targetStep = useGeneratorStore((s) => (s.running ? s.target?.to : undefined));
  return <QualityFigure points={quality} targetStep={targetStep} />;
}

const QualityFigure = memo(function QualityFigure({ points, targetStep }: { points: GeneratorQualityPoint[]; targetStep?: number }) {
  const rows = useMemo(() => qualityChartRows(points), [points]);
  const fdAxis = useMemo(() => frechetAxis(rows), [rows]);
  const latest = points[points.length - 1];
  const end = stepAxisEnd(rows[rows.length - 1]?.step, targetStep);
  const fdWidth = fdAxis.width + titleBand();
  const data: ChartRow[] = rows.length ? rows : [...EMPTY_ROWS];
  const empty = rows.length === 0 && 'Measured a few times during training and at its end.';
  return (
    <figure className="chart generator-chart" data-testid="generator-quality-chart" data-points={points.length}>
      <figcaption>
        <h3>Sample quality</h3>
        <p>
          Fréchet distance: how far apart Gaussians fitted to the features of real and of generated images are (lower is closer).
          Precision: the share of samples that fall among the real images; recall: the share of real images the samples cover
          (k-NN balls, Kynkäänniemi et al. 2019).{' '}
          {latest
            ? <>Features: {latest.features}; {latest.generatedCount} samples against {latest.realCount} held-out real test images, k = {latest.k}.</>
            : 'Features: those of a fixed random-init encoder, for samples and for held-out real test images.'}{' '}
          This is a proxy (“{FRECHET_PROXY_NAME}”), not ImageNet FID, which uses an Inception network trained on ImageNet: compare
          its numbers with each other, not with papers.
        </p>
      </figcaption>
      <div className="metrics generator-metrics">
        <div className="metric">
          <span className="metric-label">Fréchet distance</span>
          <span className="metric-value" data-testid="generator-fd" data-value={latest?.frechet ?? ''}>{fixed(latest?.frechet, 2)}</span>
        </div>
        <div className="metric">
          <span className="metric-label">Precision</span>
          <span className="metric-value" data-testid="generator-precision" data-value={latest?.precision ?? ''}>{percent(latest?.precision)}</span>
        </div>
        <div className="metric">
          <span className="metric-label">Recall</span>
          <span className="metric-value" data-testid="generator-recall" data-value={latest?.recall ?? ''}>{percent(latest?.recall)}</span>
        </div>
      </div>
      <div className="generator-quality-charts">
        <ChartPlot empty={empty} axisLeft={fdWidth} below={BELOW_PLOT_WITH_LEGEND}>
          <ResponsiveContainer width="100%" height={220}>
            <LineChart data={data} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
              <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
              {stepXAxis(end)}
              <YAxis
                scale={fdAxis.log ? 'log' : 'linear'} domain={fdAxis.domain} ticks={fdAxis.ticks} allowDataOverflow tickFormatter={fdAxis.format}
                width={fdWidth} tick={AXIS_TICK} label={yAxisTitle('Fréchet distance')}
              />
              {valueTooltip}
              <Legend {...LEGEND_PROPS} />
              <Line type="linear" dataKey="frechet" name="Fréchet distance (proxy)" stroke="#0f172a" strokeWidth={2} dot isAnimationActive={false} />
            </LineChart>
          </ResponsiveContainer>
        </ChartPlot>
        <ChartPlot empty={empty} axisLeft={FRACTION_AXIS.width} below={BELOW_PLOT_WITH_LEGEND}>
          <ResponsiveContainer width="100%" height={220}>
            <LineChart data={data} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
              <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
              {stepXAxis(end)}
              <YAxis
                domain={FRACTION_AXIS.domain} ticks={FRACTION_AXIS.ticks} tickFormatter={FRACTION_AXIS.format} width={FRACTION_AXIS.width}
                tick={AXIS_TICK} label={yAxisTitle('fraction')}
              />
              {valueTooltip}
              <Legend {...LEGEND_PROPS} />
              <Line type="linear" dataKey="precision" name="precision (samples among real)" stroke="#2563eb" strokeWidth={2} dot isAnimationActive={false} />
              <Line type="linear" dataKey="recall" name="recall (real covered by samples)" stroke="#ea580c" strokeWidth={2} dot isAnimationActive={false} />
            </LineChart>
          </ResponsiveContainer>
        </ChartPlot>
      </div>
    </figure>
  );
});

/** The generators saved for the active dataset: load one into the worker, or delete it; broken ones with why. */
function SavedGenerators({ datasetId, datasetName, disabled, deleteDisabled, onLoad }: {
  datasetId: string | undefined; datasetName: string | undefined; disabled: boolean; deleteDisabled: boolean; onLoad: (id: string) => void;
}) {
  const { saved, broken, listedFor, heldId } = useGeneratorStore(useShallow((s) => ({
    saved: s.saved, broken: s.broken, listedFor: s.savedDatasetId, heldId: s.current?.savedId ?? null,
  })));
  // the list of another dataset (a refresh in flight) is not shown as this one's
  const shown = listedFor !== null && (datasetId === undefined || listedFor === datasetId);
  const name = datasetName ?? listedFor ?? '';
  const remove = (info: StoredGeneratorInfo) => {
    const what = `the saved ${KIND_LABEL[info.kind]} generator (${info.config.stepsTrained} steps, ${dateText(info.createdAt)})`;
    if (window.confirm(`Delete ${what} from this browser? Experiments can no longer reuse it.`)) void deleteSavedGenerator(info.id);
  };
  return (
    <section className="generator-section" data-testid="generator-saved" data-count={shown ? saved.length : 0} aria-label="Saved generators">
      <h3>Saved generators{name ? ` for “${name}”` : ''}</h3>
      {!shown || (saved.length === 0 && broken.length === 0) ? (
        <p className="hint" data-testid="generator-saved-empty">
          {datasetId === undefined && listedFor === null
            ? 'The generators saved for a dataset are listed here once it has loaded.'
            : 'None saved for this dataset yet. Press Train new: the generator is saved in this browser when its training ends, and can then be loaded here or used by the generated-data experiment.'}
        </p>
      ) : (
        <table className="eval-table generator-saved-table">
          <thead>
            <tr>
              <th scope="col">Model</th>
              <th scope="col">Steps</th>
              <th scope="col">Saved</th>
              <th scope="col">Fréchet distance</th>
              <th scope="col">Settings</th>
              <th scope="col"><span className="visually-hidden">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            {saved.map((info) => {
              const q = storedQuality(info.quality);
              return (
                <tr key={info.id} data-testid="generator-saved-row" data-id={info.id} data-kind={info.kind}>
                  <th scope="row">
                    {KIND_LABEL[info.kind]}
                    {heldId === info.id && <span className="eval-tag">held now</span>}
                  </th>
                  <td>{info.config.stepsTrained.toLocaleString()}</td>
                  <td>{dateText(info.createdAt)}</td>
                  <td data-value={q.frechet ?? ''}>{q.frechet === undefined ? '—' : fixed(q.frechet, 2)}</td>
                  <td className="generator-settings-cell">{savedSettingsText(info)}</td>
                  <td className="generator-row-actions">
                    <button type="button" data-testid="generator-load" disabled={disabled} onClick={() => onLoad(info.id)}>Load</button>
                    <button type="button" className="link-button" data-testid="generator-delete" disabled={deleteDisabled} onClick={() => remove(info)}>Delete</button>
                  </td>
                </tr>
              );
            })}
            {broken.map((b) => (
              <tr key={b.id} data-testid="generator-broken-row" data-id={b.id} className="generator-broken">
                <td colSpan={5}>{brokenText(b)}</td>
                <td className="generator-row-actions">
                  <button type="button" className="link-button" data-testid="generator-delete" disabled={deleteDisabled}
                    onClick={() => { if (window.confirm('Delete this stored generator, which cannot be used, from this browser?')) void deleteSavedGenerator(b.id); }}>
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
