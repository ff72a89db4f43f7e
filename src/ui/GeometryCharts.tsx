import { createContext, memo, useContext, useMemo, useRef } from 'react';
import {
  CartesianGrid, Line, LineChart, ReferenceDot, ReferenceLine, ResponsiveContainer, Scatter, ScatterChart, Tooltip, XAxis, YAxis,
} from 'recharts';
import { useRunStore } from '../state/runStore';
import type { StepMetrics } from '../train/protocol';
import {
  AXIS_TICK, BELOW_PLOT, EMPTY_ROWS, linearYAxis, niceTicks, stepTicks, tickFormatter, xAxisLayout,
} from './chartAxis';
import { ChartPlot } from './ChartPlot';
import { downsample, fixed, niceCeil, steadyDomain, unitTicks } from './format';
import { TrajectoryPath, trajectoryAxes, useTrajectoryAxes } from './TrajectoryPath';
import {
  collapseAxisHigh, healthyCollapseStd, metricSeries, trajectory, type GeometryKey,
} from './trajectory';
import { useOnScreen } from './useOnScreen';
import { useThrottled } from './useThrottled';
import './evaluation.css';

/** Points drawn per chart at most: the shape of a long run, cheap to redraw. */
const MAX_POINTS = 300;
/** Hoverable markers on the trajectory (each one is a component of its own; the path itself is one element). */
const MAX_MARKERS = 30;
/**
 * Each chart redraws at most once a second on a slot of its own (see
 * useThrottled): the loss, probe, similarity and kNN charts hold 0, 250, 500
 * and 750 ms, these four the slots in between.
 */
const REDRAW_MS = 1000;
const ALIGNMENT_PHASE_MS = 125;
const UNIFORMITY_PHASE_MS = 375;
const TRAJECTORY_PHASE_MS = 625;
const COLLAPSE_PHASE_MS = 875;

const ALIGNMENT_COLOR = '#16a34a';
const UNIFORMITY_COLOR = '#ea580c';
const TRAJECTORY_COLOR = '#2563eb';
const COLLAPSE_COLOR = '#0f172a';

const stepAxisEnd = (steps: readonly StepMetrics[]) => niceCeil(Math.max(10, steps[steps.length - 1]?.step ?? 0));

const stepAxis = (end: number) => {
  const ticks = stepTicks(0, end);
  return <XAxis {...xAxisLayout('step')} dataKey="step" type="number" domain={[0, end]} ticks={ticks} tickFormatter={tickFormatter(ticks)} />;
};

/** What an empty geometry chart says: before the first step, or when the run's steps carry no such measurement. */
const emptyText = (steps: readonly StepMetrics[], shown: string, measured: string) =>
  steps.length === 0 ? `${shown} appears here after the first step. Press Train or Step.` : `These steps carry no ${measured} measurement.`;

/** Whether the panel is on screen: its four charts hold still while it is not (see useOnScreen). */
const PanelOnScreen = createContext(true);

/** The run's steps for one of the panel's charts, throttled on its slot and held while the panel is off screen. */
function usePanelSteps(phase: number): StepMetrics[] {
  return useThrottled(useRunStore((s) => s.steps), REDRAW_MS, phase, useContext(PanelOnScreen));
}

/** The Wang & Isola instruments: alignment and uniformity against step, their joint trajectory, and the collapse meter. */
export function GeometryPanel() {
  const ref = useRef<HTMLElement>(null);
  const onScreen = useOnScreen(ref);
  return (
    <PanelOnScreen.Provider value={onScreen}>
      <section ref={ref} className="panel geometry-panel" data-testid="geometry-panel" aria-label="Geometry of the embedding">
        <h2>Geometry of the embedding (Wang &amp; Isola)</h2>
        <p className="hint">
          A contrastive loss asks for two things at once: the two views of an image should land close together on the unit sphere
          (<strong>alignment</strong>), and different images should spread out over it (<strong>uniformity</strong>). Both are measured on
          each training batch&apos;s ℓ2-normalized z; lower is better for both.
        </p>
        <div className="geometry-grid">
          <AlignmentChart />
          <UniformityChart />
          <TrajectoryChart />
          <CollapseChart />
        </div>
      </section>
    </PanelOnScreen.Provider>
  );
}

