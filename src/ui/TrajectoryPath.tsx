import { useMemo } from 'react';
import { CartesianGrid, Tooltip, XAxis, YAxis, ZAxis, useXAxisScale, useYAxisScale } from 'recharts';
import { AXIS_TICK, linearYAxis, tickFormatter, xAxisLayout, yAxisTitle, type YAxisLayout } from './chartAxis';
import { unitTicks } from './format';
import type { TrajectoryPoint } from './trajectory';
import { TRAJECTORY_UNIT, svgPath, trajectoryDomains } from './trajectory';

export interface TrajectoryAxes {
  x: [number, number];
  xTicks: number[];
  y: [number, number];
  yAxis: YAxisLayout;
}

/** The alignment–uniformity plane's domains and ticks, shared by every path drawn in it. */
export function useTrajectoryAxes(paths: readonly (readonly TrajectoryPoint[])[], tickCount: number): TrajectoryAxes {
  const { x, y } = useMemo(() => trajectoryDomains(paths), [paths]);
  const xTicks = useMemo(() => unitTicks(x, TRAJECTORY_UNIT, tickCount), [x, tickCount]);
  const yAxis = useMemo(() => linearYAxis(unitTicks(y, TRAJECTORY_UNIT, tickCount), { titled: true }), [y, tickCount]);
  return { x, xTicks, y, yAxis };
}

/**
 * The plane's grid, axes and tooltip, as children of a ScatterChart (recharts
 * reads its axes from direct children, so this is called, not mounted).
 */
export function trajectoryAxes({ x, xTicks, y, yAxis }: TrajectoryAxes) {
  return [
    <CartesianGrid key="grid" strokeDasharray="3 3" stroke="#e2e8f0" />,
    <XAxis key="x" dataKey="uniformity" type="number" name="uniformity" domain={x} ticks={xTicks} allowDataOverflow tickFormatter={tickFormatter(xTicks)} {...xAxisLayout('uniformity')} />,
    <YAxis key="y" dataKey="alignment" type="number" name="alignment" domain={y} ticks={yAxis.ticks} allowDataOverflow tickFormatter={yAxis.format} width={yAxis.width} tick={AXIS_TICK} label={yAxisTitle('alignment')} />,
    <ZAxis key="z" dataKey="step" type="number" name="step" range={[8, 8]} />,
    <Tooltip key="tooltip" formatter={(v, name) => (typeof v === 'number' && name !== 'step' ? v.toFixed(4) : String(v))} cursor={false} />,
  ];
}

/**
 * A run's path in the alignment–uniformity plane as one SVG <path>, drawn
 * inside a recharts chart with its axes' scales. One element however long the
 * run, where a Scatter with a joint line mounts a component per point (about
 * 80 ms a redraw at 300 points, against a few ms for this).
 */
export function TrajectoryPath({ points, color }: { points: readonly TrajectoryPoint[]; color: string }) {
  const x = useXAxisScale();
  const y = useYAxisScale();
  if (!x || !y || points.length < 2) return null;
  return <path d={svgPath(points, x, y)} fill="none" stroke={color} strokeWidth={1.75} strokeLinejoin="round" strokeLinecap="round" />;
}
