/**
 * Pure parts of the embedding-geometry instruments (Wang & Isola 2020):
 * alignment, uniformity and the collapse meter from the step history, thinned
 * for drawing. Old histories (and runs recorded before these were measured)
 * lack the fields or hold NaN: such steps are left out, never drawn as 0.
 */
import { downsample, niceCeil, steadyDomain } from './format';

/** A step record that may carry the geometry metrics. */
export interface GeometryStep {
  step: number;
  alignment?: number;
  uniformity?: number;
  collapseStd?: number;
}

export type GeometryKey = 'alignment' | 'uniformity' | 'collapseStd';

export interface StepValue {
  step: number;
  value: number;
}

export interface TrajectoryPoint {
  step: number;
  alignment: number;
  uniformity: number;
}

const finite = (v: number | undefined): v is number => v !== undefined && Number.isFinite(v);

/** One metric against step, finite values only, thinned to at most `max` points (first and last kept). */
export function metricSeries(steps: readonly GeometryStep[], key: GeometryKey, max: number): StepValue[] {
  const out: StepValue[] = [];
  for (const s of steps) {
    const value = s[key];
    if (finite(value)) out.push({ step: s.step, value });
  }
  return downsample(out, max);
}

/**
 * The run's path in the (uniformity, alignment) plane, in step order: steps
 * with both values finite, thinned to at most `max` points (first and last kept).
 */
export function trajectory(steps: readonly GeometryStep[], max: number): TrajectoryPoint[] {
  const out: TrajectoryPoint[] = [];
  for (const s of steps) {
    if (finite(s.alignment) && finite(s.uniformity)) out.push({ step: s.step, alignment: s.alignment, uniformity: s.uniformity });
  }
  return downsample(out, max);
}

/**
 * The collapse meter's healthy level: the std of each coordinate of points
 * spread uniformly over the unit sphere in d dimensions is 1/√d (their
 * variances sum to ‖ẑ‖² = 1), and it is also about the most the meter can read.
 */
export function healthyCollapseStd(zDim: number): number {
  return zDim > 0 ? 1 / Math.sqrt(zDim) : Number.NaN;
}

/** Top of the collapse meter's axis: room above the healthy level and above every reading, on a nice number. */
export function collapseAxisHigh(values: readonly number[], healthy: number): number {
  const top = Math.max(Number.isFinite(healthy) ? healthy * 1.25 : 0, ...values.filter(Number.isFinite));
  return top > 0 ? niceCeil(top) : 1;
}

/** Trajectory axes move in steps of this (steadyDomain), so the plot does not jitter as the path grows. */
export const TRAJECTORY_UNIT = 0.1;

/**
 * Axes of the alignment–uniformity plane covering every path: x is
 * uniformity, y alignment (from 0, its best value). Without points, the
 * typical range of a fresh encoder.
 */
export function trajectoryDomains(paths: readonly (readonly { alignment: number; uniformity: number }[])[]): { x: [number, number]; y: [number, number] } {
  const points = paths.flat();
  if (points.length === 0) return { x: [-4, 0], y: [0, 2] };
  let minX = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (const p of points) {
    minX = Math.min(minX, p.uniformity);
    maxX = Math.max(maxX, p.uniformity);
    maxY = Math.max(maxY, p.alignment);
  }
  return { x: steadyDomain(minX, maxX, TRAJECTORY_UNIT), y: steadyDomain(0, maxY, TRAJECTORY_UNIT) };
}

/**
 * An SVG path through the points in order, placed by the two scales; a point
 * a scale cannot place (undefined, NaN) breaks the line there.
 */
export function svgPath(
  points: readonly { alignment: number; uniformity: number }[],
  x: (uniformity: number) => number | undefined,
  y: (alignment: number) => number | undefined,
): string {
  let d = '';
  let pen = false;
  for (const p of points) {
    const px = x(p.uniformity), py = y(p.alignment);
    if (px === undefined || py === undefined || !Number.isFinite(px) || !Number.isFinite(py)) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${px.toFixed(1)},${py.toFixed(1)}`;
    pen = true;
  }
  return d;
}
