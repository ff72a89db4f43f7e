import { memo, useMemo, useRef, useState, type ReactNode } from 'react';
import {
  CartesianGrid, Line, LineChart, ReferenceDot, ResponsiveContainer, Scatter, ScatterChart, Tooltip, XAxis, YAxis,
} from 'recharts';
import { overlaySeries, type ComparisonRun } from '../state/comparison';
import {
  AXIS_TICK, BELOW_PLOT, EMPTY_ROWS, canUseLogScale, linearYAxis, logYAxis, niceTicks, percentTickFormatter, shouldUseLogScale, tickFormatter, xAxisLayout,
  type YAxisLayout,
} from './chartAxis';
import { ChartPlot } from './ChartPlot';
import { downloadChartPng } from './compareDownload';
import { downsample, percent, unitTicks } from './format';
import { TrajectoryPath, trajectoryAxes, useTrajectoryAxes } from './TrajectoryPath';
import { trajectory } from './trajectory';

/** Rows per chart at most: enough for the shape, cheap to draw. */
const MAX_POINTS = 300;
/**
 * Above this ratio of the largest to the smallest value (an order of magnitude), the loss chart starts on a log scale
 * (shouldUseLogScale): at the smallest settings an unnormalized NT-Xent sits near 32 against 3.3 normalized, at the
 * defaults near 140 against 5, and on a linear axis the normalized run lies flat along the bottom either way.
 */
const LOG_SCALE_RATIO = 10;

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
  /** y axis: accuracies in [0, 1] (percent ticks), or the data's own range with a log-scale choice */
  yAxis: 'fraction' | 'data';
  /** tooltip values */
  format: (v: number) => string;
  dots: boolean;
  /** what the chart says while no run has a point yet */
  emptyText: string;
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
  /** shown over the chart while it is empty (nothing when falsy), clear of the y axis's `axisLeft` px */
  empty?: ReactNode;
  axisLeft?: number;
  /** controls above the chart (the log-scale choice), outside what the PNG download draws */
  controls?: ReactNode;
  /** the y scale in use, as data-scale on the figure */
  scale?: 'log' | 'linear';
  children: ReactNode;
}

