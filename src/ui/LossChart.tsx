import { memo, useMemo } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { StepMetrics } from '../train/protocol';
import { lossReference, METHOD_CATALOG, type MethodId } from '../core/methods';
import { useConfigStore } from '../state/configStore';
import { useRunStore } from '../state/runStore';
import {
  AXIS_TICK, BELOW_PLOT, BELOW_PLOT_WITH_LEGEND, EMPTY_ROWS, LEGEND_PROPS, linearYAxis, stepTicks, tickFormatter, xAxisLayout,
} from './chartAxis';
import { ChartPlot } from './ChartPlot';
import { ChartPng } from './ChartPng';
import { downsample, niceCeil, steadyDomain, unitTicks } from './format';
import { useThrottled } from './useThrottled';

const MAX_POINTS = 300;
/**
 * Each chart redraws at most once a second (the metrics bar above shows every
 * step), the similarity chart half a second after the loss chart: a redraw of
 * one recharts chart is one main-thread task of its own, never two at once.
 */
const REDRAW_MS = 1000;
const LOSS_PHASE_MS = 0;
const SIMILARITY_PHASE_MS = 500;

/** Loss axis ends are multiples of this (see steadyDomain). */
const LOSS_AXIS_UNIT = 0.25;
/** The similarity axis: cosines, always −1 to 1. */
const SIMILARITY_AXIS = linearYAxis([-1, -0.5, 0, 0.5, 1]);

/**
 * The step axis runs from 0 to a nice number past the last step (niceCeil), so
 * it moves a few times per decade instead of at every redraw; before the first
 * step it already stands at 0–10, so the page shows what will be drawn and the
 * first redraw while training updates a mounted chart instead of building one
 * (about 30 against 75 ms of main-thread work on an idle core here).
 */
const stepAxis = (steps: readonly StepMetrics[]) => {
  const end = niceCeil(Math.max(10, steps[steps.length - 1]?.step ?? 0));
  const ticks = stepTicks(0, end);
  return <XAxis {...xAxisLayout('step')} dataKey="step" type="number" domain={[0, end]} ticks={ticks} tickFormatter={tickFormatter(ticks)} />;
};
const valueTooltip = <Tooltip formatter={(v) => (typeof v === 'number' ? v.toFixed(4) : String(v))} labelFormatter={(s) => `step ${s}`} />;

/** The method's loss against step, with its reference line (SimCLR: the uniform guess log(2N − 1)). */
export function LossChart() {
  const steps = useThrottled(useRunStore((s) => s.steps), REDRAW_MS, LOSS_PHASE_MS);
  const config = useConfigStore((s) => s.config);
  const applied = useRunStore((s) => s.appliedConfig);
  const trainCount = useRunStore((s) => s.dataset?.trainCount ?? 0);
  // the method the encoder was built with; its N, K and d as they are now (N and K may change between resets)
  const method = applied?.method ?? config.method;
  const reference = lossReference(method, config, trainCount);
  const restarts = useRunStore((s) => s.restarts);
  return <LossFigure steps={steps} method={method} referenceValue={reference?.value} referenceLabel={reference?.label} restarts={restarts} />;
}

/** Mean positive and negative cosine similarity against step (methods that report them). */
export function SimilarityChart() {
  const steps = useThrottled(useRunStore((s) => s.steps), REDRAW_MS, SIMILARITY_PHASE_MS);
  const method = useRunStore((s) => s.appliedConfig?.method ?? 'simclr');
  const keys = METHOD_CATALOG[method].metrics.map((m) => m.key);
  if (!keys.includes('positiveSimilarity')) return null;
  return <SimilarityFigure steps={steps} />;
}

/** What the reference line means, for the caption. */
const REFERENCE_CAPTION: Partial<Record<MethodId, string>> = {
  simclr: 'the loss of an encoder that cannot tell the 2N − 1 candidates apart: a fresh encoder starts near it, and learning shows as the loss falling below it.',
  moco: 'the loss of a query that cannot tell its key from the K keys in the queue. The queue starts as random vectors, easy to tell apart, so the loss climbs towards this line while real keys fill the queue, then falls as queries learn to find their keys.',
  'memory-bank': 'the loss of a feature equally similar to every one of the n bank entries: training starts near it.',
  byol: 'the loss when prediction and target are unrelated (cosine 0). A loss near 0 with the collapse meter near 0 means every image gives the same output.',
  simsiam: 'the floor, where prediction and target agree exactly; a run that collapses reaches it too, so read it with the collapse meter.',
  'barlow-twins': 'the on-diagonal term of an untrained encoder, whose cross-correlation C is near 0: learning pushes C towards the identity.',
};

