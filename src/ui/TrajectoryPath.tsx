import { useXAxisScale, useYAxisScale } from 'recharts';
import type { TrajectoryPoint } from './trajectory';
import { svgPath } from './trajectory';

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