/** A comparison chart's frame: title and caption, the chart, a legend naming each run, and a PNG download. */
function ChartFrame({ testId, pngTestId, title, caption, fileName, legend, lines, empty, axisLeft, controls, scale, children }: ChartFrameProps) {
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
    <figure className="compare-chart" data-testid={testId} data-lines={lines} data-scale={scale}>
      <figcaption>
        <h3>{title}</h3>
        <p>{caption}</p>
      </figcaption>
      {controls}
      <ChartPlot empty={empty} axisLeft={axisLeft} below={BELOW_PLOT}>
        <div ref={box}>{children}</div>
      </ChartPlot>
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
const OverlayChart = memo(function OverlayChart({ testId, pngTestId, title, caption, fileName, series, yAxis: kind, format, dots, emptyText }: OverlayChartProps) {
  const data = useMemo(() => overlaySeries(series, MAX_POINTS), [series]);
  const legend = useMemo(() => series.map((s) => ({ label: s.label, color: s.color })), [series]);
  const values = useMemo(() => series.flatMap((s) => s.points.map((p) => p.value)).filter(Number.isFinite), [series]);
  // null: chosen from the data (log when the runs span more than LOG_SCALE_RATIO×); true/false: the user's choice
  const [logChoice, setLogChoice] = useState<boolean | null>(null);
  const logPossible = kind === 'data' && canUseLogScale(values);
  const logAuto = kind === 'data' && shouldUseLogScale(values, LOG_SCALE_RATIO);
  const log = logPossible && (logChoice ?? logAuto);
  const axis: YAxisLayout = useMemo(() => {
    if (kind === 'fraction') {
      const ticks = unitTicks([0, 1], 0.05);
      return linearYAxis(ticks, { format: percentTickFormatter(ticks) });
    }
    if (log) return logYAxis(values);
    return linearYAxis(values.length ? niceTicks(Math.min(...values), Math.max(...values), 6) : [0, 1]);
  }, [kind, log, values]);
  // the runs' steps, on ticks at a nice step (recharts' own crowd the last two: "5 6")
  const xAxis = useMemo(() => {
    const steps = data.map((d) => d.step);
    const ticks = steps.length ? niceTicks(Math.min(...steps), Math.max(...steps), 6, 1) : [0, 1];
    return { domain: [ticks[0], ticks[ticks.length - 1]] as [number, number], ticks, format: tickFormatter(ticks) };
  }, [data]);
  const lines = series.filter((s) => s.points.length > 0).length;
  const controls = kind === 'data' && (
    <div className="chart-controls">
      <label title={logPossible ? 'A log scale shows each run’s fall at its own size when the runs differ by orders of magnitude.' : 'A log scale needs every value above 0.'}>
        {/* compare-chart-loss-log on the loss chart */}
        <input
          type="checkbox" data-testid={`${testId}-log`} checked={log} disabled={!logPossible}
          onChange={(e) => setLogChoice(e.target.checked)}
        />
        log scale
      </label>
      {logChoice === null && logAuto && <span className="chart-scale-note">on by itself: the runs differ more than {LOG_SCALE_RATIO}×</span>}
    </div>
  );
  return (
    <ChartFrame
      testId={testId} pngTestId={pngTestId} title={title} caption={caption} fileName={fileName} legend={legend}
      lines={lines} empty={lines === 0 && emptyText} axisLeft={axis.width} controls={controls} scale={kind === 'data' ? (log ? 'log' : 'linear') : undefined}
    >
      <ResponsiveContainer width="100%" height={260}>
        <LineChart data={data.length ? data : [...EMPTY_ROWS]} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
          <XAxis {...xAxisLayout('step')} dataKey="step" type="number" domain={xAxis.domain} ticks={xAxis.ticks} tickFormatter={xAxis.format} />
          <YAxis
            scale={log ? 'log' : 'linear'} domain={axis.domain} ticks={axis.ticks} allowDataOverflow tickFormatter={axis.format}
            width={axis.width} tick={AXIS_TICK}
          />
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
      yAxis="data" format={lossFormat} dots={false}
      emptyText="Each run’s loss appears here after its first step, one line per run."
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
      yAxis="fraction" format={probeFormat} dots
      emptyText="Each run’s probe accuracy appears here: at every probe during the run and at its end."
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
  const stepped = runs.some((run) => run.steps.length > 0);
  return <TrajectoryOverlay paths={paths} stepped={stepped} />;
}

const TrajectoryOverlay = memo(function TrajectoryOverlay({ paths, stepped }: { paths: { label: string; color: string; points: ReturnType<typeof trajectory> }[]; stepped: boolean }) {
  const legend = useMemo(() => paths.map((p) => ({ label: p.label, color: p.color })), [paths]);
  const points = useMemo(() => paths.map((p) => p.points), [paths]);
  const axes = useTrajectoryAxes(points, 6);
  const lines = paths.filter((p) => p.points.length > 0).length;
  return (
    <ChartFrame
      testId="compare-chart-trajectory" pngTestId="compare-png-trajectory" title="Alignment against uniformity per run"
      fileName="simclr-comparison-trajectory.png" legend={legend} lines={lines}
      empty={!stepped && 'Each run’s path appears here after its first step, from ○ to ●.'} axisLeft={axes.yAxis.width}
      caption={
        lines === 0 && stepped
          ? 'These runs were recorded before alignment and uniformity were measured: run the comparison again to see their paths.'
          : 'Each run as a path from ○ (first step) to ● (last step). Down is better aligned, left more uniform; runs that end further down and left usually probe better.'
      }
    >
      <ResponsiveContainer width="100%" height={260}>
        <ScatterChart margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
          {trajectoryAxes(axes)}
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

