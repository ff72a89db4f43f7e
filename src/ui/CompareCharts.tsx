import { memo, useMemo, useRef, useState, type ReactNode } from 'react';
import {
  CartesianGrid, Line, LineChart, ReferenceDot, ResponsiveContainer, Scatter, ScatterChart, Tooltip, XAxis, YAxis, ZAxis,
} from 'recharts';
import { overlaySeries, type ComparisonRun } from '../state/comparison';
import { downloadChartPng } from './compareDownload';
import { downsample, percent, unitTicks } from './format';
import { TrajectoryPath } from './TrajectoryPath';
import { TRAJECTORY_UNIT, trajectory, trajectoryDomains } from './trajectory';

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

interface ChartFrameProps {
  testId: string;
  pngTestId: string;
  title: string;
  caption: string;
  fileName: string;
  legend: { label: string; color: string }[];
  /** runs with something drawn */
  lines: number;
  children: ReactNode;
}

/** A comparison chart's frame: title and caption, the chart, a legend naming each run, and a PNG download. */
function ChartFrame({ testId, pngTestId, title, caption, fileName, legend, lines, children }: ChartFrameProps) {
  const box = useRef<HTMLDivElement>(null);
  const [pngError, setPngError] = useState<string | null>(null);
  const savePng = () => {
    if (!box.current) return;
    setPngError(null);
    downloadChartPng(box.current, title, legend, fileName).catch((error: unknown) =>
      setPngError(`Could not save the PNG: ${error instanceof Error ? error.message : String(error)}`),
    );
  };
  return (
    <figure className="compare-chart" data-testid={testId} data-lines={lines}>
      <figcaption>
        <h3>{title}</h3>
        <p>{caption}</p>
      </figcaption>
      <div ref={box}>{children}</div>
      <ul className="compare-legend" aria-label="Runs">
        {legend.map((l, k) => (
          <li key={k}><span className="compare-swatch" style={{ background: l.color }} />{l.label}</li>
        ))}
      </ul>
      <button type="button" data-testid={pngTestId} disabled={lines === 0} onClick={savePng}>Download PNG</button>
      {pngError && <p className="field-error" role="alert">{pngError}</p>}
    </figure>
  );
}

/** Lines of several runs on one step axis, a legend naming each run, and a PNG download. */
const OverlayChart = memo(function OverlayChart({ testId, pngTestId, title, caption, fileName, series, yDomain, format, dots }: OverlayChartProps) {
  const data = useMemo(() => overlaySeries(series, MAX_POINTS), [series]);
  const legend = useMemo(() => series.map((s) => ({ label: s.label, color: s.color })), [series]);
  return (
    <ChartFrame
      testId={testId} pngTestId={pngTestId} title={title} caption={caption} fileName={fileName} legend={legend}
      lines={series.filter((s) => s.points.length > 0).length}
    >
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
    </ChartFrame>
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

/**
 * Each run's path in the alignment–uniformity plane (Wang & Isola 2020,
 * their figure of encoders trained with different settings), one curve per
 * run from ○ (its first step) to ● (its last).
 */
export function CompareTrajectoryChart({ runs }: { runs: ComparisonRun[] }) {
  const paths = useMemo(
    () => runs.map((run) => ({
      label: run.label,
      color: runColor(run.index),
      // step records carry alignment and uniformity once the worker measures them; older saved runs have none
      points: trajectory(run.steps, MAX_POINTS),
    })),
    [runs],
  );
  return <TrajectoryOverlay paths={paths} />;
}

const TrajectoryOverlay = memo(function TrajectoryOverlay({ paths }: { paths: { label: string; color: string; points: ReturnType<typeof trajectory> }[] }) {
  const legend = useMemo(() => paths.map((p) => ({ label: p.label, color: p.color })), [paths]);
  const { x, y } = useMemo(() => trajectoryDomains(paths.map((p) => p.points)), [paths]);
  const lines = paths.filter((p) => p.points.length > 0).length;
  return (
    <ChartFrame
      testId="compare-chart-trajectory" pngTestId="compare-png-trajectory" title="Alignment against uniformity per run"
      fileName="simclr-comparison-trajectory.png" legend={legend} lines={lines}
      caption={
        lines === 0
          ? 'These runs were recorded before alignment and uniformity were measured: run the comparison again to see their paths.'
          : 'Each run as a path from ○ (first step) to ● (last step). Down is better aligned, left more uniform; runs that end further down and left usually probe better.'
      }
    >
      <ResponsiveContainer width="100%" height={260}>
        <ScatterChart margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
          <XAxis dataKey="uniformity" type="number" name="uniformity" domain={x} ticks={unitTicks(x, TRAJECTORY_UNIT, 6)} allowDataOverflow tickFormatter={trajectoryFormat} label={{ value: 'uniformity', position: 'insideBottomRight', offset: -4 }} />
          <YAxis dataKey="alignment" type="number" name="alignment" domain={y} ticks={unitTicks(y, TRAJECTORY_UNIT, 6)} allowDataOverflow tickFormatter={trajectoryFormat} width={56} label={{ value: 'alignment', angle: -90, position: 'insideLeft', offset: 4, style: { textAnchor: 'middle' } }} />
          <ZAxis dataKey="step" type="number" name="step" range={[8, 8]} />
          <Tooltip formatter={(v, name) => (typeof v === 'number' && name !== 'step' ? v.toFixed(4) : String(v))} cursor={false} />
          {paths.map((p, r) => <TrajectoryPath key={`path-${r}`} points={p.points} color={p.color} />)}
          {paths.map((p, r) => (
            // a few hoverable markers per run; the path above is one element however long the run
            <Scatter key={r} data={downsample(p.points, 20)} name={p.label} fill={p.color} isAnimationActive={false} />
          ))}
          {paths.map((p, r) => p.points.length > 0 && (
            <ReferenceDot key={`start-${r}`} x={p.points[0].uniformity} y={p.points[0].alignment} r={4} fill="white" stroke={p.color} strokeWidth={2} />
          ))}
          {paths.map((p, r) => p.points.length > 1 && (
            <ReferenceDot key={`end-${r}`} x={p.points[p.points.length - 1].uniformity} y={p.points[p.points.length - 1].alignment} r={5} fill={p.color} stroke="white" />
          ))}
        </ScatterChart>
      </ResponsiveContainer>
    </ChartFrame>
  );
});

const trajectoryFormat = (v: number) => v.toFixed(1);