const LossFigure = memo(function LossFigure({ steps, method, referenceValue, referenceLabel, restarts }: {
  steps: StepMetrics[]; method: MethodId; referenceValue?: number; referenceLabel?: string; restarts: { step: number; reason: string }[];
}) {
  const data = useMemo(() => downsample(steps, MAX_POINTS).map((m) => ({ step: m.step, loss: m.loss })), [steps]);
  const entry = METHOD_CATALOG[method];
  const lossDomain = useMemo(() => {
    const finite = data.map((d) => d.loss).filter(Number.isFinite);
    const ends = referenceValue === undefined ? finite : [referenceValue, ...finite];
    if (ends.length === 0) return steadyDomain(0, 1, LOSS_AXIS_UNIT);
    return steadyDomain(Math.min(...ends), Math.max(...ends), LOSS_AXIS_UNIT);
  }, [data, referenceValue]);
  // labels as wide as they come (140.00 needs more room than 4.00)
  const yAxis = useMemo(() => linearYAxis(unitTicks(lossDomain, LOSS_AXIS_UNIT)), [lossDomain]);
  return (
    <figure className="panel chart" data-testid="chart-loss" data-points={steps.length} data-restarts={restarts.map((r) => r.step).join(' ')}>
      <figcaption>
        <h2>{entry.label}: {entry.lossName} <ChartPng title={`${entry.label}: ${entry.lossName}`} fileName={`${method}-loss.png`} testId="chart-loss-png" /></h2>
        {referenceValue !== undefined && (
          <p>The dashed line, {referenceLabel}, is {METHOD_CATALOG[method].reference?.caption ?? REFERENCE_CAPTION[method]}</p>
        )}
        {restarts.length > 0 && (
          <p>Red lines: a new encoder took over from the lost one ({restarts.map((r) => `step ${r.step}, ${r.reason}`).join('; ')}); the loss starts again from an untrained network there.</p>
        )}
      </figcaption>
      <ChartPlot empty={steps.length === 0 && <>The {entry.lossName} appears here after the first step. Press Train or Step.</>} axisLeft={yAxis.width} below={BELOW_PLOT}>
        <ResponsiveContainer width="100%" height={240}>
          <LineChart data={data.length ? data : EMPTY_ROWS} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
            {stepAxis(steps)}
            <YAxis domain={lossDomain} ticks={yAxis.ticks} allowDataOverflow tickFormatter={yAxis.format} width={yAxis.width} tick={AXIS_TICK} />
            {valueTooltip}
            {referenceValue !== undefined && (
              <ReferenceLine y={referenceValue} stroke="#94a3b8" strokeDasharray="6 4" label={{ value: referenceLabel ?? '', position: 'insideTopRight', fill: '#64748b', fontSize: 12 }} />
            )}
            {restarts.map((r) => <ReferenceLine key={r.step} x={r.step} stroke="#dc2626" strokeDasharray="3 3" />)}
            <Line type="monotone" dataKey="loss" name="loss" stroke="#0f172a" dot={false} isAnimationActive={false} strokeWidth={2} />
          </LineChart>
        </ResponsiveContainer>
      </ChartPlot>
    </figure>
  );
});

const SimilarityFigure = memo(function SimilarityFigure({ steps }: { steps: StepMetrics[] }) {
  const data = useMemo(
    () => downsample(steps, MAX_POINTS).map((m) => ({ step: m.step, positive: m.values?.positiveSimilarity, negative: m.values?.negativeSimilarity })),
    [steps],
  );
  return (
    <figure className="panel chart" data-testid="chart-similarity" data-points={steps.length}>
      <figcaption>
        <h2>Pair similarities <ChartPng title="Pair similarities" fileName="simclr-similarities.png" testId="chart-similarity-png" /></h2>
        <p>Positives (two views of one image) should pull together while negatives spread apart.</p>
      </figcaption>
      <ChartPlot
        empty={steps.length === 0 && 'The mean cosine similarity of the positive pairs and of the negative pairs appears here after the first step. Press Train or Step.'}
        axisLeft={SIMILARITY_AXIS.width} below={BELOW_PLOT_WITH_LEGEND}
      >
        <ResponsiveContainer width="100%" height={240}>
          <LineChart data={data.length ? data : EMPTY_ROWS} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
            {stepAxis(steps)}
            <YAxis domain={SIMILARITY_AXIS.domain} ticks={SIMILARITY_AXIS.ticks} tickFormatter={SIMILARITY_AXIS.format} width={SIMILARITY_AXIS.width} tick={AXIS_TICK} />
            {valueTooltip}
            <Legend {...LEGEND_PROPS} />
            <Line type="monotone" dataKey="positive" name="positive cos sim" stroke="#16a34a" dot={false} isAnimationActive={false} strokeWidth={2} />
            <Line type="monotone" dataKey="negative" name="negative cos sim" stroke="#dc2626" dot={false} isAnimationActive={false} strokeWidth={2} />
          </LineChart>
        </ResponsiveContainer>
      </ChartPlot>
    </figure>
  );
});
