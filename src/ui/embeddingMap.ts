/**
 * Pure parts of the embedding map: placing the 2-D points on the canvas,
 * a grid for hit-testing the pointer, and the class colours. Numbers in,
 * numbers out; EmbeddingMap.tsx only wires them to a canvas.
 */

/**
 * Categorical palette for classes: Tableau 10, then 10 darker or lighter
 * companions, so up to 20 classes get distinct colours (more repeat).
 * None is the neutral grey kept for unlabelled points.
 */
export const CLASS_COLOURS: readonly string[] = [
  '#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#79706e',
  '#1f3b73', '#a35200', '#8f1d21', '#2f7f7a', '#2d6a27', '#9c7d00', '#6b3f66', '#c2185b', '#5a3e2b', '#17becf',
];
export const UNLABELLED_COLOUR = '#a3aab5';

export const classColour = (label: number): string => (label >= 0 ? CLASS_COLOURS[label % CLASS_COLOURS.length] : UNLABELLED_COLOUR);

/**
 * Canvas positions of n points given as n × 2 row-major map coordinates: one
 * scale for both axes (so the map is not stretched), centred in a width ×
 * height box with `padding` on every side, y up. Non-finite points get NaN
 * and are neither drawn nor hit.
 */
export function layoutPoints(points: Float32Array, width: number, height: number, padding: number): Float32Array {
  const n = Math.floor(points.length / 2);
  let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = points[2 * i], y = points[2 * i + 1];
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  const out = new Float32Array(2 * n).fill(Number.NaN);
  if (minX > maxX) return out;
  const spanX = maxX - minX, spanY = maxY - minY;
  const innerW = Math.max(1, width - 2 * padding), innerH = Math.max(1, height - 2 * padding);
  const span = Math.max(spanX / innerW, spanY / innerH);
  const scale = span > 0 ? 1 / span : 0;
  // centre: leftover room on the shorter axis is split evenly
  const offsetX = padding + (innerW - spanX * scale) / 2;
  const offsetY = padding + (innerH - spanY * scale) / 2;
  for (let i = 0; i < n; i++) {
    const x = points[2 * i], y = points[2 * i + 1];
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    out[2 * i] = offsetX + (x - minX) * scale;
    out[2 * i + 1] = offsetY + (maxY - y) * scale;
  }
  return out;
}

/** How many laid-out points are drawn (finite). */
export function drawnCount(xy: Float32Array): number {
  let count = 0;
  for (let i = 0; i + 1 < xy.length; i += 2) if (Number.isFinite(xy[i]) && Number.isFinite(xy[i + 1])) count++;
  return count;
}

/** Points bucketed by square cells of the canvas: a hover looks at the 3 × 3 cells around the pointer, not at every point. */
export interface PointGrid {
  cell: number;
  cols: number;
  rows: number;
  /** point indices per cell, row-major */
  buckets: number[][];
  xy: Float32Array;
}

export function buildGrid(xy: Float32Array, width: number, height: number, cell: number): PointGrid {
  const cols = Math.max(1, Math.ceil(width / cell));
  const rows = Math.max(1, Math.ceil(height / cell));
  const buckets: number[][] = Array.from({ length: cols * rows }, () => []);
  for (let i = 0; 2 * i + 1 < xy.length; i++) {
    const x = xy[2 * i], y = xy[2 * i + 1];
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    const c = Math.min(cols - 1, Math.max(0, Math.floor(x / cell)));
    const r = Math.min(rows - 1, Math.max(0, Math.floor(y / cell)));
    buckets[r * cols + c].push(i);
  }
  return { cell, cols, rows, buckets, xy };
}

/**
 * The point nearest (x, y) within `radius` canvas pixels, or −1. Exact as
 * long as radius ≤ the grid's cell (the 3 × 3 cells around the pointer hold
 * every point that close).
 */
export function nearestPoint(grid: PointGrid, x: number, y: number, radius: number): number {
  const { cell, cols, rows, buckets, xy } = grid;
  const c0 = Math.floor(x / cell), r0 = Math.floor(y / cell);
  let best = -1;
  let bestD2 = radius * radius;
  for (let r = Math.max(0, r0 - 1); r <= Math.min(rows - 1, r0 + 1); r++) {
    for (let c = Math.max(0, c0 - 1); c <= Math.min(cols - 1, c0 + 1); c++) {
      for (const i of buckets[r * cols + c]) {
        const dx = xy[2 * i] - x, dy = xy[2 * i + 1] - y;
        const d2 = dx * dx + dy * dy;
        if (d2 <= bestD2) {
          bestD2 = d2;
          best = i;
        }
      }
    }
  }
  return best;
}

/** The distinct classes present, ascending (−1, unlabelled, last), for the legend. */
export function classesPresent(labels: Int32Array | readonly number[]): number[] {
  const seen = new Set<number>();
  for (const l of labels) seen.add(l < 0 ? -1 : l);
  return [...seen].sort((a, b) => (a < 0 ? 1 : b < 0 ? -1 : a - b));
}
