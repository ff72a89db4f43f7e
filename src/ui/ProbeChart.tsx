import { memo } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { useShallow } from 'zustand/react/shallow';
import type { RunState } from '../state/runStore';
import { useRunStore } from '../state/runStore';
import { niceCeil, percent } from './format';
import { useThrottled } from './useThrottled';

/** Redrawn at most once a second, on its own slot (see useThrottled), a quarter second after the loss chart's. */
const REDRAW_MS = 1000;
const PROBE_PHASE_MS = 250;

const probeInputs = (s: RunState) => ({
  probes: s.probes,
  baseline: s.randomInitBaseline,
  pixels: s.rawPixelBaseline,
  // the step axis grows as the loss chart's does (niceCeil), so the chart repaints when a probe lands or the axis moves, not at every step
  stepAxisEnd: niceCeil(Math.max(10, s.steps[s.steps.length - 1]?.step ?? 0)),
  dataset: s.dataset,
});

/** Linear-probe test accuracy against step, with the random-init encoder and raw pixels as reference lines. */
export function ProbeChart() {
  const inputs = useThrottled(useRunStore(useShallow(probeInputs)), REDRAW_MS, PROBE_PHASE_MS);
  return <ProbeFigure {...inputs} />;
}

const ProbeFigure = memo(function ProbeFigure({ probes, baseline, pixels, stepAxisEnd, dataset }: ReturnType<typeof probeInputs>) {
  const probeUnavailable = dataset && (!dataset.labelled || dataset.testCount === 0)
    ? !dataset.labelled
      ? 'This dataset has no labels (no class folders), so there is nothing for a linear probe to predict. Training still works.'
      : 'This dataset has no test images (every class has a single image), so the probe cannot be measured.'
    : null;
  const data = probes.map((p) => ({ step: p.step, accuracy: p.testAccuracy }));
  const values = [...probes.map((p) => p.testAccuracy), baseline?.testAccuracy, pixels?.testAccuracy].filter((v): v is number => v !== undefined);
  const low = values.length ? Math.max(0, Math.floor((Math.min(...values) - 0.05) * 20) / 20) : 0;
  return (
    <figure className="panel chart" data-testid="chart-probe" data-points={probes.length}>
      <figcaption>
        <h2>Linear-probe accuracy</h2>
        <p>
          A logistic regression on the frozen h. The dashed lines are the same probe on an untrained encoder
          ({percent(baseline?.testAccuracy)}) and on raw pixels ({percent(pixels?.testAccuracy)}): on easy data a random
          encoder is already a strong baseline, and SimCLR has to beat it.
        </p>
      </figcaption>
      {probeUnavailable && <p className="probe-unavailable" role="status" data-testid="probe-unavailable-reason">{probeUnavailable}</p>}
      <ResponsiveContainer width="100%" height={280}>
        <LineChart data={data} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
          <XAxis dataKey="step" type="number" domain={[0, stepAxisEnd]} allowDecimals={false} label={{ value: 'step', position: 'insideBottomRight', offset: -4 }} />
          <YAxis domain={[low, 1]} tickFormatter={(v: number) => `${Math.round(v * 100)}%`} width={48} />
          <Tooltip formatter={(v) => (typeof v === 'number' ? percent(v) : String(v))} labelFormatter={(s) => `step ${s}`} />
          <Legend />
          {baseline && (
            <ReferenceLine y={baseline.testAccuracy} stroke="#9333ea" strokeDasharray="6 4" label={{ value: `random-init encoder ${percent(baseline.testAccuracy)}`, position: 'insideBottomLeft', fill: '#9333ea', fontSize: 12 }} />
          )}
          {pixels && (
            <ReferenceLine y={pixels.testAccuracy} stroke="#64748b" strokeDasharray="2 4" label={{ value: `raw pixels ${percent(pixels.testAccuracy)}`, position: 'insideTopLeft', fill: '#64748b', fontSize: 12 }} />
          )}
          <Line type="monotone" dataKey="accuracy" name="SimCLR encoder" stroke="#2563eb" strokeWidth={2} isAnimationActive={false} dot />
        </LineChart>
      </ResponsiveContainer>
    </figure>
  );
});
