import { memo, useMemo, useRef, useState } from 'react';
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { overlaySeries, type ComparisonRun } from '../state/comparison';
import { downloadChartPng } from './compareDownload';
import { percent } from './format';

/** Rows per chart at most: enough for the shape, cheap to draw. */
const MAX_POINTS = 300;

/** One colour per run, in queue order: distinct, and readable on white. */
export const RUN_COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777'];
export const runColor = (index: number): string => RUN_COLORS[index % RUN_COLORS.length];

interface Series {
  label: string;
  color: string;
  points: { step: number; value: number }[];
}

interface OverlayChartProps {
  testId: string;
  pngTestId: string;
  title: string;
  caption: string;
  fileName: string;
  series: Series[];
  /** y range: fixed, or from the data */
  yDomain: [number | 'auto', number | 'auto'];
  format: (v: number) => string;
  dots: boolean;
}

/** Lines of several runs on one step axis, a legend naming each run, and a PNG download. */
const OverlayChart = memo(function OverlayChart({ testId, pngTestId, title, caption, fileName, series, yDomain, format, dots }: OverlayChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const [pngError, setPngError] = useState<string | null>(null);
  const data = useMemo(() => overlaySeries(series, MAX_POINTS), [series]);
  const legend = useMemo(() => series.map((s) => ({ label: s.label, color: s.color })), [series]);
  const empty = series.every((s) => s.points.length === 0);
  const savePng = () => {
    if (!box.current) return;
    setPngError(null);
    downloadChartPng(box.current, title, legend, fileName).catch((error: unknown) =>
      setPngError(`Could not save the PNG: ${error instanceof Error ? error.message : String(error)}`),
    );
  };
  return (
    <figure className="compare-chart" data-testid={testId} data-lines={series.filter((s) => s.points.length > 0).length}>
      <figcaption>
        <h3>{title}</h3>
        <p>{caption}</p>
      </figcaption>
      <div ref={box}>
        <ResponsiveContainer width="100%" height={260}>
          <LineChart data={data} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
            <XAxis dataKey="step" type="number" domain={['dataMin', 'dataMax']} allowDecimals={false} label={{ value: 'step', position: 'insideBottomRight', offset: -4 }} />
            <YAxis domain={yDomain} tickFormatter={format} width={48} />
            <Tooltip formatter={(v) => (typeof v === 'number' ? format(v) : String(v))} labelFormatter={(s) => `step ${s}`} />
            {series.map((s, r) => (
              <Line
                key={r} type="linear" dataKey={`r${r}`} name={s.label} stroke={s.color} strokeWidth={2}
                dot={dots} connectNulls isAnimationActive={false}
              />
            ))}
          </LineChart>
        </ResponsiveContainer>
      </div>
      <ul className="compare-legend" aria-label="Runs">
        {legend.map((l, k) => (
          <li key={k}><span className="compare-swatch" style={{ background: l.color }} />{l.label}</li>
        ))}
      </ul>
      <button type="button" data-testid={pngTestId} disabled={empty} onClick={savePng}>Download PNG</button>
      {pngError && <p className="field-error" role="alert">{pngError}</p>}
    </figure>
  );
});

const lossFormat = (v: number) => v.toFixed(2);
const probeFormat = (v: number) => percent(v, 0);

/** The loss of each run against step, overlaid. */
export function CompareLossChart({ runs }: { runs: ComparisonRun[] }) {
  const series = useMemo(
    () => runs.map((run) => ({
      label: run.label,
      color: runColor(run.index),
      points: run.steps.map((s) => ({ step: s.step, value: s.loss })),
    })),
    [runs],
  );
  return (
    <OverlayChart
      testId="compare-chart-loss" pngTestId="compare-png-loss" title="NT-Xent loss per run" fileName="simclr-comparison-loss.png"
      caption="Each run starts from the same seed, so the lines differ only in the compared setting." series={series}
      yDomain={['auto', 'auto']} format={lossFormat} dots={false}
    />
  );
}

/** The linear-probe test accuracy of each run against step, overlaid. */
export function CompareProbeChart({ runs }: { runs: ComparisonRun[] }) {
  const series = useMemo(
    () => runs.map((run) => ({
      label: run.label,
      color: runColor(run.index),
      points: run.probes.filter((p) => p.kind === 'encoder').map((p) => ({ step: p.step, value: p.testAccuracy })),
    })),
    [runs],
  );
  return (
    <OverlayChart
      testId="compare-chart-probe" pngTestId="compare-png-probe" title="Linear-probe accuracy per run" fileName="simclr-comparison-probe.png"
      caption="Test accuracy of a logistic regression on the frozen h, at each probe and at the end of every run." series={series}
      yDomain={[0, 1]} format={probeFormat} dots
    />
  );
}
