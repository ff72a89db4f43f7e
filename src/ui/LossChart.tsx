import { memo, useMemo } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { StepMetrics } from '../train/protocol';
import { uniformGuessLoss } from '../core/chance';
import { useConfigStore } from '../state/configStore';
import { useRunStore } from '../state/runStore';
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

/**
 * The step axis runs from 0 to a nice number past the last step (niceCeil), so
 * it moves a few times per decade instead of at every redraw; before the first
 * step it already stands at 0–10, so the page shows what will be drawn and the
 * first redraw while training updates a mounted chart instead of building one
 * (about 30 against 75 ms of main-thread work on an idle core here).
 */
const stepAxis = (steps: readonly StepMetrics[]) => (
  <XAxis
    dataKey="step"
    type="number"
    domain={[0, niceCeil(Math.max(10, steps[steps.length - 1]?.step ?? 0))]}
    allowDecimals={false}
    label={{ value: 'step', position: 'insideBottomRight', offset: -4 }}
  />
);
const valueTooltip = <Tooltip formatter={(v) => (typeof v === 'number' ? v.toFixed(4) : String(v))} labelFormatter={(s) => `step ${s}`} />;

/** NT-Xent loss against step. */
export function LossChart() {
  const steps = useThrottled(useRunStore((s) => s.steps), REDRAW_MS, LOSS_PHASE_MS);
  const batchSize = useConfigStore((s) => s.config.batchSize);
  return <LossFigure steps={steps} batchSize={batchSize} />;
}

/** Mean positive and negative cosine similarity against step. */
export function SimilarityChart() {
  const steps = useThrottled(useRunStore((s) => s.steps), REDRAW_MS, SIMILARITY_PHASE_MS);
  return <SimilarityFigure steps={steps} />;
}

const LossFigure = memo(function LossFigure({ steps, batchSize }: { steps: StepMetrics[]; batchSize: number }) {
  const data = useMemo(() => downsample(steps, MAX_POINTS).map((m) => ({ step: m.step, loss: m.loss })), [steps]);
  const chance = uniformGuessLoss(batchSize);
  const lossDomain = useMemo(() => {
    const finite = data.map((d) => d.loss).filter(Number.isFinite);
    return steadyDomain(Math.min(chance, ...finite), Math.max(chance, ...finite), LOSS_AXIS_UNIT);
  }, [data, chance]);
  return (
    <figure className="panel chart" data-testid="chart-loss" data-points={steps.length}>
      <figcaption>
        <h2>NT-Xent loss</h2>
        <p>
          The dashed line is log(2N − 1) = {chance.toFixed(2)}, the loss of an encoder that cannot tell the 2N − 1 candidates
          apart: a fresh encoder starts near it, and learning shows as the loss falling below it.
        </p>
      </figcaption>
      <ResponsiveContainer width="100%" height={240}>
        <LineChart data={data} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
          {stepAxis(steps)}
          <YAxis domain={lossDomain} ticks={unitTicks(lossDomain, LOSS_AXIS_UNIT)} allowDataOverflow tickFormatter={(v: number) => v.toFixed(2)} width={48} />
          {valueTooltip}
          <ReferenceLine y={chance} stroke="#94a3b8" strokeDasharray="6 4" label={{ value: `log(2N − 1) = ${chance.toFixed(2)}`, position: 'insideTopRight', fill: '#64748b', fontSize: 12 }} />
          <Line type="monotone" dataKey="loss" name="loss" stroke="#0f172a" dot={false} isAnimationActive={false} strokeWidth={2} />
        </LineChart>
      </ResponsiveContainer>
    </figure>
  );
});

const SimilarityFigure = memo(function SimilarityFigure({ steps }: { steps: StepMetrics[] }) {
  const data = useMemo(
    () => downsample(steps, MAX_POINTS).map((m) => ({ step: m.step, positive: m.positiveSimilarity, negative: m.negativeSimilarity })),
    [steps],
  );
  return (
    <figure className="panel chart" data-testid="chart-similarity" data-points={steps.length}>
      <figcaption>
        <h2>Pair similarities</h2>
        <p>Positives (two views of one image) should pull together while negatives spread apart.</p>
      </figcaption>
      <ResponsiveContainer width="100%" height={240}>
        <LineChart data={data} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
          {stepAxis(steps)}
          <YAxis domain={[-1, 1]} tickFormatter={(v: number) => v.toFixed(1)} width={48} />
          {valueTooltip}
          <Legend />
          <Line type="monotone" dataKey="positive" name="positive cos sim" stroke="#16a34a" dot={false} isAnimationActive={false} strokeWidth={2} />
          <Line type="monotone" dataKey="negative" name="negative cos sim" stroke="#dc2626" dot={false} isAnimationActive={false} strokeWidth={2} />
        </LineChart>
      </ResponsiveContainer>
    </figure>
  );
});
