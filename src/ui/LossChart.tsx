import { memo, useMemo } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { StepMetrics } from '../train/protocol';
import { useRunStore } from '../state/runStore';
import { downsample } from './format';
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

const stepAxis = (
  <XAxis dataKey="step" type="number" domain={['dataMin', 'dataMax']} allowDecimals={false} label={{ value: 'step', position: 'insideBottomRight', offset: -4 }} />
);
const valueTooltip = <Tooltip formatter={(v) => (typeof v === 'number' ? v.toFixed(4) : String(v))} labelFormatter={(s) => `step ${s}`} />;

/** NT-Xent loss against step. */
export function LossChart() {
  const steps = useThrottled(useRunStore((s) => s.steps), REDRAW_MS, LOSS_PHASE_MS);
  return <LossFigure steps={steps} />;
}

/** Mean positive and negative cosine similarity against step. */
export function SimilarityChart() {
  const steps = useThrottled(useRunStore((s) => s.steps), REDRAW_MS, SIMILARITY_PHASE_MS);
  return <SimilarityFigure steps={steps} />;
}

const LossFigure = memo(function LossFigure({ steps }: { steps: StepMetrics[] }) {
  const data = useMemo(() => downsample(steps, MAX_POINTS).map((m) => ({ step: m.step, loss: m.loss })), [steps]);
  return (
    <figure className="panel chart" data-testid="chart-loss" data-points={steps.length}>
      <figcaption>
        <h2>NT-Xent loss</h2>
        <p>The loss should fall from about log(2N − 1), the loss of a random guess among the 2N − 1 candidates.</p>
      </figcaption>
      <ResponsiveContainer width="100%" height={240}>
        <LineChart data={data} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
          {stepAxis}
          <YAxis domain={['auto', 'auto']} tickFormatter={(v: number) => v.toFixed(2)} width={48} />
          {valueTooltip}
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
          {stepAxis}
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
