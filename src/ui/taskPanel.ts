/**
 * The pure parts of a pretext task's instrument (TaskPanel.tsx): images in
 * [0, 1] to bytes, the confusion matrix as shares of each true class, and a
 * snapshot's sanity (taskSnapshotProblem, in src/core/taskSnapshot.ts with the
 * contract it checks). Numbers in, numbers and strings out.
 */

/** Float images in [0, 1] (clamped; NaN as 0) to the uint8 bytes PixelCanvas draws. */
export function toBytes(images: Float32Array): Uint8Array {
  const out = new Uint8Array(images.length);
  for (let i = 0; i < images.length; i++) {
    const v = images[i];
    out[i] = Number.isFinite(v) ? Math.round(255 * Math.min(1, Math.max(0, v))) : 0;
  }
  return out;
}

export interface ConfusionCell {
  truth: number;
  predicted: number;
  count: number;
  /** count over its true class's total (0 for a class absent from the batch) */
  share: number;
}

/** The K × K cells, row by row, each with its share of the true class (what a row-normalized confusion matrix shows). */
export function confusionCells(counts: number[], k: number): ConfusionCell[] {
  const cells: ConfusionCell[] = [];
  for (let t = 0; t < k; t++) {
    let total = 0;
    for (let p = 0; p < k; p++) total += counts[t * k + p];
    for (let p = 0; p < k; p++) cells.push({ truth: t, predicted: p, count: counts[t * k + p], share: total > 0 ? counts[t * k + p] / total : 0 });
  }
  return cells;
}

/** Accuracy read off the confusion matrix: its diagonal over its total. */
export function confusionAccuracy(counts: number[], k: number): number {
  let right = 0;
  let total = 0;
  counts.forEach((c, i) => {
    total += c;
    if (Math.floor(i / k) === i % k) right += c;
  });
  return total > 0 ? right / total : Number.NaN;
}

export { taskSnapshotProblem } from '../core/taskSnapshot';