function AlignmentChart() {
  const steps = usePanelSteps(ALIGNMENT_PHASE_MS);
  return (
    <SeriesFigure
      steps={steps} metric="alignment" testId="chart-alignment" title="Alignment" color={ALIGNMENT_COLOR} unit={0.25}
      caption="Mean ‖ẑ₁ − ẑ₂‖² over positive pairs: 0 means the two views of each image map to the same point, 4 that they sit at opposite poles."
    />
  );
}

function UniformityChart() {
  const steps = usePanelSteps(UNIFORMITY_PHASE_MS);
  return (
    <SeriesFigure
      steps={steps} metric="uniformity" testId="chart-uniformity" title="Uniformity" color={UNIFORMITY_COLOR} unit={0.25}
      caption="log of the mean of exp(−2‖ẑᵢ − ẑⱼ‖²) over pairs of images: 0 when every image sits at one point, more negative as they spread evenly over the sphere."
    />
  );
}

interface SeriesFigureProps {
  steps: StepMetrics[];
  metric: GeometryKey;
  testId: string;
  title: string;
  caption: string;
  color: string;
  /** y axis ends are multiples of this (steadyDomain) */
  unit: number;
}

const SeriesFigure = memo(function SeriesFigure({ steps, metric, testId, title, caption, color, unit }: SeriesFigureProps) {
  const data = useMemo(() => metricSeries(steps, metric, MAX_POINTS), [steps, metric]);
  const domain = useMemo(() => {
    const values = data.map((d) => d.value);
    return values.length ? steadyDomain(Math.min(...values), Math.max(...values), unit) : ([0, unit] as [number, number]);
  }, [data, unit]);
  const yAxis = useMemo(() => linearYAxis(unitTicks(domain, unit, 5)), [domain, unit]);
  return (
    <figure className="chart geometry-chart" data-testid={testId} data-points={data.length}>
      <figcaption>
        <h3>{title}</h3>
        <p>{caption}</p>
      </figcaption>
      <ChartPlot empty={data.length === 0 && emptyText(steps, title, title.toLowerCase())} axisLeft={yAxis.width} below={BELOW_PLOT}>
        <ResponsiveContainer width="100%" height={200}>
          <LineChart data={data.length ? data : EMPTY_ROWS} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
            {stepAxis(stepAxisEnd(steps))}
            <YAxis domain={domain} ticks={yAxis.ticks} allowDataOverflow tickFormatter={yAxis.format} width={yAxis.width} tick={AXIS_TICK} />
            <Tooltip formatter={(v) => (typeof v === 'number' ? v.toFixed(4) : String(v))} labelFormatter={(s) => `step ${s}`} />
            <Line type="monotone" dataKey="value" name={title.toLowerCase()} stroke={color} dot={false} isAnimationActive={false} strokeWidth={2} />
          </LineChart>
        </ResponsiveContainer>
      </ChartPlot>
    </figure>
  );
});

function TrajectoryChart() {
  const steps = usePanelSteps(TRAJECTORY_PHASE_MS);
  return <TrajectoryFigure steps={steps} />;
}

