import { memo, useMemo } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { StepMetrics } from '../train/protocol';
import { useRunStore } from '../state/runStore';
import { downsample } from './format';
import { useThrottled } from './useThrottled';

const MAX_POINTS = 300;
/** The chart redraws at most this often; the metrics bar above it shows every step. */
const REDRAW_MS = 500;

/** NT-Xent loss (left axis) with the positive and negative cosine similarities (right axis) against step. */
export function LossChart() {
  const steps = useThrottled(useRunStore((s) => s.steps), REDRAW_MS);
  return <LossChartFigure steps={steps} />;
}

const LossChartFigure = memo(function LossChartFigure({ steps }: { steps: StepMetrics[] }) {
  const data = useMemo(
    () =>
      downsample(steps, MAX_POINTS).map((m) => ({
        step: m.step,
        loss: m.loss,
        positive: m.positiveSimilarity,
        negative: m.negativeSimilarity,
      })),
    [steps],
  );
  return (
    <figure className="panel chart" data-testid="chart-loss" data-points={steps.length}>
      <figcaption>
        <h2>NT-Xent loss and pair similarities</h2>
        <p>The loss should fall while positives (two views of one image) pull together and negatives spread apart.</p>
      </figcaption>
      <ResponsiveContainer width="100%" height={280}>
        <LineChart data={data} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
          <XAxis dataKey="step" type="number" domain={['dataMin', 'dataMax']} allowDecimals={false} label={{ value: 'step', position: 'insideBottomRight', offset: -4 }} />
          <YAxis yAxisId="loss" domain={['auto', 'auto']} tickFormatter={(v: number) => v.toFixed(2)} width={48} />
          <YAxis yAxisId="sim" orientation="right" domain={[-1, 1]} tickFormatter={(v: number) => v.toFixed(1)} width={36} />
          <Tooltip formatter={(v) => (typeof v === 'number' ? v.toFixed(4) : String(v))} labelFormatter={(s) => `step ${s}`} />
          <Legend />
          <Line yAxisId="loss" type="monotone" dataKey="loss" name="loss" stroke="#0f172a" dot={false} isAnimationActive={false} strokeWidth={2} />
          <Line yAxisId="sim" type="monotone" dataKey="positive" name="positive cos sim" stroke="#16a34a" dot={false} isAnimationActive={false} />
          <Line yAxisId="sim" type="monotone" dataKey="negative" name="negative cos sim" stroke="#dc2626" dot={false} isAnimationActive={false} />
        </LineChart>
      </ResponsiveContainer>
    </figure>
  );
});