const TrajectoryFigure = memo(function TrajectoryFigure({ steps }: { steps: StepMetrics[] }) {
  const path = useMemo(() => trajectory(steps, MAX_POINTS), [steps]);
  const markers = useMemo(() => downsample(path, MAX_MARKERS), [path]);
  const paths = useMemo(() => [path], [path]);
  const axes = useTrajectoryAxes(paths, 5);
  const first = path[0];
  const last = path[path.length - 1];
  return (
    <figure className="chart geometry-chart" data-testid="chart-trajectory" data-points={path.length}>
      <figcaption>
        <h3>Alignment against uniformity</h3>
        <p>
          The run as a path, one point per step, from ○ to ●. Down is better aligned, left is more uniform: a good encoder heads
          down and to the left. A path that rushes down and to the right is collapsing (everything at one point).
        </p>
      </figcaption>
      <ChartPlot
        empty={path.length === 0 && (steps.length === 0 ? 'The path appears here after the first step, one point per step. Press Train or Step.' : 'These steps carry no alignment and uniformity measurements.')}
        axisLeft={axes.yAxis.width} below={BELOW_PLOT}
      >
        <ResponsiveContainer width="100%" height={200}>
          <ScatterChart margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
            {trajectoryAxes(axes)}
            <TrajectoryPath points={path} color={TRAJECTORY_COLOR} />
            <Scatter data={markers} name="this run" fill={TRAJECTORY_COLOR} isAnimationActive={false} />
            {first && <ReferenceDot x={first.uniformity} y={first.alignment} r={5} fill="white" stroke={TRAJECTORY_COLOR} strokeWidth={2} />}
            {last && path.length > 1 && (
              <ReferenceDot x={last.uniformity} y={last.alignment} r={5} fill={TRAJECTORY_COLOR} stroke="white" label={{ value: `step ${last.step}`, position: 'bottom', fontSize: 11, fill: '#334155' }} />
            )}
          </ScatterChart>
        </ResponsiveContainer>
      </ChartPlot>
    </figure>
  );
});

function CollapseChart() {
  const steps = usePanelSteps(COLLAPSE_PHASE_MS);
  const zDim = useRunStore((s) => s.model?.zDim);
  return <CollapseFigure steps={steps} zDim={zDim} />;
}

const CollapseFigure = memo(function CollapseFigure({ steps, zDim }: { steps: StepMetrics[]; zDim: number | undefined }) {
  const data = useMemo(() => metricSeries(steps, 'collapseStd', MAX_POINTS), [steps]);
  const healthy = zDim ? healthyCollapseStd(zDim) : Number.NaN;
  const high = useMemo(() => collapseAxisHigh(data.map((d) => d.value), healthy), [data, healthy]);
  const yAxis = useMemo(() => linearYAxis(niceTicks(0, high, 5)), [high]);
  return (
    <figure className="chart geometry-chart" data-testid="chart-collapse" data-points={data.length}>
      <figcaption>
        <h3>Collapse meter</h3>
        <p>
          Std of each coordinate of the ℓ2-normalized z across the batch, averaged over the {zDim ?? 'd'} dimensions. Near 1/√d
          {Number.isFinite(healthy) ? ` (${fixed(healthy)})` : ''}: the embeddings use the whole sphere. Near 0: every image maps to
          the same point — collapse.
        </p>
      </figcaption>
      <ChartPlot empty={data.length === 0 && emptyText(steps, 'The collapse meter', 'collapse')} axisLeft={yAxis.width} below={BELOW_PLOT}>
        <ResponsiveContainer width="100%" height={200}>
          <LineChart data={data.length ? data : EMPTY_ROWS} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
            {stepAxis(stepAxisEnd(steps))}
            <YAxis domain={yAxis.domain} ticks={yAxis.ticks} allowDataOverflow tickFormatter={yAxis.format} width={yAxis.width} tick={AXIS_TICK} />
            <Tooltip formatter={(v) => (typeof v === 'number' ? v.toFixed(4) : String(v))} labelFormatter={(s) => `step ${s}`} />
            {Number.isFinite(healthy) && (
              <ReferenceLine y={healthy} stroke="#16a34a" strokeDasharray="6 4" label={{ value: 'healthy ≈ 1/√d', position: 'insideBottomRight', fill: '#166534', fontSize: 12 }} />
            )}
            <Line type="monotone" dataKey="value" name="collapse std" stroke={COLLAPSE_COLOR} dot={false} isAnimationActive={false} strokeWidth={2} />
          </LineChart>
        </ResponsiveContainer>
      </ChartPlot>
    </figure>
  );
});
